package node_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/httpsink"
)

const master = gwtest.Master

var quiet = gwtest.Quiet

// protocols are the tracker protocols the end-to-end tests run.
var protocols = []string{device.Teltonika, device.GT06, device.WialonIPS}

// gateway is a node running in the test on loopback ports (gwtest), with
// the shorthands these tests use.
type gateway struct {
	*gwtest.Gateway
	t    *testing.T
	http string
}

func testConfig(t *testing.T) node.Config { return gwtest.Config(t, protocols...) }

func start(t *testing.T, cfg node.Config) *gateway {
	t.Helper()
	g := gwtest.Start(t, cfg)
	return &gateway{Gateway: g, t: t, http: g.HTTP}
}

func (g *gateway) stop() { g.Stop() }

// channelAddr returns the TCP address of the channel named name.
func (g *gateway) channelAddr(name string) string {
	_, addr := g.Channel(name)
	return addr
}

// rest calls the API with the master token and decodes the answer.
func (g *gateway) rest(method, path string, body any) (int, map[string]any) {
	g.t.Helper()
	return g.REST(method, path, body)
}

func restCall(t *testing.T, addr, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return gwtest.REST(t, addr, token, nil, method, path, body)
}

func restCallHeader(t *testing.T, addr, token string, header map[string]string, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return gwtest.REST(t, addr, token, header, method, path, body)
}

func results(t *testing.T, out map[string]any) []map[string]any {
	t.Helper()
	return gwtest.Results(t, out)
}

// tracker is a simulated device sending positions along a track.
type tracker = gwtest.Tracker

func dial(t *testing.T, proto, addr string, n uint64) *tracker {
	t.Helper()
	return gwtest.MustDial(t, proto, addr, n)
}

// send sends tr's next position and returns its time once acknowledged.
func send(tr *tracker) (time.Time, error) {
	pt, err := tr.Next()
	return pt.Time, err
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	gwtest.WaitFor(t, what, cond)
}

// receiver is an HTTP stream target that keeps what it gets.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	ids map[string]int
	got []protocol.Message
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{ids: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msgs, err := protocol.UnmarshalMessages(body)
		ids, err2 := stream.ParseIDs(r.Header.Get(httpsink.IDHeader), 0)
		if err != nil || err2 != nil || len(ids) != len(msgs) {
			http.Error(w, "bad", 400)
			return
		}
		rc.mu.Lock()
		for i := range msgs {
			if rc.ids[ids[i]]++; rc.ids[ids[i]] == 1 {
				rc.got = append(rc.got, msgs[i])
			}
		}
		rc.mu.Unlock()
		w.WriteHeader(204)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) messages() []protocol.Message {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]protocol.Message(nil), rc.got...)
}

