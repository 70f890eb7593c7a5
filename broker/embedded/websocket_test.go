package embedded

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/gnssgate/gnssgate/internal/wsstream"
)

// startWSServer serves a new Server's WebSocketHandler, over TLS if
// secure.
func startWSServer(t *testing.T, cfg *Config, secure bool) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := New(cfg)
	t.Cleanup(func() { s.Close() })
	var hs *httptest.Server
	if secure {
		hs = httptest.NewTLSServer(s.WebSocketHandler())
	} else {
		hs = httptest.NewServer(s.WebSocketHandler())
	}
	t.Cleanup(hs.Close)
	return s, hs
}

// dialWS returns an MQTT client over a WebSocket from gorilla's dialer.
func dialWS(t *testing.T, hs *httptest.Server) *rawClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"mqtt"}}
	if hs.TLS != nil {
		d.TLSClientConfig = hs.Client().Transport.(*http.Transport).TLSClientConfig
	}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	nc := wsstream.New(ws, false)
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, br: bufio.NewReader(nc), v: 4}
}

// An idle WebSocket connection parks (no goroutine, no buffer), over ws://
// and wss://; deliveries, publishes and pings work after each wake, and the
// keep-alive deadline still ends it.
func TestParkedWebSocket(t *testing.T) {
	parkingSupported(t)
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "ws", true: "wss"}[secure], func(t *testing.T) {
			s, hs := startWSServer(t, &Config{AllowAnonymous: true, IdleParkAfter: parkNow}, secure)
			in := newCollector()
			mustSub(t, s, "up/#", in)
			r := dialWS(t, hs)
			r.connect("wsp", true, 0, nil)
			r.subscribe(1, subOpt("down/wsp", 1))
			for i := range 3 {
				waitParked(t, s, "wsp")
				if err := s.Publish(context.Background(), broker.Message{Topic: "down/wsp", QoS: 1, Payload: []byte{byte(i)}}); err != nil {
					t.Fatal(err)
				}
				pk := r.read()
				if pk == nil || pk.FixedHeader.Type != packets.Publish || pk.Payload[0] != byte(i) {
					t.Fatalf("delivery %d: %+v", i, pk)
				}
				waitParked(t, s, "wsp")
				r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
				waitParked(t, s, "wsp")
				r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "up/wsp", PacketID: 7, Payload: []byte{byte(i)}})
				if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Puback || pk.PacketID != 7 {
					t.Fatalf("PUBACK %d: %+v", i, pk)
				}
				if m := in.next(t); m.Payload[0] != byte(i) {
					t.Fatalf("published %d: %+v", i, m)
				}
				waitParked(t, s, "wsp")
				r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
				if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
					t.Fatalf("PINGRESP %d: %+v", i, pk)
				}
			}

			ka := dialWS(t, hs)
			ka.v = 5
			ka.connect("wska", true, 1, func(pk *packets.Packet) { pk.ProtocolVersion = 5 })
			waitParked(t, s, "wska")
			start := time.Now()
			if code := ka.expectClosed(); code != 0x8D || time.Since(start) > 3*time.Second {
				t.Fatalf("closed after %v with 0x%x, want ~1.5 s and 0x8D", time.Since(start), code)
			}
		})
	}
}

// A text frame is the protocol error MQTT 5.0 §6 says it is.
func TestWebSocketTextFrame(t *testing.T) {
	_, hs := startWSServer(t, &Config{AllowAnonymous: true}, false)
	nc := dialRawWS(t, hs)
	br := bufio.NewReader(nc)
	connect := []byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0, 1, 't'}
	nc.Write(clientFrame(0x82, connect))
	if op, p := serverFrame(t, br); op != 2 || len(p) < 1 || p[0] != 0x20 {
		t.Fatalf("CONNACK: op %x % x", op, p)
	}
	nc.Write(clientFrame(0x81, []byte{0xC0, 0})) // PINGREQ, in a text frame
	if op, p := serverFrame(t, br); op != 2 || len(p) < 3 || p[0] != 0xE0 || p[2] != 0x82 {
		t.Fatalf("want DISCONNECT 0x82 in a binary frame, got op %x % x", op, p)
	}
	// Then the close handshake, and the end of the connection.
	op, p := serverFrame(t, br)
	if op != 8 || len(p) != 2 || binary.BigEndian.Uint16(p) != 1000 {
		t.Fatalf("want close 1000, got op %x % x", op, p)
	}
	nc.Write(clientFrame(0x88, p))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after the close handshake: %v, want the end of the stream", err)
	}
}

