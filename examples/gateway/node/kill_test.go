//go:build unix

package node_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/internal/gwtest"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/protocol"
)

var long = flag.Bool("long", false, "SIGKILL the gateway 30 times instead of 3")

const killDirEnv = "GNSSGATE_GATEWAY_KILL_DIR"

// TestKill runs the gateway in a child process on one data directory while
// trackers of three protocols send to it, SIGKILLs it at random moments
// and starts it again. At the end, every message a tracker had an ACK for
// is in the device's history, in the channel buffer (the log) and at the
// stream's HTTP receiver.
func TestKill(t *testing.T) {
	if dir := os.Getenv(killDirEnv); dir != "" {
		killChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("-short")
	}
	kills := 3
	if *long {
		kills = 30
	}
	rc := newReceiver(t)
	dir := t.TempDir()
	acked := map[string]map[float64]bool{} // ident → timestamps acknowledged
	var mu sync.Mutex
	trackers := map[string]*tracker{}
	for gen := 0; gen <= kills; gen++ {
		addrs, child := startChild(t, dir, rc.URL)
		if gen == kills {
			waitDrained(t, addrs["http"], acked, rc)
			child.Process.Kill()
			child.Wait()
			break
		}
		// Trackers send until the gateway dies under them.
		var wg sync.WaitGroup
		for i, p := range protocols {
			for k := range 2 {
				n := uint64(100 + i*10 + k)
				wg.Add(1)
				go func() {
					defer wg.Done()
					tr, err := redial(t, p, addrs[p], n, trackers, &mu)
					if err != nil {
						return
					}
					for {
						ts, err := send(tr)
						if err != nil {
							return
						}
						mu.Lock()
						if acked[tr.Ident()] == nil {
							acked[tr.Ident()] = map[float64]bool{}
						}
						acked[tr.Ident()][float64(ts.UnixMilli())/1000] = true
						mu.Unlock()
					}
				}()
			}
		}
		time.Sleep(time.Duration(200+rand.IntN(800)) * time.Millisecond)
		child.Process.Kill() // SIGKILL
		child.Wait()
		wg.Wait()
	}
	n := 0
	for _, ts := range acked {
		n += len(ts)
	}
	t.Logf("%d kills; %d messages acknowledged, all in history, the channel buffer and the stream's receiver", kills, n)
}

// redial connects a tracker (keeping its track and time across restarts).
func redial(t *testing.T, proto, addr string, n uint64, trackers map[string]*tracker, mu *sync.Mutex) (*tracker, error) {
	key := fmt.Sprint(proto, n)
	mu.Lock()
	old := trackers[key]
	mu.Unlock()
	tr, err := gwtest.Dial(proto, addr, n)
	if err != nil {
		return nil, err
	}
	if old != nil {
		tr.Track, tr.When = old.Track, old.When
	}
	mu.Lock()
	trackers[key] = tr
	mu.Unlock()
	return tr, nil
}

// startChild starts the gateway in a child process and returns its
// addresses (by protocol, and "http").
func startChild(t *testing.T, dir, streamURL string) (map[string]string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), killDirEnv+"="+dir, "GNSSGATE_GATEWAY_KILL_STREAM="+streamURL)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
			addrs := map[string]string{}
			json.Unmarshal([]byte(rest), &addrs)
			go func() {
				for sc.Scan() {
				}
			}()
			return addrs, cmd
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatal("the gateway child did not start")
	return nil, nil
}

// killChild runs the gateway until it is killed.
func killChild(dir string) {
	cfg := gwtest.ConfigIn(dir, protocols...)
	cfg.Streams = []registry.Stream{{Name: "receiver", ProtocolName: "http", Enabled: true,
		Configuration: json.RawMessage(fmt.Sprintf(`{"uri":%q}`, os.Getenv("GNSSGATE_GATEWAY_KILL_STREAM"))),
		Channels:      []int64{1, 2, 3}}}
	ctx := context.Background()
	n, err := node.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	go func() {
		if err := n.Run(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(2)
		}
	}()
	<-n.Ready()
	addrs := map[string]string{"http": n.Addrs().HTTP}
	for _, p := range protocols {
		id, _ := n.Registry.Channels.Lookup("name=" + p)
		addrs[p] = n.Addrs().Channels[id][0]
	}
	b, _ := json.Marshal(addrs)
	fmt.Printf("READY %s\n", b)
	select {}
}

// waitDrained waits until history and the stream's receiver hold every
// acknowledged message, then checks the channel buffer.
func waitDrained(t *testing.T, httpAddr string, acked map[string]map[float64]bool, rc *receiver) {
	t.Helper()
	missing := func() (hist, streamed int) {
		got := map[string]map[float64]bool{}
		for _, m := range rc.messages() {
			ts, _ := m.Float(protocol.ParamTimestamp)
			if got[m.Ident()] == nil {
				got[m.Ident()] = map[float64]bool{}
			}
			got[m.Ident()][ts] = true
		}
		for ident, tss := range acked {
			_, out := restCall(t, httpAddr, master, "GET", "/gw/devices/"+url.PathEscape("configuration.ident="+ident)+"/messages?count=100000", nil)
			inHist := map[float64]bool{}
			for _, m := range results(t, out) {
				if ts, ok := m["timestamp"].(float64); ok {
					inHist[ts] = true
				}
			}
			for ts := range tss {
				if !inHist[ts] {
					hist++
				}
				if !got[ident][ts] {
					streamed++
				}
			}
		}
		return
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, s := missing()
		if h == 0 && s == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acknowledged messages missing after the last restart: %d from history, %d from the stream", h, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The channel buffer: the log holds them all too.
	inLog := map[string]map[float64]bool{}
	for _, ch := range []int{1, 2, 3} {
		_, out := restCall(t, httpAddr, master, "GET", fmt.Sprintf("/gw/channels/%d/messages?count=100000", ch), nil)
		for _, m := range results(t, out) {
			ident, _ := m["ident"].(string)
			ts, _ := m["timestamp"].(float64)
			if inLog[ident] == nil {
				inLog[ident] = map[float64]bool{}
			}
			inLog[ident][ts] = true
		}
	}
	for ident, tss := range acked {
		for ts := range tss {
			if !inLog[ident][ts] {
				t.Fatalf("acknowledged message %s @%v is not in the channel buffer", ident, ts)
			}
		}
	}
}
