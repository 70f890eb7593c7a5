// Package gwtest runs the whole gateway inside a test, on loopback ports,
// with simulated trackers and a REST client: the one place the gateway's
// packages (node, rest, console) start it for their tests.
package gwtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/protocol"
)

// Master is the master token of every test gateway.
const Master = "gwtest-master-token-0123456789"

// Quiet is a logger that drops everything.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Config returns a gateway configuration with its data in a temporary
// directory of t, the HTTP server and the broker on loopback ports, and a
// recording channel on a loopback port for each protocol named.
func Config(t testing.TB, protocols ...string) node.Config {
	return ConfigIn(t.TempDir(), protocols...)
}

// ConfigIn is Config with its data in dir (a test's child process, which
// has no testing.T, reopens its parent's directory).
func ConfigIn(dir string, protocols ...string) node.Config {
	cfg := node.Config{
		DataDir:     dir,
		HTTP:        node.Listen{Addr: "127.0.0.1:0"},
		MQTT:        node.Listen{Addr: "127.0.0.1:0"},
		MasterToken: Master,
		Codecs: func(name string, lenient bool) (protocol.Codec, bool) {
			return codecs.New(name, codecs.Options{Lenient: lenient})
		},
		HTTPCodecs: func(name string, lenient bool) (channel.RequestDecoder, bool) {
			return codecs.NewHTTP(name, codecs.Options{Lenient: lenient})
		},
		ExplicitChannels: true,
		Logger:           Quiet,
	}
	for _, p := range protocols {
		cfg.Channels = append(cfg.Channels, node.ChannelSpec{Name: p, Protocol: p, Origin: "config",
			TCP: node.Listen{Addr: "127.0.0.1:0"}, Config: registry.ChannelConfig{Record: true}})
	}
	return cfg
}

// Gateway is a gateway running in a test.
type Gateway struct {
	*node.Node
	T    testing.TB
	HTTP string // the REST API's host:port
	stop func()
}

// Start runs a gateway until the test ends (or Stop). before, when given,
// is called with the node before it runs (to mount handlers).
func Start(t testing.TB, cfg node.Config, before ...func(*node.Node)) *Gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	for _, f := range before {
		f(n)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-done:
		cancel()
		n.Close()
		t.Fatalf("the gateway did not start: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the gateway is not ready after 30 s")
	}
	g := &Gateway{Node: n, T: t, HTTP: n.Addrs().HTTP}
	stopped := false
	g.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		n.Close()
	}
	t.Cleanup(g.stop)
	return g
}

// Stop shuts the gateway down now (it is also stopped at the test's end).
func (g *Gateway) Stop() { g.stop() }

// Channel returns the id and TCP address of the channel named name.
func (g *Gateway) Channel(name string) (int64, string) {
	g.T.Helper()
	id, ok := g.Registry.Channels.Lookup("name=" + name)
	if !ok {
		g.T.Fatalf("no channel %q", name)
	}
	return id, g.Addrs().Channels[id][0]
}

// REST calls the API with the master token.
func (g *Gateway) REST(method, path string, body any) (int, map[string]any) {
	g.T.Helper()
	return REST(g.T, g.HTTP, Master, nil, method, path, body)
}

// REST calls the API at addr with token (none when ""), extra headers and a
// JSON body (none when nil), and decodes the JSON answer.
func REST(t testing.TB, addr, token string, header map[string]string, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "FlespiToken "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

// Results returns an answer's "result" list.
func Results(t testing.TB, out map[string]any) []map[string]any {
	t.Helper()
	list, ok := out["result"].([]any)
	if !ok {
		t.Fatalf("no result in %v", out)
	}
	var r []map[string]any
	for _, x := range list {
		r = append(r, x.(map[string]any))
	}
	return r
}

// WaitFor waits up to 20 s for cond.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Start is when test trackers' tracks begin.
var TrackStart = time.Unix(1_800_000_000, 0)

// Tracker is a simulated device on its own connection that drives along a
// track and sends a position at a time, each waiting for its ACK.
type Tracker struct {
	*device.Conn
	Track *device.Track
	When  time.Time // the time of the last position sent
	// Step is the time between positions; 0 means 10 s.
	Step time.Duration
}

// Dial connects tracker n (its IMEI and track follow from n) of protocol
// to addr and logs it in.
func Dial(protocol, addr string, n uint64) (*Tracker, error) {
	c, err := device.Dial(context.Background(), protocol, device.IMEI(35630704240000+n), addr, device.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s tracker %d: %w", protocol, n, err)
	}
	return &Tracker{Conn: c, Track: device.NewTrack(n, 1, device.Area{}, TrackStart), When: TrackStart}, nil
}

// MustDial is Dial that fails t, closing the tracker at the test's end.
func MustDial(t testing.TB, protocol, addr string, n uint64) *Tracker {
	t.Helper()
	tr, err := Dial(protocol, addr, n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// Next sends the next position of the track and returns it once
// acknowledged.
func (tr *Tracker) Next() (device.Point, error) {
	step := tr.Step
	if step <= 0 {
		step = 10 * time.Second
	}
	tr.When = tr.When.Add(step)
	pt := tr.Track.At(tr.When)
	return pt, tr.Send(pt)
}
