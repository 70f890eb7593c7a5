package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
)

// mqtt5 is a bare MQTT 5 client (SUBSCRIBE user properties are beyond
// broker/paho's contract) that keeps what it receives.
type mqtt5 struct {
	*paho.Client
	msgs chan *paho.Publish
}

func dialMQTT5(t *testing.T, g *gateway, token, id string) *mqtt5 {
	t.Helper()
	nc, err := net.Dial("tcp", g.Addrs().MQTT)
	if err != nil {
		t.Fatal(err)
	}
	c := &mqtt5{msgs: make(chan *paho.Publish, 1000)}
	c.Client = paho.NewClient(paho.ClientConfig{Conn: nc, OnClientError: func(error) {},
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			c.msgs <- pr.Packet
			return true, nil
		}}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ca, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30, Username: token, UsernameFlag: true}); err != nil {
		t.Fatalf("connect: %v %+v", err, ca)
	}
	t.Cleanup(func() { c.Disconnect(&paho.Disconnect{}); nc.Close() })
	return c
}

// subscribe subscribes filter, in account cid's space when cid is not 0,
// and returns the reason code.
func (c *mqtt5) subscribe(t *testing.T, filter string, cid int64) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}
	if cid != 0 {
		s.Properties = &paho.SubscribeProperties{User: paho.UserProperties{{Key: "cid", Value: fmt.Sprint(cid)}}}
	}
	sa, err := c.Subscribe(ctx, s)
	if sa == nil {
		t.Fatalf("subscribe %s: %v", filter, err)
	}
	return sa.Reasons[0]
}

func (c *mqtt5) publish(t *testing.T, p *paho.Publish) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if p.QoS == 0 {
		p.QoS = 1
	}
	if _, err := c.Publish(ctx, p); err != nil {
		t.Fatalf("publish %s: %v", p.Topic, err)
	}
}

// next returns the next message whose topic has the prefix.
func (c *mqtt5) next(t *testing.T, prefix string) *paho.Publish {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			if strings.HasPrefix(m.Topic, prefix) {
				return m
			}
		case <-deadline:
			t.Fatalf("no message on %s… within 5 s", prefix)
		}
	}
}

func (c *mqtt5) none(t *testing.T, prefix string, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m := <-c.msgs:
			if strings.HasPrefix(m.Topic, prefix) {
				t.Fatalf("unexpected %s %q (cid %v)", m.Topic, m.Payload, prop(m, "cid"))
			}
		case <-deadline:
			return
		}
	}
}

func prop(m *paho.Publish, key string) string {
	if m.Properties != nil {
		return m.Properties.User.Get(key)
	}
	return ""
}

// accountsForMQTT makes subaccounts A (with its own subaccount A1) and B,
// a token for each, and returns their cids and keys.
func accountsForMQTT(t *testing.T, g *gateway) (cids [3]int64, keys [3]string) {
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "A"}, {"name": "B"}})
	accts := results(t, out)
	cids[0], cids[2] = int64(accts[0]["id"].(float64)), int64(accts[1]["id"].(float64))
	status, out := restAs(t, g, master, cids[0], "POST", "/platform/subaccounts", []map[string]any{{"name": "A1"}})
	if status != 200 {
		t.Fatalf("A1: %d %v", status, out)
	}
	cids[1] = int64(results(t, out)[0]["id"].(float64))
	for i, cid := range cids {
		_, out := restAs(t, g, master, cid, "POST", "/platform/tokens", []map[string]any{{"info": "t"}})
		keys[i] = results(t, out)[0]["key"].(string)
	}
	return cids, keys
}

