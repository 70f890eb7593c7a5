package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/brokertest"
	"github.com/mochi-mqtt/server/v2/packets"
)

// durableServer is a broker on a data directory that a test restarts.
type durableServer struct {
	t    testing.TB
	dir  string
	cfg  Config
	s    *Server
	addr string
}

func startDurable(t testing.TB, cfg *Config) *durableServer {
	t.Helper()
	d := &durableServer{t: t, dir: t.TempDir()}
	if cfg != nil {
		d.cfg = *cfg
	}
	d.cfg.AllowAnonymous = true
	if d.cfg.Logger == nil {
		d.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	d.cfg.DataDir = d.dir
	d.open()
	t.Cleanup(func() { d.s.Close() })
	return d
}

func (d *durableServer) open() {
	d.t.Helper()
	s, err := Open(&d.cfg)
	if err != nil {
		d.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.t.Fatal(err)
	}
	go s.Serve(context.Background(), ln)
	d.s, d.addr = s, ln.Addr().String()
}

// restart closes the server and opens a new one on the same directory.
func (d *durableServer) restart() {
	d.t.Helper()
	if err := d.s.Close(); err != nil {
		d.t.Fatalf("close: %v", err)
	}
	d.open()
}

func subID(id int) *paho.SubscribeProperties {
	return &paho.SubscribeProperties{SubscriptionIdentifier: &id}
}

// TestDurableSessionRestart: a persistent session's subscriptions (with
// options and identifiers), the QoS 1 and 2 messages queued for it and
// retained messages are there after a restart.
func TestDurableSessionRestart(t *testing.T) {
	d := startDurable(t, nil)
	cp := &paho.Connect{ClientID: "keep", CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(3600)}}
	c, _ := dialPaho(t, d.addr, cp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Properties: subID(7),
		Subscriptions: []paho.SubscribeOptions{{Topic: "a/+", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: "b/#", QoS: 2, NoLocal: true, RetainAsPublished: true}}}); err != nil {
		t.Fatal(err)
	}
	c.Disconnect(&paho.Disconnect{})

	pub, _ := dialPaho(t, d.addr, nil)
	pub.pub(t, &paho.Publish{Topic: "a/1", QoS: 1, Payload: []byte("1")})
	pub.pub(t, &paho.Publish{Topic: "a/2", QoS: 1, Payload: []byte("2")})
	pub.pub(t, &paho.Publish{Topic: "b/x", QoS: 2, Retain: true, Payload: []byte("bx")})
	pub.pub(t, &paho.Publish{Topic: "a/0", QoS: 0, Payload: []byte("qos0: dropped for offline sessions")})
	pub.pub(t, &paho.Publish{Topic: "ret/t", QoS: 1, Retain: true, Payload: []byte("kept"),
		Properties: &paho.PublishProperties{ContentType: "text/plain", User: paho.UserProperties{{Key: "k", Value: "v"}}}})

	d.restart()
	cp.CleanStart = false
	c2, ca := dialPaho(t, d.addr, cp)
	if !ca.SessionPresent {
		t.Fatal("session not present after restart")
	}
	for _, want := range []struct {
		topic, payload string
		qos            byte
		retain         bool
		ids            []int
	}{{"a/1", "1", 1, false, []int{7}}, {"a/2", "2", 1, false, []int{7}}, {"b/x", "bx", 2, true, nil}} {
		m := c2.next(t)
		var ids []int
		if m.Properties != nil && m.Properties.SubscriptionIdentifier != nil {
			ids = []int{*m.Properties.SubscriptionIdentifier}
		}
		if m.Topic != want.topic || string(m.Payload) != want.payload || m.QoS != want.qos || m.Retain != want.retain ||
			len(ids) != len(want.ids) || (len(ids) == 1 && ids[0] != want.ids[0]) {
			t.Fatalf("after restart got %s %q QoS %d retain %v ids %v, want %+v", m.Topic, m.Payload, m.QoS, m.Retain, ids, want)
		}
	}
	c2.none(t, 100*time.Millisecond)
	// The subscriptions themselves survived, with their identifiers.
	pub2, _ := dialPaho(t, d.addr, nil)
	pub2.pub(t, &paho.Publish{Topic: "a/3", QoS: 1, Payload: []byte("3")})
	if m := c2.next(t); m.Topic != "a/3" || m.Properties.SubscriptionIdentifier == nil || *m.Properties.SubscriptionIdentifier != 7 {
		t.Fatalf("live after restart: %s %+v", m.Topic, m.Properties)
	}
	// Retained messages, with their properties.
	r, _ := dialPaho(t, d.addr, nil)
	r.sub(t, paho.SubscribeOptions{Topic: "ret/#", QoS: 1})
	m := r.next(t)
	if m.Topic != "ret/t" || string(m.Payload) != "kept" || !m.Retain || m.Properties.ContentType != "text/plain" ||
		m.Properties.User.Get("k") != "v" {
		t.Fatalf("retained after restart: %s %q retain %v %+v", m.Topic, m.Payload, m.Retain, m.Properties)
	}
	// Nothing is delivered twice after a second restart.
	c2.Disconnect(&paho.Disconnect{})
	time.Sleep(50 * time.Millisecond)
	d.restart()
	c3, ca := dialPaho(t, d.addr, cp)
	if !ca.SessionPresent {
		t.Fatal("session not present after the second restart")
	}
	c3.none(t, 200*time.Millisecond)
}

