package rest_test

import (
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
)

// As on flespi, a channel made over REST runs unless it says
// "enabled": false, and it accepts trackers at once.
func TestNewChannelRuns(t *testing.T) {
	n, addr := startGateway(t)
	code, out := call(t, addr, gwtest.Master, "POST", "/gw/channels", []map[string]any{
		{"name": "more", "protocol_name": "teltonika", "configuration": map[string]any{"tcp": "127.0.0.1:0"}},
		{"name": "parked", "protocol_name": "teltonika", "enabled": false, "configuration": map[string]any{"tcp": "127.0.0.1:0"}}})
	if code != 200 {
		t.Fatalf("POST: %d %v", code, out)
	}
	res := gwtest.Results(t, out)
	if res[0]["enabled"] != true || res[1]["enabled"] != false {
		t.Fatalf("enabled: %v, %v", res[0]["enabled"], res[1]["enabled"])
	}
	var chAddr string
	waitFor(t, "the new channel listening", func() bool {
		_, chAddr = channelAddr(t, n, "more")
		return chAddr != ""
	})
	sendPositions(t, chAddr, 1)
}
