package node_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pahogo "github.com/eclipse/paho.golang/paho"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// restAs calls the API with a token, optionally in a subaccount.
func restAs(t *testing.T, g *gateway, token string, cid int64, method, path string, body any) (int, map[string]any) {
	t.Helper()
	if cid == 0 {
		return restCall(t, g.http, token, method, path, body)
	}
	return restCallHeader(t, g.http, token, map[string]string{"X-Flespi-Cid": fmt.Sprint(cid)}, method, path, body)
}

// Accounts as an attacker would try them: a token of account A cannot
// read, list, change or delete B's objects by id, by selector or through
// fields, cannot act in B or in its own parent, and a limit holds.
func TestAccountIsolation(t *testing.T) {
	g := start(t, testConfig(t))
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "fleet A"}, {"name": "fleet B"}})
	accts := results(t, out)
	a, b := int64(accts[0]["id"].(float64)), int64(accts[1]["id"].(float64))
	if accts[0]["cid"].(float64) != 1 {
		t.Fatalf("subaccount's parent %v", accts[0])
	}
	token := func(cid int64) string {
		status, out := restAs(t, g, master, cid, "POST", "/platform/tokens", []map[string]any{{"info": fmt.Sprint("t", cid)}})
		if status != 200 {
			t.Fatalf("token for %d: %d %v", cid, status, out)
		}
		return results(t, out)[0]["key"].(string)
	}
	keyA, keyB := token(a), token(b)
	device := func(key string, ident string) int64 {
		status, out := restCall(t, g.http, key, "POST", "/gw/devices", []map[string]any{{"name": ident, "configuration": map[string]any{"ident": ident}}})
		if status != 200 {
			t.Fatalf("device %s: %d %v", ident, status, out)
		}
		return int64(results(t, out)[0]["id"].(float64))
	}
	dA, dB := device(keyA, "a-1"), device(keyB, "b-1")
	device(master, "root-1")

	count := func(key, path string) int {
		status, out := restCall(t, g.http, key, "GET", path, nil)
		if status != 200 {
			t.Fatalf("GET %s: %d %v", path, status, out)
		}
		return len(results(t, out))
	}
	for path, want := range map[string]int{
		"/gw/devices/all":                          1,
		fmt.Sprintf("/gw/devices/%d", dB):          0,
		fmt.Sprintf("/gw/devices/%d,%d", dA, dB):   1,
		fmt.Sprintf("/gw/devices/{cid=%d}", b):     0,
		"/gw/devices/configuration.ident=b*":       0,
		"/gw/devices/all?fields=cid,id":            1,
		"/platform/tokens/all":                     1,
		"/platform/subaccounts/all":                0,
		fmt.Sprintf("/gw/devices/%d/messages", dB): 0,
	} {
		if got := count(keyA, path); got != want {
			t.Errorf("A: GET %s gave %d items, want %d", path, got, want)
		}
	}
	// Changes through selectors touch nothing of B's.
	restCall(t, g.http, keyA, "PUT", fmt.Sprintf("/gw/devices/%d", dB), map[string]any{"name": "stolen"})
	restCall(t, g.http, keyA, "DELETE", "/gw/devices/all", nil)
	if d, ok := g.Registry.Devices.Get(dB); !ok || d.Name != "b-1" {
		t.Fatalf("B's device after A's attempts: %+v %v", d, ok)
	}
	if _, ok := g.Registry.Devices.Get(dA); ok {
		t.Fatal("A could not delete its own device")
	}
	// Acting in another account, or in its parent, is refused.
	for _, cid := range []int64{b, 1, 999} {
		if status, _ := restAs(t, g, keyA, cid, "GET", "/gw/devices/all", nil); status != 403 {
			t.Errorf("A acting in account %d: %d, want 403", cid, status)
		}
	}
	// A stream of A cannot subscribe to B's device.
	if status, _ := restCall(t, g.http, keyA, "POST", "/gw/streams", []map[string]any{{"name": "s", "protocol_name": "http",
		"configuration": map[string]any{"uri": "http://127.0.0.1:1/"}, "devices": []int64{dB}}}); status != 400 {
		t.Errorf("A subscribing to B's device: %d, want 400", status)
	}
	// Each of those attempts was counted: the three accounts acted in, and
	// B's device named by id (GET twice, messages, PUT), by a selector on
	// cid, and in the stream's subscription; a selector on another field
	// ("configuration.ident=b*") is no probe of B and is not counted.
	if got := g.refusals(t); got[rest.RefusedAccount] != 3 || got[rest.RefusedObject] != 6 {
		t.Errorf("refusals counted: %v, want 3 %s and 6 %s", got, rest.RefusedAccount, rest.RefusedObject)
	}
	// The master sees every account's devices; with the header, one.
	if n := count(master, "/gw/devices/all"); n != 2 {
		t.Errorf("master sees %d devices, want 2 (root's and B's)", n)
	}
	if status, out := restAs(t, g, master, b, "GET", "/gw/devices/all", nil); status != 200 || len(results(t, out)) != 1 {
		t.Errorf("master in B: %d %v", status, out)
	}
	// Limits.
	if status, _ := g.rest("PUT", fmt.Sprintf("/platform/subaccounts/%d", b), map[string]any{"limits": map[string]any{"devices": 1}}); status != 200 {
		t.Fatalf("setting B's limits: %d", status)
	}
	if status, out := restCall(t, g.http, keyB, "POST", "/gw/devices", []map[string]any{{"configuration": map[string]any{"ident": "b-2"}}}); status != 403 {
		t.Errorf("B over its device limit: %d %v", status, out)
	}
	// An account that holds objects is not deleted.
	if status, _ := g.rest("DELETE", fmt.Sprintf("/platform/subaccounts/%d", b), nil); status != 409 {
		t.Errorf("deleting B with a device: %d, want 409", status)
	}
}

