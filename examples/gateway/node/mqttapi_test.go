package node_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
	"github.com/gnssgate/gnssgate/internal/testenv"
)

// dial311 connects an MQTT 3.1.1 client to the gateway's broker.
func dial311(t *testing.T, g *gateway, token, id string, persistent bool) (*mqtt311.Client, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, present, err := mqtt311.Dial(ctx, g.Addrs().MQTT, mqtt311.Options{ClientID: id, Username: token, Persistent: persistent})
	if err != nil {
		t.Fatalf("MQTT client %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, present
}

func next311(t *testing.T, c *mqtt311.Client) mqtt311.Message {
	t.Helper()
	select {
	case m := <-c.Messages():
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no MQTT message within 10 s")
	}
	return mqtt311.Message{}
}

// topicsOf lists the "topic" of each result.
func topicsOf(t *testing.T, out map[string]any) []string {
	t.Helper()
	var topics []string
	for _, r := range results(t, out) {
		topics = append(topics, r["topic"].(string))
	}
	return topics
}

func mustREST(t *testing.T, g *gateway, token, method, path string, body any) map[string]any {
	t.Helper()
	status, out := restCall(t, g.http, token, method, path, body)
	if status != 200 {
		t.Fatalf("%s %s: %d %v", method, path, status, out)
	}
	return out
}

// The broker over REST, end to end with real MQTT clients: a persistent
// session subscribed while offline gets what was published meanwhile when
// it reconnects; DELETE ends a connected client's session; a REST publish
// reaches an MQTT 5 subscriber with its user properties.
func TestMQTTSessionsOverREST(t *testing.T) {
	g := start(t, testConfig(t))
	ctx := context.Background()

	car, _ := dial311(t, g, master, "car", true)
	car.Disconnect()
	waitFor(t, "the car's session to be offline", func() bool {
		out := mustREST(t, g, master, "GET", "/mqtt/sessions/car", nil)
		r := results(t, out)
		return len(r) == 1 && r[0]["connected"] == false
	})
	s := results(t, mustREST(t, g, master, "GET", "/mqtt/sessions/car", nil))[0]
	if s["client_id"] != "car" || s["clean"] != false || s["expiry_interval"].(float64) <= 0 || s["cid"].(float64) != 1 {
		t.Fatalf("offline session %v", s)
	}

	// Subscribed while offline, through REST, and a message published
	// through REST meanwhile.
	out := mustREST(t, g, master, "POST", "/mqtt/sessions/car/subscriptions", []map[string]any{{"topic": "cmd/#", "qos": 1}})
	if r := results(t, out); len(r) != 1 || r[0]["client_id"] != "car" || r[0]["topic"] != "cmd/#" {
		t.Fatalf("subscribe answer %v", out)
	}
	mustREST(t, g, master, "POST", "/mqtt/messages", map[string]any{"topic": "cmd/1", "payload": "go", "qos": 1})
	s = results(t, mustREST(t, g, master, "GET", "/mqtt/sessions/car?fields=messages_count,subscriptions", nil))[0]
	if s["messages_count"].(float64) != 1 || len(s["subscriptions"].([]any)) != 1 || s["client_id"] != nil {
		t.Fatalf("session after the offline subscription %v", s)
	}
	car, present := dial311(t, g, master, "car", true)
	if !present {
		t.Fatal("the session was not kept")
	}
	if m := next311(t, car); m.Topic != "cmd/1" || string(m.Payload) != "go" {
		t.Fatalf("the car got %s %q", m.Topic, m.Payload)
	}

	// Subscriptions listed and removed by a subscription selector.
	mustREST(t, g, master, "POST", "/mqtt/sessions/car/subscriptions", map[string]any{"topic": "info/+"})
	if got := topicsOf(t, mustREST(t, g, master, "GET", "/mqtt/sessions/car/subscriptions", nil)); !slices.Equal(got, []string{"cmd/#", "info/+"}) {
		t.Fatalf("subscriptions %v", got)
	}
	if got := topicsOf(t, mustREST(t, g, master, "DELETE", "/mqtt/sessions/car/subscriptions/topic=info*", nil)); !slices.Equal(got, []string{"info/+"}) {
		t.Fatalf("unsubscribed %v", got)
	}
	if got := topicsOf(t, mustREST(t, g, master, "GET", "/mqtt/sessions/all/subscriptions", nil)); !slices.Equal(got, []string{"cmd/#"}) {
		t.Fatalf("subscriptions left %v", got)
	}

	// DELETE ends the connected client's session.
	dial311(t, g, master, "bystander", false)
	out = mustREST(t, g, master, "DELETE", "/mqtt/sessions/client_id=car", nil)
	if r := results(t, out); len(r) != 1 || r[0]["id"] != "car" {
		t.Fatalf("DELETE answer %v", out)
	}
	select {
	case <-car.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the client is still connected")
	}
	if r := results(t, mustREST(t, g, master, "GET", "/mqtt/sessions/car", nil)); len(r) != 0 {
		t.Fatalf("the session is still there: %v", r)
	}
	if _, present := dial311(t, g, master, "car", true); present {
		t.Fatal("a new connection found the ended session")
	}
	if r := results(t, mustREST(t, g, master, "GET", "/mqtt/sessions/{connected==true}?fields=client_id", nil)); len(r) != 2 {
		t.Fatalf("connected sessions %v, want car and bystander", r)
	}
	// client_id in a subscription picks one session of the selection.
	out = mustREST(t, g, master, "POST", "/mqtt/sessions/all/subscriptions", []map[string]any{{"topic": "only/me", "client_id": "bystander"}})
	if r := results(t, out); len(r) != 1 || r[0]["client_id"] != "bystander" {
		t.Fatalf("a subscription for one session went to %v", r)
	}

	// A REST publish reaches an MQTT 5 subscriber with its user properties;
	// a JSON payload is sent as its text.
	var news collector
	sub := mqttClient(t, g, master, "listener")
	if _, err := sub.Subscribe(ctx, "news/#", news.handler()); err != nil {
		t.Fatal(err)
	}
	out = mustREST(t, g, master, "POST", "/mqtt/messages", []map[string]any{{"topic": "news/1", "payload": map[string]any{"speed": 42},
		"qos": 1, "user_properties": map[string]string{"source": "rest", "fleet": "7"}, "content_type": "application/json"}})
	if r := results(t, out); len(r) != 1 || r[0]["topic"] != "news/1" {
		t.Fatalf("publish answer %v", out)
	}
	waitFor(t, "the REST publish at the subscriber", func() bool { return len(news.messages()) > 0 })
	m := news.messages()[0]
	src, _ := m.Properties.UserProperty("source")
	fleet, _ := m.Properties.UserProperty("fleet")
	if m.Topic != "news/1" || string(m.Payload) != `{"speed":42}` || src != "rest" || fleet != "7" || m.Properties.ContentType != "application/json" {
		t.Fatalf("the subscriber got %+v", m)
	}

	// Bad input.
	for _, c := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/mqtt/messages", map[string]any{"topic": "a/+", "payload": "x"}, 400},
		{"POST", "/mqtt/messages", map[string]any{"topic": "a", "qos": 3}, 400},
		{"POST", "/mqtt/messages", map[string]any{"topic": "a", "payload": "x", "payload_base64": "eA=="}, 400},
		{"POST", "/mqtt/messages", map[string]any{"topic": "a", "colour": "red"}, 400},
		{"POST", "/mqtt/messages", map[string]any{"topic": "flespi/state/gw/devices/1/telemetry/x", "payload": "1"}, 403},
		{"POST", "/mqtt/sessions/nobody/subscriptions", map[string]any{"topic": "a"}, 200}, // selects no session
		{"POST", "/mqtt/sessions/all/subscriptions", map[string]any{"topic": "a/#/b"}, 400},
		{"GET", "/mqtt/messages/a/%23/b", nil, 400},
		{"GET", "/mqtt/messages", nil, 405},
		{"POST", "/mqtt/sessions", nil, 405},
	} {
		if status, out := restCall(t, g.http, master, c.method, c.path, c.body); status != c.want {
			t.Errorf("%s %s %v: %d %v, want %d", c.method, c.path, c.body, status, out, c.want)
		}
	}
}

// Retained messages over REST, selected with '+' and '#'; DELETE leaves
// the gateway's own flespi/ state alone.
func TestMQTTRetainedOverREST(t *testing.T) {
	g := start(t, testConfig(t))
	for _, topic := range []string{"a/1", "a/2", "a/2/deep", "b/1"} {
		mustREST(t, g, master, "POST", "/mqtt/messages", map[string]any{"topic": topic, "payload": "v" + topic, "qos": 1, "retained": true,
			"user_properties": map[string]string{"k": topic}})
	}
	mustREST(t, g, master, "POST", "/mqtt/messages", map[string]any{"topic": "bin", "payload_base64": "AP8=", "retained": true})
	platform := func() []string {
		var out []string
		for _, topic := range topicsOf(t, mustREST(t, g, master, "GET", "/mqtt/messages/flespi/%23", nil)) {
			out = append(out, topic)
		}
		return out
	}
	before := platform()
	if len(before) == 0 {
		t.Fatal("the gateway retained no platform state to keep")
	}
	for path, want := range map[string][]string{
		"/mqtt/messages/a/+":                      {"a/1", "a/2"},
		"/mqtt/messages/a/%23":                    {"a/1", "a/2", "a/2/deep"},
		"/mqtt/messages/+/1":                      {"a/1", "b/1"},
		"/mqtt/messages/b/1":                      {"b/1"},
		"/mqtt/messages/a/1?fields=topic&limit=1": {"a/1"},
	} {
		if got := topicsOf(t, mustREST(t, g, master, "GET", path, nil)); !slices.Equal(got, want) {
			t.Errorf("GET %s: %v, want %v", path, got, want)
		}
	}
	r := results(t, mustREST(t, g, master, "GET", "/mqtt/messages/a/1", nil))[0]
	if r["payload"] != "va/1" || r["qos"].(float64) != 1 || r["retained"] != true || r["created"].(float64) <= 0 ||
		r["user_properties"].(map[string]any)["k"] != "a/1" {
		t.Fatalf("retained a/1: %v", r)
	}
	if r := results(t, mustREST(t, g, master, "GET", "/mqtt/messages/bin", nil))[0]; r["payload_base64"] != "AP8=" || r["payload"] != nil {
		t.Fatalf("binary retained payload %v", r)
	}

	if got := topicsOf(t, mustREST(t, g, master, "DELETE", "/mqtt/messages/a/%23", nil)); !slices.Equal(got, []string{"a/1", "a/2", "a/2/deep"}) {
		t.Fatalf("deleted %v", got)
	}
	if got := topicsOf(t, mustREST(t, g, master, "GET", "/mqtt/messages/+/%23", nil)); slices.Contains(got, "a/1") || !slices.Contains(got, "b/1") {
		t.Fatalf("after deleting a/#: %v", got)
	}
	// A new MQTT subscriber gets no deleted message.
	c, _ := dial311(t, g, master, "late", false)
	if _, err := c.Subscribe(context.Background(), mqtt311.Subscription{Filter: "a/#", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-c.Messages():
		t.Fatalf("a deleted retained message came back: %s", m.Topic)
	case <-time.After(200 * time.Millisecond):
	}
	// DELETE all removes the rest, not the platform's state.
	if got := topicsOf(t, mustREST(t, g, master, "DELETE", "/mqtt/messages/all", nil)); !slices.Equal(got, []string{"b/1", "bin"}) {
		t.Fatalf("DELETE all deleted %v", got)
	}
	if after := platform(); !slices.Equal(after, before) {
		t.Fatalf("platform state before %v, after %v", before, after)
	}
}

// A token's ACL: its REST rules admit the /mqtt calls, and its MQTT topic
// filters the topics, as for one of its MQTT clients.
func TestMQTTOverRESTACL(t *testing.T) {
	g := start(t, testConfig(t))
	token := func(acl map[string]any) string {
		out := mustREST(t, g, master, "POST", "/platform/tokens", []map[string]any{{"info": "acl", "acl": acl}})
		return results(t, out)[0]["key"].(string)
	}
	limited := token(map[string]any{"rest": []map[string]any{{"uri": "mqtt/*"}},
		"publish": []string{"allowed/#"}, "subscribe": []string{"allowed/#", "read-only/#"}})
	noMQTT := token(map[string]any{"rest": []map[string]any{{"uri": "gw/*"}}})
	mustREST(t, g, master, "POST", "/mqtt/messages", map[string]any{"topic": "read-only/1", "payload": "r", "retained": true})
	dial311(t, g, master, "someone", true)

	for _, c := range []struct {
		token, method, path string
		body                any
		want                int
	}{
		{limited, "POST", "/mqtt/messages", map[string]any{"topic": "allowed/x", "payload": "1"}, 200},
		{limited, "POST", "/mqtt/messages", map[string]any{"topic": "other/x", "payload": "1"}, 403},
		{limited, "GET", "/mqtt/messages/allowed/%23", nil, 200},
		{limited, "GET", "/mqtt/messages/read-only/1", nil, 200},
		{limited, "GET", "/mqtt/messages/%23", nil, 403},
		{limited, "GET", "/mqtt/messages/all", nil, 403},
		{limited, "DELETE", "/mqtt/messages/read-only/%23", nil, 403}, // subscribe only: may not delete
		{limited, "DELETE", "/mqtt/messages/allowed/%23", nil, 200},
		{limited, "POST", "/mqtt/sessions/someone/subscriptions", map[string]any{"topic": "other/#"}, 403},
		{limited, "POST", "/mqtt/sessions/someone/subscriptions", map[string]any{"topic": "$share/g/allowed/+"}, 200},
		{limited, "GET", "/mqtt/sessions/all", nil, 200},
		{noMQTT, "GET", "/mqtt/sessions/all", nil, 403},
		{noMQTT, "DELETE", "/mqtt/sessions/all", nil, 403},
		{noMQTT, "POST", "/mqtt/messages", map[string]any{"topic": "x", "payload": "1"}, 403},
		{master, "GET", "/mqtt/messages/$accounts/%23", nil, 403}, // "#" does not reach '$' topics
		{"", "GET", "/mqtt/sessions/all", nil, 401},
	} {
		if status, out := restCall(t, g.http, c.token, c.method, c.path, c.body); status != c.want {
			t.Errorf("%s %s %v: %d %v, want %d", c.method, c.path, c.body, status, out, c.want)
		}
	}
	if r := results(t, mustREST(t, g, master, "GET", "/mqtt/messages/read-only/1", nil)); len(r) != 1 {
		t.Fatal("a refused DELETE deleted")
	}
}

// Accounts: a token of account A sees, ends and reads only A's sessions
// and retained messages, even with the same client ids and topics as B's,
// through REST and through REST over MQTT.
func TestMQTTOverRESTAccounts(t *testing.T) {
	g := start(t, testConfig(t))
	_, out := g.rest("POST", "/platform/subaccounts", []map[string]any{{"name": "A"}, {"name": "B"}})
	accts := results(t, out)
	a, b := int64(accts[0]["id"].(float64)), int64(accts[1]["id"].(float64))
	key := func(cid int64) string {
		_, out := restAs(t, g, master, cid, "POST", "/platform/tokens", []map[string]any{{"info": "t"}})
		return results(t, out)[0]["key"].(string)
	}
	keyA, keyB := key(a), key(b)
	cA, _ := dial311(t, g, keyA, "same", true)
	cB, _ := dial311(t, g, keyB, "same", true)
	for k, payload := range map[string]string{keyA: "A", keyB: "B"} {
		mustREST(t, g, k, "POST", "/mqtt/messages", map[string]any{"topic": "secret/1", "payload": payload, "retained": true})
	}

	sessions := func(token string, cid int64, path string) []map[string]any {
		t.Helper()
		status, out := restAs(t, g, token, cid, "GET", path, nil)
		if status != 200 {
			t.Fatalf("GET %s as %d: %d %v", path, cid, status, out)
		}
		return results(t, out)
	}
	if r := sessions(keyA, 0, "/mqtt/sessions/all"); len(r) != 1 || r[0]["client_id"] != "same" || r[0]["cid"].(float64) != float64(a) {
		t.Fatalf("A's sessions %v", r)
	}
	if r := sessions(master, 0, "/mqtt/sessions/same"); len(r) != 0 {
		t.Fatalf("the root account sees subaccounts' sessions in its own space: %v", r)
	}
	if r := sessions(master, b, "/mqtt/sessions/same"); len(r) != 1 || r[0]["cid"].(float64) != float64(b) {
		t.Fatalf("master acting in B: %v", r)
	}
	r := results(t, mustREST(t, g, keyA, "GET", "/mqtt/messages/%23", nil))
	if len(r) != 1 || r[0]["topic"] != "secret/1" || r[0]["payload"] != "A" {
		t.Fatalf("A reads retained %v", r)
	}
	for _, c := range []struct {
		method, path string
		cid          int64
		want         int
	}{
		{"GET", "/mqtt/sessions/all", b, 403},
		{"DELETE", "/mqtt/sessions/all", b, 403},
		{"GET", "/mqtt/messages/%23", b, 403},
		{"GET", fmt.Sprintf("/mqtt/messages/$accounts/%d/%%23", b), 0, 403},
		{"GET", "/mqtt/messages/%24accounts/%2B/secret/1", 0, 403},
	} {
		if status, out := restAs(t, g, keyA, c.cid, c.method, c.path, nil); status != c.want {
			t.Errorf("A: %s %s in %d: %d %v, want %d", c.method, c.path, c.cid, status, out, c.want)
		}
	}

	// A subscribes and ends "same": its own, never B's.
	mustREST(t, g, keyA, "POST", "/mqtt/sessions/all/subscriptions", map[string]any{"topic": "orders/#", "qos": 1})
	if r := sessions(keyB, 0, "/mqtt/sessions/same")[0]; len(r["subscriptions"].([]any)) != 0 {
		t.Fatalf("A's subscribe reached B's session: %v", r)
	}
	mustREST(t, g, keyB, "POST", "/mqtt/messages", map[string]any{"topic": "orders/1", "payload": "B's order", "qos": 1})
	mustREST(t, g, keyA, "POST", "/mqtt/messages", map[string]any{"topic": "orders/1", "payload": "A's order", "qos": 1})
	if m := next311(t, cA); string(m.Payload) != "A's order" {
		t.Fatalf("A's client got %q", m.Payload)
	}
	if r := results(t, mustREST(t, g, keyA, "DELETE", "/mqtt/sessions/all", nil)); len(r) != 1 {
		t.Fatalf("A ended %v", r)
	}
	select {
	case <-cA.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("A's client is still connected")
	}
	select {
	case <-cB.Done():
		t.Fatal("A's DELETE disconnected B's client")
	case <-time.After(200 * time.Millisecond):
	}
	if r := sessions(keyB, 0, "/mqtt/sessions/same"); len(r) != 1 || r[0]["connected"] != true {
		t.Fatalf("B's session after A's DELETE: %v", r)
	}
	// DELETE of every retained message of A leaves B's.
	mustREST(t, g, keyA, "DELETE", "/mqtt/messages/all", nil)
	if r := results(t, mustREST(t, g, keyB, "GET", "/mqtt/messages/secret/1", nil)); len(r) != 1 || r[0]["payload"] != "B" {
		t.Fatalf("B's retained message after A's DELETE: %v", r)
	}

	// REST over MQTT reaches the same API: B's client lists B's sessions.
	var answers collector
	cB5 := mqttClient(t, g, keyB, "rest-client")
	if _, err := cB5.Subscribe(context.Background(), "answers/#", answers.handler()); err != nil {
		t.Fatal(err)
	}
	if err := cB5.Publish(context.Background(), broker.Message{Topic: "flespi/rest/get/mqtt/sessions/all", QoS: 1,
		Properties: broker.Properties{ResponseTopic: "answers/1"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the REST-over-MQTT answer", func() bool { return len(answers.messages()) > 0 })
	ans := answers.messages()[0]
	code, _ := ans.Properties.UserProperty("http_code")
	if code != "200" || !strings.Contains(string(ans.Payload), `"client_id":"same"`) || !strings.Contains(string(ans.Payload), `"client_id":"rest-client"`) ||
		strings.Contains(string(ans.Payload), fmt.Sprintf(`"cid":%d`, a)) {
		t.Fatalf("REST over MQTT: %s %s", code, ans.Payload)
	}
	// … and a retained filter with a wildcard, percent-encoded in the topic.
	if err := cB5.Publish(context.Background(), broker.Message{Topic: "flespi/rest/get/mqtt/messages/secret/%2B", QoS: 1,
		Properties: broker.Properties{ResponseTopic: "answers/2"}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second answer", func() bool { return len(answers.messages()) > 1 })
	if p := string(answers.messages()[1].Payload); !strings.Contains(p, `"payload":"B"`) || strings.Contains(p, `"payload":"A"`) {
		t.Fatalf("retained over REST over MQTT: %s", p)
	}
}

// With an external broker as the bus, publishing works and what only the
// embedded broker can do answers 501 with a reason.
func TestMQTTOverRESTExternalBroker(t *testing.T) {
	addr := testenv.MQTTAddr(t)
	bus, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + addr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	cfg := testConfig(t)
	cfg.Broker = bus
	g := start(t, cfg)

	topic := fmt.Sprintf("gnssgate-test/mqttrest/%d", time.Now().UnixNano())
	var got collector
	sub, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + addr, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Subscribe(context.Background(), topic, got.handler()); err != nil {
		t.Fatal(err)
	}
	mustREST(t, g, master, "POST", "/mqtt/messages", map[string]any{"topic": topic, "payload": "via REST", "qos": 1})
	waitFor(t, "the message on the external broker", func() bool { return len(got.messages()) > 0 })
	if p := string(got.messages()[0].Payload); p != "via REST" {
		t.Fatalf("got %q", p)
	}
	for _, path := range []string{"/mqtt/sessions/all", "/mqtt/messages/%23"} {
		status, out := restCall(t, g.http, master, "GET", path, nil)
		if status != 501 || !strings.Contains(fmt.Sprint(out), "external MQTT broker") {
			t.Errorf("GET %s: %d %v, want 501 naming the external broker", path, status, out)
		}
	}
}
