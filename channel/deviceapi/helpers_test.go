package deviceapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
	"github.com/gnssgate/gnssgate/protocol"
)

const wait = 5 * time.Second

// env is an embedded broker serving the device API on 127.0.0.1.
type env struct {
	srv     *embedded.Server
	addr    string
	api     *API
	creds   *MemoryCredentials
	handler *collector
}

// newEnv starts a broker with the device API; mod may adjust the API
// before it is used.
func newEnv(t testing.TB, mod func(*API)) *env {
	t.Helper()
	e := &env{creds: &MemoryCredentials{}, handler: newCollector()}
	e.api = &API{Handler: e.handler, Credentials: e.creds, ChannelID: 7, ProtocolID: 41,
		Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(e.api)
	}
	e.srv = embedded.New(&embedded.Config{Authenticator: e.api.Authenticator(nil), Logger: slog.New(slog.DiscardHandler)})
	e.api.Broker = e.srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(context.Background(), ln)
	t.Cleanup(func() { e.srv.Close() })
	e.addr = ln.Addr().String()
	return e
}

// serveTLS serves the broker on a TLS listener too.
func (e *env) serveTLS(t testing.TB, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(context.Background(), ln)
	return ln.Addr().String()
}

func (e *env) addToken(t testing.TB, token string, d Device) {
	t.Helper()
	if err := e.creds.SetToken(token, d); err != nil {
		t.Fatal(err)
	}
}

// collector is a channel.Handler that keeps what it gets; with fail set it
// refuses (as a full store would).
type collector struct {
	ch    chan protocol.Message
	conns chan *channel.Conn
	fail  atomic.Bool
	calls atomic.Int64
}

func newCollector() *collector {
	return &collector{ch: make(chan protocol.Message, 10000), conns: make(chan *channel.Conn, 10000)}
}

func (c *collector) HandleMessages(_ context.Context, conn *channel.Conn, msgs []protocol.Message) error {
	c.calls.Add(1)
	if c.fail.Load() {
		return errors.New("store full")
	}
	for i := range msgs {
		c.ch <- msgs[i].Clone()
		c.conns <- conn
	}
	return nil
}

func (c *collector) next(t testing.TB) protocol.Message {
	t.Helper()
	select {
	case m := <-c.ch:
		<-c.conns
		return m
	case <-time.After(wait):
		t.Fatal("no message reached the handler")
	}
	return protocol.Message{}
}

func (c *collector) none(t testing.TB) {
	t.Helper()
	select {
	case m := <-c.ch:
		t.Fatalf("unexpected message %s", m.String())
	case <-time.After(100 * time.Millisecond):
	}
}

// msg is a message a test device received.
type msg struct {
	topic   string
	payload string
	dup     bool
	user    paho.UserProperties // MQTT 5 only
}

// device is a test device speaking MQTT 3.1.1 (internal/mqtt311) or 5
// (paho.golang).
type device interface {
	// pub publishes and returns the PUBACK reason code (always 0 for
	// MQTT 3.1.1 and QoS 0); err when no PUBACK came (the connection
	// closed).
	pub(topic, payload string, qos byte) (byte, error)
	sub(t testing.TB, filters ...string) []byte
	next(t testing.TB) msg
	none(t testing.TB)
	closed() bool
	close()
}

// connOpts describe a device's CONNECT.
type connOpts struct {
	clientID, username string
	password           []byte
	persistent         bool
	tlsConfig          *tls.Config
}

func dialDevice(t testing.TB, v byte, addr string, o connOpts) (device, error) {
	t.Helper()
	var nc net.Conn
	var err error
	if o.tlsConfig != nil {
		nc, err = tls.Dial("tcp", addr, o.tlsConfig)
	} else {
		nc, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if v == 4 {
		c, _, err := mqtt311.Connect(ctx, nc, mqtt311.Options{ClientID: o.clientID, Username: o.username,
			Password: o.password, Persistent: o.persistent, KeepAlive: 30 * time.Second})
		if err != nil {
			return nil, err
		}
		d := &dev311{c: c}
		t.Cleanup(d.close)
		return d, nil
	}
	d := &dev5{msgs: make(chan msg, 1000), done: make(chan struct{})}
	// paho writes a packet in several Writes and pings from another
	// goroutine: over TLS they interleave without the lock.
	d.c = paho.NewClient(paho.ClientConfig{Conn: packets.NewThreadSafeConn(nc),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			m := msg{topic: pr.Packet.Topic, payload: string(pr.Packet.Payload), dup: pr.Packet.Duplicate()}
			if pr.Packet.Properties != nil {
				m.user = pr.Packet.Properties.User
			}
			d.msgs <- m
			return true, nil
		}},
		OnClientError:      func(error) { d.markDone() },
		OnServerDisconnect: func(*paho.Disconnect) { d.markDone() },
	})
	cp := &paho.Connect{ClientID: o.clientID, CleanStart: !o.persistent, KeepAlive: 30,
		Username: o.username, UsernameFlag: o.username != "", Password: o.password, PasswordFlag: o.password != nil}
	if o.persistent {
		cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: u32(300)}
	}
	ca, err := d.c.Connect(ctx, cp)
	if err != nil {
		nc.Close()
		if ca != nil {
			return nil, &mqtt311.RefusedError{Code: ca.ReasonCode}
		}
		return nil, err
	}
	t.Cleanup(d.close)
	return d, nil
}