// mqttClient connects a paho client to the gateway's broker with a token.
func mqttClient(t *testing.T, g *gateway, token, id string) *paho.Broker {
	t.Helper()
	b, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + g.Addrs().MQTT, Username: token, ClientID: id,
		SessionExpiry: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// collector subscribes and keeps what arrives.
type collector struct {
	mu  sync.Mutex
	got []broker.Message
}

func (c *collector) handler() broker.Handler {
	return broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		c.mu.Lock()
		c.got = append(c.got, m)
		c.mu.Unlock()
		return nil
	})
}

func (c *collector) messages() []broker.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// Each account has a private MQTT namespace: its clients see its own
// platform topics and retained messages, never another account's, however
// they subscribe; the root account's token reaches the subaccounts' spaces
// and sees each message's cid.
func TestAccountNamespaces(t *testing.T) {
	g := start(t, testConfig(t))
	ctx := context.Background()
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "A"}, {"name": "B"}})
	accts := results(t, out)
	a, b := int64(accts[0]["id"].(float64)), int64(accts[1]["id"].(float64))
	key := func(cid int64) string {
		_, out := restAs(t, g, master, cid, "POST", "/platform/tokens", []map[string]any{{"info": "t"}})
		return results(t, out)[0]["key"].(string)
	}
	keyA, keyB := key(a), key(b)
	_, out = restCall(t, g.http, keyA, "POST", "/gw/devices", []map[string]any{{"name": "a1", "configuration": map[string]any{"ident": "ident-a1"}}})
	devA := int64(results(t, out)[0]["id"].(float64))

	var inA, inB, inRoot collector
	cA, cB, cRoot := mqttClient(t, g, keyA, "a"), mqttClient(t, g, keyB, "b"), mqttClient(t, g, master, "root")
	for _, f := range []string{"#", "flespi/#"} {
		if _, err := cA.Subscribe(ctx, f, inA.handler()); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"#", "+/#", "$share/g/#", fmt.Sprintf("$filter/cid=%d/flespi/#", a), fmt.Sprintf("$accounts/%d/#", a)} {
		if _, err := cB.Subscribe(ctx, f, inB.handler()); err != nil && !errors.Is(err, broker.ErrNotAuthorized) {
			t.Fatalf("B subscribing %s: %v", f, err)
		}
	}
	if _, err := cRoot.Subscribe(ctx, "$accounts/+/flespi/message/gw/devices/+", inRoot.handler()); err != nil {
		t.Fatal(err)
	}

	// A message of A's device, and a retained message of A's client.
	if status, out := restCall(t, g.http, keyA, "POST", fmt.Sprintf("/gw/devices/%d/messages", devA), []map[string]any{{"x": 1}}); status != 200 {
		t.Fatalf("posting a message: %d %v", status, out)
	}
	if err := cA.Publish(ctx, broker.Message{Topic: "sensors/1", Payload: []byte("a"), QoS: 1, Retain: true}); err != nil {
		t.Fatal(err)
	}
	wantTopic := fmt.Sprintf("flespi/message/gw/devices/%d", devA)
	waitFor(t, "A's own message", func() bool {
		for _, m := range inA.messages() {
			if m.Topic == wantTopic {
				return true
			}
		}
		return false
	})
	// History and telemetry keep the message's cid.
	waitFor(t, "A's message in history with its cid", func() bool {
		_, out := restCall(t, g.http, keyA, "GET", fmt.Sprintf("/gw/devices/%d/messages", devA), nil)
		items := results(t, out)
		return len(items) == 1 && items[0]["cid"] == float64(a)
	})
	waitFor(t, "A's telemetry with its cid", func() bool {
		_, out := restCall(t, g.http, keyA, "GET", fmt.Sprintf("/gw/devices/%d/telemetry/cid", devA), nil)
		items := results(t, out)
		tel, _ := items[0]["telemetry"].(map[string]any)
		cid, _ := tel["cid"].(map[string]any)
		return cid != nil && cid["value"] == float64(a)
	})
	waitFor(t, "the root's view of A's message", func() bool {
		for _, m := range inRoot.messages() {
			if m.Topic == fmt.Sprintf("$accounts/%d/%s", a, wantTopic) {
				cid, _ := m.Properties.UserProperty("cid")
				return cid == fmt.Sprint(a)
			}
		}
		return false
	})
	// B, subscribed every way it can, saw nothing of A's; a retained
	// subscription of B's on A's topic finds nothing either.
	var late collector
	if _, err := cB.Subscribe(ctx, "sensors/1", late.handler()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	for _, m := range append(inB.messages(), late.messages()...) {
		if strings.Contains(string(m.Payload), "ident-a1") || string(m.Payload) == "a" || strings.Contains(m.Topic, fmt.Sprint(devA)) {
			t.Fatalf("B received A's %s %s", m.Topic, m.Payload)
		}
	}
	// REST over MQTT answers as the client's token: A's devices only.
	var answers collector
	if _, err := cB.Subscribe(ctx, "answers/#", answers.handler()); err != nil {
		t.Fatal(err)
	}
	if err := cB.Publish(ctx, broker.Message{Topic: "flespi/rest/get/gw/devices/all", QoS: 1,
		Properties: broker.Properties{ResponseTopic: "answers/1"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the REST-over-MQTT answer", func() bool { return len(answers.messages()) > 0 })
	if got := string(answers.messages()[0].Payload); strings.Contains(got, "ident-a1") {
		t.Fatalf("B's REST over MQTT sees A's device: %s", got)
	}
}

// Account limits beyond object counts: a full storage stops
// acknowledging that account's trackers (Block semantics) and logs an
// event; MQTT sessions beyond the limit are refused with "quota exceeded".
func TestAccountLimits(t *testing.T) {
	cfg := testConfig(t)
	cfg.AccountCheckInterval = 50 * time.Millisecond
	g := start(t, cfg)
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "small",
		"limits": map[string]any{"messages_stored": 3, "mqtt_sessions": 1}}})
	cid := int64(results(t, out)[0]["id"].(float64))
	var events collector
	root := mqttClient(t, g, master, "root")
	if _, err := root.Subscribe(context.Background(), fmt.Sprintf("$accounts/%d/flespi/log/gw/accounts/+/+", cid), events.handler()); err != nil {
		t.Fatal(err)
	}
	// A channel of the subaccount; its trackers' devices are the account's.
	status, out := restAs(t, g, master, cid, "POST", "/gw/channels", []map[string]any{{"name": "small-teltonika",
		"protocol_name": "teltonika", "enabled": true, "configuration": map[string]any{"tcp": "127.0.0.1:0"}}})
	if status != 200 {
		t.Fatalf("channel: %d %v", status, out)
	}
	chID := int64(results(t, out)[0]["id"].(float64))
	var addr string
	waitFor(t, "the channel to listen", func() bool { addr = g.Addrs().Channels[chID][0]; return addr != "" })
	tr := dial(t, device.Teltonika, addr, 77)
	for range 3 {
		if _, err := send(tr); err != nil {
			t.Fatal(err)
		}
	}
	d, ok := g.Registry.DeviceByIdent(tr.Ident())
	if !ok || d.CID != cid {
		t.Fatalf("the tracker's device %+v is not the subaccount's", d)
	}
	waitFor(t, "the storage_full event", func() bool {
		for _, m := range events.messages() {
			if strings.HasSuffix(m.Topic, "/storage_full") {
				return true
			}
		}
		return false
	})
	tr.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := send(tr); err == nil {
		t.Fatal("a tracker of a full account was acknowledged")
	}

	key := func() string {
		_, out := restAs(t, g, master, cid, "POST", "/platform/tokens", []map[string]any{{"info": "t"}})
		return results(t, out)[0]["key"].(string)
	}()
	mqttClient(t, g, key, "first")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := mqtt311.Dial(ctx, g.Addrs().MQTT, mqtt311.Options{ClientID: "second", Username: key})
	var refused *mqtt311.RefusedError
	if !errors.As(err, &refused) || refused.Code != 3 { // MQTT 5's 0x97 "quota exceeded" is 3.1.1's 3
		t.Fatalf("a second session over the limit: %v", err)
	}
	nc, err := net.Dial("tcp", g.Addrs().MQTT)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c5 := pahogo.NewClient(pahogo.ClientConfig{Conn: nc, OnClientError: func(error) {}})
	ca, err := c5.Connect(ctx, &pahogo.Connect{ClientID: "third", CleanStart: true, KeepAlive: 30, Username: key, UsernameFlag: true})
	if err == nil || ca == nil || ca.ReasonCode != 0x97 {
		t.Fatalf("an MQTT 5 session over the limit: %v %+v, want reason 0x97 (quota exceeded)", err, ca)
	}
}

