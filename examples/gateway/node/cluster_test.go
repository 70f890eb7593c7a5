package node_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
)

// joinCluster returns the configuration of a gateway node of the
// deployment name on the NATS server at natsURL, with a Teltonika channel
// and a stream to rc subscribed to it. The deployment is deleted when the
// test ends.
func joinCluster(t *testing.T, natsURL, name, nodeName string, rc *receiver) node.Config {
	t.Helper()
	c, err := node.JoinNATS(context.Background(), natsURL, node.JoinOptions{Name: name, Node: nodeName,
		LeaseTTL: 2 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() }) // after the node stops (cleanups run last in, first out)
	cfg := gwtest.Config(t, device.Teltonika)
	cfg.Cluster = c
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", nodeName)
	}
	cfg.Streams = []registry.Stream{{Name: "receiver", ProtocolName: "http", Enabled: true,
		Configuration: json.RawMessage(fmt.Sprintf(`{"uri":%q}`, rc.URL)), Channels: []int64{1}}}
	return cfg
}

func destroyCluster(t *testing.T, natsURL, name string) {
	t.Cleanup(func() {
		nc, err := nats.Connect(natsURL)
		if err != nil {
			return
		}
		defer nc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := node.DestroyNATS(ctx, nc, name); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
}

// TestClusterTwoNodes: two gateway nodes share one NATS JetStream. A device
// connected to node A is seen, listed, commanded and configured through
// node B's REST API; its messages reach history and a stream once; when A
// stops, B takes the stream over and the device, reconnected to B, goes on.
func TestClusterTwoNodes(t *testing.T) {
	natsURL := testenv.NATSURL(t)
	name := fmt.Sprintf("gwc%d", time.Now().UnixNano())
	destroyCluster(t, natsURL, name)
	rc := newReceiver(t)
	a := start(t, joinCluster(t, natsURL, name, "a", rc))
	b := start(t, joinCluster(t, natsURL, name, "b", rc))

	params := device.NewParams(map[string]string{"2001": "internet"})
	dev := connectConfigDevice(t, a.channelAddr(device.Teltonika), 1, params)
	at := time.Unix(1_800_000_000, 0)
	for i := range 3 {
		dev.send(at.Add(time.Duration(i) * time.Minute))
	}
	sel := "/gw/devices/" + url.PathEscape("configuration.ident="+dev.s.Ident())

	// B sees the device A registered, connected, with its history.
	waitFor(t, "node B to see the device connected", func() bool {
		status, out := b.rest("GET", sel, nil)
		if status != 200 || len(results(t, out)) != 1 {
			return false
		}
		return results(t, out)[0]["connected"] == true
	})
	waitFor(t, "node B's history to hold the 3 messages", func() bool {
		_, out := b.rest("GET", sel+"/messages", nil)
		return len(results(t, out)) >= 3
	})
	// …and its connection, on the channel and on the device.
	for _, path := range []string{"/gw/channels/1/connections", sel + "/connections"} {
		_, out := b.rest("GET", path, nil)
		if r := results(t, out); len(r) != 1 || r[0]["ident"] != dev.s.Ident() {
			t.Fatalf("node B: GET %s = %v", path, out)
		}
	}
	if _, out := b.rest("GET", "/gw/channels/1", nil); results(t, out)[0]["connections_count"] != float64(1) {
		t.Fatalf("node B counts the channel's connections: %v", out)
	}

	// A setting read (first: the device answers no other command, and answers are matched in order) through B is asked of the device on A.
	st := b.setting("GET", sel+"/settings/2001", nil)
	if st["current"] != "internet" {
		t.Fatalf("setting read through node B: %v", st)
	}

	// A command posted to B reaches the device on A.
	if status, out := b.rest("POST", sel+"/commands", []map[string]any{{"name": "custom", "properties": map[string]any{"text": "getver"}, "ttl": 60}}); status != 200 {
		t.Fatalf("command through node B: %d %v", status, out)
	}
	waitFor(t, "the command to reach the device on node A", func() bool { return slices.Contains(dev.received(), "getver") })
	if _, out := b.rest("GET", sel+"/commands", nil); len(results(t, out)) != 1 {
		t.Fatalf("node B lists the command: %v", out)
	}
	// The stream runs on one node (A, which started first) and delivers
	// each message once.
	waitFor(t, "the stream to deliver the 3 positions", func() bool { return positions(rc) == 3 })
	if !streamRunsOn(a) || streamRunsOn(b) {
		t.Fatalf("the stream runs on A: %v, on B: %v; want A only", streamRunsOn(a), streamRunsOn(b))
	}
	_, out := b.rest("GET", "/gw/streams/all", nil)
	if r := results(t, out); len(r) != 1 || r[0]["counters"] == nil {
		t.Fatalf("node B shows the stream's counters from A: %v", out)
	}

	// A stops: B takes the stream over; the device reconnects to B.
	a.stop()
	waitFor(t, "the stream to move to node B", func() bool { return streamRunsOn(b) })
	dev2 := connectConfigDevice(t, b.channelAddr(device.Teltonika), 1, params)
	for i := range 3 {
		dev2.send(at.Add(time.Duration(3+i) * time.Minute))
	}
	waitFor(t, "the stream to deliver all 6 positions", func() bool { return positions(rc) == 6 })
	waitFor(t, "node B's history to hold 6 messages", func() bool {
		_, out := b.rest("GET", sel+"/messages", nil)
		return len(results(t, out)) >= 6
	})
}

// streamRunsOn reports whether g runs the (only) stream itself.
func streamRunsOn(g *gateway) bool {
	s, err := g.Node.Snapshot(context.Background())
	return err == nil && len(s.Streams) == 1
}

// positions counts the distinct positions rc received.
func positions(rc *receiver) int {
	seen := map[float64]bool{}
	for _, m := range rc.messages() {
		if _, ok := m.Float(protocol.ParamLatitude); ok {
			ts, _ := m.Float(protocol.ParamTimestamp)
			seen[ts] = true
		}
	}
	return len(seen)
}