// Every message on the broker carries the cid of its publisher's account,
// which clients cannot forge; $filter/cid=… and $filter/message=cid==…
// select on it; a SUBSCRIBE's "cid" user property selects a subaccount's
// space for a token that may act there (the root's, a parent's), and
// every refused attempt is counted.
func TestAccountCIDOverMQTT(t *testing.T) {
	g := start(t, testConfig(t))
	cids, keys := accountsForMQTT(t, g)
	a, a1, b := cids[0], cids[1], cids[2]
	cA, cA1, cB, root := dialMQTT5(t, g, keys[0], "a"), dialMQTT5(t, g, keys[1], "a1"), dialMQTT5(t, g, keys[2], "b"), dialMQTT5(t, g, master, "root")

	// A client's own publish, within its account, carries its cid.
	cA.subscribe(t, "sensors/#", 0)
	cA.publish(t, &paho.Publish{Topic: "sensors/1", Payload: []byte("a"),
		Properties: &paho.PublishProperties{User: paho.UserProperties{{Key: "cid", Value: fmt.Sprint(b)}}}})
	if m := cA.next(t, "sensors/"); prop(m, "cid") != fmt.Sprint(a) || prop(m, "timestamp") == "" {
		t.Fatalf("A's own message: cid %q (forged %d), timestamp %q", prop(m, "cid"), b, prop(m, "timestamp"))
	}

	// The root selects A's space with the SUBSCRIBE property, and filters on cid.
	if code := root.subscribe(t, "sensors/#", a); code != 1 {
		t.Fatalf("the root subscribing in A: 0x%02x", code)
	}
	root.subscribe(t, fmt.Sprintf("$filter/cid=%d/sensors/#", a1), 0) // flespi's other way to select a space
	root.subscribe(t, fmt.Sprintf("$filter/message=cid%%3D%%3D%d%%26%%26payload%%3D%%3D%%22b2%%22/$accounts/+/sensors/#", b), 0)
	cA.publish(t, &paho.Publish{Topic: "sensors/2", Payload: []byte("a2")})
	if m := root.next(t, "sensors/"); m.Topic != "sensors/2" || prop(m, "cid") != fmt.Sprint(a) {
		t.Fatalf("the root in A's space got %s with cid %q", m.Topic, prop(m, "cid"))
	}
	cA1.publish(t, &paho.Publish{Topic: "sensors/3", Payload: []byte("a1")})
	if m := root.next(t, "sensors/3"); m.Topic != "sensors/3" || prop(m, "cid") != fmt.Sprint(a1) {
		t.Fatalf("$filter/cid=%d got %s with cid %q", a1, m.Topic, prop(m, "cid"))
	}
	cB.publish(t, &paho.Publish{Topic: "sensors/4", Payload: []byte("b1")})
	cB.publish(t, &paho.Publish{Topic: "sensors/4", Payload: []byte("b2")})
	if m := root.next(t, "$accounts/"); string(m.Payload) != "b2" || prop(m, "cid") != fmt.Sprint(b) {
		t.Fatalf("$filter/message=cid==%d&&payload==\"b2\" got %q with cid %q", b, m.Payload, prop(m, "cid"))
	}
	root.none(t, "", 200*time.Millisecond)

	// A parent's token subscribes across its subaccount; it cannot select
	// a sibling, its parent or an account that does not exist, nor can a
	// subaccount reach its parent through the property or a "$accounts" filter.
	if code := cA.subscribe(t, "sensors/#", a1); code != 1 {
		t.Fatalf("A subscribing in A1: 0x%02x", code)
	}
	cA1.publish(t, &paho.Publish{Topic: "sensors/5", Payload: []byte("a1 again")})
	if m := cA.next(t, "sensors/5"); m.Topic != "sensors/5" || prop(m, "cid") != fmt.Sprint(a1) {
		t.Fatalf("A in A1's space got %s with cid %q", m.Topic, prop(m, "cid"))
	}
	before := g.refusals(t)
	for _, try := range []struct {
		c   *mqtt5
		cid int64
	}{{cA, b}, {cA, 1}, {cA, 9999}, {cA1, a}, {cB, a}} {
		if code := try.c.subscribe(t, "#", try.cid); code != 0x87 {
			t.Errorf("selecting account %d: 0x%02x, want 0x87", try.cid, code)
		}
	}
	if code := cB.subscribe(t, fmt.Sprintf("$accounts/%d/#", a), 0); code != 0x87 {
		t.Errorf("B subscribing to A's $accounts space: 0x%02x, want 0x87", code)
	}
	if code := cB.subscribe(t, fmt.Sprintf("$share/g/$filter/cid=%d/#", a), 0); code != 0x87 {
		t.Errorf("B subscribing with $filter/cid=%d: 0x%02x, want 0x87", a, code)
	}
	after := g.refusals(t)
	if after[node.RefusedSpace]-before[node.RefusedSpace] != 6 || after[node.RefusedTopic]-before[node.RefusedTopic] != 1 {
		t.Errorf("refusals counted: before %v, after %v", before, after)
	}
	cB.publish(t, &paho.Publish{Topic: "sensors/6", Payload: []byte("b3")})
	cA.none(t, "sensors/", 200*time.Millisecond)
	cA1.none(t, "sensors/", 0)
}

// refusals reads the node's counts of refused attempts.
func (g *gateway) refusals(t *testing.T) map[string]int64 {
	s, err := g.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Refusals
}

