package paho

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.golang/paho"
	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/brokertest"
	"github.com/gnssgate/gnssgate/internal/testenv"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestBroker(t *testing.T, cfg Config) *Broker {
	t.Helper()
	if cfg.Server == "" {
		cfg.Server = testenv.MQTTAddr(t)
	}
	if cfg.SessionExpiry == 0 {
		cfg.SessionExpiry = time.Minute // do not leave sessions on a shared broker for days
	}
	if cfg.Logger == nil {
		cfg.Logger = quietLogger()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b
}

func TestConformance(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) broker.Broker { return newTestBroker(t, Config{}) })
}

func TestStickyShareRejected(t *testing.T) {
	b := newTestBroker(t, Config{})
	defer b.Close()
	_, err := b.Subscribe(context.Background(), "$share/d:1/a/+", broker.HandlerFunc(func(context.Context, broker.Message) error { return nil }))
	if !errors.Is(err, broker.ErrUnsupported) {
		t.Fatalf("sticky share: %v, want ErrUnsupported", err)
	}
	if b.Supports(broker.FeatureStickyShare) {
		t.Fatal("Supports(sticky) = true")
	}
}

// After the connection drops, the adapter reconnects, resubscribes and
// publishes again. Without a session (expiry < 0) the server forgets the
// subscription, so only the resubscription brings the message.
func TestReconnect(t *testing.T) {
	t.Run("persistent", func(t *testing.T) { testReconnect(t, 0) })
	t.Run("no-session", func(t *testing.T) { testReconnect(t, -1) })
}

func testReconnect(t *testing.T, expiry time.Duration) {
	b := newTestBroker(t, Config{ReconnectMin: 50 * time.Millisecond, SessionExpiry: expiry})
	defer b.Close()
	topic := "gnssgate-test/" + uuid.NewString() + "/reconnect"
	got := make(chan string, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Subscribe(ctx, topic, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- string(m.Payload)
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	before := b.ups.Load()
	b.cm.TerminateConnectionForTest()
	// Publish races the drop: it must wait for the next connection.
	if err := b.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("after"), QoS: 1}); err != nil {
		t.Fatalf("Publish after reconnect: %v", err)
	}
	select {
	case p := <-got:
		if p != "after" {
			t.Fatalf("got %q", p)
		}
	case <-ctx.Done():
		t.Fatal("no delivery after reconnect")
	}
	if b.ups.Load() <= before {
		t.Fatal("no reconnection happened")
	}
}

// A persistent session with a fixed client id keeps QoS 1 messages
// published while the subscriber was away.
func TestPersistentSession(t *testing.T) {
	id := "gnssgate-test-" + uuid.NewString()
	topic := "gnssgate-test/" + uuid.NewString() + "/offline"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan string, 10)
	h := broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		got <- string(m.Payload)
		return nil
	})

	sub := newTestBroker(t, Config{ClientID: id, CleanStart: true, SessionExpiry: 30 * time.Second})
	if _, err := sub.Subscribe(ctx, topic, h); err != nil {
		t.Fatal(err)
	}
	sub.Close()

	pub := newTestBroker(t, Config{})
	defer pub.Close()
	if err := pub.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("while away"), QoS: 1}); err != nil {
		t.Fatal(err)
	}

	// The session brings the subscription back; subscribe locally to route
	// its messages (the SUBSCRIBE is idempotent on the server, and the
	// subscription identifier is derived from the filter, so it is the
	// same as the one the session holds).
	again := newTestBroker(t, Config{ClientID: id, SessionExpiry: time.Second})
	defer again.Close()
	// Let the broker deliver before the local Subscribe: the adapter must
	// hold the message (not acknowledge and drop it) until a subscription
	// wants it.
	time.Sleep(300 * time.Millisecond)
	if _, err := again.Subscribe(ctx, topic, h); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if p != "while away" {
			t.Fatalf("got %q", p)
		}
	case <-ctx.Done():
		t.Fatal("the message published while away was not delivered")
	}
}

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := New(ctx, Config{}); err == nil {
		t.Error("New with no Server succeeded")
	}
	if _, err := New(ctx, Config{Server: "ftp://127.0.0.1:1"}); !errors.Is(err, broker.ErrUnsupported) {
		t.Errorf("ftp scheme: %v, want ErrUnsupported", err)
	}
	if _, err := New(ctx, Config{Server: "mqtt://"}); err == nil || errors.Is(err, broker.ErrNotConnected) {
		t.Errorf("no host: %v, want a configuration error", err)
	}
	// Accepted schemes, nobody listening: New gives up with ctx.
	for _, server := range []string{"127.0.0.1:1", "ws://127.0.0.1:1/mqtt", "tls://127.0.0.1:1"} {
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		_, err := New(short, Config{Server: server, Logger: quietLogger()})
		cancel()
		if !errors.Is(err, broker.ErrNotConnected) {
			t.Errorf("unreachable %s: %v, want ErrNotConnected", server, err)
		}
		// The last attempt's error tells which dialer autopaho used.
		if strings.HasPrefix(server, "ws:") && !strings.Contains(err.Error(), "websocket") {
			t.Errorf("unreachable %s: %v, want a websocket dial error", server, err)
		}
	}
}

