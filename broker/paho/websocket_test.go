package paho

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/brokertest"
	"github.com/gnssgate/gnssgate/broker/embedded"
)

// The Mosquitto on the CI machine has no WebSocket listener, so ws:// is
// tested against this module's embedded broker, which serves MQTT over
// WebSocket.
func TestWebSocketRoundTrip(t *testing.T) {
	srv := embedded.New(&embedded.Config{AllowAnonymous: true, Logger: quietLogger()})
	defer srv.Close()
	hs := httptest.NewServer(srv.WebSocketHandler())
	defer hs.Close()

	b := newTestBroker(t, Config{Server: "ws://" + strings.TrimPrefix(hs.URL, "http://") + "/mqtt"})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan broker.Message, 1)
	sub, err := b.Subscribe(ctx, "ws/test/+", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- m
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe(ctx)
	if err := b.Publish(ctx, broker.Message{Topic: "ws/test/1", Payload: []byte("hello"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m.Topic != "ws/test/1" || string(m.Payload) != "hello" {
			t.Fatalf("got %q %q", m.Topic, m.Payload)
		}
	case <-ctx.Done():
		t.Fatal("no message over ws://")
	}
}

// The embedded broker merges overlapping subscriptions into one copy with
// every subscription identifier (MQTT 5 §3.3.4); the adapter must deliver
// that copy to every matching local subscription.
func TestWebSocketConformance(t *testing.T) {
	srv := embedded.New(&embedded.Config{AllowAnonymous: true, Logger: quietLogger()})
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv.WebSocketHandler())
	t.Cleanup(hs.Close)
	url := "ws://" + strings.TrimPrefix(hs.URL, "http://") + "/mqtt"
	brokertest.Run(t, func(t *testing.T) broker.Broker { return newTestBroker(t, Config{Server: url}) })
}

// The same over plain TCP.
func TestEmbeddedConformance(t *testing.T) {
	addr := startEmbedded(t)
	brokertest.Run(t, func(t *testing.T) broker.Broker { return newTestBroker(t, Config{Server: addr}) })
}

// tls:// and wss:// against the embedded broker with httptest's
// certificate: the adapter dials these itself (subids.go).
func TestTLSRoundTrip(t *testing.T) {
	srv := embedded.New(&embedded.Config{AllowAnonymous: true, Logger: quietLogger()})
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewTLSServer(srv.WebSocketHandler())
	t.Cleanup(hs.Close)
	roots := x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	clientTLS := &tls.Config{RootCAs: roots}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tln := tls.NewListener(ln, hs.TLS)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, tln)
	}()
	t.Cleanup(func() {
		cancel()
		tln.Close()
		<-done
	})

	for _, server := range []string{
		"wss://" + strings.TrimPrefix(hs.URL, "https://") + "/mqtt",
		"tls://" + ln.Addr().String(),
		"mqtts://" + ln.Addr().String(),
	} {
		t.Run(strings.SplitN(server, ":", 2)[0], func(t *testing.T) {
			b := newTestBroker(t, Config{Server: server, TLS: clientTLS})
			defer b.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			got := make(chan broker.Message, 1)
			topic := "tls/test/" + uuid.NewString()
			if _, err := b.Subscribe(ctx, topic, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
				got <- m
				return nil
			})); err != nil {
				t.Fatal(err)
			}
			if err := b.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("secret"), QoS: 1}); err != nil {
				t.Fatal(err)
			}
			select {
			case m := <-got:
				if string(m.Payload) != "secret" {
					t.Fatalf("payload %q", m.Payload)
				}
			case <-ctx.Done():
				t.Fatal("no message")
			}
		})
	}
	// Without the certificate's root the handshake fails: TLS is really on.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	if b, err := New(ctx2, Config{Server: "tls://" + ln.Addr().String(), Logger: quietLogger()}); err == nil {
		b.Close()
		t.Fatal("connected without trusting the server's certificate")
	}
}