// REST over MQTT: the answer goes to the response topic with http_code
// and the cid of its space, back to the request's topic for MQTT 3.1.1,
// into a subaccount's space with response_cid (where the token may act),
// and in pieces with response_chunked.
func TestRESTOverMQTTAccounts(t *testing.T) {
	g := start(t, testConfig(t))
	cids, keys := accountsForMQTT(t, g)
	a, b := cids[0], cids[2]
	restCall(t, g.http, keys[0], "POST", "/gw/devices", []map[string]any{{"name": "a-dev", "configuration": map[string]any{"ident": "ident-a"}}})
	cA, cB, root := dialMQTT5(t, g, keys[0], "a"), dialMQTT5(t, g, keys[2], "b"), dialMQTT5(t, g, master, "root")
	for _, c := range []*mqtt5{cA, cB, root} {
		c.subscribe(t, "answers", 0)
	}

	root.publish(t, &paho.Publish{Topic: "flespi/rest/get/gw/devices/all", Properties: &paho.PublishProperties{ResponseTopic: "answers",
		CorrelationData: []byte("q1"), User: paho.UserProperties{{Key: "response_cid", Value: fmt.Sprint(a)}}}})
	m := cA.next(t, "answers")
	if prop(m, "http_code") != "200" || prop(m, "cid") != fmt.Sprint(a) || string(m.Properties.CorrelationData) != "q1" || !strings.Contains(string(m.Payload), "ident-a") {
		t.Fatalf("the root's answer in A: http_code %q cid %q corr %q %s", prop(m, "http_code"), prop(m, "cid"), m.Properties.CorrelationData, m.Payload)
	}
	root.none(t, "answers", 100*time.Millisecond)

	// B cannot send an answer into A; the refusal comes back to B, counted.
	before := g.refusals(t)
	cB.publish(t, &paho.Publish{Topic: "flespi/rest/get/gw/devices/all", Properties: &paho.PublishProperties{ResponseTopic: "answers",
		User: paho.UserProperties{{Key: "response_cid", Value: fmt.Sprint(a)}}}})
	if m := cB.next(t, "answers"); prop(m, "http_code") != "403" || prop(m, "cid") != fmt.Sprint(b) {
		t.Fatalf("B answering into A: http_code %q cid %q %s", prop(m, "http_code"), prop(m, "cid"), m.Payload)
	}
	cA.none(t, "answers", 100*time.Millisecond)
	if after := g.refusals(t); after[rest.RefusedAccount]-before[rest.RefusedAccount] != 1 {
		t.Errorf("refusals: before %v, after %v", before, after)
	}

	// MQTT 3.1.1: the answer comes back on the request's topic.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	old, _, err := mqtt311.Dial(ctx, g.Addrs().MQTT, mqtt311.Options{ClientID: "old", Username: keys[0]})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if _, err := old.Subscribe(ctx, mqtt311.Subscription{Filter: "flespi/rest/#", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if err := old.Publish(ctx, "flespi/rest/get/gw/devices/all", nil, 1, false); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-old.Messages():
		if m.Topic != "flespi/rest/get/gw/devices/all" || !strings.Contains(string(m.Payload), "ident-a") {
			t.Fatalf("3.1.1 answer %s %s", m.Topic, m.Payload)
		}
	case <-ctx.Done():
		t.Fatal("no answer for the MQTT 3.1.1 client")
	}

	// A large answer in pieces: enough devices for more than 64 KiB.
	devs := make([]map[string]any, 600)
	for i := range devs {
		devs[i] = map[string]any{"name": fmt.Sprintf("bulk device number %d with a long name", i),
			"configuration": map[string]any{"ident": fmt.Sprintf("bulk-%06d", i)}, "metadata": map[string]any{"note": strings.Repeat("x", 64)}}
	}
	if status, out := restCall(t, g.http, master, "POST", "/gw/devices", devs); status != 200 {
		t.Fatalf("bulk devices: %d %v", status, out)
	}
	root.publish(t, &paho.Publish{Topic: "flespi/rest/get/gw/devices/all", Properties: &paho.PublishProperties{ResponseTopic: "answers",
		User: paho.UserProperties{{Key: "response_chunked", Value: "true"}}}})
	var body []byte
	for n := 1; ; n++ {
		m := root.next(t, "answers")
		body = append(body, m.Payload...)
		if code := prop(m, "http_code"); code != "" {
			if code != "200" || n < 2 || !json.Valid(body) || !strings.Contains(string(body), "bulk-000599") {
				t.Fatalf("chunked answer: %d pieces, http_code %q, %d bytes ending %q", n, code, len(body), body[max(0, len(body)-40):])
			}
			break
		}
	}
}

