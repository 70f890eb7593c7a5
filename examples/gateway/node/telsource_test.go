package node_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// brokerReceived is the count of messages the node's broker took in.
func (g *gateway) brokerReceived(t *testing.T) uint64 {
	t.Helper()
	s, err := g.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Broker.MessagesReceived
}

// retainedOf collects the messages c receives on topics under prefix
// until n have come and no more follows for a moment: topic → payload
// with its timestamp and cid properties.
func (c *mqtt5) retainedOf(t *testing.T, prefix string, n int) map[string]string {
	t.Helper()
	got := map[string]string{}
	deadline := time.After(5 * time.Second)
	for {
		quiet := time.After(200 * time.Millisecond)
		if len(got) < n {
			quiet = nil
		}
		select {
		case m := <-c.msgs:
			if !strings.HasPrefix(m.Topic, prefix) {
				continue
			}
			if !m.Retain {
				t.Errorf("%s: not retained", m.Topic)
			}
			got[m.Topic] = fmt.Sprintf("%s@%s cid=%s", m.Payload, prop(m, "timestamp"), prop(m, "cid"))
		case <-quiet:
			return got
		case <-deadline:
			t.Fatalf("%d messages under %s within 5 s, want %d: %v", len(got), prefix, n, got)
		}
	}
}

