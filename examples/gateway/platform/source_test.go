package platform

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
)

// sourceAccounts puts devices "cust-…" in account 5, at "$acc/5/".
func sourceAccounts() *Accounts {
	return &Accounts{
		Namespace: func(cid int64) string { return fmt.Sprintf("$acc/%d/", cid) },
		Account: func(ns string) (int64, bool) {
			var cid int64
			if _, err := fmt.Sscanf(ns, "$acc/%d/", &cid); err != nil || ns != fmt.Sprintf("$acc/%d/", cid) {
				return 0, false
			}
			return cid, true
		},
		Device: func(ident string) int64 {
			if strings.HasPrefix(ident, "cust-") {
				return 5
			}
			return 0
		},
	}
}

func TestTelemetrySourceOwns(t *testing.T) {
	s := &TelemetrySource{Accounts: sourceAccounts()}
	for topic, want := range map[string]bool{
		"flespi/state/gw/devices/7/telemetry/position.speed": true,
		"flespi/state/gw/devices/7/telemetry/din%231":        true,
		"$acc/5/flespi/state/gw/devices/7/telemetry/x":       true,
		"flespi/state/gw/devices/7/telemetry/":               false,
		"flespi/state/gw/devices/7/telemetry/a/b":            false,
		"flespi/state/gw/devices/x7/telemetry/a":             false,
		"flespi/state/gw/devices/7/name":                     false,
		"other/flespi/state/gw/devices/7/telemetry/x":        false,
		"$acc/x/flespi/state/gw/devices/7/telemetry/x":       false,
		"flespi/state/gw/channels/7/telemetry/x":             false,
	} {
		if got := s.Owns(topic); got != want {
			t.Errorf("Owns(%q) = %v", topic, got)
		}
	}
	if (&TelemetrySource{}).Owns("$acc/5/flespi/state/gw/devices/7/telemetry/x") {
		t.Error("an account's topic owned without Accounts")
	}
}

func TestReaches(t *testing.T) {
	const p = "flespi/state/gw/devices/7/telemetry/"
	for filter, want := range map[string]bool{
		"#": true, "flespi/#": true, "flespi/state/gw/devices/+/telemetry/#": true, p + "x": true, p + "+": true,
		"flespi/state/gw/devices/8/telemetry/#": false, "flespi/+": false, "+/+/+/+/+/+": false, "flespi/state/gw/devices/7": false,
		"flespi/state/gw/devices/7/#": true, "+/state/+/devices/+/telemetry/+": true,
	} {
		if got := reaches(filter, p); got != want {
			t.Errorf("reaches(%q) = %v", filter, got)
		}
	}
	if reaches("#", "$acc/5/"+p) || reaches("+/5/#", "$acc/5/"+p) || !reaches("$acc/+/flespi/#", "$acc/5/"+p) {
		t.Error("the '$' rule")
	}
}

// telemetryWithSource is a Telemetry publishing to an embedded broker that
// serves its topics from the store, as the gateway wires them; under: with
// SubscribedUnder, and Device in place of DeviceID and Accounts.Device.
func telemetryWithSource(t *testing.T, under bool) (*embedded.Server, *Telemetry, *memory.Store, func(...protocol.Message)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db := memory.New(nil)
	t.Cleanup(func() { db.Close() })
	devices := map[string]int64{"T1": 7, "cust-1": 8}
	idents := map[int64]string{7: "T1", 8: "cust-1"}
	src := &TelemetrySource{Telemetry: db.Telemetry(), Accounts: sourceAccounts(),
		Devices: func(yield func(int64, string) bool) {
			for id, ident := range idents {
				if !yield(id, ident) {
					return
				}
			}
		},
		Ident: func(id int64) (string, bool) { ident, ok := idents[id]; return ident, ok },
	}
	b := embedded.New(&embedded.Config{RetainedSource: src, Timestamps: true})
	t.Cleanup(func() { b.Close() })
	p := &Telemetry{Broker: b, Accounts: src.Accounts, Subscribed: b.Subscribed, DeviceID: func(ident string) (int64, bool) {
		id, ok := devices[ident]
		return id, ok
	}}
	if under {
		p.SubscribedUnder = b.SubscribedUnder
		p.DeviceID = nil // not asked
		p.Device = func(ident string) (int64, int64, bool) {
			id, ok := devices[ident]
			return id, src.Accounts.device(ident), ok
		}
	}
	stop := p.Watch(db.Telemetry())
	t.Cleanup(stop)
	go p.Run(ctx)
	update := func(msgs ...protocol.Message) {
		t.Helper()
		if err := db.Telemetry().Update(ctx, msgs); err != nil {
			t.Fatal(err)
		}
	}
	return b, p, db, update
}

