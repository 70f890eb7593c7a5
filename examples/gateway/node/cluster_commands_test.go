package node_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/internal/testenv"
)

// TestClusterCommandHandover: a command posted on node A for a device
// connected to no node is kept in the cluster's shared state; the device
// then connects to node B, which sends it, and the device's answer is
// listed through A. A second command, posted through B while the device is
// offline again, reaches it when it comes back to A.
func TestClusterCommandHandover(t *testing.T) {
	natsURL := testenv.NATSURL(t)
	name := fmt.Sprintf("gwh%d", time.Now().UnixNano())
	destroyCluster(t, natsURL, name)
	rc := newReceiver(t)
	a := start(t, joinCluster(t, natsURL, name, "a", rc))
	b := start(t, joinCluster(t, natsURL, name, "b", rc))

	params := device.NewParams(map[string]string{"2001": "internet", "2002": "apn"})
	at := time.Unix(1_800_000_000, 0)
	dev := connectConfigDevice(t, a.channelAddr(device.Teltonika), 7, params)
	dev.send(at)
	sel := "/gw/devices/" + url.PathEscape("configuration.ident="+dev.s.Ident())
	connected := func(g *gateway) bool {
		status, out := g.rest("GET", sel, nil)
		return status == 200 && len(results(t, out)) == 1 && results(t, out)[0]["connected"] == true
	}
	waitFor(t, "node B to see the device connected", func() bool { return connected(b) })
	dev.c.Close()
	waitFor(t, "both nodes to see the device gone", func() bool { return !connected(a) && !connected(b) })

	post := func(g *gateway, text string) map[string]any {
		t.Helper()
		status, out := g.rest("POST", sel+"/commands", []map[string]any{{"name": "custom", "properties": map[string]any{"text": text}, "ttl": 120}})
		if status != 200 || len(results(t, out)) != 1 {
			t.Fatalf("POST command %q: %d %v", text, status, out)
		}
		return results(t, out)[0]
	}
	cmd := post(a, "getparam 2001")
	if cmd["status"] != "queued" {
		t.Fatalf("command for an offline device: %v, want queued", cmd)
	}
	// Listed as queued by either node before the device comes.
	for _, g := range []*gateway{a, b} {
		if _, out := g.rest("GET", sel+"/commands", nil); len(results(t, out)) != 1 || results(t, out)[0]["status"] != "queued" {
			t.Fatalf("commands before the device connects: %v", out)
		}
	}

	// The device connects to B, which sends the command; A lists the answer.
	dev2 := connectConfigDevice(t, b.channelAddr(device.Teltonika), 7, params)
	waitFor(t, "node B to send the command queued through node A", func() bool { return slices.Contains(dev2.received(), "getparam 2001") })
	replied := func(g *gateway, id any, want string) bool {
		_, out := g.rest("GET", sel+"/commands", nil)
		for _, c := range results(t, out) {
			if c["id"] == id {
				r, _ := c["response"].(string)
				return c["status"] == "replied" && strings.Contains(r, want)
			}
		}
		return false
	}
	waitFor(t, "node A to list the device's answer", func() bool { return replied(a, cmd["id"], "internet") })

	// Offline again: a command through B reaches it on A.
	dev2.c.Close()
	waitFor(t, "both nodes to see the device gone", func() bool { return !connected(a) && !connected(b) })
	cmd2 := post(b, "getparam 2002")
	if cmd2["status"] != "queued" {
		t.Fatalf("second command: %v, want queued", cmd2)
	}
	dev3 := connectConfigDevice(t, a.channelAddr(device.Teltonika), 7, params)
	waitFor(t, "node A to send the command queued through node B", func() bool { return slices.Contains(dev3.received(), "getparam 2002") })
	waitFor(t, "node B to list the second answer", func() bool { return replied(b, cmd2["id"], "apn") })
	if got := dev3.received(); slices.Contains(got, "getparam 2001") {
		t.Fatalf("the first command went again: %v", got)
	}
	_, out := a.rest("GET", sel+"/commands", nil)
	if n := len(results(t, out)); n != 2 {
		t.Fatalf("node A lists %d commands, want 2: %v", n, out)
	}
}

// TestClusterCommandHandoverNewNode: a command queued before a node
// started is sent by that node when the device logs in to it (the node
// reads the queued lists at start; its watch sees only later changes).
func TestClusterCommandHandoverNewNode(t *testing.T) {
	natsURL := testenv.NATSURL(t)
	name := fmt.Sprintf("gwn%d", time.Now().UnixNano())
	destroyCluster(t, natsURL, name)
	rc := newReceiver(t)
	a := start(t, joinCluster(t, natsURL, name, "a", rc))
	params := device.NewParams(map[string]string{"2001": "internet"})
	dev := connectConfigDevice(t, a.channelAddr(device.Teltonika), 8, params)
	dev.send(time.Unix(1_800_000_000, 0))
	sel := "/gw/devices/" + url.PathEscape("configuration.ident="+dev.s.Ident())
	dev.c.Close()
	waitFor(t, "node A to see the device gone", func() bool {
		_, out := a.rest("GET", sel, nil)
		return len(results(t, out)) == 1 && results(t, out)[0]["connected"] == false
	})
	if status, out := a.rest("POST", sel+"/commands", []map[string]any{{"name": "custom", "properties": map[string]any{"text": "getparam 2001"}, "ttl": 120}}); status != 200 {
		t.Fatalf("POST command: %d %v", status, out)
	}
	b := start(t, joinCluster(t, natsURL, name, "b", rc))
	dev2 := connectConfigDevice(t, b.channelAddr(device.Teltonika), 8, params)
	waitFor(t, "node B, started after the command was queued, to send it", func() bool { return slices.Contains(dev2.received(), "getparam 2001") })
}
