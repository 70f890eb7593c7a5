package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gnssgate/gnssgate/internal/syncbuf"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
)

// recorder keeps what one in-process subscription of the embedded broker
// receives, in order.
type recorder struct {
	mu   sync.Mutex
	msgs []broker.Message
}

func newBroker(t *testing.T) *embedded.Server {
	t.Helper()
	b := embedded.New(nil)
	t.Cleanup(func() { b.Close() })
	return b
}

func subscribe(t *testing.T, b broker.Broker, filter string) *recorder {
	t.Helper()
	r := &recorder{}
	sub, err := b.Subscribe(context.Background(), filter, broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		m.Payload = append([]byte(nil), m.Payload...)
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe(context.Background()) })
	return r
}

// wait returns the messages once ok says they are complete, or fails
// after 5 s.
func (r *recorder) wait(t *testing.T, ok func([]broker.Message) bool) []broker.Message {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := append([]broker.Message(nil), r.msgs...)
		r.mu.Unlock()
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out; received %d: %s", len(got), topics(got))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// until waits for a message on topic and returns everything before it.
func (r *recorder) until(t *testing.T, topic string) []broker.Message {
	t.Helper()
	got := r.wait(t, func(ms []broker.Message) bool {
		for _, m := range ms {
			if m.Topic == topic {
				return true
			}
		}
		return false
	})
	for i, m := range got {
		if m.Topic == topic {
			return got[:i]
		}
	}
	return nil
}

func topics(ms []broker.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Topic)
	}
	return out
}

