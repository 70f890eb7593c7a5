//go:build unix

package httpsink_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/store/storetest"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/httpsink"
)

var long = flag.Bool("long", false, "SIGKILL the streaming process 100 times instead of 5")

const (
	killDirEnv = "GNSSGATE_STREAM_KILL_DIR"
	killURLEnv = "GNSSGATE_STREAM_KILL_URL"
	killGenEnv = "GNSSGATE_STREAM_KILL_GEN"
)

// TestKill runs a stream on store/pebble in a child process that also
// appends messages, and SIGKILLs it at random moments, again and again on
// the same directory; a last child drains the log. The receiver must end
// up with every message the child acknowledged, in log order, and every
// duplicate must be a message of the batch that was in flight when a child
// died, with the same id.
func TestKill(t *testing.T) {
	if dir := os.Getenv(killDirEnv); dir != "" {
		killChild(dir)
		return
	}
	iterations := 5
	if *long {
		iterations = 100
	}
	rc := &killReceiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	dir := t.TempDir()
	acked := map[uint64]bool{}
	logID := ""
	for gen := 0; gen <= iterations; gen++ {
		drain := gen == iterations
		cmd := exec.Command(os.Args[0], "-test.run=^TestKill$", "-test.count=1", "-test.v=false")
		cmd.Env = append(os.Environ(), killDirEnv+"="+dir, killURLEnv+"="+srv.URL, killGenEnv+"="+strconv.Itoa(gen))
		if drain {
			cmd.Env = append(cmd.Env, killGenEnv+"_DRAIN=1")
		}
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !drain {
			d := time.Duration(30+rand.IntN(400)) * time.Millisecond
			time.AfterFunc(d, func() { cmd.Process.Kill() })
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 3 && f[0] == "ACK":
				first, _ := strconv.ParseUint(f[1], 10, 64)
				n, _ := strconv.ParseUint(f[2], 10, 64)
				for q := first; q < first+n; q++ {
					acked[q] = true
				}
			case len(f) == 2 && f[0] == "LOG":
				if logID != "" && f[1] != logID {
					t.Fatalf("the log's identity changed across a restart: %s → %s", logID, f[1])
				}
				logID = f[1]
			case len(f) == 1 && f[0] == "DRAINED":
				cmd.Process.Kill()
			}
		}
		cmd.Wait()
	}
	rc.verify(t, logID, acked, iterations)
}

// killChild appends and streams until it is killed; in drain mode it only
// streams, and says DRAINED when the stream has caught up.
func killChild(dir string) {
	db, err := pebble.Open(dir, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	l := db.Log()
	sink, _ := httpsink.New(&httpsink.Config{URL: os.Getenv(killURLEnv),
		Header: http.Header{"X-Gen": {os.Getenv(killGenEnv)}}})
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := stream.New(l, sink, &stream.Config{Name: "kill", StartAt: stream.StartOldest, MaxBatch: 1 + rand.IntN(60),
		RetryMin: time.Millisecond, RetryMax: 10 * time.Millisecond, Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	fmt.Printf("LOG %s\n", store.LogID(l))
	go s.Run(context.Background())
	ctx := context.Background()
	if os.Getenv(killGenEnv+"_DRAIN") != "" {
		for {
			st, _ := l.Stats(ctx)
			if next, err := l.Cursor(ctx, s.Consumer()); err == nil && next == st.Last+1 {
				fmt.Println("DRAINED")
				select {}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for {
		st, _ := l.Stats(ctx)
		base := st.Last + 1 // the only appender: the batch gets base, base+1, …
		n := 1 + rand.IntN(20)
		batch := make([]protocol.Message, n)
		for i := range batch {
			batch[i] = killMessage(base + uint64(i))
		}
		first, err := l.Append(ctx, batch)
		if err != nil || first != base {
			fmt.Fprintln(os.Stderr, "child: append:", first, err)
			os.Exit(2)
		}
		fmt.Printf("ACK %d %d\n", first, n)
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	}
}

func killMessage(seq uint64) protocol.Message {
	return storetest.Message(fmt.Sprintf("35630704244%04d", seq%4), 1.7e9+float64(seq), int(seq))
}

type killRequest struct {
	gen  int
	ids  []string
	msgs []protocol.Message
}

type killReceiver struct {
	mu   sync.Mutex
	reqs []killRequest
}

func (rc *killReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return // the sender died mid-request
	}
	msgs, err := protocol.UnmarshalMessages(data)
	ids, err2 := stream.ParseIDs(r.Header.Get(httpsink.IDHeader), 0)
	gen, err3 := strconv.Atoi(r.Header.Get("X-Gen"))
	if err != nil || err2 != nil || err3 != nil || len(ids) != len(msgs) {
		http.Error(w, "bad request", 400)
		return
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, killRequest{gen, ids, msgs})
	rc.mu.Unlock()
	w.WriteHeader(204)
}

func (rc *killReceiver) verify(t *testing.T, logID string, acked map[uint64]bool, kills int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	lastOfGen := map[int]int{} // generation → index of its last request
	for i, r := range rc.reqs {
		lastOfGen[r.gen] = i
	}
	seen := map[string]int{} // id → request index of its first delivery
	var lastSeq uint64
	dups := 0
	for i, r := range rc.reqs {
		for j, id := range r.ids {
			seq, err := strconv.ParseUint(strings.TrimPrefix(id, logID+":"), 10, 64)
			if err != nil {
				t.Fatalf("id %q is not of log %s", id, logID)
			}
			if n, _ := r.msgs[j].Int("test.n"); uint64(n) != seq {
				t.Fatalf("id %s carries message %d", id, n)
			}
			if first, dup := seen[id]; dup {
				dups++
				// The earlier delivery must have been the batch in flight
				// when its process died: its generation's last request.
				if lastOfGen[rc.reqs[first].gen] != first || rc.reqs[first].gen == r.gen {
					t.Fatalf("id %s delivered twice outside a batch in flight at a crash (requests %d and %d)", id, first, i)
				}
				continue
			}
			if seq <= lastSeq {
				t.Fatalf("id %s delivered after %d: out of order", id, lastSeq)
			}
			lastSeq = seq
			seen[id] = i
		}
	}
	missing := 0
	for q := range acked {
		if _, ok := seen[logID+":"+strconv.FormatUint(q, 10)]; !ok {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged messages never reached the receiver", missing, len(acked))
	}
	t.Logf("%d kills, %d messages acknowledged and delivered in order, %d requests, %d duplicates (all from batches in flight at a kill)",
		kills, len(acked), len(rc.reqs), dups)
}