func values(ms []broker.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s=%s@%s", m.Topic, m.Payload, prop(m, "timestamp")))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// Telemetry with nobody subscribed is not published (the broker counts
// no message in); a later subscriber gets the current values from the
// store, retained, with their timestamps, through any filter; changes
// then arrive live; an account's values stay in its space.
func TestTelemetrySource(t *testing.T) {
	for _, under := range []bool{false, true} {
		t.Run(fmt.Sprintf("under=%v", under), func(t *testing.T) { testTelemetrySource(t, under) })
	}
}

func testTelemetrySource(t *testing.T, under bool) {
	b, _, _, update := telemetryWithSource(t, under)
	update(telMsg("T1", 100, map[string]protocol.Value{"position.latitude": protocol.Float(54.5), "position.speed": protocol.Int(10)}),
		telMsg("cust-1", 101, map[string]protocol.Value{"position.latitude": protocol.Float(1.5)}))
	update(telMsg("T1", 102, map[string]protocol.Value{"position.speed": protocol.Int(12), "din#1": protocol.Bool(true)}))

	// Markers sorted last, on topics subscribed to, show when Run has
	// handled everything before them: only they were published.
	const tp = "flespi/state/gw/devices/7/telemetry/"
	const cp = "$acc/5/flespi/state/gw/devices/8/telemetry/"
	markers := subscribe(t, b, tp+"zz")
	markers5 := subscribe(t, b, cp+"zz")
	update(telMsg("T1", 103, map[string]protocol.Value{"zz": protocol.Int(1)}), telMsg("cust-1", 103, map[string]protocol.Value{"zz": protocol.Int(1)}))
	for _, r := range []*recorder{markers, markers5} {
		r.wait(t, func(ms []broker.Message) bool { return len(ms) == 1 })
	}
	if n := b.Stats().MessagesReceived; n != 2 {
		t.Fatalf("the broker took in %d messages, want the 2 subscribed markers", n)
	}
	if st := b.Stats(); st.Retained != 0 {
		t.Fatalf("the broker stores %d retained messages", st.Retained)
	}

	all := subscribe(t, b, "flespi/state/gw/devices/+/telemetry/#")
	got := all.wait(t, func(ms []broker.Message) bool { return len(ms) >= 6 })
	want := tp + "din%231=true@102 " + tp + "ident=\"T1\"@103 " + tp + "position.latitude=54.5@100 " + tp + "position.speed=12@102 " +
		tp + "timestamp=103@103 " + tp + "zz=1@103"
	if values(got) != want {
		t.Fatalf("devices/+/telemetry/#:\n got %s\nwant %s", values(got), want)
	}
	for _, m := range got {
		if !m.Retain || m.QoS != 1 || prop(m, "cid") != "" {
			t.Errorf("%s: retain %v QoS %d cid %q", m.Topic, m.Retain, m.QoS, prop(m, "cid"))
		}
	}
	lat := subscribe(t, b, "flespi/state/gw/devices/+/telemetry/position.latitude")
	if got := lat.wait(t, func(ms []broker.Message) bool { return len(ms) >= 1 }); values(got) != tp+"position.latitude=54.5@100" {
		t.Fatalf("position.latitude: %s", values(got))
	}
	acct := subscribe(t, b, "$acc/5/flespi/state/gw/devices/+/telemetry/position.latitude")
	if got := acct.wait(t, func(ms []broker.Message) bool { return len(ms) >= 1 }); values(got) != cp+"position.latitude=1.5@101" || prop(got[0], "cid") != "5" {
		t.Fatalf("account 5: %s cid %q", values(got), prop(got[0], "cid"))
	}
	none := subscribe(t, b, "$acc/5/flespi/state/gw/devices/7/telemetry/#") // device 7 is not account 5's
	b.Publish(context.Background(), broker.Message{Topic: "$acc/5/flespi/state/gw/devices/7/telemetry/zzz", QoS: 1})
	if got := none.wait(t, func(ms []broker.Message) bool { return len(ms) >= 1 }); len(got) != 1 || got[0].Retain {
		t.Fatalf("another account's device: %s", values(got))
	}

	// A change arrives live on the subscribed topic only.
	before := b.Stats().MessagesReceived
	update(telMsg("T1", 110, map[string]protocol.Value{"position.latitude": protocol.Float(55)}))
	m := lat.wait(t, func(ms []broker.Message) bool { return len(ms) >= 2 })[1]
	if string(m.Payload) != "55" || prop(m, "timestamp") != "110" || m.Retain {
		t.Fatalf("live change: %s=%s@%s retain %v", m.Topic, m.Payload, prop(m, "timestamp"), m.Retain)
	}
	all.wait(t, func(ms []broker.Message) bool {
		last := ms[len(ms)-1]
		return last.Topic == tp+"timestamp" && string(last.Payload) == "110"
	})
	// latitude, timestamp and ident (its time) changed; "+/telemetry/#"
	// wants them all, once each.
	if n := b.Stats().MessagesReceived - before; n != 3 {
		t.Fatalf("%d messages in for the change, want 3", n)
	}
}

// With SubscribedUnder, a device none of whose telemetry topics any
// subscription may match costs one question and publishes nothing; as
// soon as a subscription may match one (wildcards, shared, "$filter", in
// an account's space), exactly the values Subscribed says are published;
// once it goes, none again. Subscriptions come and go between publishes:
// nothing of an earlier answer is kept.
func TestTelemetrySubscribedUnder(t *testing.T) {
	b, p, _, _ := telemetryWithSource(t, true)
	ctx := context.Background()
	var under, topics int
	p.SubscribedUnder = func(prefix string) bool { under++; return b.SubscribedUnder(prefix) }
	p.Subscribed = func(topic string) bool { topics++; return b.Subscribed(topic) }
	vals := []store.TelemetryValue{{Name: "din#1", Value: protocol.Bool(true), Time: 5}, {Name: "position.speed", Value: protocol.Int(3), Time: 5}}
	// publish publishes both devices' values and returns how many
	// messages the broker took in and how many topics were asked about.
	publish := func() (received uint64, asked int) {
		t.Helper()
		before := b.Stats().MessagesReceived
		under, topics = 0, 0
		for _, ident := range []string{"T1", "cust-1", "unknown"} {
			if err := p.publish(ctx, ident, vals); err != nil {
				t.Fatal(err)
			}
		}
		if under != 2 {
			t.Fatalf("SubscribedUnder asked %d times, want once per registered device", under)
		}
		return b.Stats().MessagesReceived - before, topics
	}
	if n, asked := publish(); n != 0 || asked != 0 {
		t.Fatalf("nobody subscribed: %d published, %d topics asked", n, asked)
	}
	for _, tc := range []struct {
		filter string
		want   uint64 // of 2 values of device 7 and 2 of device 8 (account 5)
	}{
		{"#", 2}, // not the account's '$' space
		{"flespi/state/gw/devices/+/telemetry/position.speed", 1},
		{"$share/g/flespi/state/gw/+/7/telemetry/+", 2},
		{"$filter/payload=1/flespi/state/gw/devices/7/telemetry/+", 2},
		{"$acc/5/flespi/state/gw/devices/8/telemetry/din%231", 1},
		{"$acc/+/flespi/#", 2},
		{"flespi/state/gw/devices/7/telemetry", 0},
		{"flespi/state/gw/devices/7/telemetry/position.speed/more", 0},
		{"flespi/state/gw/devices/8/telemetry/#", 0}, // device 8 is in account 5's space
	} {
		sub, err := b.Subscribe(ctx, tc.filter, broker.HandlerFunc(func(context.Context, broker.Message) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := publish(); n != tc.want {
			t.Errorf("%s: %d published, want %d", tc.filter, n, tc.want)
		}
		sub.Unsubscribe(ctx)
		if n, asked := publish(); n != 0 || asked != 0 {
			t.Errorf("%s unsubscribed: %d published, %d topics asked", tc.filter, n, asked)
		}
	}
}

// Messages publishes on the embedded broker only the topics some
// subscription matches: nothing with nobody subscribed, the device topic
// alone for a devices/+ subscriber.
func TestMessagesSkipUnsubscribed(t *testing.T) {
	b := newBroker(t)
	p := &Messages{Broker: b}
	m := msg(map[string]protocol.Value{"ident": protocol.String("A1"), "channel.id": protocol.Int(3), "device.id": protocol.Int(7),
		"server.timestamp": protocol.Float(1700000000)})
	write := func() {
		t.Helper()
		if err := p.Write(context.Background(), &stream.Batch{Messages: []stream.Message{m}}); err != nil {
			t.Fatal(err)
		}
	}
	write()
	if n := b.Stats().MessagesReceived; n != 0 {
		t.Fatalf("%d messages published with nobody subscribed", n)
	}
	r := subscribe(t, b, "flespi/message/gw/devices/+")
	write()
	if got := r.wait(t, func(ms []broker.Message) bool { return len(ms) == 1 }); got[0].Topic != "flespi/message/gw/devices/7" {
		t.Fatalf("got %s", got[0].Topic)
	}
	if n := b.Stats().MessagesReceived; n != 1 {
		t.Fatalf("%d messages published for one subscribed topic", n)
	}
	// A topic the broker would refuse is still refused, subscribed or not.
	bad := msg(map[string]protocol.Value{"ident": protocol.String("a+b"), "channel.id": protocol.Int(3), "server.timestamp": protocol.Float(1)})
	var be *stream.BatchError
	if err := p.Write(context.Background(), &stream.Batch{Messages: []stream.Message{bad}}); !errors.As(err, &be) || !errors.Is(be.Err(0), broker.ErrBadTopic) {
		t.Fatalf("bad topic: %v", err)
	}
}

// The device topics are skipped with one question while no subscription
// may match one in the message's account space, and published exactly as
// Subscribed says as soon as one may (wildcards, shared, in the account's
// space), subscriptions coming and going between batches; the channel
// topics are not affected. Each publication has its properties.
func TestMessagesDeviceTopicsUnder(t *testing.T) {
	b := newBroker(t)
	ctx := context.Background()
	p := &Messages{Broker: b, Accounts: sourceAccounts()}
	root := msg(map[string]protocol.Value{"ident": protocol.String("A1"), "channel.id": protocol.Int(3), "device.id": protocol.Int(7),
		"server.timestamp": protocol.Float(1700000000)})
	sub := msg(map[string]protocol.Value{"ident": protocol.String("C1"), "channel.id": protocol.Int(3), "device.id": protocol.Int(8),
		"cid": protocol.Int(5), "server.timestamp": protocol.Float(1700000001)})
	all := subscribe(t, b, "$acc/5/flespi/message/gw/channels/#")
	allRoot := subscribe(t, b, "flespi/message/gw/channels/#")
	for _, tc := range []struct {
		filter string
		want   []string // device topics published, in order
	}{
		{"", nil},
		{"flespi/message/gw/devices/+", []string{"flespi/message/gw/devices/7"}},
		{"+/message/gw/devices/7", []string{"flespi/message/gw/devices/7"}},
		{"flespi/message/gw/devices/8", nil}, // 8 is account 5's
		{"$share/g/flespi/message/gw/#", []string{"flespi/message/gw/devices/7"}},
		{"$acc/+/flespi/message/gw/devices/8", []string{"$acc/5/flespi/message/gw/devices/8"}},
		{"flespi/message/gw/devices", nil},
		{"", nil},
	} {
		var unsub func()
		if tc.filter != "" {
			s, err := b.Subscribe(ctx, tc.filter, broker.HandlerFunc(func(context.Context, broker.Message) error { return nil }))
			if err != nil {
				t.Fatal(err)
			}
			unsub = func() { s.Unsubscribe(ctx) }
		}
		before := b.Stats().MessagesReceived
		if err := p.Write(ctx, &stream.Batch{Messages: []stream.Message{root, sub}}); err != nil {
			t.Fatal(err)
		}
		// The two channel topics, always (subscribed), and the device
		// topics wanted.
		if n := b.Stats().MessagesReceived - before; n != uint64(2+len(tc.want)) {
			t.Errorf("%q: %d published, want %d", tc.filter, n, 2+len(tc.want))
		}
		if unsub != nil {
			unsub()
		}
	}
	// What the account's "#" and the root's channel topics received.
	got := append(all.wait(t, func(ms []broker.Message) bool { return len(ms) >= 8 }), allRoot.wait(t, func(ms []broker.Message) bool { return len(ms) >= 8 })...)
	for _, m := range got {
		wantCID := ""
		if strings.HasPrefix(m.Topic, "$acc/5/") {
			wantCID = "5"
		}
		if prop(m, "cid") != wantCID || prop(m, "timestamp") == "" {
			t.Errorf("%s: cid %q timestamp %q", m.Topic, prop(m, "cid"), prop(m, "timestamp"))
		}
	}
}
