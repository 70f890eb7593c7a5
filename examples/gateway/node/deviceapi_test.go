package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// A ThingsBoard device connects to the gateway's broker with the access
// token of its registry device: its telemetry is stored like any channel's
// messages; RPC and shared attributes reach it through the REST API.
func TestDeviceAPI(t *testing.T) {
	g := start(t, testConfig(t))
	status, out := g.rest("POST", "/gw/devices", []map[string]any{{"name": "sensor",
		"configuration": map[string]any{"ident": "tb-sensor-1", "access_token": "tb-token-0001"}}})
	if status != 200 {
		t.Fatalf("device: %d %v", status, out)
	}
	id := int64(results(t, out)[0]["id"].(float64))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// A wrong token is refused at CONNECT.
	if _, _, err := mqtt311.Dial(ctx, g.Addrs().MQTT, mqtt311.Options{ClientID: "x", Username: "nope"}); err == nil {
		t.Fatal("a wrong access token connected")
	}
	dev, _, err := mqtt311.Dial(ctx, g.Addrs().MQTT, mqtt311.Options{ClientID: "sensor-1", Username: "tb-token-0001", KeepAlive: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if _, err := dev.Subscribe(ctx, mqtt311.Subscription{Filter: "v1/devices/me/rpc/request/+", QoS: 1},
		mqtt311.Subscription{Filter: "v1/devices/me/attributes", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Publish(ctx, "v1/devices/me/telemetry", []byte(`{"ts":1800000000000,"values":{"temperature":21.5,"door":"open"}}`), 1, false); err != nil {
		t.Fatal(err)
	}
	// PUBACK came: it is stored.
	waitFor(t, "the telemetry in history", func() bool {
		_, out := g.rest("GET", fmt.Sprintf("/gw/devices/%d/messages", id), nil)
		msgs := results(t, out)
		return len(msgs) == 1 && msgs[0]["temperature"] == 21.5 && msgs[0]["timestamp"] == 1.8e9
	})

	// Shared attributes and a server-side RPC through the REST API.
	pushAndCall(ctx, t, g, dev, id)
}

// pushAndCall checks the device API's downlinks through g's REST API:
// shared attributes set there are pushed to dev, and a server-side RPC
// posted there reaches dev, which answers, and the REST call returns the
// answer.
func pushAndCall(ctx context.Context, t *testing.T, g *gateway, dev *mqtt311.Client, id int64) {
	t.Helper()
	if status, out := g.rest("PUT", fmt.Sprintf("/gw/devices/%d/attributes", id), map[string]any{"interval": 30}); status != 200 {
		t.Fatalf("PUT attributes: %d %v", status, out)
	}
	msg := next(t, dev)
	if msg.Topic != "v1/devices/me/attributes" || !strings.Contains(string(msg.Payload), `"interval":30`) {
		t.Fatalf("device got %s %s", msg.Topic, msg.Payload)
	}

	done := make(chan map[string]any, 1)
	go func() {
		_, out := g.rest("POST", fmt.Sprintf("/gw/devices/%d/rpc", id), map[string]any{"method": "getTime", "timeout": 10})
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
			t.Fatalf("RPC: %v", out)
		}
		if b, _ := json.Marshal(r[0]["response"]); string(b) != `{"time":"12:00"}` {
			t.Fatalf("RPC answer %v", out)
		}
	case <-ctx.Done():
		t.Fatal("the RPC call never returned")
	}
}

func next(t *testing.T, c *mqtt311.Client) mqtt311.Message {
	t.Helper()
	select {
	case m := <-c.Messages():
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message for the device")
		return mqtt311.Message{}
	}
}
