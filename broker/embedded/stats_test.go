package embedded

import (
	"context"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// recordLog is a slog handler keeping the messages of its records.
type recordLog struct {
	mu   sync.Mutex
	msgs []string
}

func (h *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *recordLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordLog) WithGroup(string) slog.Handler      { return h }

func (h *recordLog) count(sub string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// A hostile $filter costs a bounded number of steps per message: past the
// budget the message is not delivered to that subscription, counted in
// Stats.FilterOverBudget, and logged once per subscription; other
// subscriptions and messages within the budget are unaffected.
func TestFilterBudget(t *testing.T) {
	logs := &recordLog{}
	s, addr := startServer(t, &Config{AllowAnonymous: true, FilterMaxSteps: 100_000, Logger: slog.New(logs)})
	hostile := "$filter/payload=" + url.PathEscape(`p=="*`+strings.Repeat("a", 200)+`b?"`) + "/budget/t"
	sub, _ := dialPaho(t, addr, nil)
	if sa := sub.sub(t, paho.SubscribeOptions{Topic: hostile, QoS: 1}); sa.Reasons[0] > 2 {
		t.Fatalf("SUBACK %v", sa.Reasons)
	}
	plain, _ := dialPaho(t, addr, nil)
	plain.sub(t, paho.SubscribeOptions{Topic: "budget/#", QoS: 1})
	pub, _ := dialPaho(t, addr, nil)
	long := []byte(`{"p":"` + strings.Repeat("a", 10_000) + `"}`)
	for range 3 {
		pub.pub(t, &paho.Publish{Topic: "budget/t", QoS: 1, Payload: long})
		// Only the plain subscription gets it.
		if m := plain.next(t); len(m.Payload) != len(long) {
			t.Fatalf("got %d bytes", len(m.Payload))
		}
	}
	sub.none(t, 100*time.Millisecond)
	if n := s.Stats().FilterOverBudget; n != 3 {
		t.Fatalf("FilterOverBudget = %d, want 3", n)
	}
	if n := logs.count("over its step budget"); n != 1 {
		t.Fatalf("logged %d times, want once per subscription", n)
	}
	// A message the pattern matches within the budget reaches both.
	pub.pub(t, &paho.Publish{Topic: "budget/t", QoS: 1, Payload: []byte(`{"p":"` + strings.Repeat("a", 200) + `bc"}`)})
	sub.next(t)
	plain.next(t)
	if n := s.Stats().FilterOverBudget; n != 3 {
		t.Fatalf("FilterOverBudget = %d after a cheap message", n)
	}
}

// Stats reflects the server's state and counters.
func TestStats(t *testing.T) {
	s, addr := startServer(t, &Config{AllowAnonymous: true, SysInterval: -1})
	st := s.Stats()
	if st.ClientsConnected != 0 || st.Subscriptions != 0 || st.MessagesReceived != 0 || st.HeapBytes == 0 {
		t.Fatalf("fresh server: %+v", st)
	}
	a, _ := dialPaho(t, addr, nil)
	a.sub(t, paho.SubscribeOptions{Topic: "stats/#", QoS: 1}, paho.SubscribeOptions{Topic: "other", QoS: 0})
	b, _ := dialPaho(t, addr, nil)
	b.pub(t, &paho.Publish{Topic: "stats/1", QoS: 1, Payload: []byte("x")})
	b.pub(t, &paho.Publish{Topic: "stats/r", QoS: 1, Retain: true, Payload: []byte("kept")})
	a.next(t)
	a.next(t)
	if err := s.Publish(context.Background(), broker.Message{Topic: "nobody", Payload: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	want := Stats{ClientsConnected: 2, Sessions: 2, Subscriptions: 2, Retained: 1, RetainedBytes: int64(len("stats/r") + 4),
		MessagesReceived: 3, MessagesSent: 2}
	if st.ClientsConnected != want.ClientsConnected || st.Sessions != want.Sessions || st.Subscriptions != want.Subscriptions ||
		st.Retained != want.Retained || st.RetainedBytes != want.RetainedBytes || st.MessagesReceived != want.MessagesReceived ||
		st.MessagesSent != want.MessagesSent || st.Uptime <= 0 {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	b.Disconnect(&paho.Disconnect{})
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().ClientsConnected != 1 || s.Stats().Sessions != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("after a disconnect: %+v", s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// $SYS/broker/… topics: a subscriber gets the current values at once, as
// retained messages, then every SysInterval; only tokens whose Subscribe
// filters name $SYS may read them ("#" does not cover "$SYS"), and no
// client may publish under $SYS/.
func TestSysTopics(t *testing.T) {
	var store TokenStore
	store.Set("admin", &Token{Name: "admin", Subscribe: []string{"$SYS/#"}})
	store.Set("user", &Token{Name: "user", Subscribe: []string{"#"}, Publish: []string{"#"}})
	s, addr := startServer(t, &Config{Authenticator: &store, AllowAnonymous: true, SysInterval: 100 * time.Millisecond})

	user, _ := dialPaho(t, addr, &paho.Connect{Username: "user", UsernameFlag: true, CleanStart: true, KeepAlive: 30})
	if sa := user.sub(t, paho.SubscribeOptions{Topic: "$SYS/broker/#"}, paho.SubscribeOptions{Topic: "#"}); sa.Reasons[0] != 0x87 || sa.Reasons[1] != 0 {
		t.Fatalf("user SUBACK %x, want [87 0]", sa.Reasons)
	}
	admin, _ := dialPaho(t, addr, &paho.Connect{Username: "admin", UsernameFlag: true, CleanStart: true, KeepAlive: 30})
	if sa := admin.sub(t, paho.SubscribeOptions{Topic: "$SYS/broker/#"}); sa.Reasons[0] != 0 {
		t.Fatalf("admin SUBACK %x", sa.Reasons)
	}
	got := map[string]string{}
	retained := 0
	for len(got) < len(sysTopics(Stats{})) {
		m := admin.next(t)
		got[m.Topic] = string(m.Payload)
		if m.Retain {
			retained++
		}
	}
	if retained < len(got) {
		t.Errorf("%d of the first %d $SYS messages retained, want all", retained, len(got))
	}
	for _, topic := range []string{"$SYS/broker/clients/connected", "$SYS/broker/subscriptions/count",
		"$SYS/broker/messages/received", "$SYS/broker/messages/sent", "$SYS/broker/retained messages/count",
		"$SYS/broker/heap/current"} {
		if _, err := strconv.ParseUint(got[topic], 10, 64); err != nil {
			t.Errorf("%s = %q", topic, got[topic])
		}
	}
	if got["$SYS/broker/clients/connected"] != "2" || got["$SYS/broker/subscriptions/count"] != "2" {
		t.Errorf("clients %q subscriptions %q, want 2 and 2", got["$SYS/broker/clients/connected"], got["$SYS/broker/subscriptions/count"])
	}
	// Then periodically, not retained.
	if m := admin.next(t); m.Retain || !strings.HasPrefix(m.Topic, "$SYS/broker/") {
		t.Errorf("periodic message %s retain %v", m.Topic, m.Retain)
	}
	user.none(t, 300*time.Millisecond)

	// Nobody publishes under $SYS/, anonymous clients included.
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("sys-pub", true, 30, nil)
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 1,
		TopicName: "$SYS/broker/clients/connected", Payload: []byte("999")})
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Puback || pk.ReasonCode != 0x87 {
		t.Fatalf("PUBLISH to $SYS: %+v", pk)
	}
	_ = s
}

// SysInterval < 0 turns the $SYS topics off.
func TestSysTopicsOff(t *testing.T) {
	_, addr := startServer(t, &Config{AllowAnonymous: true, SysInterval: -1})
	c, _ := dialPaho(t, addr, nil)
	c.sub(t, paho.SubscribeOptions{Topic: "$SYS/#"})
	c.none(t, 300*time.Millisecond)
}
