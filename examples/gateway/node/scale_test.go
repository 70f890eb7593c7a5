//go:build unix

package node_test

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/internal/natstest"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
)

// TestScaleKill runs "several gateways as one" for real: a 3-node NATS
// cluster with JetStream (streams and buckets with 3 replicas), three
// gateway processes built from ./examples/gateway on it (-store), with
// the external MQTT bus when GNSSGATE_MQTT_ADDR is set (-broker), and
// simulated Teltonika trackers spread over the three. Mid-load it
// SIGKILLs the gateway that started first (it holds the history, platform
// and stream leases) and one NATS node, then restarts both. Checks: every
// message a tracker had an ACK for is in the history (read through a
// surviving node's REST API) and at the stream's HTTP receiver; the stream
// went on; REST on a survivor lists every device; the trackers of the
// killed gateway reconnected to the survivors and went on.
func TestScaleKill(t *testing.T) {
	if !*long {
		t.Skip("-long: starts a 3-node NATS cluster and three gateway processes")
	}
	nats := natstest.StartCluster(t, 3)
	bin := filepath.Join(t.TempDir(), "gateway")
	build := exec.Command("go", "build", "-o", bin, "github.com/gnssgate/gnssgate/examples/gateway")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	rc := newReceiver(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "gateway.yaml")
	os.WriteFile(conf, []byte(fmt.Sprintf("streams:\n  - name: receiver\n    protocol_name: http\n    configuration: {uri: %q}\n    channels: [1]\n", rc.URL)), 0o644)
	args := func(i int) []string {
		a := []string{"-config", conf, "-store", nats.URL(), "-node", fmt.Sprintf("g%d", i), "-token", gwtest.Master,
			"-data", filepath.Join(dir, fmt.Sprint("g", i)), "-http", "127.0.0.1:0", "-mqtt", "127.0.0.1:0", "-mqtt-ws", "127.0.0.1:0", "-channel", "teltonika=127.0.0.1:0",
			"-log-level", "warn"}
		if addr := os.Getenv(testenv.MQTTEnv); addr != "" {
			a = append(a, "-broker", "mqtt://"+addr)
		}
		return a
	}
	gws := make([]*gatewayProc, 3)
	for i := range gws {
		gws[i] = startGateway(t, bin, args(i))
	}

	// Trackers, four per gateway; one whose gateway dies moves on to the
	// next one that answers, keeping its track.
	type trackerState struct {
		ident      string
		acked      []float64
		afterKill  int // positions acknowledged after the kill, by any gateway
		onKilled   bool
		reconnects int
	}
	var (
		mu      sync.Mutex
		states  []*trackerState
		killed  atomic.Bool
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		addrsMu sync.Mutex
	)
	addrOf := func(i int) string {
		addrsMu.Lock()
		defer addrsMu.Unlock()
		return gws[i].channel
	}
	for k := range 12 {
		st := &trackerState{onKilled: k%3 == 0}
		states = append(states, st)
		wg.Add(1)
		go func() {
			defer wg.Done()
			gw := k % 3
			var tr *gwtest.Tracker
			for {
				select {
				case <-stop:
					if tr != nil {
						tr.Close()
					}
					return
				default:
				}
				if tr == nil {
					next, err := gwtest.Dial(device.Teltonika, addrOf(gw), uint64(500+k))
					if err != nil {
						gw = (gw + 1) % 3
						time.Sleep(100 * time.Millisecond)
						continue
					}
					if old := st.ident; old != "" {
						mu.Lock()
						st.reconnects++
						next.Track, next.When = lastTrack[k], lastWhen[k]
						mu.Unlock()
					}
					tr = next
					mu.Lock()
					st.ident = tr.Ident()
					mu.Unlock()
				}
				pt, err := tr.Next()
				mu.Lock()
				lastTrack[k], lastWhen[k] = tr.Track, tr.When
				mu.Unlock()
				if err != nil {
					tr.Close()
					tr = nil
					gw = (gw + 1) % 3
					continue
				}
				mu.Lock()
				st.acked = append(st.acked, float64(pt.Time.UnixMilli())/1000)
				if killed.Load() {
					st.afterKill++
				}
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	time.Sleep(4 * time.Second)
	// Mid-load: SIGKILL the first gateway (the leases' holder) and a NATS
	// node.
	gws[0].kill()
	nats.Kill(1)
	killed.Store(true)
	t.Log("killed gateway g0 and NATS node n2")
	time.Sleep(8 * time.Second)
	nats.Start(1)
	restarted := startGateway(t, bin, args(0))
	addrsMu.Lock()
	gws[0] = restarted
	addrsMu.Unlock()
	t.Log("restarted both")
	time.Sleep(6 * time.Second)
	close(stop)
	wg.Wait()

	// Every device through a survivor's REST API, every acknowledged
	// position in its history and at the stream's receiver.
	survivor := gws[1].http
	_, out := restCall(t, survivor, gwtest.Master, "GET", "/gw/devices/all", nil)
	if n := len(results(t, out)); n != len(states) {
		t.Fatalf("REST on a surviving node lists %d devices, want %d", n, len(states))
	}
	total := 0
	for _, st := range states {
		total += len(st.acked)
		if st.onKilled && (st.afterKill == 0 || st.reconnects == 0) {
			t.Errorf("tracker %s of the killed gateway: %d reconnections, %d positions acknowledged after the kill", st.ident, st.reconnects, st.afterKill)
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		hist, streamed := 0, 0
		got := map[string]map[float64]bool{}
		for _, m := range rc.messages() {
			ts, _ := m.Float(protocol.ParamTimestamp)
			if got[m.Ident()] == nil {
				got[m.Ident()] = map[float64]bool{}
			}
			got[m.Ident()][ts] = true
		}
		unanswered := 0
		for _, st := range states {
			status, out := restCall(t, survivor, gwtest.Master, "GET", "/gw/devices/"+url.PathEscape("configuration.ident="+st.ident)+"/messages?count=100000", nil)
			if status != 200 {
				// JetStream may still be electing the restarted server's
				// leaders ("no responders"): ask again.
				unanswered++
				continue
			}
			in := map[float64]bool{}
			for _, m := range results(t, out) {
				if ts, ok := m["timestamp"].(float64); ok {
					in[ts] = true
				}
			}
			for _, ts := range st.acked {
				if !in[ts] {
					hist++
				}
				if !got[st.ident][ts] {
					streamed++
				}
			}
		}
		if hist == 0 && streamed == 0 && unanswered == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("of %d acknowledged positions, %d are missing from history and %d from the stream's receiver (%d devices' histories unanswered)", total, hist, streamed, unanswered)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d trackers, %d positions acknowledged (a gateway and a NATS node SIGKILLed mid-load): all in history and at the stream's receiver", len(states), total)
}

var (
	lastTrack = map[int]*device.Track{}
	lastWhen  = map[int]time.Time{}
)

// gatewayProc is a gateway binary running as a child process.
type gatewayProc struct {
	cmd           *exec.Cmd
	http, channel string
}

var (
	restAddr    = regexp.MustCompile(`REST API.*http://(\S+)`)
	channelAddr = regexp.MustCompile(`teltonika \(channel \d+\)\s+tcp (\S+)`)
)

// startGateway starts the gateway binary and reads its addresses from the
// banner.
func startGateway(t *testing.T, bin string, args []string) *gatewayProc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &gatewayProc{cmd: cmd}
	t.Cleanup(g.kill)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if m := restAddr.FindStringSubmatch(line); m != nil {
			g.http = m[1]
		}
		if m := channelAddr.FindStringSubmatch(line); m != nil {
			g.channel = m[1]
		}
		if strings.HasPrefix(strings.TrimSpace(line), "try:") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if g.http == "" || g.channel == "" {
		t.Fatalf("gateway %v did not start", args)
	}
	return g
}

func (g *gatewayProc) kill() {
	if g.cmd.Process != nil && g.cmd.ProcessState == nil {
		g.cmd.Process.Kill()
		g.cmd.Wait()
	}
}
