package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker/paho"
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
	rc := newReceiver(t)
	var nodes []*gateway
	for _, nn := range []string{"a", "b"} {
		bus, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + addr, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bus.Close() })
		cfg := joinCluster(t, natsURL, name, nn, rc)
		cfg.Broker = bus
		nodes = append(nodes, start(t, cfg))
	}
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

	if status, out := a.rest("PUT", fmt.Sprintf("/gw/devices/%d/attributes", id), map[string]any{"interval": 30}); status != 200 {
		t.Fatalf("PUT attributes through node A: %d %v", status, out)
	}
	if msg := next(t, dev); msg.Topic != "v1/devices/me/attributes" || !strings.Contains(string(msg.Payload), `"interval":30`) {
		t.Fatalf("device got %s %s", msg.Topic, msg.Payload)
	}

	done := make(chan map[string]any, 1)
	go func() {
		_, out := a.rest("POST", fmt.Sprintf("/gw/devices/%d/rpc", id), map[string]any{"method": "getTime", "timeout": 10})
		done <- out
	}()
	req := next(t, dev)
	if !strings.HasPrefix(req.Topic, "v1/devices/me/rpc/request/") || !strings.Contains(string(req.Payload), "getTime") {
		t.Fatalf("RPC request %s %s", req.Topic, req.Payload)
	}
	reqID := strings.TrimPrefix(req.Topic, "v1/devices/me/rpc/request/")
	if err := dev.Publish(ctx, "v1/devices/me/rpc/response/"+reqID, []byte(`{"time":"12:00"}`), 1, false); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-done:
		r := results(t, out)
		if len(r) != 1 {
			t.Fatalf("RPC through node A: %v", out)
		}
		if b, _ := json.Marshal(r[0]["response"]); string(b) != `{"time":"12:00"}` {
			t.Fatalf("RPC answer %v", out)
		}
	case <-ctx.Done():
		t.Fatal("the RPC call through node A never returned")
	}
}