func mustDial(t testing.TB, v byte, addr string, o connOpts) device {
	t.Helper()
	d, err := dialDevice(t, v, addr, o)
	if err != nil {
		t.Fatalf("MQTT %d connect %+v: %v", v, o, err)
	}
	return d
}

func u32(v uint32) *uint32 { return &v }

type dev311 struct{ c *mqtt311.Client }

func (d *dev311) pub(topic, payload string, qos byte) (byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return 0, d.c.Publish(ctx, topic, []byte(payload), qos, false)
}

func (d *dev311) sub(t testing.TB, filters ...string) []byte {
	t.Helper()
	var subs []mqtt311.Subscription
	for _, f := range filters {
		subs = append(subs, mqtt311.Subscription{Filter: f, QoS: 1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	codes, err := d.c.Subscribe(ctx, subs...)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	return codes
}

func (d *dev311) next(t testing.TB) msg {
	t.Helper()
	select {
	case m, ok := <-d.c.Messages():
		if !ok {
			t.Fatal("connection closed while waiting for a message")
		}
		return msg{topic: m.Topic, payload: string(m.Payload), dup: m.Dup}
	case <-time.After(wait):
		t.Fatal("no message within 5 s")
	}
	return msg{}
}

func (d *dev311) none(t testing.TB) {
	t.Helper()
	select {
	case m, ok := <-d.c.Messages():
		if ok {
			t.Fatalf("unexpected message %s %q", m.Topic, m.Payload)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

func (d *dev311) closed() bool {
	select {
	case <-d.c.Done():
		return true
	case <-time.After(wait):
		return false
	}
}

func (d *dev311) close() { d.c.Close() }

type dev5 struct {
	c        *paho.Client
	msgs     chan msg
	done     chan struct{}
	doneOnce sync.Once
}

func (d *dev5) markDone() { d.doneOnce.Do(func() { close(d.done) }) }

func (d *dev5) pub(topic, payload string, qos byte) (byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pr, err := d.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Payload: []byte(payload)})
	if pr != nil {
		return pr.ReasonCode, nil
	}
	if qos == 0 && err == nil {
		return 0, nil
	}
	return 0, fmt.Errorf("no PUBACK: %w", err)
}

func (d *dev5) sub(t testing.TB, filters ...string) []byte {
	t.Helper()
	var opts []paho.SubscribeOptions
	for _, f := range filters {
		opts = append(opts, paho.SubscribeOptions{Topic: f, QoS: 1})
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	sa, err := d.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: opts})
	if sa == nil {
		t.Fatalf("subscribe: %v", err)
	}
	return sa.Reasons
}

func (d *dev5) next(t testing.TB) msg {
	t.Helper()
	select {
	case m := <-d.msgs:
		return m
	case <-time.After(wait):
		t.Fatal("no message within 5 s")
	}
	return msg{}
}

func (d *dev5) none(t testing.TB) {
	t.Helper()
	select {
	case m := <-d.msgs:
		t.Fatalf("unexpected message %s %q", m.topic, m.payload)
	case <-time.After(100 * time.Millisecond):
	}
}

func (d *dev5) closed() bool {
	select {
	case <-d.done:
		return true
	case <-time.After(wait):
		return false
	}
}

func (d *dev5) close() {
	d.c.Disconnect(&paho.Disconnect{})
	d.markDone()
}

// versions runs f as a subtest for MQTT 3.1.1 and 5.
func versions(t *testing.T, f func(t *testing.T, v byte)) {
	for _, v := range []byte{4, 5} {
		name := map[byte]string{4: "mqtt3.1.1", 5: "mqtt5"}[v]
		t.Run(name, func(t *testing.T) { f(t, v) })
	}
}

// inproc subscribes in-process to a broker topic and returns its messages.
func inproc(t testing.TB, b broker.Broker, filter string) chan broker.Message {
	t.Helper()
	ch := make(chan broker.Message, 100)
	sub, err := b.Subscribe(context.Background(), filter, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		ch <- m
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe(context.Background()) })
	return ch
}