// TestDurableInflightRestart: messages sent and not acknowledged are sent
// again after a restart under their packet IDs; a QoS 2 message the client
// received (PUBREC) gets only its PUBREL again.
func TestDurableInflightRestart(t *testing.T) {
	d := startDurable(t, nil)
	r := dialRaw(t, d.addr)
	r.connect("inf", false, 30, nil)
	r.subscribe(1, subOpt("p/#", 1), subOpt("q/#", 2))
	pub := dialRaw(t, d.addr)
	pub.connect("pub", true, 30, nil)
	for i, m := range []struct {
		topic string
		qos   byte
	}{{"p/1", 1}, {"q/1", 2}, {"q/2", 2}} {
		id := uint16(10 + i)
		pub.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: m.qos}, PacketID: id,
			TopicName: m.topic, Payload: []byte(m.topic)})
		if ack := pub.read(); ack.PacketID != id {
			t.Fatalf("ack %+v", ack)
		}
		if m.qos == 2 {
			pub.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: id})
			if ack := pub.read(); ack.FixedHeader.Type != packets.Pubcomp {
				t.Fatalf("want PUBCOMP, got %+v", ack)
			}
		}
	}
	ids := map[string]uint16{}
	for range 3 {
		m := r.read()
		if m == nil || m.FixedHeader.Type != packets.Publish {
			t.Fatalf("want PUBLISH, got %+v", m)
		}
		ids[m.TopicName] = m.PacketID
	}
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: ids["q/1"]})
	if rel := r.read(); rel.FixedHeader.Type != packets.Pubrel || rel.PacketID != ids["q/1"] {
		t.Fatalf("want PUBREL, got %+v", rel)
	}
	r.nc.Close()
	time.Sleep(50 * time.Millisecond)

	d.restart()
	r2 := dialRaw(t, d.addr)
	if ca := r2.connect("inf", false, 30, nil); !ca.SessionPresent {
		t.Fatal("session not present")
	}
	got := map[string]bool{}
	for range 3 {
		m := r2.read()
		switch {
		case m == nil:
			t.Fatalf("connection ended; got %v", got)
		case m.FixedHeader.Type == packets.Pubrel && m.PacketID == ids["q/1"]:
			got["rel q/1"] = true
			r2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: m.PacketID})
		case m.FixedHeader.Type == packets.Publish && m.PacketID == ids[m.TopicName] && m.TopicName != "q/1":
			got[m.TopicName] = true
			if m.FixedHeader.Qos == 1 {
				r2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: m.PacketID})
			} else {
				r2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: m.PacketID})
				if rel := r2.read(); rel.FixedHeader.Type != packets.Pubrel {
					t.Fatalf("want PUBREL, got %+v", rel)
				}
				r2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: m.PacketID})
			}
		default:
			t.Fatalf("unexpected after restart: type %d id %d topic %q (ids before: %v)", m.FixedHeader.Type, m.PacketID, m.TopicName, ids)
		}
	}
	if len(got) != 3 {
		t.Fatalf("after restart: %v", got)
	}
	expectNothing(t, r2)
	r2.nc.Close()
	time.Sleep(50 * time.Millisecond)
	d.restart()
	r3 := dialRaw(t, d.addr)
	r3.connect("inf", false, 30, nil)
	expectNothing(t, r3)
}