// An account's bytes_per_second_in limit slows its trackers down: eight
// records of a few dozen bytes at 100 bytes/s take seconds to be
// acknowledged. Only a lower bound is checked, which a slow machine
// cannot break.
func TestAccountBytesPerSecond(t *testing.T) {
	g := start(t, testConfig(t))
	const rate = 100
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "slow", "limits": map[string]any{"bytes_per_second_in": rate}}})
	cid := int64(results(t, out)[0]["id"].(float64))
	status, out := restAs(t, g, master, cid, "POST", "/gw/channels", []map[string]any{{"name": "slow-teltonika",
		"protocol_name": "teltonika", "enabled": true, "configuration": map[string]any{"tcp": "127.0.0.1:0"}}})
	if status != 200 {
		t.Fatalf("channel: %d %v", status, out)
	}
	chID := int64(results(t, out)[0]["id"].(float64))
	var addr string
	waitFor(t, "the channel to listen", func() bool { addr = g.Addrs().Channels[chID][0]; return addr != "" })
	tr := dial(t, device.Teltonika, addr, 78)
	start := time.Now()
	for range 8 {
		if _, err := send(tr); err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	s, err := g.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var in uint64
	for _, c := range s.Channels {
		if c.ID == chID {
			in = c.Stats.BytesIn
		}
	}
	// The bucket starts with a second's worth and the last batch's debt
	// is slept after it is charged: at least (in - 2·rate)/rate seconds.
	if want := time.Duration(float64(in-2*rate) / rate * float64(time.Second)); in <= 2*rate || elapsed < want {
		t.Fatalf("%d bytes acknowledged in %v, want at least %v at %d bytes/s", in, elapsed, want, rate)
	}
}

