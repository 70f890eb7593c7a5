package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/console"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/protocol"
)

const master = "console-test-master-token-0123"

// gateway is the whole gateway, in process on loopback ports, with the
// console mounted as the binary mounts it and a recording Teltonika
// channel.
type gateway struct {
	*node.Node
	base string // http://127.0.0.1:port
}

func startGateway(t *testing.T, tiles string) *gateway {
	t.Helper()
	cfg := node.Config{
		DataDir:       t.TempDir(),
		HTTP:          node.Listen{Addr: "127.0.0.1:0"},
		MQTTWebSocket: node.Listen{Addr: "127.0.0.1:0"},
		MasterToken:   master,
		Codecs: func(name string, lenient bool) (protocol.Codec, bool) {
			return codecs.New(name, codecs.Options{Lenient: lenient})
		},
		ExplicitChannels: true,
		Channels: []node.ChannelSpec{{Name: "teltonika", Protocol: "teltonika", Origin: "config",
			TCP: node.Listen{Addr: "127.0.0.1:0"}, Config: registry.ChannelConfig{Record: true}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Config{Tiles: tiles, MQTTWebSocket: func() string { return n.Addrs().MQTTWebSocket }})
	if err != nil {
		t.Fatal(err)
	}
	n.SetHTTPHandlers(con.Mount)
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
	case err := <-done:
		t.Fatalf("gateway did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		n.Close()
	})
	return &gateway{Node: n, base: "http://" + n.Addrs().HTTP}
}

func (g *gateway) channel(t *testing.T) (int64, string) {
	id, ok := g.Registry.Channels.Lookup("name=teltonika")
	if !ok {
		t.Fatal("no teltonika channel")
	}
	return id, g.Addrs().Channels[id][0]
}

// tracker is a simulated Teltonika device on its own connection: it logs
// in, then sends positions along a plausible track, each waiting for its
// ACK as a device does.
type tracker struct {
	t    *testing.T
	s    device.Session
	c    net.Conn
	buf  []byte
	trk  *device.Track
	when time.Time
}

func dialTracker(t *testing.T, addr string, n uint64) *tracker {
	t.Helper()
	s, err := device.New(device.Teltonika, device.IMEI(35630704242000+n), device.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	start := time.Unix(1_800_000_000, 0)
	tr := &tracker{t: t, s: s, c: c, trk: device.NewTrack(n, 1, device.Area{}, start), when: start}
	var p device.Packet
	if s.Login(&p) {
		tr.exchange(&p)
	}
	return tr
}

func (tr *tracker) exchange(p *device.Packet) {
	tr.t.Helper()
	tr.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := tr.c.Write(p.Bytes); err != nil {
		tr.t.Fatal(err)
	}
	for {
		adv, reply, err := tr.s.SplitReply(tr.buf, p.Ack)
		if err != nil {
			tr.t.Fatal(err)
		}
		if reply != nil {
			tr.buf = tr.buf[adv:]
			if !bytes.Equal(reply, p.Ack) {
				tr.t.Fatalf("reply %x, want %x", reply, p.Ack)
			}
			return
		}
		chunk := make([]byte, 512)
		k, err := tr.c.Read(chunk)
		if err != nil {
			tr.t.Fatal(err)
		}
		tr.buf = append(tr.buf, chunk[:k]...)
	}
}

// send sends the position a minute further along the track.
func (tr *tracker) send() device.Point {
	tr.t.Helper()
	tr.when = tr.when.Add(time.Minute)
	pt := tr.trk.At(tr.when)
	var p device.Packet
	if err := tr.s.Data(&p, []device.Point{pt}, false); err != nil {
		tr.t.Fatal(err)
	}
	tr.exchange(&p)
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