// A WebSocket protocol violation (here an unmasked frame) gets a close
// frame with status 1002 and ends the MQTT connection.
func TestWebSocketViolation(t *testing.T) {
	s, hs := startWSServer(t, &Config{AllowAnonymous: true}, false)
	nc := dialRawWS(t, hs)
	br := bufio.NewReader(nc)
	nc.Write([]byte{0x82, 2, 0xC0, 0}) // PINGREQ, unmasked
	op, p := serverFrame(t, br)
	if op != 8 || len(p) != 2 || binary.BigEndian.Uint16(p) != 1002 {
		t.Fatalf("want close 1002, got op %x % x", op, p)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("connection still open")
	}
	waitConns(t, s, 0)
}

// Many WebSocket clients, each with one QoS 1 publish in flight, park after
// every packet, with frames split inside their header and inside their
// payload across the park: no wake and no byte is lost.
func TestParkedWebSocketManyRoundTrips(t *testing.T) {
	parkingSupported(t)
	const clients, rounds = 20, 60
	s, hs := startWSServer(t, &Config{AllowAnonymous: true, IdleParkAfter: parkNow}, false)
	var got sync.WaitGroup
	got.Add(clients * rounds)
	mustSub(t, s, "rt/#", broker.HandlerFunc(func(context.Context, broker.Message) error { got.Done(); return nil }))
	errs := make(chan error, clients)
	for i := range clients {
		go func() { errs <- wsRoundTrips(t, hs, i, rounds) }()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got.Wait()
}

func wsRoundTrips(t *testing.T, hs *httptest.Server, i, rounds int) error {
	nc, err := handshakeWS(hs)
	if err != nil {
		return err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	br := bufio.NewReader(nc)
	id := fmt.Sprintf("rt%d", i)
	connect := append([]byte{0x10, byte(12 + len(id)), 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 0, 0, byte(len(id))}, id...)
	nc.Write(clientFrame(0x82, connect))
	if op, p, err := readServerFrame(br); err != nil || op != 2 || len(p) != 4 || p[0] != 0x20 || p[3] != 0 {
		return fmt.Errorf("client %d CONNACK % x: %v", i, p, err)
	}
	topic := "rt/" + id
	for k := range rounds {
		pid := uint16(k + 1)
		pkt := []byte{0x32, byte(2 + len(topic) + 2 + 1), 0, byte(len(topic))}
		pkt = append(append(pkt, topic...), byte(pid>>8), byte(pid), byte(k))
		f := clientFrame(0x82, pkt)
		if k%5 == 1 {
			// A ping first: its pong comes before the PUBACK.
			f = append(clientFrame(0x89, []byte("p")), f...)
		}
		switch k % 4 {
		case 1, 2:
			// Split inside the header (k%4 == 1) or the payload: the
			// connection parks between the halves.
			cut := 3 + 5*(k%4-1)
			if k%5 == 1 {
				cut += 7
			}
			nc.Write(f[:cut])
			time.Sleep(2 * time.Millisecond)
			f = f[cut:]
		}
		if _, err := nc.Write(f); err != nil {
			return err
		}
		if k%5 == 1 {
			if op, p, err := readServerFrame(br); err != nil || op != 0xA || string(p) != "p" {
				return fmt.Errorf("client %d round %d pong: op %x %q %v", i, k, op, p, err)
			}
		}
		op, p, err := readServerFrame(br)
		if err != nil || op != 2 || len(p) != 4 || p[0] != 0x40 || p[2] != byte(pid>>8) || p[3] != byte(pid) {
			return fmt.Errorf("client %d round %d PUBACK op %x % x: %v", i, k, op, p, err)
		}
		if k%7 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// handshakeWS opens a WebSocket by hand, so that tests can write raw
// frames.
func handshakeWS(hs *httptest.Server) (net.Conn, error) {
	nc, err := net.Dial("tcp", hs.Listener.Addr().String())
	if err != nil {
		return nil, err
	}
	var k [16]byte
	rand.Read(k[:])
	req := "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\nSec-WebSocket-Key: " +
		base64.StdEncoding.EncodeToString(k[:]) + "\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, err
	}
	// Read the response byte by byte: nothing past it may be taken.
	var resp []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(resp), "\r\n\r\n") {
		if _, err := nc.Read(b); err != nil {
			nc.Close()
			return nil, err
		}
		resp = append(resp, b[0])
	}
	if !strings.HasPrefix(string(resp), "HTTP/1.1 101") {
		nc.Close()
		return nil, fmt.Errorf("handshake: %q", resp)
	}
	return nc, nil
}

func dialRawWS(t *testing.T, hs *httptest.Server) net.Conn {
	t.Helper()
	nc, err := handshakeWS(hs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc
}

// clientFrame is one masked frame with first byte b0 (FIN, opcode).
func clientFrame(b0 byte, p []byte) []byte {
	key := [4]byte{0xA1, 0x02, 0x7F, 0x55}
	f := []byte{b0}
	if len(p) < 126 {
		f = append(f, 0x80|byte(len(p)))
	} else {
		f = append(f, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	f = append(f, key[:]...)
	for i, c := range p {
		f = append(f, c^key[i%4])
	}
	return f
}

// readServerFrame reads one unmasked server frame of up to 125 bytes.
func readServerFrame(br *bufio.Reader) (op byte, p []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x80 == 0 || h[1]&0x80 != 0 || h[1] > 125 {
		return 0, nil, fmt.Errorf("server frame header % x", h)
	}
	p = make([]byte, h[1])
	_, err = io.ReadFull(br, p)
	return h[0] & 0x0F, p, err
}

func serverFrame(t *testing.T, br *bufio.Reader) (byte, []byte) {
	t.Helper()
	op, p, err := readServerFrame(br)
	if err != nil {
		t.Fatal(err)
	}
	return op, p
}

// ServeWebSocket answers the handshake itself: an MQTT 5 round trip with a
// payload spanning many frames, over ws:// and wss://, and the idle
// connection parks.
func TestServeWebSocket(t *testing.T) {
	parkingSupported(t)
	ca := testcert.NewCA(t)
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "ws", true: "wss"}[secure], func(t *testing.T) {
			s := New(&Config{AllowAnonymous: true, IdleParkAfter: parkNow, Logger: slog.New(slog.DiscardHandler)})
			defer s.Close()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			d := websocket.Dialer{Subprotocols: []string{"mqtt"}}
			url := "ws://" + ln.Addr().String() + "/mqtt"
			var sl net.Listener = ln
			if secure {
				sl = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{ca.Server().TLS}})
				d.TLSClientConfig = &tls.Config{RootCAs: ca.Pool, ServerName: "localhost"}
				url = "wss://" + ln.Addr().String() + "/mqtt"
			}
			go s.ServeWebSocket(context.Background(), sl)
			ws, resp, err := d.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "mqtt" {
				t.Fatalf("subprotocol %q", p)
			}
			nc := wsstream.New(ws, false)
			defer nc.Close()
			roundTrip(t, nc)

			ws2, _, err := d.Dial(url, nil)
			if err != nil {
				t.Fatal(err)
			}
			nc2 := wsstream.New(ws2, false)
			defer nc2.Close()
			r := &rawClient{t: t, nc: nc2, br: bufio.NewReader(nc2), v: 4}
			r.connect("sws", true, 0, nil)
			waitParked(t, s, "sws")
			r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
			if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pingresp {
				t.Fatalf("PINGRESP: %+v", pk)
			}
		})
	}
}

// A client that is not a WebSocket client gets an HTTP error and is
// closed; the server goes on.
func TestServeWebSocketRefused(t *testing.T) {
	s := New(&Config{AllowAnonymous: true, Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.ServeWebSocket(context.Background(), ln)
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write([]byte{0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 2, 0, 0, 0, 0, 1, 't', '\r', '\n', '\r', '\n'})
	b, _ := io.ReadAll(nc)
	if !strings.HasPrefix(string(b), "HTTP/1.1 400") {
		t.Fatalf("got %q", b)
	}
	waitConns(t, s, 0)
}