// TestEndToEnd: trackers of three protocols connect; every message reaches
// an MQTT subscriber of the platform topics, the REST history, the
// telemetry and an HTTP stream, and the device appears with its state.
func TestEndToEnd(t *testing.T) {
	g := start(t, testConfig(t))
	rc := newReceiver(t)

	// An MQTT client of the platform topics, over TCP with the token.
	sub, err := paho.New(context.Background(), paho.Config{Server: "mqtt://" + g.Addrs().MQTT, Username: master, ClientID: "e2e", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var mu sync.Mutex
	topics := map[string]int{}
	if _, err := sub.Subscribe(context.Background(), "flespi/message/gw/#", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		mu.Lock()
		topics[m.Topic]++
		mu.Unlock()
		return nil
	})); err != nil {
		t.Fatal(err)
	}

	// A stream of every channel to the HTTP receiver.
	var chIDs []int64
	for _, p := range protocols {
		id, _ := g.Registry.Channels.Lookup("name=" + p)
		chIDs = append(chIDs, id)
	}
	status, out := g.rest("POST", "/gw/streams", []map[string]any{{"name": "receiver", "protocol_name": "http",
		"configuration": map[string]any{"uri": rc.URL}, "channels": chIDs}})
	if status != 200 {
		t.Fatalf("POST /gw/streams: %d %v", status, out)
	}

	const each = 5
	sent := map[string]int{}
	for i, p := range protocols {
		tr := dial(t, p, g.channelAddr(p), uint64(i))
		for range each {
			if _, err := send(tr); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
		}
		sent[tr.Ident()] = each
	}
	total := each * len(protocols)

	positions := func(msgs []protocol.Message) int {
		n := 0
		for i := range msgs {
			if msgs[i].Has(protocol.ParamLatitude) {
				n++
			}
		}
		return n
	}
	waitFor(t, "the stream receiver", func() bool { return positions(rc.messages()) >= total })
	waitFor(t, "the MQTT subscriber", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for topic, c := range topics {
			if strings.HasPrefix(topic, "flespi/message/gw/channels/") {
				n += c
			}
		}
		return n >= total
	})
	_, out = g.rest("GET", "/gw/devices/all", nil)
	devs := results(t, out)
	if len(devs) != len(protocols) {
		t.Fatalf("%d devices registered, want %d: %v", len(devs), len(protocols), devs)
	}
	for _, d := range devs {
		ident := d["configuration"].(map[string]any)["ident"].(string)
		if sent[ident] == 0 {
			t.Fatalf("unexpected device %v", d)
		}
		if d["connected"] != true || d["last_active"].(float64) == 0 {
			t.Errorf("device state %v", d)
		}
		id := int64(d["id"].(float64))
		// Positions only: a GT06 login and heartbeats are messages too.
		filter := url.QueryEscape(`{"filter":"exists('position.latitude')"}`)
		var hist []map[string]any
		waitFor(t, "history of "+ident, func() bool {
			_, out := g.rest("GET", fmt.Sprintf("/gw/devices/%d/messages?data=%s", id, filter), nil)
			hist = results(t, out)
			return len(hist) >= each
		})
		if len(hist) != each {
			t.Errorf("history of %s (%s) holds %d positions, want %d: %v", ident, d["protocol_name"], len(hist), each, hist)
		}
		// Telemetry is written beside history, not before it: history may
		// show the positions a moment before telemetry has them.
		var tel map[string]any
		waitFor(t, "telemetry of "+ident, func() bool {
			_, out := g.rest("GET", fmt.Sprintf("/gw/devices/%d/telemetry/position.latitude,position.longitude", id), nil)
			tel = results(t, out)[0]["telemetry"].(map[string]any)
			return tel["position.latitude"] != nil
		})
		if lat, ok := tel["position.latitude"].(map[string]any); !ok || lat["value"].(float64) < 54 {
			t.Errorf("telemetry %v", tel)
		}
		// A message's device topic is published after its channel topic,
		// which is all the wait above waited for.
		waitFor(t, fmt.Sprintf("device topic of %d", id), func() bool {
			mu.Lock()
			defer mu.Unlock()
			return topics[fmt.Sprintf("flespi/message/gw/devices/%d", id)] >= each
		})
	}
	// Selectors from flespi's API basics.
	for sel, want := range map[string]int{
		"configuration.ident=3563070424*":           3,
		"protocol_name=teltonika":                   1,
		"{last_active > (now() - 86400)}":           3,
		"{exists(\"telemetry.position.latitude\")}": 3,
		"{distance(telemetry.position.latitude, telemetry.position.longitude, 54.6872, 25.2797) < 100}": 3,
	} {
		status, out := g.rest("GET", "/gw/devices/"+url.PathEscape(sel), nil)
		if status != 200 || len(results(t, out)) != want {
			t.Errorf("selector %s: %d %v, want %d devices", sel, status, out, want)
		}
	}
	// The stream's counters: every message of the log (logins and
	// heartbeats that are messages too) was read and accepted.
	_, out = g.rest("GET", "/gw/streams/all", nil)
	st := results(t, out)[0]
	c := st["counters"].(map[string]any)
	if got := len(rc.messages()); c["accepted"].(float64) != float64(got) || c["read"].(float64) != float64(got) {
		t.Errorf("stream counters %v, receiver holds %d", c, got)
	}
}

// Tokens: no token is 401, an ACL outside the call is 403, a token sees
// only its account's objects.
func TestAuth(t *testing.T) {
	g := start(t, testConfig(t))
	if status, _ := restCall(t, g.http, "", "GET", "/gw/devices/all", nil); status != 401 {
		t.Fatalf("no token: %d", status)
	}
	if status, _ := restCall(t, g.http, "wrong-token-0123456789", "GET", "/gw/devices/all", nil); status != 401 {
		t.Fatalf("wrong token: %d", status)
	}
	_, out := g.rest("POST", "/platform/tokens", []map[string]any{{"info": "reader",
		"acl": map[string]any{"rest": []map[string]any{{"uri": "gw/devices*", "methods": []string{"GET"}}}}}})
	key := results(t, out)[0]["key"].(string)
	if status, _ := restCall(t, g.http, key, "GET", "/gw/devices/all", nil); status != 200 {
		t.Fatalf("ACL GET: %d", status)
	}
	if status, _ := restCall(t, g.http, key, "POST", "/gw/devices", []map[string]any{{"configuration": map[string]any{"ident": "x1"}}}); status != 403 {
		t.Fatalf("ACL POST: %d", status)
	}
	if status, _ := restCall(t, g.http, key, "GET", "/gw/streams/all", nil); status != 403 {
		t.Fatalf("ACL outside its URIs: %d", status)
	}
	if status, _ := restCall(t, g.http, key, "POST", "/platform/tokens", []map[string]any{{"info": "escalate"}}); status != 403 {
		t.Fatalf("a limited token made a token: %d", status)
	}
	// The master's token list does not show secrets.
	_, out = g.rest("GET", "/platform/tokens/all", nil)
	for _, tok := range results(t, out) {
		if tok["key"] != nil || tok["hash"] != nil {
			t.Fatalf("token list shows a secret: %v", tok)
		}
	}
}