// A handler error withholds the PUBACK; the adapter reconnects and the
// broker redelivers the message to the persistent session.
func TestHandlerErrorRedelivers(t *testing.T) {
	b := newTestBroker(t, Config{})
	defer b.Close()
	topic := "gnssgate-test/" + uuid.NewString() + "/refuse"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	attempts := make(chan bool, 10)
	n := 0
	if _, err := b.Subscribe(ctx, topic, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		n++
		attempts <- n > 1
		if n == 1 {
			return errors.New("not now")
		}
		return nil
	})); err != nil {
		t.Fatal(err)
	}
	ups := b.ups.Load()
	if err := b.Publish(ctx, broker.Message{Topic: topic, Payload: []byte("x"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	for ok := false; !ok; {
		select {
		case ok = <-attempts:
		case <-ctx.Done():
			t.Fatal("refused message not redelivered")
		}
	}
	if b.ups.Load() <= ups {
		t.Fatal("redelivered without a reconnection: the PUBACK was not withheld")
	}
}

// Publishes racing repeated connection losses: every QoS 1 message reaches
// the subscriber, also without a session, where only the resubscription
// (which the gate puts before any publish on a new connection) brings it.
func TestReconnectRace(t *testing.T) {
	for _, expiry := range []time.Duration{0, -1} {
		t.Run(fmt.Sprint("expiry=", expiry), func(t *testing.T) {
			b := newTestBroker(t, Config{ReconnectMin: 10 * time.Millisecond, SessionExpiry: expiry})
			defer b.Close()
			topic := "gnssgate-test/" + uuid.NewString() + "/race"
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			var mu sync.Mutex
			seen := map[string]bool{}
			if _, err := b.Subscribe(ctx, topic, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
				mu.Lock()
				seen[string(m.Payload)] = true
				mu.Unlock()
				return nil
			})); err != nil {
				t.Fatal(err)
			}
			const n = 20
			ups := b.ups.Load()
			for i := range n {
				b.cm.TerminateConnectionForTest()
				if err := b.Publish(ctx, broker.Message{Topic: topic, Payload: []byte(fmt.Sprint(i)), QoS: 1}); err != nil {
					t.Fatalf("Publish %d: %v", i, err)
				}
			}
			for {
				mu.Lock()
				got := len(seen)
				mu.Unlock()
				if got == n {
					break
				}
				select {
				case <-ctx.Done():
					t.Fatalf("got %d of %d messages", got, n)
				case <-time.After(10 * time.Millisecond):
				}
			}
			if b.ups.Load()-ups < n/2 {
				t.Fatalf("only %d reconnections", b.ups.Load()-ups)
			}
		})
	}
}

func TestReconnectBackoff(t *testing.T) {
	tests := []struct {
		min, max time.Duration
	}{
		{250 * time.Millisecond, 30 * time.Second},
		{time.Second, time.Second},            // equal bounds: constant
		{100 * time.Microsecond, time.Second}, // below autopaho's millisecond
		{time.Millisecond, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		c := Config{ReconnectMin: tt.min, ReconnectMax: tt.max}.withDefaults()
		f := c.reconnectBackoff()
		if d := f(0); d != 0 {
			t.Errorf("%v..%v: first attempt waits %v", tt.min, tt.max, d)
		}
		lo := max(tt.min, time.Millisecond)
		for n := 1; n < 40; n++ {
			if d := f(n); d < lo || d > max(tt.max, lo) {
				t.Errorf("%v..%v: attempt %d waits %v", tt.min, tt.max, n, d)
			}
		}
	}
}

// Close ends the session of a generated client id (nobody could resume it)
// and keeps the session of a configured one.
func TestCloseEndsGeneratedSession(t *testing.T) {
	for _, configured := range []bool{false, true} {
		cfg := Config{}
		if configured {
			cfg.ClientID = "gnssgate-test-" + uuid.NewString()
		}
		b := newTestBroker(t, cfg)
		id := b.ClientID()
		b.Close()
		if got := sessionPresent(t, id); got != configured {
			t.Errorf("configured id %v: session present after Close = %v", configured, got)
		}
	}
}

// sessionPresent connects as id without clean start, reports whether the
// server had a session, and ends it.
func sessionPresent(t *testing.T, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", testenv.MQTTAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	cli := mqtt.NewClient(mqtt.ClientConfig{ClientID: id, Conn: conn})
	ack, err := cli.Connect(ctx, &mqtt.Connect{ClientID: id, KeepAlive: 30})
	if err != nil {
		t.Fatal(err)
	}
	cli.Disconnect(&mqtt.Disconnect{})
	return ack.SessionPresent
}
