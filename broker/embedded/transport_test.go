package embedded

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/internal/wsstream"
)

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// roundTrip connects an MQTT 5 client over nc and checks a QoS 1 echo.
func roundTrip(t *testing.T, nc net.Conn) {
	t.Helper()
	got := make(chan *paho.Publish, 1)
	c := paho.NewClient(paho.ClientConfig{Conn: packets.NewThreadSafeConn(nc),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			got <- pr.Packet
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{CleanStart: true, KeepAlive: 30}); err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(&paho.Disconnect{})
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "echo", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 100_000) // spans many frames / records
	if _, err := c.Publish(ctx, &paho.Publish{Topic: "echo", QoS: 1, Payload: []byte(big)}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if string(m.Payload) != big {
			t.Fatalf("payload of %d bytes", len(m.Payload))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo")
	}
}

func TestTLS(t *testing.T) {
	cert := selfSigned(t)
	s := New(&Config{AllowAnonymous: true})
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(context.Background(), tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}}))
	pool := x509.NewCertPool()
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	pool.AddCert(leaf)
	nc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	roundTrip(t, nc)
}

func TestWebSocket(t *testing.T) {
	for _, secure := range []bool{false, true} {
		name := map[bool]string{false: "ws", true: "wss"}[secure]
		t.Run(name, func(t *testing.T) {
			s := New(&Config{AllowAnonymous: true})
			defer s.Close()
			var hs *httptest.Server
			if secure {
				hs = httptest.NewTLSServer(s.WebSocketHandler())
			} else {
				hs = httptest.NewServer(s.WebSocketHandler())
			}
			defer hs.Close()
			d := websocket.Dialer{Subprotocols: []string{"mqtt"}}
			if secure {
				d.TLSClientConfig = hs.Client().Transport.(*http.Transport).TLSClientConfig
			}
			ws, resp, err := d.Dial(strings.Replace(hs.URL, "http", "ws", 1), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Header.Get("Sec-WebSocket-Protocol") != "mqtt" {
				t.Fatalf("subprotocol %q", resp.Header.Get("Sec-WebSocket-Protocol"))
			}
			nc := wsstream.New(ws, true)
			defer nc.Close()
			roundTrip(t, nc)
		})
	}
}
