package node_test

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

// OsmAnd / Traccar Client over HTTP, end to end: a query GET as Traccar
// Client and OsmAnd send it, to the channel's own port (Traccar's 5055 in
// production), and a Traccar Client 9 JSON POST to the same channel
// mounted at /http/{id} on the gateway's HTTP server. Each is answered
// 200 and lands in its device's history, with the ident and the position
// (speed converted from knots, resp. m/s, to km/h).
func TestOsmAndHTTP(t *testing.T) {
	cfg := gwtest.Config(t, "osmand")
	// The same protocol without a listen address: served at /http/{id}.
	cfg.Channels = append(cfg.Channels, node.ChannelSpec{Name: "osmand-mounted", Protocol: "osmand", Origin: "config",
		Config: registry.ChannelConfig{Record: true}})
	g := gwtest.Start(t, cfg)

	_, addr := g.Channel("osmand")
	mounted, ok := g.Registry.Channels.Lookup("name=osmand-mounted")
	if !ok {
		t.Fatal("no channel osmand-mounted")
	}

	do := func(method, u, contentType, body string) {
		t.Helper()
		req, err := http.NewRequest(method, u, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		req.Header.Set("User-Agent", "Traccar Client")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %d %q", method, u, resp.StatusCode, b)
		}
	}

	// Traccar Client's query form: id, timestamp (Unix s), lat, lon, speed
	// (knots), bearing, altitude, accuracy, batt.
	q := url.Values{
		"id": {"853971"}, "timestamp": {"1800000000"}, "lat": {"54.687157"}, "lon": {"25.279652"},
		"speed": {"10"}, "bearing": {"271.5"}, "altitude": {"112"}, "accuracy": {"4.5"}, "batt": {"87"},
	}
	do("GET", "http://"+addr+"/?"+q.Encode(), "", "")

	// Traccar Client 9's JSON location (speed in m/s, battery 0-1).
	js := `{"location":{"timestamp":"2027-01-15T08:00:30.000Z","coords":{"latitude":-33.868820,` +
		`"longitude":151.209290,"accuracy":8,"speed":5,"heading":90,"altitude":58},"is_moving":true,` +
		`"odometer":1500,"event":"motionchange","battery":{"level":0.42,"is_charging":true},` +
		`"activity":{"type":"in_vehicle"},"extras":{}},"device_id":"client9-device"}`
	do("POST", fmt.Sprintf("http://%s/http/%d", g.HTTP, mounted), "application/json", js)

	osmandID, _ := g.Registry.Channels.Lookup("name=osmand")
	for _, tc := range []struct {
		ident   string
		channel int64
		want    map[string]float64
	}{
		{"853971", osmandID, map[string]float64{
			"timestamp": 1800000000, "position.latitude": 54.687157, "position.longitude": 25.279652,
			"position.speed": 10 * 1.852, "position.direction": 271.5, "position.altitude": 112,
			"position.accuracy": 4.5, "battery.level": 87,
		}},
		{"client9-device", mounted, map[string]float64{
			"timestamp": 1800000030, "position.latitude": -33.868820, "position.longitude": 151.209290,
			"position.speed": 5 * 3.6, "position.altitude": 58, "position.accuracy": 8,
			"battery.level": 42, "gps.vehicle.mileage": 1.5,
		}},
	} {
		var dev map[string]any
		gwtest.WaitFor(t, "device "+tc.ident, func() bool {
			_, out := g.REST("GET", "/gw/devices/"+url.PathEscape("configuration.ident="+tc.ident), nil)
			if devs := gwtest.Results(t, out); len(devs) == 1 {
				dev = devs[0]
				return true
			}
			return false
		})
		var hist []map[string]any
		gwtest.WaitFor(t, "history of "+tc.ident, func() bool {
			_, out := g.REST("GET", fmt.Sprintf("/gw/devices/%d/messages", int64(dev["id"].(float64))), nil)
			hist = gwtest.Results(t, out)
			return len(hist) > 0
		})
		if len(hist) != 1 {
			t.Fatalf("history of %s holds %d messages, want 1: %v", tc.ident, len(hist), hist)
		}
		m := hist[0]
		if m["ident"] != tc.ident {
			t.Errorf("%s: ident %v", tc.ident, m["ident"])
		}
		if id, _ := m["channel.id"].(float64); int64(id) != tc.channel {
			t.Errorf("%s: channel.id %v, want %d", tc.ident, m["channel.id"], tc.channel)
		}
		for name, want := range tc.want {
			got, ok := m[name].(float64)
			if !ok || math.Abs(got-want) > 1e-6 {
				t.Errorf("%s: %s = %v, want %v (message %v)", tc.ident, name, m[name], want, m)
			}
		}
	}
}