// retained returns the retained messages of the broker under prefix (a
// topic prefix ending in "/"), topic → payload, read by a fresh
// subscription: a marker published after it comes after every retained
// message.
func retained(t *testing.T, b broker.Broker, prefix string) map[string]string {
	t.Helper()
	r := subscribe(t, b, prefix+"#")
	marker := prefix + "zz-marker"
	if err := b.Publish(context.Background(), broker.Message{Topic: marker, QoS: 1, Payload: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range r.until(t, marker) {
		if !m.Retain {
			t.Errorf("%s: not retained", m.Topic)
		}
		out[m.Topic] = string(m.Payload)
	}
	return out
}

func prop(m broker.Message, key string) string {
	v, _ := m.Properties.UserProperty(key)
	return v
}

func TestTopicLevel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"position.speed", "position.speed"},
		{"", ""},
		{"din#1", "din%231"},
		{"can.a+b", "can.a%2Bb"},
		{"a/b", "a%2Fb"},
		{"100%", "100%25"},
		{"%23", "%2523"}, // a name that looks escaped stays apart from "#"
		{"+#/%", "%2B%23%2F%25"},
		{"ünïcode.ключ", "ünïcode.ключ"},
	} {
		if got := TopicLevel(tc.in); got != tc.want {
			t.Errorf("TopicLevel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Distinct names never share a level, and no level has a wildcard or
	// a separator.
	seen := map[string]string{}
	alphabet := []string{"a", "+", "#", "/", "%", "2", "B", "3", "F", "5"}
	var names []string
	for _, x := range alphabet {
		for _, y := range alphabet {
			for _, z := range alphabet {
				names = append(names, x+y+z)
			}
		}
	}
	for _, n := range names {
		l := TopicLevel(n)
		if strings.ContainsAny(l, "+#/") {
			t.Errorf("TopicLevel(%q) = %q has a wildcard or separator", n, l)
		}
		if other, ok := seen[l]; ok {
			t.Errorf("TopicLevel(%q) = TopicLevel(%q) = %q", n, other, l)
		}
		seen[l] = n
	}
}

// msg builds a stream message from parameters, with its JSON.
func msg(params map[string]protocol.Value) stream.Message {
	var m protocol.Message
	for k, v := range params {
		m.Set(k, v)
	}
	return stream.Message{Message: &m, JSON: m.AppendJSON(nil)}
}

func accounts() *Accounts {
	return &Accounts{
		Namespace: func(cid int64) string { return fmt.Sprintf("acc/%d/", cid) },
		Device: func(ident string) int64 {
			if strings.HasPrefix(ident, "cust-") {
				return 5
			}
			return 0
		},
		Object: func(kind string, id int64) int64 {
			if id >= 100 {
				return 5
			}
			return 0
		},
	}
}

func TestMessages(t *testing.T) {
	type pub struct{ topic, ts, cid string }
	for _, tc := range []struct {
		name     string
		accounts *Accounts
		params   map[string]protocol.Value
		want     []pub
	}{
		{"channel and device", nil, map[string]protocol.Value{
			"ident": protocol.String("A1"), "channel.id": protocol.Int(3), "device.id": protocol.Int(7),
			"server.timestamp": protocol.Float(1700000000.25), "timestamp": protocol.Float(1699999999)},
			[]pub{{"flespi/message/gw/channels/3/A1", "1700000000.25", ""}, {"flespi/message/gw/devices/7", "1700000000.25", ""}}},
		{"no device", nil, map[string]protocol.Value{
			"ident": protocol.String("A2"), "channel.id": protocol.Int(3), "server.timestamp": protocol.Float(1700000001)},
			[]pub{{"flespi/message/gw/channels/3/A2", "1700000001", ""}}},
		{"no channel", nil, map[string]protocol.Value{
			"ident": protocol.String("A3"), "device.id": protocol.Int(9), "server.timestamp": protocol.Float(1700000002)},
			[]pub{{"flespi/message/gw/devices/9", "1700000002", ""}}},
		{"no ident: no channel topic", nil, map[string]protocol.Value{
			"channel.id": protocol.Int(3), "device.id": protocol.Int(10), "server.timestamp": protocol.Float(1700000003)},
			[]pub{{"flespi/message/gw/devices/10", "1700000003", ""}}},
		{"neither", nil, map[string]protocol.Value{"ident": protocol.String("A4"), "server.timestamp": protocol.Float(1)}, nil},
		{"no server time", nil, map[string]protocol.Value{"ident": protocol.String("A5"), "channel.id": protocol.Int(4)},
			[]pub{{"flespi/message/gw/channels/4/A5", "0", ""}}},
		{"account's namespace", accounts(), map[string]protocol.Value{
			"ident": protocol.String("B1"), "channel.id": protocol.Int(3), "device.id": protocol.Int(11), "cid": protocol.Int(5),
			"server.timestamp": protocol.Float(1700000004)},
			[]pub{{"acc/5/flespi/message/gw/channels/3/B1", "1700000004", "5"}, {"acc/5/flespi/message/gw/devices/11", "1700000004", "5"}}},
		{"root's messages in the broker's space", accounts(), map[string]protocol.Value{
			"ident": protocol.String("B2"), "device.id": protocol.Int(12), "server.timestamp": protocol.Float(1700000005)},
			[]pub{{"flespi/message/gw/devices/12", "1700000005", ""}}},
		{"cid without Accounts", nil, map[string]protocol.Value{
			"ident": protocol.String("B3"), "device.id": protocol.Int(13), "cid": protocol.Int(5), "server.timestamp": protocol.Float(1700000006)},
			[]pub{{"flespi/message/gw/devices/13", "1700000006", ""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t)
			r := subscribe(t, b, "#")
			p := &Messages{Broker: b, Accounts: tc.accounts}
			m := msg(tc.params)
			if err := p.Write(context.Background(), &stream.Batch{Messages: []stream.Message{m}}); err != nil {
				t.Fatal(err)
			}
			b.Publish(context.Background(), broker.Message{Topic: "end", QoS: 1})
			got := r.until(t, "end")
			if len(got) != len(tc.want) {
				t.Fatalf("published %q, want %d", topics(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Topic != w.topic || prop(g, "timestamp") != w.ts || prop(g, "cid") != w.cid {
					t.Errorf("publication %d: %s timestamp %q cid %q, want %s %q %q", i, g.Topic, prop(g, "timestamp"), prop(g, "cid"), w.topic, w.ts, w.cid)
				}
				if g.QoS != 1 || g.Retain {
					t.Errorf("%s: QoS %d retain %v, want QoS 1 not retained", g.Topic, g.QoS, g.Retain)
				}
				if string(g.Payload) != string(m.JSON) {
					t.Errorf("%s: payload %s, want %s", g.Topic, g.Payload, m.JSON)
				}
			}
		})
	}
}

// A batch goes out in log order.
func TestMessagesOrder(t *testing.T) {
	b := newBroker(t)
	r := subscribe(t, b, "flespi/message/gw/devices/+")
	var batch stream.Batch
	for i := range 50 {
		batch.Messages = append(batch.Messages, msg(map[string]protocol.Value{
			"ident": protocol.String("X"), "device.id": protocol.Int(int64(i % 3)), "seq": protocol.Int(int64(i))}))
	}
	if err := (&Messages{Broker: b}).Write(context.Background(), &batch); err != nil {
		t.Fatal(err)
	}
	got := r.wait(t, func(ms []broker.Message) bool { return len(ms) == 50 })
	for i, m := range got {
		if want := string(batch.Messages[i].JSON); string(m.Payload) != want {
			t.Fatalf("publication %d: %s, want %s", i, m.Payload, want)
		}
	}
}

// closeAfter is the real broker, closed after n publications: the broker
// going away in the middle of a batch.
type closeAfter struct {
	*embedded.Server
	mu sync.Mutex
	n  int
}

func (c *closeAfter) Publish(ctx context.Context, m broker.Message) error {
	err := c.Server.Publish(ctx, m)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		c.Server.Close()
	}
	return err
}

// A failed publication fails the rest of the batch, in order: the whole
// batch when nothing went out, else a BatchError naming the messages from
// the failed one on.
func TestMessagesBrokerFails(t *testing.T) {
	batch := &stream.Batch{}
	for i := range 4 {
		batch.Messages = append(batch.Messages, msg(map[string]protocol.Value{
			"ident": protocol.String("X"), "channel.id": protocol.Int(1), "device.id": protocol.Int(int64(i))}))
	}
	for _, tc := range []struct {
		name      string
		after     int // publications before the broker closes; 0: closed already
		failsFrom int
	}{
		{"closed before", 0, 0},
		{"closed after the first topic of message 0", 1, 0},
		{"closed after message 0", 2, 1},
		{"closed in message 2", 5, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &closeAfter{Server: embedded.New(nil), n: tc.after}
			defer b.Server.Close()
			// A subscriber, so that every topic is published (the broker
			// says which have none: those are skipped).
			if _, err := b.Server.Subscribe(context.Background(), "#", broker.HandlerFunc(func(context.Context, broker.Message) error { return nil })); err != nil {
				t.Fatal(err)
			}
			if tc.after == 0 {
				b.Server.Close()
			}
			err := (&Messages{Broker: b}).Write(context.Background(), batch)
			if !errors.Is(err, broker.ErrClosed) && tc.failsFrom == 0 {
				t.Fatalf("err = %v, want broker.ErrClosed", err)
			}
			var be *stream.BatchError
			if tc.failsFrom == 0 {
				if errors.As(err, &be) {
					t.Fatalf("err = %v: a BatchError when nothing went out", err)
				}
				return
			}
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BatchError", err)
			}
			if be.Len() != len(batch.Messages)-tc.failsFrom {
				t.Errorf("%d failed, want %d", be.Len(), len(batch.Messages)-tc.failsFrom)
			}
			for i := range batch.Messages {
				if failed := be.Err(i) != nil; failed != (i >= tc.failsFrom) {
					t.Errorf("message %d failed: %v", i, failed)
				}
				if i >= tc.failsFrom && !errors.Is(be.Err(i), broker.ErrClosed) {
					t.Errorf("message %d: %v, want broker.ErrClosed", i, be.Err(i))
				}
			}
		})
	}
}

func telMsg(ident string, ts float64, params map[string]protocol.Value) protocol.Message {
	var m protocol.Message
	m.Set("ident", protocol.String(ident))
	m.Set("timestamp", protocol.Float(ts))
	for k, v := range params {
		m.Set(k, v)
	}
	return m
}

func TestTelemetry(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := newBroker(t)
	db := memory.New(nil)
	defer db.Close()
	tel := db.Telemetry()
	devices := map[string]int64{"T1": 7, "cust-1": 8}
	p := &Telemetry{Broker: b, Accounts: accounts(), DeviceID: func(ident string) (int64, bool) {
		id, ok := devices[ident]
		return id, ok
	}}
	stop := p.Watch(tel)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	live := subscribe(t, b, "#")

	update := func(msgs ...protocol.Message) {
		t.Helper()
		if err := tel.Update(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(topic, payload string) broker.Message {
		t.Helper()
		var found broker.Message
		live.wait(t, func(ms []broker.Message) bool {
			for _, m := range ms {
				if m.Topic == topic && string(m.Payload) == payload {
					found = m
					return true
				}
			}
			return false
		})
		return found
	}

	update(telMsg("T1", 100, map[string]protocol.Value{"position.speed": protocol.Int(10), "din#1": protocol.Bool(true), "can/x": protocol.String("a")}))
	m := waitFor("flespi/state/gw/devices/7/telemetry/position.speed", "10")
	if m.QoS != 1 || prop(m, "timestamp") != "100" || prop(m, "cid") != "" {
		t.Errorf("speed: QoS %d timestamp %q cid %q", m.QoS, prop(m, "timestamp"), prop(m, "cid"))
	}
	waitFor("flespi/state/gw/devices/7/telemetry/din%231", "true")
	waitFor("flespi/state/gw/devices/7/telemetry/can%2Fx", `"a"`)

	// An older message changes nothing; a newer one does. The marker
	// parameter, updated last, says the updates before it were handled.
	update(telMsg("T1", 50, map[string]protocol.Value{"position.speed": protocol.Int(99)}))
	update(telMsg("T1", 100, map[string]protocol.Value{"marker": protocol.Int(1)}))
	waitFor("flespi/state/gw/devices/7/telemetry/marker", "1")
	// Telemetry has every parameter, "ident" and "timestamp" too.
	want := map[string]string{
		"flespi/state/gw/devices/7/telemetry/ident":          `"T1"`,
		"flespi/state/gw/devices/7/telemetry/timestamp":      "100",
		"flespi/state/gw/devices/7/telemetry/position.speed": "10",
		"flespi/state/gw/devices/7/telemetry/din%231":        "true",
		"flespi/state/gw/devices/7/telemetry/can%2Fx":        `"a"`,
		"flespi/state/gw/devices/7/telemetry/marker":         "1",
	}
	if got := retained(t, b, "flespi/state/gw/devices/7/"); !reflect.DeepEqual(got, want) {
		t.Errorf("after an older message: retained %v, want %v", got, want)
	}
	for _, m := range live.wait(t, func([]broker.Message) bool { return true }) {
		if string(m.Payload) == "99" {
			t.Errorf("the older value was published: %s", m.Topic)
		}
	}
	update(telMsg("T1", 200.5, map[string]protocol.Value{"position.speed": protocol.Int(20)}))
	m = waitFor("flespi/state/gw/devices/7/telemetry/position.speed", "20")
	if prop(m, "timestamp") != "200.5" {
		t.Errorf("timestamp %q, want 200.5", prop(m, "timestamp"))
	}

	// A device of an account: its namespace and cid. An ident without a
	// device: nothing (its topic needs a device id).
	update(telMsg("nodev", 300, map[string]protocol.Value{"position.speed": protocol.Int(1)}),
		telMsg("cust-1", 300, map[string]protocol.Value{"position.speed": protocol.Int(30)}))
	m = waitFor("acc/5/flespi/state/gw/devices/8/telemetry/position.speed", "30")
	if prop(m, "cid") != "5" {
		t.Errorf("account's value: cid %q", prop(m, "cid"))
	}
	if r := retained(t, b, "acc/5/flespi/state/gw/devices/8/telemetry/"); r["acc/5/flespi/state/gw/devices/8/telemetry/position.speed"] != "30" {
		t.Errorf("account's value not retained: %v", r)
	}
	for _, m := range live.wait(t, func([]broker.Message) bool { return true }) {
		if strings.Contains(m.Topic, "nodev") || string(m.Payload) == "1" && strings.Contains(m.Topic, "speed") {
			t.Errorf("a value without a device was published: %s %s", m.Topic, m.Payload)
		}
	}

	// After a restart with a broker that kept nothing, PublishDevice
	// publishes every value again.
	b2 := newBroker(t)
	p2 := &Telemetry{Broker: b2, DeviceID: p.DeviceID}
	if err := p2.PublishDevice(ctx, tel, "T1"); err != nil {
		t.Fatal(err)
	}
	want["flespi/state/gw/devices/7/telemetry/position.speed"] = "20"
	want["flespi/state/gw/devices/7/telemetry/timestamp"] = "200.5"
	if got := retained(t, b2, "flespi/state/gw/devices/7/"); !reflect.DeepEqual(got, want) {
		t.Errorf("PublishDevice: retained %v, want %v", got, want)
	}
	if err := p2.PublishDevice(ctx, tel, "never-seen"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PublishDevice of an unknown ident: %v, want store.ErrNotFound", err)
	}
	if err := p2.PublishDevice(ctx, tel, "nodev"); err != nil {
		t.Errorf("PublishDevice of an ident without a device: %v", err)
	}
	b2.Close()
	if err := p2.PublishDevice(ctx, tel, "T1"); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("PublishDevice to a closed broker: %v, want broker.ErrClosed", err)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// A broker that refuses a publication does not stop Run: the next change
// is published once the broker is back (here: a new broker behind the
// same Telemetry).
func TestTelemetryRunSurvivesBrokerErrors(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := memory.New(nil)
	defer db.Close()
	closed := embedded.New(nil)
	closed.Close()
	logs := &syncbuf.Buffer{}
	p := &Telemetry{Broker: closed, DeviceID: func(string) (int64, bool) { return 1, true },
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	defer p.Watch(db.Telemetry())()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	if err := db.Telemetry().Update(ctx, []protocol.Message{telMsg("T", 1, map[string]protocol.Value{"a": protocol.Int(1)})}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "platform: telemetry not published"); {
		if time.Now().After(deadline) {
			t.Fatalf("no warning logged: %q", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Run returned %v on a broker error", err)
	default:
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
}

func fixedNow() time.Time { return time.Unix(1700000000, 500000000) }

func TestStateObject(t *testing.T) {
	ctx := context.Background()
	const prefix = "flespi/state/gw/devices/7/"
	for _, tc := range []struct {
		name      string
		old, obj  string
		published map[string]string // topic → payload ("" cleared)
		retained  map[string]string
	}{
		{"new object", "", `{"id":7,"name":"a","metadata":{"x":1}}`,
			map[string]string{prefix + "id": "7", prefix + "name": `"a"`, prefix + "metadata": `{"x":1}`},
			map[string]string{prefix + "id": "7", prefix + "name": `"a"`, prefix + "metadata": `{"x":1}`}},
		{"changed, added, removed", `{"id":7,"name":"a","metadata":{"x":1}}`, `{"id":7,"name":"b","groups":["g"]}`,
			map[string]string{prefix + "name": `"b"`, prefix + "groups": `["g"]`, prefix + "metadata": ""},
			map[string]string{prefix + "id": "7", prefix + "name": `"b"`, prefix + "groups": `["g"]`}},
		{"unchanged", `{"id":7,"name":"a"}`, `{"id":7,"name":"a"}`, map[string]string{},
			map[string]string{prefix + "id": "7", prefix + "name": `"a"`}},
		{"gone", `{"id":7,"name":"a"}`, "", map[string]string{prefix + "id": "", prefix + "name": ""}, map[string]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBroker(t)
			s := &State{Broker: b, Now: fixedNow}
			if tc.old != "" {
				s.Object(ctx, "devices", 7, nil, []byte(tc.old))
			}
			live := subscribe(t, b, prefix+"#")
			var old, obj []byte
			if tc.old != "" {
				old = []byte(tc.old)
			}
			if tc.obj != "" {
				obj = []byte(tc.obj)
			}
			s.Object(ctx, "devices", 7, old, obj)
			b.Publish(ctx, broker.Message{Topic: prefix + "end", QoS: 1})
			got := map[string]string{}
			for _, m := range live.until(t, prefix+"end") {
				if m.Retain && tc.old != "" {
					continue // the state before, delivered on subscribing
				}
				if prop(m, "timestamp") != "1700000000.5" {
					t.Errorf("%s: timestamp %q", m.Topic, prop(m, "timestamp"))
				}
				got[m.Topic] = string(m.Payload)
			}
			if !reflect.DeepEqual(got, tc.published) {
				t.Errorf("published %v, want %v", got, tc.published)
			}
			if r := retained(t, b, prefix); !reflect.DeepEqual(r, tc.retained) {
				t.Errorf("retained %v, want %v", r, tc.retained)
			}
		})
	}
}

// An object of an account is published in its namespace, with its cid,
// taken from the object (the old one when it is gone).
func TestStateObjectAccount(t *testing.T) {
	ctx := context.Background()
	b := newBroker(t)
	s := &State{Broker: b, Accounts: accounts(), Now: fixedNow}
	live := subscribe(t, b, "#")
	s.Object(ctx, "streams", 3, nil, []byte(`{"id":3,"cid":5,"name":"s"}`))
	s.Object(ctx, "streams", 4, nil, []byte(`{"id":4,"cid":1,"name":"r"}`))
	s.Object(ctx, "streams", 3, []byte(`{"id":3,"cid":5,"name":"s"}`), nil)
	b.Publish(ctx, broker.Message{Topic: "end", QoS: 1})
	var got []string
	for _, m := range live.until(t, "end") {
		got = append(got, fmt.Sprintf("%s=%s cid=%s", m.Topic, m.Payload, prop(m, "cid")))
	}
	want := []string{
		"acc/5/flespi/state/gw/streams/3/cid=5 cid=5", "acc/5/flespi/state/gw/streams/3/id=3 cid=5", "acc/5/flespi/state/gw/streams/3/name=\"s\" cid=5",
		"acc/1/flespi/state/gw/streams/4/cid=1 cid=1", "acc/1/flespi/state/gw/streams/4/id=4 cid=1", "acc/1/flespi/state/gw/streams/4/name=\"r\" cid=1",
		"acc/5/flespi/state/gw/streams/3/cid= cid=5", "acc/5/flespi/state/gw/streams/3/id= cid=5", "acc/5/flespi/state/gw/streams/3/name= cid=5",
	}
	// An object's properties go out in map order.
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestStatePropertyClearEvent(t *testing.T) {
	ctx := context.Background()
	b := newBroker(t)
	s := &State{Broker: b, Accounts: accounts(), Now: fixedNow}
	live := subscribe(t, b, "#")

	s.Property(ctx, "channels", 2, "connections_count", 3)
	s.Property(ctx, "channels", 100, "connections_count", 1) // account 5
	s.Property(ctx, "channels", 2, "bad", func() {})         // not JSON: nothing
	s.Clear(ctx, 5, "streams", 101, "queue_size")            // a gone object of account 5
	s.Clear(ctx, 0, "streams", 9, "queue_size")              // … of the root
	s.Event(ctx, "devices", 7, "connected", map[string]any{"ident": "A1", "source": "1.2.3.4:5"})
	s.Event(ctx, "streams", 100, "target_down", nil) // account 5
	b.Publish(ctx, broker.Message{Topic: "end", QoS: 1})
	got := live.until(t, "end")

	// (Live subscribers see no retain flag, as MQTT says: retained() below
	// reads what the broker kept.)
	type want struct{ topic, payload, cid string }
	wants := []want{
		{"flespi/state/gw/channels/2/connections_count", "3", ""},
		{"acc/5/flespi/state/gw/channels/100/connections_count", "1", "5"},
		{"acc/5/flespi/state/gw/streams/101/queue_size", "", "5"},
		{"flespi/state/gw/streams/9/queue_size", "", ""},
		{"flespi/log/gw/devices/7/connected", "", ""},
		{"acc/5/flespi/log/gw/streams/100/target_down", "", "5"},
	}
	if len(got) != len(wants) {
		t.Fatalf("published %q, want %d", topics(got), len(wants))
	}
	for i, w := range wants {
		g := got[i]
		if g.Topic != w.topic || g.QoS != 1 || prop(g, "cid") != w.cid || prop(g, "timestamp") != "1700000000.5" {
			t.Errorf("publication %d: %s QoS %d cid %q timestamp %q, want %+v", i, g.Topic, g.QoS, prop(g, "cid"), prop(g, "timestamp"), w)
		}
		if !strings.HasPrefix(w.topic, "flespi/log") && !strings.HasPrefix(w.topic, "acc/5/flespi/log") && string(g.Payload) != w.payload {
			t.Errorf("%s: payload %q, want %q", g.Topic, g.Payload, w.payload)
		}
	}
	for i, w := range []map[string]any{
		{"event": "connected", "timestamp": 1700000000.5, "origin": "gw/devices/7", "ident": "A1", "source": "1.2.3.4:5"},
		{"event": "target_down", "timestamp": 1700000000.5, "origin": "gw/streams/100"},
	} {
		var ev map[string]any
		if err := json.Unmarshal(got[4+i].Payload, &ev); err != nil {
			t.Fatalf("event payload %s: %v", got[4+i].Payload, err)
		}
		if !reflect.DeepEqual(ev, w) {
			t.Errorf("event %s, want %v", got[4+i].Payload, w)
		}
	}
	if r := retained(t, b, "flespi/state/gw/channels/2/"); !reflect.DeepEqual(r, map[string]string{"flespi/state/gw/channels/2/connections_count": "3"}) {
		t.Errorf("retained %v", r)
	}
	// Events are not retained; cleared properties are gone.
	for _, prefix := range []string{"flespi/log/gw/devices/7/", "acc/5/flespi/log/gw/streams/100/", "flespi/state/gw/streams/9/"} {
		if r := retained(t, b, prefix); len(r) != 0 {
			t.Errorf("retained under %s: %v", prefix, r)
		}
	}
	s.Property(ctx, "streams", 9, "queue_size", 0)
	s.Clear(ctx, 0, "streams", 9, "queue_size")
	if r := retained(t, b, "flespi/state/gw/streams/9/"); len(r) != 0 {
		t.Errorf("Clear left %v", r)
	}

	// State publishes to a closed broker without a panic or a hang, and
	// logs what it could not publish.
	b.Close()
	logs := &syncbuf.Buffer{}
	s.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s.Property(ctx, "channels", 2, "connections_count", 4)
	s.Event(ctx, "devices", 7, "disconnected", nil)
	if n := strings.Count(logs.String(), "platform: state not published"); n != 2 {
		t.Errorf("%d warnings, want 2: %s", n, logs.String())
	}
}

// A message whose topic cannot be formed (an ident with an MQTT wildcard
// or separator, which a program embedding the platform may append to the
// log) is refused for good: on a real stream of the log, the messages
// after it still go out instead of waiting behind it forever.
func TestMessagesBadTopic(t *testing.T) {
	bad := msg(map[string]protocol.Value{"ident": protocol.String("a+b"), "channel.id": protocol.Int(3), "device.id": protocol.Int(8)})
	good := msg(map[string]protocol.Value{"ident": protocol.String("A"), "channel.id": protocol.Int(3), "device.id": protocol.Int(7)})
	for _, tc := range []struct {
		name  string
		batch []stream.Message
		bad   int
	}{
		{"first", []stream.Message{bad, good}, 0},
		{"middle", []stream.Message{good, bad, good}, 1},
		{"last", []stream.Message{good, bad}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := (&Messages{Broker: newBroker(t)}).Write(context.Background(), &stream.Batch{Messages: tc.batch})
			var be *stream.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BatchError", err)
			}
			for i := range tc.batch {
				e := be.Err(i)
				switch {
				case i < tc.bad && e != nil:
					t.Errorf("message %d (sent): %v", i, e)
				case i == tc.bad && (!stream.IsPermanent(e) || !errors.Is(e, broker.ErrBadTopic)):
					t.Errorf("message %d (bad topic): %v, want a permanent broker.ErrBadTopic", i, e)
				case i > tc.bad && (e == nil || stream.IsPermanent(e)):
					t.Errorf("message %d (after the bad one): %v, want an error to retry", i, e)
				}
			}
		})
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := memory.New(nil)
	defer db.Close()
	b := newBroker(t)
	r := subscribe(t, b, "flespi/message/gw/devices/+")
	s, err := stream.New(db.Log(), &Messages{Broker: b}, &stream.Config{Name: "platform", StartAt: stream.StartOldest,
		RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	if _, err := db.Log().Append(ctx, []protocol.Message{*bad.Message, *good.Message}); err != nil {
		t.Fatal(err)
	}
	r.wait(t, func(ms []broker.Message) bool {
		for _, m := range ms {
			if m.Topic == "flespi/message/gw/devices/7" {
				return true
			}
		}
		return false
	})
	if st := s.Stats(); st.Rejected != 1 {
		t.Errorf("stream stats %+v, want 1 rejected", st)
	}
	cancel()
	<-done
}
