package node_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
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

// What REST shows live is on the retained state topics too: a channel's
// connections_count follows its trackers, a stream's counters its
// deliveries, and a deleted stream's topics are cleared.
func TestLiveStateTopics(t *testing.T) {
	received := make(chan struct{}, 100)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		received <- struct{}{}
	}))
	defer rc.Close()
	cfg := gwtest.Config(t, "teltonika")
	cfg.StateInterval = 50 * time.Millisecond
	g := gwtest.Start(t, cfg)
	chID, addr := g.Channel("teltonika")
	code, out := g.REST("POST", "/gw/streams", []map[string]any{{"name": "crm", "protocol_name": "http",
		"configuration": map[string]any{"uri": rc.URL}, "channels": []int64{chID}}})
	if code != 200 {
		t.Fatalf("POST /gw/streams: %d %v", code, out)
	}
	stID := int64(gwtest.Results(t, out)[0]["id"].(float64))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, _, err := mqtt311.Dial(ctx, g.Addrs().MQTT, mqtt311.Options{Username: gwtest.Master})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Subscribe(ctx, mqtt311.Subscription{Filter: "flespi/state/gw/channels/+/connections_count", QoS: 1},
		mqtt311.Subscription{Filter: "flespi/state/gw/streams/+/+", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	state := map[string]string{}
	waitFor := func(topic string, ok func(string) bool) {
		t.Helper()
		for {
			if v, seen := state[topic]; seen && ok(v) {
				return
			}
			select {
			case m := <-c.Messages():
				state[m.Topic] = string(m.Payload)
			case <-ctx.Done():
				t.Fatalf("%s: %q", topic, state[topic])
			}
		}
	}
	count := "flespi/state/gw/channels/" + itoa(chID) + "/connections_count"
	waitFor(count, func(v string) bool { return v == "0" })
	tr := gwtest.MustDial(t, "teltonika", addr, 1)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	waitFor(count, func(v string) bool { return v == "1" })
	<-received
	stream := "flespi/state/gw/streams/" + itoa(stID) + "/"
	waitFor(stream+"counters", func(v string) bool { return strings.Contains(v, `"accepted":1`) })
	waitFor(stream+"connected", func(v string) bool { return v == "true" })
	tr.Close()
	waitFor(count, func(v string) bool { return v == "0" })

	if code, out := g.REST("DELETE", "/gw/streams/"+itoa(stID), nil); code != 200 {
		t.Fatalf("DELETE: %d %v", code, out)
	}
	waitFor(stream+"counters", func(v string) bool { return v == "" })
}