// Subscriptions the broker admits in the client's own space but which
// ask for another account see nothing, and are counted as probes: a
// $filter/message on another account's cid, a platform topic naming its
// device or the account itself (a guessed cid too). Filters that stay
// within what the token may see — wildcards, its own cid, its
// subaccount's — are not probes.
func TestAccountProbesOverMQTT(t *testing.T) {
	g := start(t, testConfig(t))
	cids, keys := accountsForMQTT(t, g)
	a, a1, b := cids[0], cids[1], cids[2]
	_, out := restCall(t, g.http, keys[0], "POST", "/gw/devices", []map[string]any{{"name": "a-dev", "configuration": map[string]any{"ident": "ident-a"}}})
	devA := int64(results(t, out)[0]["id"].(float64))
	cA, cB := dialMQTT5(t, g, keys[0], "a"), dialMQTT5(t, g, keys[2], "b")

	before := g.refusals(t)
	for _, f := range []string{"#", "+/#", "$share/g/#", "flespi/state/gw/devices/+/#", "flespi/state/gw/devices/999999/#",
		fmt.Sprintf("$filter/message=cid%%3D%%3D%d/#", b), fmt.Sprintf("flespi/log/gw/accounts/%d/+", b)} {
		if code := cB.subscribe(t, f, 0); code != 1 {
			t.Fatalf("B subscribing %s: 0x%02x", f, code)
		}
	}
	for _, f := range []string{fmt.Sprintf("$filter/message=cid%%3D%%3D%d%%26%%26x%%3E1/#", a1), fmt.Sprintf("flespi/log/gw/accounts/%d/+", a1)} {
		if code := cA.subscribe(t, f, 0); code != 1 {
			t.Fatalf("A subscribing %s: 0x%02x", f, code)
		}
	}
	if after := g.refusals(t); after[node.RefusedProbe] != before[node.RefusedProbe] {
		t.Fatalf("filters within the token's accounts counted as probes: before %v, after %v", before, after)
	}
	probes := []string{
		fmt.Sprintf("$filter/message=cid%%3D%%3D%d/#", a),
		fmt.Sprintf("$filter/message=payload%%3D%%3D%%22x%%22%%26%%26%d%%3D%%3Dcid/sensors/#", a),
		fmt.Sprintf("flespi/state/gw/devices/%d/#", devA),
		fmt.Sprintf("$share/g/flespi/message/gw/devices/1,%d", devA),
		fmt.Sprintf("flespi/log/gw/accounts/%d/+", a),
		"flespi/log/gw/accounts/999999/+",
	}
	for _, f := range probes {
		if code := cB.subscribe(t, f, 0); code != 1 {
			t.Fatalf("B subscribing %s: 0x%02x (admitted, to see nothing)", f, code)
		}
	}
	after := g.refusals(t)
	if after[node.RefusedProbe]-before[node.RefusedProbe] != int64(len(probes)) ||
		after[node.RefusedTopic] != before[node.RefusedTopic] || after[node.RefusedSpace] != before[node.RefusedSpace] {
		t.Errorf("probes counted: before %v, after %v, want %d more %s", before, after, len(probes), node.RefusedProbe)
	}
	// A spec that selects A's space is refused and counted once, as such.
	if code := cB.subscribe(t, fmt.Sprintf("$filter/cid=%d&message=cid%%3D%%3D%d/#", a, a), 0); code != 0x87 {
		t.Errorf("B selecting A's space: 0x%02x, want 0x87", code)
	}
	if final := g.refusals(t); final[node.RefusedSpace]-after[node.RefusedSpace] != 1 || final[node.RefusedProbe] != after[node.RefusedProbe] {
		t.Errorf("selecting A's space counted: before %v, after %v, want one more %s", after, final, node.RefusedSpace)
	}
	// They see nothing of A's.
	if status, out := restCall(t, g.http, keys[0], "POST", fmt.Sprintf("/gw/devices/%d/messages", devA), []map[string]any{{"x": 1}}); status != 200 {
		t.Fatalf("posting a message: %d %v", status, out)
	}
	cA.publish(t, &paho.Publish{Topic: "sensors/1", Payload: []byte(`"x"`)})
	cB.none(t, "", 300*time.Millisecond)
}
