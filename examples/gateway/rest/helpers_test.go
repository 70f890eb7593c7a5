package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/protocol"
)

const master = "rest-test-master-token-0123"

// startGateway runs a gateway with a recording Teltonika channel (and
// the extra channels) on loopback ports, its data in a temporary directory.
func startGateway(t *testing.T, extra ...node.ChannelSpec) (*node.Node, string) {
	t.Helper()
	cfg := node.Config{
		DataDir:     t.TempDir(),
		HTTP:        node.Listen{Addr: "127.0.0.1:0"},
		MasterToken: master,
		Codecs: func(name string, lenient bool) (protocol.Codec, bool) {
			return codecs.New(name, codecs.Options{Lenient: lenient})
		},
		ExplicitChannels: true,
		Channels: []node.ChannelSpec{{Name: "teltonika", Protocol: "teltonika", Origin: "config",
			TCP: node.Listen{Addr: "127.0.0.1:0"}, Config: registry.ChannelConfig{Record: true}}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	cfg.Channels = append(cfg.Channels, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	n, err := node.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
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
	return n, n.Addrs().HTTP
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
		t.Fatal("no teltonika channel")
	}
	return id, n.Addrs().Channels[id][0]
}

// call sends a REST request with token and decodes the JSON answer.
func call(t *testing.T, addr, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+addr+path, rd)
	req.Header.Set("Authorization", "FlespiToken "+token)
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

func first(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	list, _ := out["result"].([]any)
	if len(list) == 0 {
		t.Fatalf("no result in %v", out)
	}
	return list[0].(map[string]any)
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
	s, err := device.New(device.Teltonika, device.IMEI(35630704241000+k), device.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var buf []byte
	exchange := func(p *device.Packet) {
		t.Helper()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write(p.Bytes); err != nil {
			t.Fatal(err)
		}
		for {
			adv, reply, err := s.SplitReply(buf, p.Ack)
			if err != nil {
				t.Fatal(err)
			}
			if reply != nil {
				if !bytes.Equal(reply, p.Ack) {
					t.Fatalf("reply %x, want %x", reply, p.Ack)
				}
				buf = buf[adv:]
				return
			}
			chunk := make([]byte, 512)
			k, err := c.Read(chunk)
			if err != nil {
				t.Fatal(err)
			}
			buf = append(buf, chunk[:k]...)
		}
	}
	var p device.Packet
	if s.Login(&p) {
		exchange(&p)
	}
	start := time.Unix(1_800_000_000, 0)
	trk := device.NewTrack(1, 1, device.Area{}, start)
	for i := range n {
		if err := s.Data(&p, []device.Point{trk.At(start.Add(time.Duration(i+1) * 10 * time.Second))}, false); err != nil {
			t.Fatal(err)
		}
		exchange(&p)
	}
	return s.Ident(), c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