// With its own embedded broker, the gateway publishes no telemetry
// change and no message nobody subscribed to; a later subscriber gets
// the current values from the telemetry store, retained with their
// timestamps, through any filter, in its own account's space only; live
// changes still arrive, and an offline persistent session's subscription
// still gets every message.
func TestTelemetryOnDemand(t *testing.T) {
	g := start(t, testConfig(t))
	cids, keys := accountsForMQTT(t, g)
	a := cids[0]
	device := func(key, ident string) int64 {
		t.Helper()
		status, out := restCall(t, g.http, key, "POST", "/gw/devices", []map[string]any{{"name": ident, "configuration": map[string]any{"ident": ident}}})
		if status != 200 {
			t.Fatalf("device %s: %d %v", ident, status, out)
		}
		return int64(results(t, out)[0]["id"].(float64))
	}
	devRoot, devA := device(master, "ident-root"), device(keys[0], "ident-a")
	post := func(key string, dev int64, params map[string]any) {
		t.Helper()
		if status, out := restCall(t, g.http, key, "POST", fmt.Sprintf("/gw/devices/%d/messages", dev), []map[string]any{params}); status != 200 {
			t.Fatalf("posting to %d: %d %v", dev, status, out)
		}
	}
	stored := func(key string, dev int64, name string, want any) {
		t.Helper()
		waitFor(t, "telemetry "+name, func() bool {
			_, out := restCall(t, g.http, key, "GET", fmt.Sprintf("/gw/devices/%d/telemetry/%s", dev, name), nil)
			r := results(t, out)
			if len(r) != 1 {
				return false
			}
			tel, _ := r[0]["telemetry"].(map[string]any)
			v, _ := tel[name].(map[string]any)
			return v != nil && v["value"] == want
		})
	}
	params := map[string]any{"timestamp": 100, "position.latitude": 54.5}
	for i := range 18 {
		params[fmt.Sprintf("p%02d", i)] = i
	}

	// Nobody subscribed: 27 values stored, none published (object state
	// might be: fewer than 10 messages).
	time.Sleep(300 * time.Millisecond) // the devices' creation published
	before := g.brokerReceived(t)
	post(master, devRoot, params)
	post(keys[0], devA, map[string]any{"timestamp": 101, "position.latitude": 1.5})
	stored(master, devRoot, "p17", float64(17))
	stored(keys[0], devA, "position.latitude", 1.5)
	time.Sleep(300 * time.Millisecond)
	if n := g.brokerReceived(t) - before; n >= 10 {
		t.Fatalf("%d messages published for 2 messages of 23 telemetry values nobody subscribed to", n)
	} else {
		t.Logf("%d messages published with nobody subscribed", n)
	}

	// Subscribed afterwards: the current values, retained.
	root := dialMQTT5(t, g, master, "root")
	rootTel := fmt.Sprintf("flespi/state/gw/devices/%d/telemetry/", devRoot)
	root.subscribe(t, "flespi/state/gw/devices/+/telemetry/#", 0)
	// 20 parameters, and the gateway's: ident, device.id, device.name, cid,
	// server.timestamp.
	got := root.retainedOf(t, "flespi/state/gw/devices/", 25)
	if len(got) != 25 || got[rootTel+"position.latitude"] != "54.5@100 cid=1" || got[rootTel+"p07"] != "7@100 cid=1" {
		t.Fatalf("devices/+/telemetry/#: %d values %v", len(got), got)
	}
	for topic := range got {
		if !strings.HasPrefix(topic, rootTel) {
			t.Errorf("the root's subscription got %s", topic)
		}
	}
	lat := dialMQTT5(t, g, master, "lat")
	lat.subscribe(t, "flespi/state/gw/devices/+/telemetry/position.latitude", 0)
	if got := lat.retainedOf(t, "flespi/", 1); len(got) != 1 || got[rootTel+"position.latitude"] != "54.5@100 cid=1" {
		t.Fatalf("telemetry/position.latitude: %v", got)
	}

	// Accounts: A's token sees its device's, in its space; B's nothing;
	// the root selects A's space.
	aTel := fmt.Sprintf("flespi/state/gw/devices/%d/telemetry/", devA)
	cA, cB := dialMQTT5(t, g, keys[0], "a"), dialMQTT5(t, g, keys[2], "b")
	cA.subscribe(t, "flespi/state/gw/devices/+/telemetry/#", 0)
	want := map[string]string{aTel + "position.latitude": fmt.Sprintf("1.5@101 cid=%d", a)}
	got = cA.retainedOf(t, "flespi/", 7)
	if got[aTel+"position.latitude"] != want[aTel+"position.latitude"] || len(got) != 7 {
		t.Fatalf("A's token: %v", got)
	}
	for topic := range got {
		if !strings.HasPrefix(topic, aTel) {
			t.Errorf("A's subscription got %s", topic)
		}
	}
	cB.subscribe(t, "flespi/state/gw/devices/+/telemetry/#", 0)
	cB.subscribe(t, fmt.Sprintf("flespi/state/gw/devices/%d/telemetry/#", devA), 0)
	cB.none(t, "", 300*time.Millisecond)
	rootInA := dialMQTT5(t, g, master, "root-in-a")
	rootInA.subscribe(t, "flespi/state/gw/devices/+/telemetry/position.latitude", a)
	if got := rootInA.retainedOf(t, "flespi/", 1); len(got) != 1 || got[aTel+"position.latitude"] != want[aTel+"position.latitude"] {
		t.Fatalf("the root in A's space: %v", got)
	}

	// Live changes arrive (not retained: no Retain As Published).
	post(master, devRoot, map[string]any{"timestamp": 200, "position.latitude": 55.5})
	m := lat.next(t, rootTel)
	if string(m.Payload) != "55.5" || prop(m, "timestamp") != "200" || m.Retain {
		t.Fatalf("live change: %s %s@%s retain %v", m.Topic, m.Payload, prop(m, "timestamp"), m.Retain)
	}
	post(keys[0], devA, map[string]any{"timestamp": 201, "position.latitude": 2.5})
	if m := cA.next(t, aTel+"position.latitude"); string(m.Payload) != "2.5" {
		t.Fatalf("A's live change: %s", m.Payload)
	}
	cB.none(t, "", 200*time.Millisecond)

	// An offline persistent session's subscription still counts.
	car, _ := dial311(t, g, master, "car", true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := car.Subscribe(ctx, mqtt311.Subscription{Filter: "flespi/message/gw/devices/+", QoS: 1},
		mqtt311.Subscription{Filter: rootTel + "position.latitude", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if m := next311(t, car); m.Topic != rootTel+"position.latitude" || !m.Retain {
		t.Fatalf("the car's retained value: %s retain %v", m.Topic, m.Retain)
	}
	car.Disconnect()
	waitFor(t, "the car's session to be offline", func() bool {
		r := results(t, mustREST(t, g, master, "GET", "/mqtt/sessions/car", nil))
		return len(r) == 1 && r[0]["connected"] == false
	})
	post(master, devRoot, map[string]any{"timestamp": 300, "position.latitude": 56.5})
	stored(master, devRoot, "position.latitude", 56.5)
	time.Sleep(300 * time.Millisecond)
	car, present := dial311(t, g, master, "car", true)
	if !present {
		t.Fatal("the session was not kept")
	}
	var topics []string
	for len(topics) < 2 {
		topics = append(topics, next311(t, car).Topic)
	}
	slices.Sort(topics)
	if want := []string{fmt.Sprintf("flespi/message/gw/devices/%d", devRoot), rootTel + "position.latitude"}; !slices.Equal(topics, want) {
		t.Fatalf("the car got %v while offline, want %v", topics, want)
	}
}