// connectSession connects an MQTT 5 client with a session expiry and
// returns its CONNACK; the client is closed when the test ends, or at
// once with leave, after a normal DISCONNECT that keeps its session.
func connectSession(t *testing.T, g *gateway, token, id string, clean bool, expiry uint32) (ca *pahogo.Connack, leave func()) {
	t.Helper()
	nc, err := net.Dial("tcp", g.Addrs().MQTT)
	if err != nil {
		t.Fatal(err)
	}
	c := pahogo.NewClient(pahogo.ClientConfig{Conn: nc, OnClientError: func(error) {}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ca, err = c.Connect(ctx, &pahogo.Connect{ClientID: id, CleanStart: clean, KeepAlive: 30, Username: token, UsernameFlag: true,
		Properties: &pahogo.ConnectProperties{SessionExpiryInterval: &expiry}})
	if ca == nil {
		nc.Close()
		t.Fatalf("connect %s: no CONNACK: %v", id, err)
	}
	leave = func() { c.Disconnect(&pahogo.Disconnect{}); nc.Close() }
	t.Cleanup(leave)
	return ca, leave
}

// An account's mqtt_sessions limit counts the sessions kept for offline
// clients too, before and after the gateway restarts (its broker keeps
// sessions in the data directory): a client cannot open sessions with an
// expiry, disconnect and open more. Resuming a kept session is not a new
// one.
func TestAccountSessionLimitCountsOffline(t *testing.T) {
	cfg := testConfig(t)
	g := start(t, cfg)
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "two", "limits": map[string]any{"mqtt_sessions": 2}}})
	cid := int64(results(t, out)[0]["id"].(float64))
	_, out = restAs(t, g, master, cid, "POST", "/platform/tokens", []map[string]any{{"info": "t"}})
	key := results(t, out)[0]["key"].(string)

	for _, id := range []string{"p1", "p2"} {
		if ca, leave := connectSession(t, g, key, id, true, 3600); ca.ReasonCode != 0 {
			t.Fatalf("session %s: reason 0x%02x", id, ca.ReasonCode)
		} else {
			leave()
		}
	}
	sessions := func() int {
		status, out := restAs(t, g, master, cid, "GET", "/mqtt/sessions/all", nil)
		if status != 200 {
			t.Fatalf("GET /mqtt/sessions/all: %d %v", status, out)
		}
		return len(results(t, out))
	}
	waitFor(t, "two sessions kept offline", func() bool { return sessions() == 2 })
	if ca, _ := connectSession(t, g, key, "p3", true, 0); ca.ReasonCode != 0x97 {
		t.Fatalf("a third session beside two kept offline: reason 0x%02x, want 0x97 (quota exceeded)", ca.ReasonCode)
	}
	if ca, _ := connectSession(t, g, key, "p1", false, 3600); ca.ReasonCode != 0 || !ca.SessionPresent {
		t.Fatalf("resuming p1: reason 0x%02x, session present %v", ca.ReasonCode, ca.SessionPresent)
	}

	g.stop()
	g = start(t, cfg)
	if n := sessions(); n != 2 {
		t.Fatalf("%d sessions after the restart, want the 2 kept", n)
	}
	if ca, _ := connectSession(t, g, key, "p3", true, 0); ca.ReasonCode != 0x97 {
		t.Fatalf("a third session after the restart: reason 0x%02x, want 0x97", ca.ReasonCode)
	}
	if ca, _ := connectSession(t, g, key, "p2", false, 3600); ca.ReasonCode != 0 || !ca.SessionPresent {
		t.Fatalf("resuming p2 after the restart: reason 0x%02x, session present %v", ca.ReasonCode, ca.SessionPresent)
	}
}

