package console_test

import (
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/console"
	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

const master = gwtest.Master

// gateway is the whole gateway, in process on loopback ports, with the
// console mounted as the binary mounts it and a recording Teltonika
// channel.
type gateway struct {
	*gwtest.Gateway
	base string // http://127.0.0.1:port
}

func startGateway(t *testing.T, tiles string) *gateway {
	t.Helper()
	cfg := gwtest.Config(t, "teltonika")
	cfg.MQTT = node.Listen{}
	cfg.MQTTWebSocket = node.Listen{Addr: "127.0.0.1:0"}
	g := gwtest.Start(t, cfg, func(n *node.Node) {
		con, err := console.New(console.Config{Tiles: tiles, MQTTWebSocket: func() string { return n.Addrs().MQTTWebSocket }})
		if err != nil {
			t.Fatal(err)
		}
		n.SetHTTPHandlers(con.Mount)
	})
	return &gateway{Gateway: g, base: "http://" + g.HTTP}
}

func (g *gateway) channel(t *testing.T) (int64, string) {
	t.Helper()
	return g.Channel("teltonika")
}

// tracker is a simulated Teltonika device on its own connection: it logs
// in, then sends positions along a plausible track, each waiting for its
// ACK as a device does.
type tracker struct {
	*gwtest.Tracker
	t *testing.T
}

func dialTracker(t *testing.T, addr string, n uint64) *tracker {
	t.Helper()
	tr := gwtest.MustDial(t, device.Teltonika, addr, 2000+n)
	tr.Step = time.Minute
	return &tracker{Tracker: tr, t: t}
}

// send sends the position a minute further along the track.
func (tr *tracker) send() device.Point {
	tr.t.Helper()
	pt, err := tr.Next()
	if err != nil {
		tr.t.Fatal(err)
	}
	return pt
}

// tileServer is a tile server that is down: it counts the requests the
// page makes (the policy allows them) and answers none, so the map falls
// back to its grid.
type tileServer struct {
	*http.Server
	url      string
	requests atomic.Int64
}

func startTileServer(t *testing.T) *tileServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &tileServer{url: fmt.Sprintf("http://%s/{z}/{x}/{y}.png", ln.Addr())}
	ts.Server = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.requests.Add(1)
		http.Error(w, "tile server down", http.StatusServiceUnavailable)
	})}
	go ts.Serve(ln)
	t.Cleanup(func() { ts.Close() })
	return ts
}
