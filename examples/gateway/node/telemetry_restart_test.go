package node_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

// TestTelemetryRetainedAfterRestart: the embedded broker keeps no device
// telemetry (a platform.TelemetrySource serves it from the telemetry
// store), so a subscriber after a restart finds the same retained values
// as before it.
func TestTelemetryRetainedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	retained := func(g *gateway, id int64) map[string]string {
		t.Helper()
		sub, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + g.Addrs().MQTT, Username: master, ClientID: "tel", Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		var mu sync.Mutex
		got := map[string]string{}
		if _, err := sub.Subscribe(context.Background(), fmt.Sprintf("flespi/state/gw/devices/%d/telemetry/+", id), broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
			mu.Lock()
			got[m.Topic] = string(m.Payload)
			mu.Unlock()
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		snapshot := func() map[string]string {
			mu.Lock()
			defer mu.Unlock()
			out := make(map[string]string, len(got))
			for k, v := range got {
				out[k] = v
			}
			return out
		}
		want := fmt.Sprintf("flespi/state/gw/devices/%d/telemetry/position.latitude", id)
		waitFor(t, "retained telemetry", func() bool { _, ok := snapshot()[want]; return ok })
		return snapshot()
	}

	g := start(t, gwtest.ConfigIn(dir, device.Teltonika))
	tr := dial(t, device.Teltonika, g.channelAddr(device.Teltonika), 1)
	for range 3 {
		if _, err := send(tr); err != nil {
			t.Fatal(err)
		}
	}
	id, ok := g.Registry.Devices.Lookup("ident=" + fmt.Sprint(device.IMEI(35630704240000+1)))
	if !ok {
		t.Fatal("the tracker's device was not registered")
	}
	// The history writer has stored all three messages, and their
	// telemetry with them, before the values are read: retained telemetry
	// is read from the store on subscribe.
	var params int
	waitFor(t, "the three messages in history and their telemetry", func() bool {
		status, out := g.rest("GET", fmt.Sprintf("/gw/devices/%d/messages", id), nil)
		if status != 200 || len(results(t, out)) != 3 {
			return false
		}
		status, out = g.rest("GET", fmt.Sprintf("/gw/devices/%d/telemetry/all", id), nil)
		if status != 200 || len(results(t, out)) != 1 {
			return false
		}
		tel, _ := results(t, out)[0]["telemetry"].(map[string]any)
		params = len(tel)
		return params > 0
	})
	before := retained(g, id)
	waitFor(t, "every value retained", func() bool { before = retained(g, id); return len(before) == params })
	tr.Close()
	g.stop()

	g = start(t, gwtest.ConfigIn(dir, device.Teltonika))
	after := retained(g, id)
	waitFor(t, "every retained value again", func() bool { after = retained(g, id); return len(after) >= len(before) })
	for topic, v := range before {
		if after[topic] != v {
			t.Errorf("%s: %q after the restart, %q before", topic, after[topic], v)
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d retained values after the restart, %d before", len(after), len(before))
	}
}
