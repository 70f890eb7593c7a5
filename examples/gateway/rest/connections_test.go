package rest_test

import (
	"fmt"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/node"
)

// A channel's connections are its own: listed once, and closed without
// touching another channel's.
func TestChannelConnections(t *testing.T) {
	n, addr := startGateway(t, node.ChannelSpec{Name: "second", Protocol: "teltonika", Origin: "config",
		TCP: node.Listen{Addr: "127.0.0.1:0"}})
	id1, addr1 := channelAddr(t, n)
	id2, addr2 := channelAddr(t, n, "second")
	ident1, _ := connectTracker(t, addr1, 1, 1)
	ident2, _ := connectTracker(t, addr2, 2, 1)

	conns := func(id int64) []any {
		_, out := call(t, addr, master, "GET", fmt.Sprintf("/gw/channels/%d/connections", id), nil)
		list, _ := out["result"].([]any)
		return list
	}
	for id, ident := range map[int64]string{id1: ident1, id2: ident2} {
		list := conns(id)
		if len(list) != 1 || list[0].(map[string]any)["ident"] != ident || list[0].(map[string]any)["channel_id"].(float64) != float64(id) {
			t.Fatalf("channel %d connections: %v", id, list)
		}
	}
	_, out := call(t, addr, master, "DELETE", fmt.Sprintf("/gw/channels/%d/connections", id1), nil)
	if got := first(t, out); got["closed"].(float64) != 1 {
		t.Fatalf("DELETE: %v", out)
	}
	waitFor(t, "the first channel's connection to close", func() bool { return len(conns(id1)) == 0 })
	if list := conns(id2); len(list) != 1 {
		t.Fatalf("closing channel %d's connections closed channel %d's: %v", id1, id2, list)
	}
}
