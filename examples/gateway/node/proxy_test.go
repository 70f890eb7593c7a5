package node_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// oldPlatform is the platform a fleet moves away from: a Teltonika server
// that stores and acknowledges, on an address it can leave and come back
// to.
type oldPlatform struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	got  map[float64]int // record times stored, and how often
	srv  *channel.Server
	stop context.CancelFunc
	done chan struct{}
}

func newOldPlatform(t *testing.T) *oldPlatform {
	p := &oldPlatform{t: t, addr: "127.0.0.1:0", got: map[float64]int{}}
	p.start()
	t.Cleanup(p.close)
	return p
}

func (p *oldPlatform) HandleMessages(_ context.Context, _ *channel.Conn, msgs []protocol.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range msgs {
		ts, _ := msgs[i].Float(protocol.ParamTimestamp)
		p.got[ts]++
	}
	return nil
}

func (p *oldPlatform) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.got)
}

func (p *oldPlatform) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.srv = &channel.Server{Codec: &teltonika.Codec{}, Handler: p, Logger: quiet}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.done = cancel, make(chan struct{})
	srv, done := p.srv, p.done
	go func() { srv.Serve(ctx, ln); close(done) }()
}

func (p *oldPlatform) close() {
	if p.stop != nil {
		p.stop()
		p.srv.Close()
		<-p.done
		p.stop = nil
	}
}

// TestProxyChannel: a Teltonika channel with configuration.proxy forwards
// its devices to the old platform and serves them when it is down; both
// sides end up with every record, and the channel's recording holds both
// conversations.
func TestProxyChannel(t *testing.T) {
	old := newOldPlatform(t)
	dir := t.TempDir()
	cfg := gwtest.ConfigIn(dir, protocols...)
	cfg.Channels = cfg.Channels[:1] // teltonika
	cfg.Channels[0].Config = registry.ChannelConfig{Record: true,
		Proxy: &registry.ProxyConfig{Upstreams: []string{old.addr}, RetryMax: 0.2}}
	g := start(t, cfg)

	status, out := g.rest("GET", "/gw/channels/name=teltonika?fields=configuration", nil)
	if status != 200 || !strings.Contains(jsonString(out), old.addr) {
		t.Fatalf("GET channel: %d %v", status, out)
	}

	tr := dial(t, device.Teltonika, g.channelAddr(device.Teltonika), 1)
	for range 3 {
		if _, err := send(tr); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the old platform to store 3 records", func() bool { return old.count() == 3 })

	old.close()
	for range 2 {
		if _, err := send(tr); err != nil { // served with the gateway's ACKs
			t.Fatal(err)
		}
	}
	old.start()
	waitFor(t, "the old platform to get the 2 records held for it", func() bool { return old.count() == 5 })
	if _, err := send(tr); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the old platform to store the 6th record", func() bool { return old.count() == 6 })

	ident := tr.Ident()
	waitFor(t, "the gateway's history to hold 6 records", func() bool {
		status, out := g.rest("GET", "/gw/devices/configuration.ident="+ident+"/messages", nil)
		return status == 200 && len(results(t, out)) == 6
	})
	tr.Close()

	// The recording: the device's side and the old platform's.
	chID, _ := g.Registry.Channels.Lookup("name=teltonika")
	var files []string
	waitFor(t, "the recording", func() bool {
		files, _ = filepath.Glob(filepath.Join(dir, "traffic", itoa(chID), ident, "*.hex"))
		return len(files) == 1
	})
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunks, err := traffic.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	n := map[traffic.Direction]int{}
	for _, c := range chunks {
		n[c.Dir]++
	}
	// 7 frames from the device (login and 6 packets); to the old
	// platform at least 5 live (all but the 2 sent while it was down) and 3
	// replayed when it came back (the login again and the 2 held records;
	// one more when a record went to the closing connection unanswered).
	if n[traffic.In] < 7 || n[traffic.ToUpstream] < 8 || n[traffic.FromUpstream] < 5 || n[traffic.Out] < 7 {
		t.Fatalf("recorded %v", n)
	}

	// A proxy configuration the gateway cannot use is refused.
	status, out = g.rest("POST", "/gw/channels", []map[string]any{{"name": "bad", "protocol_name": "teltonika",
		"configuration": map[string]any{"tcp": "127.0.0.1:0", "proxy": map[string]any{"upstreams": []string{"nowhere"}}}}})
	if status != 400 || !strings.Contains(jsonString(out), "host:port") {
		t.Fatalf("POST a bad proxy: %d %v", status, out)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
