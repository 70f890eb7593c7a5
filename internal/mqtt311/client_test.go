package mqtt311_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// startBroker starts an embedded broker on a loopback port that takes the
// token "secret" (every topic) and holds maxInflight unacknowledged
// messages per client (0: its default).
func startBroker(t *testing.T, maxInflight int) (*embedded.Server, string) {
	var tokens embedded.TokenStore
	tokens.Set("secret", &embedded.Token{Name: "t", Publish: []string{"#"}, Subscribe: []string{"#"}})
	srv := embedded.New(&embedded.Config{Authenticator: &tokens, MaxInflight: maxInflight, Logger: slog.New(slog.DiscardHandler)})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(context.Background(), ln)
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String()
}

func TestClient(t *testing.T) {
	srv, addr := startBroker(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	_, _, err := mqtt311.Dial(ctx, addr, mqtt311.Options{ClientID: "x", Username: "wrong"})
	var re *mqtt311.RefusedError
	if !errors.As(err, &re) || re.Code != 4 {
		t.Fatalf("wrong credentials: %v", err)
	}

	opts := mqtt311.Options{ClientID: "c1", Username: "secret", Persistent: true, KeepAlive: 2 * time.Second}
	c, present, err := mqtt311.Dial(ctx, addr, opts)
	if err != nil || present {
		t.Fatalf("connect: %v present=%v", err, present)
	}
	codes, err := c.Subscribe(ctx, mqtt311.Subscription{Filter: "a/+", QoS: 1}, mqtt311.Subscription{Filter: "b", QoS: 0})
	if err != nil || len(codes) != 2 || codes[0] != 1 || codes[1] != 0 {
		t.Fatalf("subscribe: %v %v", codes, err)
	}
	if err := c.Publish(ctx, "a/1", []byte("one"), 1, false); err != nil {
		t.Fatalf("publish: %v", err)
	}
	if err := c.Publish(ctx, "b", []byte("two"), 0, false); err != nil {
		t.Fatalf("publish: %v", err)
	}
	for _, want := range []string{"a/1 one 1", "b two 0"} {
		select {
		case m := <-c.Messages():
			if got := m.Topic + " " + string(m.Payload) + " " + string('0'+m.QoS); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-ctx.Done():
			t.Fatal("no message")
		}
	}
	if err := c.Unsubscribe(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	// Keep-alive pings keep the connection beyond 1.5 × keep-alive.
	time.Sleep(3500 * time.Millisecond)
	if c.Err() != nil {
		t.Fatalf("connection ended: %v", c.Err())
	}
	// The persistent session keeps what comes while the client is away.
	c.Close()
	if err := srv.Publish(ctx, broker.Message{Topic: "a/2", QoS: 1, Payload: []byte("queued")}); err != nil {
		t.Fatal(err)
	}
	c2, present, err := mqtt311.Dial(ctx, addr, opts)
	if err != nil || !present {
		t.Fatalf("reconnect: %v present=%v", err, present)
	}
	defer c2.Disconnect()
	select {
	case m := <-c2.Messages():
		if m.Topic != "a/2" || string(m.Payload) != "queued" {
			t.Fatalf("queued: %+v", m)
		}
	case <-ctx.Done():
		t.Fatal("queued message not delivered")
	}
}

// FuzzReadPacket: whatever a broker sends, the client's packet reader
// returns a packet or an error, never panics, and never allocates beyond
// its limit.
func FuzzReadPacket(f *testing.F) {
	for _, s := range [][]byte{
		{0x20, 2, 0, 0}, {0x20, 2, 1, 5}, {0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i'},
		{0x32, 9, 0, 3, 'a', '/', 'b', 0, 1, 'h', 'i'}, {0x40, 2, 0, 1}, {0x90, 3, 0, 1, 0x80},
		{0xB0, 2, 0, 1}, {0xD0, 0}, {0x30, 0xFF, 0xFF, 0xFF, 0xFF}, {0xF0, 0},
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mqtt311.ReadPacketForTest(data, 4096)
	})
}

// Automatic acknowledgements go out in bulk, but every one goes: with a
// broker that holds 8 unacknowledged messages per client, 2,000 QoS 1
// messages published at once all arrive, and the last one only after the
// client acknowledged all but 8 before it.
func TestAutoAckEveryMessage(t *testing.T) {
	srv, addr := startBroker(t, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := mqtt311.Dial(ctx, addr, mqtt311.Options{ClientID: "bulk", Username: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Subscribe(ctx, mqtt311.Subscription{Filter: "bulk/#", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	go func() {
		for i := range n {
			srv.Publish(ctx, broker.Message{Topic: "bulk/x", QoS: 1, Payload: []byte{byte(i)}})
		}
	}()
	for i := range n {
		select {
		case <-c.Messages():
		case <-ctx.Done():
			t.Fatalf("%d of %d messages arrived: acknowledgements are missing", i, n)
		}
	}
}

// FuzzReadPublish: the read path of OnMessage decodes every PUBLISH as
// mochi's decoder does, whether the packet fits the read buffer or not,
// and stops (with an error) where mochi's does.
func FuzzReadPublish(f *testing.F) {
	for _, s := range [][]byte{
		{0x30, 7, 0, 3, 'a', '/', 'b', 'h', 'i', 0x32, 9, 0, 3, 'a', '/', 'b', 0, 1, 'h', 'i'},
		{0x3B, 6, 0, 1, 'x', 0, 9, 'p', 0x30, 3, 0, 1, 'y'}, {0x30, 2, 0, 0}, {0x30, 2, 0, 5},
		{0x32, 3, 0, 0, 1}, {0x30, 4, 0, 2, 0xC3, 0x28}, {0x30, 3, 0, 1, 0}, {0x36, 5, 0, 1, 'z', 0, 1},
		{0x30, 0x80, 0x01, 0, 1, 'q'}, {0x30, 0xFF, 0xFF, 0xFF, 0xFF}, {0x20, 2, 0, 0},
	} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, small uint8) {
		bufSize := 16 + int(small)%48 // packets longer than the buffer take the copying path
		fast, slow := mqtt311.ComparePublishForTest(data, 4096, bufSize)
		if strings.Join(fast, "\n") != strings.Join(slow, "\n") {
			t.Fatalf("OnMessage's reader:\n%s\nmochi's:\n%s", strings.Join(fast, "\n"), strings.Join(slow, "\n"))
		}
	})
}

// With OnMessage, messages reach the callback in order, QoS 1 ones
// acknowledged (the broker holds 8 unacknowledged), payloads intact
// whether they fit the read buffer or not, and Messages closes when the
// connection ends.
func TestOnMessage(t *testing.T) {
	srv, addr := startBroker(t, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := make(chan string, 10000)
	c, _, err := mqtt311.Dial(ctx, addr, mqtt311.Options{ClientID: "cb", Username: "secret", ReadBufferSize: 64,
		OnMessage: func(m mqtt311.Message) { got <- fmt.Sprintf("%s %d %s", m.Topic, m.QoS, m.Payload) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, mqtt311.Subscription{Filter: "cb/#", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	payload := func(i int) string { return strings.Repeat(strconv.Itoa(i), i%40) } // up to 160 bytes: some beyond the buffer
	go func() {
		for i := range n {
			srv.Publish(ctx, broker.Message{Topic: "cb/" + strconv.Itoa(i%7), QoS: byte(i % 2), Payload: []byte(payload(i))})
		}
	}()
	for i := range n {
		want := fmt.Sprintf("cb/%d %d %s", i%7, i%2, payload(i))
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("message %d: %q, want %q", i, m, want)
			}
		case <-ctx.Done():
			t.Fatalf("%d of %d messages arrived", i, n)
		}
	}
	c.Close()
	select {
	case _, open := <-c.Messages():
		if open {
			t.Fatal("a message on Messages with OnMessage set")
		}
	case <-ctx.Done():
		t.Fatal("Messages not closed with the connection")
	}
}
