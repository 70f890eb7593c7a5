package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/mqtt311"
	"github.com/gnssgate/gnssgate/internal/testenv"
)

// TestClusterDeviceAPIExternalBus: with an external broker (Mosquitto) as
// the bus, each node serves ThingsBoard's device API on its own MQTT
// listener. A device connected to node B sends telemetry that node A's
// history holds; shared attributes and a server-side RPC posted to node A
// reach it on B, and A returns its answer. A token (not a device) cannot
// connect there: the platform topics are the external broker's.
func TestClusterDeviceAPIExternalBus(t *testing.T) {
	natsURL := testenv.NATSURL(t)
	addr := testenv.MQTTAddr(t)
	name := fmt.Sprintf("gwd%d", time.Now().UnixNano())
	destroyCluster(t, natsURL, name)
	nodes := startBusCluster(t, natsURL, addr, name, "a", "b")
	a, b := nodes[0], nodes[1]
	if b.Addrs().MQTT == "" {
		t.Fatal("node B serves no MQTT listener for the device API")
	}
	status, out := a.rest("POST", "/gw/devices", []map[string]any{{"name": "sensor",
		"configuration": map[string]any{"ident": "tb-cluster-1", "access_token": "tb-cluster-token-1"}}})
	if status != 200 {
		t.Fatalf("device: %d %v", status, out)
	}
	id := int64(results(t, out)[0]["id"].(float64))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if _, _, err := mqtt311.Dial(ctx, b.Addrs().MQTT, mqtt311.Options{ClientID: "x", Username: master}); err == nil {
		t.Fatal("a platform token connected to the device-only listener")
	}
	var dev *mqtt311.Client
	waitFor(t, "node B to know the device's access token", func() bool {
		c, _, err := mqtt311.Dial(ctx, b.Addrs().MQTT, mqtt311.Options{ClientID: "sensor-1", Username: "tb-cluster-token-1", KeepAlive: time.Minute})
		dev = c
		return err == nil
	})
	defer dev.Close()
	if _, err := dev.Subscribe(ctx, mqtt311.Subscription{Filter: "v1/devices/me/rpc/request/+", QoS: 1},
		mqtt311.Subscription{Filter: "v1/devices/me/attributes", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Publish(ctx, "v1/devices/me/telemetry", []byte(`{"ts":1800000000000,"values":{"temperature":21.5}}`), 1, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node A's history to hold the telemetry sent to node B", func() bool {
		_, out := a.rest("GET", fmt.Sprintf("/gw/devices/%d/messages", id), nil)
		msgs := results(t, out)
		return len(msgs) == 1 && msgs[0]["temperature"] == 21.5
	})

	// Shared attributes and an RPC posted to node A reach the device on B.
	pushAndCall(ctx, t, a, dev, id)
}