// REST selectors that ask for an account the token cannot see are
// counted even where that account has nothing to find: a selector on its
// cid over an empty collection, a guessed subaccount cid (existing or
// not). Selectors within the token's own account are not.
func TestAccountProbesOverREST(t *testing.T) {
	g := start(t, testConfig(t))
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "A"}, {"name": "B"}})
	accts := results(t, out)
	a, b := int64(accts[0]["id"].(float64)), int64(accts[1]["id"].(float64))
	_, out = restAs(t, g, master, a, "POST", "/platform/tokens", []map[string]any{{"info": "t"}})
	keyA := results(t, out)[0]["key"].(string)
	count := func(path string) int {
		t.Helper()
		status, out := restCall(t, g.http, keyA, "GET", path, nil)
		if status != 200 {
			t.Fatalf("GET %s: %d %v", path, status, out)
		}
		return len(results(t, out))
	}
	before := g.refusals(t)
	for _, path := range []string{fmt.Sprintf("/gw/channels/cid=%d", a), fmt.Sprintf("/gw/streams/{cid==%d}", a),
		"/platform/subaccounts/all", fmt.Sprintf("/gw/devices/{cid!=%d}", b)} {
		count(path)
	}
	if after := g.refusals(t); after[rest.RefusedObject] != before[rest.RefusedObject] {
		t.Fatalf("selectors within A counted: before %v, after %v", before, after)
	}
	probes := []string{
		fmt.Sprintf("/gw/channels/cid=%d", b),                  // B has no channels
		fmt.Sprintf("/gw/streams/{cid==%d && name==\"x\"}", b), // nor streams
		fmt.Sprintf("/gw/devices/{cid==%d}", registry.RootCID), // A's parent
		fmt.Sprintf("/platform/subaccounts/%d", b),             // a sibling's cid
		"/platform/subaccounts/999999",                         // a guess
		fmt.Sprintf("/platform/subaccounts/%d,999998", b),      // counted once
	}
	for _, path := range probes {
		if n := count(path); n != 0 {
			t.Fatalf("GET %s found %d items", path, n)
		}
	}
	if after := g.refusals(t); after[rest.RefusedObject]-before[rest.RefusedObject] != int64(len(probes)) {
		t.Errorf("probes counted: before %v, after %v, want %d more %s", before, after, len(probes), rest.RefusedObject)
	}
}