// expectNothing checks that the next packet is the answer to a PINGREQ.
func expectNothing(t *testing.T, r *rawClient) {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
	if m := r.read(); m == nil || m.FixedHeader.Type != packets.Pingresp {
		t.Fatalf("want only PINGRESP, got %+v", m)
	}
}

// TestDurableInboundQoS2Restart: a QoS 2 publish the broker answered with
// PUBREC is not routed again when the client, after a restart, sends it
// again before its PUBREL.
func TestDurableInboundQoS2Restart(t *testing.T) {
	d := startDurable(t, nil)
	sub := dialRaw(t, d.addr)
	sub.connect("s2", false, 30, nil)
	sub.subscribe(1, subOpt("x/#", 2))
	sub.nc.Close()
	pub := dialRaw(t, d.addr)
	pub.connect("p2", false, 30, nil)
	publish := func(p *rawClient, dup bool) {
		p.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2, Dup: dup}, PacketID: 9,
			TopicName: "x/1", Payload: []byte("once")})
		if ack := p.read(); ack.FixedHeader.Type != packets.Pubrec || ack.PacketID != 9 {
			t.Fatalf("want PUBREC 9, got %+v", ack)
		}
	}
	publish(pub, false)
	pub.nc.Close()
	time.Sleep(50 * time.Millisecond)

	d.restart()
	pub2 := dialRaw(t, d.addr)
	if ca := pub2.connect("p2", false, 30, nil); !ca.SessionPresent {
		t.Fatal("publisher's session not present")
	}
	publish(pub2, true)
	pub2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: 9})
	if ack := pub2.read(); ack.FixedHeader.Type != packets.Pubcomp || ack.PacketID != 9 || ack.ReasonCode != 0 {
		t.Fatalf("want PUBCOMP 9, got %+v", ack)
	}
	// After PUBREL, ID 9 names a new message.
	publish(pub2, false)
	pub2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: 9})
	pub2.read()

	sub2 := dialRaw(t, d.addr)
	sub2.connect("s2", false, 30, nil)
	if n := drainQoS2(t, sub2, "once"); n != 2 {
		t.Fatalf("subscriber got %d messages, want 2 (one per PUBREL'd publish)", n)
	}
	expectNothing(t, sub2)
}

// TestDurableExpiryAcrossRestart: session expiry and retained message
// expiry keep counting while the broker is down.
func TestDurableExpiryAcrossRestart(t *testing.T) {
	d := startDurable(t, nil)
	for _, s := range []struct {
		id     string
		expiry uint32
	}{{"short", 1}, {"long", 60}} {
		c, _ := dialPaho(t, d.addr, &paho.Connect{ClientID: s.id, CleanStart: true, KeepAlive: 30,
			Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(s.expiry)}})
		c.sub(t, paho.SubscribeOptions{Topic: "z/#", QoS: 1})
		c.Disconnect(&paho.Disconnect{})
	}
	pub, _ := dialPaho(t, d.addr, nil)
	pub.pub(t, &paho.Publish{Topic: "e/t", QoS: 1, Retain: true, Payload: []byte("short-lived"),
		Properties: &paho.PublishProperties{MessageExpiry: u32(1)}})
	pub.pub(t, &paho.Publish{Topic: "e/u", QoS: 1, Retain: true, Payload: []byte("lasting")})
	if err := d.s.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond) // the broker is down
	d.open()
	for _, s := range []struct {
		id      string
		present bool
	}{{"short", false}, {"long", true}} {
		_, ca := dialPaho(t, d.addr, &paho.Connect{ClientID: s.id, KeepAlive: 30,
			Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(60)}})
		if ca.SessionPresent != s.present {
			t.Errorf("%s: session present %v after restart, want %v", s.id, ca.SessionPresent, s.present)
		}
	}
	r, _ := dialPaho(t, d.addr, nil)
	r.sub(t, paho.SubscribeOptions{Topic: "e/#", QoS: 1})
	if m := r.next(t); m.Topic != "e/u" {
		t.Fatalf("retained after restart: %s (e/t had expired)", m.Topic)
	}
	r.none(t, 100*time.Millisecond)
}

