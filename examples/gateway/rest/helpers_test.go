package rest_test

import (
	"net"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

const master = gwtest.Master

// startGateway runs a gateway with a recording Teltonika channel (and
// the extra channels) on loopback ports, its data in a temporary directory.
func startGateway(t *testing.T, extra ...node.ChannelSpec) (*node.Node, string) {
	t.Helper()
	cfg := gwtest.Config(t, "teltonika")
	cfg.MQTT = node.Listen{}
	cfg.Channels = append(cfg.Channels, extra...)
	g := gwtest.Start(t, cfg)
	return g.Node, g.HTTP
}

// channelAddr is the TCP address of the test's Teltonika channel (or of
// the channel named name).
func channelAddr(t *testing.T, n *node.Node, name ...string) (int64, string) {
	ch := "teltonika"
	if len(name) > 0 {
		ch = name[0]
	}
	id, ok := n.Registry.Channels.Lookup("name=" + ch)
	if !ok {
		t.Fatalf("no %s channel", ch)
	}
	return id, n.Addrs().Channels[id][0]
}

// call sends a REST request with token and decodes the JSON answer.
func call(t *testing.T, addr, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return gwtest.REST(t, addr, token, nil, method, path, body)
}

func first(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	list := gwtest.Results(t, out)
	if len(list) == 0 {
		t.Fatalf("no result in %v", out)
	}
	return list[0]
}

// sendPositions connects a simulated Teltonika tracker, logs in and sends
// n positions, each acknowledged, and disconnects; it returns the
// tracker's ident.
func sendPositions(t *testing.T, addr string, n int) string {
	t.Helper()
	ident, c := connectTracker(t, addr, 0, n)
	c.Close()
	return ident
}

// connectTracker is sendPositions for tracker k, leaving it connected.
func connectTracker(t *testing.T, addr string, k uint64, n int) (string, net.Conn) {
	t.Helper()
	tr := gwtest.MustDial(t, device.Teltonika, addr, 1000+k)
	for range n {
		if _, err := tr.Next(); err != nil {
			t.Fatal(err)
		}
	}
	return tr.Ident(), tr.Conn
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	gwtest.WaitFor(t, what, cond)
}