// Bad input gets a clear error with the right status.
func TestRESTErrors(t *testing.T) {
	g := start(t, testConfig(t))
	for _, c := range []struct {
		method, path string
		body         any
		status       int
		reason       string
	}{
		{"GET", "/gw/devices/{bad selector", nil, 400, "unterminated"},
		{"POST", "/gw/devices", []map[string]any{{"configuration": map[string]any{"ident": "a/b"}}}, 400, "configuration.ident"},
		{"POST", "/gw/devices", []map[string]any{{"nope": 1}}, 400, "unknown field"},
		{"POST", "/gw/streams", []map[string]any{{"name": "s", "protocol_name": "carrier-pigeon"}}, 400, "protocol_name"},
		{"POST", "/gw/streams", []map[string]any{{"name": "s", "protocol_name": "http", "configuration": map[string]any{"uri": "ftp://x"}}}, 400, "uri"},
		{"POST", "/gw/streams", []map[string]any{{"name": "s", "protocol_name": "http", "configuration": map[string]any{"uri": "http://x"}, "validate_message": "a &&"}}, 400, "validate_message"},
		{"GET", "/gw/nothing", nil, 404, "no such API"},
		{"DELETE", "/gw/channels/all/messages", nil, 405, "shared"},
		{"GET", "/gw/devices/all/messages?data=" + url.QueryEscape(`{"count":"x"}`), nil, 400, "count"},
	} {
		status, out := g.rest(c.method, c.path, c.body)
		b, _ := json.Marshal(out)
		if status != c.status || !strings.Contains(string(b), c.reason) {
			t.Errorf("%s %s: %d %s, want %d with %q", c.method, c.path, status, b, c.status, c.reason)
		}
	}
	// A taken ident is a conflict.
	g.rest("POST", "/gw/devices", []map[string]any{{"configuration": map[string]any{"ident": "dup"}}})
	if status, _ := g.rest("POST", "/gw/devices", []map[string]any{{"configuration": map[string]any{"ident": "dup"}}}); status != 409 {
		t.Errorf("duplicate ident: %d", status)
	}
}

// A TLS channel: a device that encrypts logs in and is acknowledged over a
// real TLS handshake; with a CA configured, a device without a client
// certificate is refused at the handshake.
func TestTLSChannel(t *testing.T) {
	ca := testcert.NewCA(t)
	srv, cli := ca.Server(), ca.Client("tracker")
	cfg := testConfig(t)
	cfg.Channels = []node.ChannelSpec{{Name: "teltonika-tls", Protocol: device.Teltonika, Origin: "config",
		TLS:    node.Listen{Addr: "127.0.0.1:0"},
		Config: registry.ChannelConfig{Certificate: tlsconf.Files{Cert: srv.CertFile, Key: srv.KeyFile, CA: ca.File}}}}
	g := start(t, cfg)
	id, _ := g.Registry.Channels.Lookup("name=teltonika-tls")
	addr := g.Addrs().Channels[id][2]

	s, _ := device.New(device.Teltonika, device.IMEI(35630704249999), device.Options{})
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{cli.TLS}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tr := &tracker{Conn: &device.Conn{Session: s, Conn: c}, Track: device.NewTrack(7, 1, device.Area{}, gwtest.TrackStart),
		When: gwtest.TrackStart}
	var p device.Packet
	s.Login(&p)
	if err := tr.Exchange(&p); err != nil {
		t.Fatalf("login over TLS: %v", err)
	}
	if _, err := send(tr); err != nil {
		t.Fatalf("record over TLS: %v", err)
	}
	waitFor(t, "the device", func() bool { _, ok := g.Registry.DeviceByIdent(s.Ident()); return ok })

	bare, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.Pool})
	if err == nil {
		bare.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = bare.Write([]byte{0x00, 0x0f})
		if err == nil {
			_, err = bare.Read(make([]byte, 1))
		}
		bare.Close()
	}
	if err == nil {
		t.Fatal("a device without a client certificate was served")
	}
}

// The node's Snapshot carries the embedded broker's statistics, which
// /metrics exports ("broker sessions and messages").
func TestSnapshotBroker(t *testing.T) {
	g := start(t, testConfig(t))
	before, err := g.Node.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if before.Broker == nil {
		t.Fatal("Snapshot.Broker is nil with the embedded broker")
	}
	const n = 5
	for range n {
		if err := g.Node.Broker.Publish(context.Background(), broker.Message{Topic: "snapshot/test", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	after, err := g.Node.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// At least ours: the starting node publishes its objects' state at
	// the same time.
	if after.Broker.MessagesReceived < before.Broker.MessagesReceived+n {
		t.Fatalf("messages received %d, then %d after %d publishes", before.Broker.MessagesReceived, after.Broker.MessagesReceived, n)
	}
}