// TestDurableWillAcrossRestart: a will waiting for its delay when the broker
// stops is published after the restart, once.
func TestDurableWillAcrossRestart(t *testing.T) {
	d := startDurable(t, nil)
	nc, err := net.Dial("tcp", d.addr)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: nc, OnClientError: func(error) {}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "w", CleanStart: true, KeepAlive: 30,
		Properties:     &paho.ConnectProperties{SessionExpiryInterval: u32(60)},
		WillMessage:    &paho.WillMessage{Topic: "will/w", QoS: 1, Payload: []byte("gone")},
		WillProperties: &paho.WillProperties{WillDelayInterval: u32(1)}}); err != nil {
		t.Fatal(err)
	}
	nc.Close() // no DISCONNECT: the will is due in 1 s
	time.Sleep(100 * time.Millisecond)
	d.restart()
	col := newCollector()
	mustSub(t, d.s, "will/#", col)
	if m := col.next(t); m.Topic != "will/w" || string(m.Payload) != "gone" {
		t.Fatalf("will: %+v", m)
	}
	time.Sleep(100 * time.Millisecond)
	d.restart()
	col2 := newCollector()
	mustSub(t, d.s, "will/#", col2)
	select {
	case m := <-col2.ch:
		t.Fatalf("will published twice: %+v", m)
	case <-time.After(1500 * time.Millisecond):
	}
}

// TestDurableConformance runs the broker conformance suite on a data
// directory.
func TestDurableConformance(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) broker.Broker {
		s, err := Open(&Config{DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestDurableOpenError: a data directory that cannot be used is an error
// from Open, and from Serve of a server made with New.
func TestDurableOpenError(t *testing.T) {
	file := t.TempDir() + "/file"
	if err := writeFile(file); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{DataDir: file, Logger: slog.New(slog.DiscardHandler)}
	if _, err := Open(cfg); err == nil {
		t.Fatal("Open on a file succeeded")
	}
	s := New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(context.Background(), ln); err == nil || errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Serve: %v, want the open error", err)
	}
}

func writeFile(name string) error { return os.WriteFile(name, []byte("not a directory"), 0o644) }

// drainQoS2 completes the QoS 2 deliveries that arrive until the connection
// is quiet for 300 ms, checking each payload, and returns their number.
func drainQoS2(t *testing.T, r *rawClient, payload string) int {
	t.Helper()
	n := 0
	for {
		r.nc.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := r.br.Peek(1); err != nil {
			return n
		}
		m := r.read()
		switch {
		case m == nil:
			return n
		case m.FixedHeader.Type == packets.Publish:
			if string(m.Payload) != payload || m.FixedHeader.Qos != 2 {
				t.Fatalf("got %+v", m)
			}
			n++
			r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: m.PacketID})
		case m.FixedHeader.Type == packets.Pubrel:
			r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: m.PacketID})
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
}

// TestDurableCloseUnderLoad: Close while publishers run keeps every
// message whose Publish and the Sync after it returned nil, for the offline
// persistent session.
func TestDurableCloseUnderLoad(t *testing.T) {
	d := startDurable(t, nil)
	r := dialRaw(t, d.addr)
	r.connect("offline", false, 30, nil)
	r.subscribe(1, subOpt("load/#", 1))
	r.nc.Close()
	time.Sleep(50 * time.Millisecond)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				payload := fmt.Sprintf("%d-%d", p, i)
				if err := d.s.Publish(context.Background(), broker.Message{Topic: "load/x", QoS: 1, Payload: []byte(payload)}); err != nil {
					return
				}
				if err := d.s.Sync(context.Background()); err != nil {
					return
				}
				mu.Lock()
				acked[payload] = true
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	d.restart() // Close under load
	wg.Wait()
	r2 := dialRaw(t, d.addr)
	if ca := r2.connect("offline", false, 30, nil); !ca.SessionPresent {
		t.Fatal("session lost")
	}
	got := map[string]bool{}
	for len(got) < len(acked) {
		m := r2.read()
		if m == nil {
			break
		}
		if m.FixedHeader.Type == packets.Publish {
			got[string(m.Payload)] = true
			r2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: m.PacketID})
		}
	}
	for p := range acked {
		if !got[p] {
			t.Errorf("acknowledged %s lost across Close", p)
		}
	}
	if len(acked) < 50 {
		t.Fatalf("only %d published before Close", len(acked))
	}
	t.Logf("%d acknowledged before Close, all delivered after it", len(acked))
}

