package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// A device's state topics show its configuration without its
// credentials: a token that may subscribe to flespi/state/# (a
// dashboard's) must not learn a device's password or access token.
func TestStateTopicsHideCredentials(t *testing.T) {
	g := gwtest.Start(t, gwtest.Config(t))
	code, out := g.REST("POST", "/gw/devices", []map[string]any{{"name": "van",
		"configuration": map[string]any{"ident": "350000000000001", "password": "pw-secret", "access_token": "tok-secret-0123"}}})
	if code != 200 {
		t.Fatalf("create: %d %v", code, out)
	}
	id := int64(gwtest.Results(t, out)[0]["id"].(float64))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := mqtt311.Dial(ctx, g.Addrs().MQTT, mqtt311.Options{Username: gwtest.Master})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Subscribe(ctx, mqtt311.Subscription{Filter: "flespi/state/gw/devices/+/configuration", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	want := "flespi/state/gw/devices/" + itoa(id) + "/configuration"
	for {
		select {
		case m := <-c.Messages():
			if m.Topic != want {
				continue
			}
			p := string(m.Payload)
			if !strings.Contains(p, `"ident":"350000000000001"`) || strings.Contains(p, "secret") {
				t.Fatalf("%s: %s", m.Topic, p)
			}
			return
		case <-ctx.Done():
			t.Fatal("no retained configuration")
		}
	}
}