// TestDurableAdminAcrossRestart: what the administrative API does to an
// offline session and to retained messages is kept like a client's own
// SUBSCRIBE and empty retained publish.
func TestDurableAdminAcrossRestart(t *testing.T) {
	d := startDurable(t, nil)
	r := dialRaw(t, d.addr)
	r.connect("adm", false, 30, nil)
	r.nc.Close()
	ctx := context.Background()
	d.s.Publish(ctx, broker.Message{Topic: "gone/t", Payload: []byte("x"), QoS: 1, Retain: true})
	d.s.Publish(ctx, broker.Message{Topic: "kept/t", Payload: []byte("y"), QoS: 1, Retain: true})
	time.Sleep(50 * time.Millisecond)
	if err := d.s.SubscribeSession(ctx, "", "adm", Subscription{Filter: "adm/#", QoS: 1, RetainHandling: 2}); err != nil {
		t.Fatal(err)
	}
	if del, err := d.s.DeleteRetained(ctx, "", "gone/t"); err != nil || len(del) != 1 {
		t.Fatalf("DeleteRetained: %v %v", del, err)
	}
	if err := d.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d.restart()
	if err := d.s.Publish(ctx, broker.Message{Topic: "adm/1", Payload: []byte("via admin"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	r2 := dialRaw(t, d.addr)
	if ca := r2.connect("adm", false, 30, nil); !ca.SessionPresent {
		t.Fatal("session lost")
	}
	if m := r2.read(); m == nil || m.FixedHeader.Type != packets.Publish || m.TopicName != "adm/1" {
		t.Fatalf("subscription added by the administrator lost across the restart: %+v", m)
	}
	ret, err := d.s.Retained("", "#")
	if err != nil {
		t.Fatal(err)
	}
	if len(ret) != 1 || ret[0].Topic != "kept/t" {
		t.Fatalf("retained after restart: %+v (gone/t was deleted)", ret)
	}
}

// TestDurableVolatileRetained: retained messages on Config.VolatileRetained
// topics are kept in memory only (their copies from before the option are
// dropped at Open), other retained messages and every delivery to a
// persistent session stay durable.
func TestDurableVolatileRetained(t *testing.T) {
	d := startDurable(t, nil)
	ctx := context.Background()
	r := dialRaw(t, d.addr)
	r.connect("sub", false, 30, nil)
	r.nc.Close()
	if err := d.s.SubscribeSession(ctx, "", "sub", Subscription{Filter: "state/#", QoS: 1, RetainHandling: 2}); err != nil {
		t.Fatal(err)
	}
	d.s.Publish(ctx, broker.Message{Topic: "state/old", Payload: []byte("before the option"), QoS: 1, Retain: true})
	d.s.Publish(ctx, broker.Message{Topic: "kept/t", Payload: []byte("y"), QoS: 1, Retain: true})
	if err := d.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d.cfg.VolatileRetained = func(topic string) bool { return strings.HasPrefix(topic, "state/") }
	d.restart()
	retained := func() []string {
		t.Helper()
		ret, err := d.s.Retained("", "#")
		if err != nil {
			t.Fatal(err)
		}
		var topics []string
		for _, m := range ret {
			topics = append(topics, m.Topic)
		}
		return topics
	}
	if got := retained(); !slices.Equal(got, []string{"kept/t"}) {
		t.Fatalf("retained after the restart with the option: %v, want [kept/t] (state/old dropped)", got)
	}
	d.s.Publish(ctx, broker.Message{Topic: "state/new", Payload: []byte("v"), QoS: 1, Retain: true})
	if err := d.s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := retained(); !slices.Equal(got, []string{"kept/t", "state/new"}) {
		t.Fatalf("retained: %v, want [kept/t state/new]", got)
	}
	d.cfg.VolatileRetained = nil // so that a copy on disk would be loaded
	d.restart()
	if got := retained(); !slices.Equal(got, []string{"kept/t"}) {
		t.Fatalf("retained after a restart: %v, want [kept/t] (state/new was volatile, state/old dropped)", got)
	}
	r2 := dialRaw(t, d.addr)
	if ca := r2.connect("sub", false, 30, nil); !ca.SessionPresent {
		t.Fatal("session lost")
	}
	var got []string
	for range 2 {
		m := r2.read()
		if m == nil || m.FixedHeader.Type != packets.Publish {
			t.Fatalf("queued deliveries lost across the restarts: %+v after %v", m, got)
		}
		got = append(got, m.TopicName+"="+string(m.Payload))
	}
	if !slices.Equal(got, []string{"state/old=before the option", "state/new=v"}) {
		t.Fatalf("queued deliveries %v", got)
	}
}
