package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/natstest"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/jetstream"
	"github.com/gnssgate/gnssgate/store/storetest"
)

// crashURLEnv hands the cluster's URL to the re-executed writer of
// storetest.Crash.
const crashURLEnv = "GNSSGATE_JS_CRASH_URL"

// TestCrashCluster kills a writer process mid-stream (SIGKILL) while it
// appends to a 3-node cluster with replicated streams, and checks that
// every acknowledged record is there, intact and without a hole.
func TestCrashCluster(t *testing.T) {
	url := os.Getenv(crashURLEnv)
	if url == "" { // the parent; the child inherits the variable
		c := natstest.StartCluster(t, 3)
		url = c.URL()
		t.Setenv(crashURLEnv, url)
	}
	n := 3
	if *long {
		n = 30
	}
	storetest.Crash(t, opener(url), n)
}

// TestClusterReplicas: on a cluster of three the default is three replicas.
func TestClusterReplicas(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	ctx := context.Background()
	s, err := jetstream.Dial(ctx, c.URL(), &jetstream.Options{Name: "replicas"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	j, _ := js.New(nc)
	for _, name := range []string{"replicas_log", "replicas_history", "KV_replicas_state", "KV_replicas_telemetry"} {
		st, err := j.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if r := st.CachedInfo().Config.Replicas; r != 3 {
			t.Fatalf("%s has %d replicas, want 3", name, r)
		}
	}
}

// TestClusterNodeKill SIGKILLs NATS nodes, one at a time, while writers on
// two connections (two gateway nodes) append to one R3 log, restarts them,
// and checks that no acknowledged record was lost and that the log has no
// hole and no record twice.
func TestClusterNodeKill(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	rounds := 3
	if *long {
		rounds = 12
	}
	ctx := context.Background()
	name := "kill"
	var stores []*jetstream.Store
	for i := range 2 {
		// Each "gateway" prefers a different server.
		url := c.Nodes[i].URL + "," + c.URL()
		s, err := jetstream.Dial(ctx, url, &jetstream.Options{Name: name, Timeout: 2 * time.Second,
			Config: store.Config{Log: store.LogConfig{TrimInterval: -1}}})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	var (
		mu      sync.Mutex
		acked   = map[uint64]int{} // seq → message number
		failed  int
		stop    = make(chan struct{})
		wg      sync.WaitGroup
		counter int
	)
	next := func(n int) int {
		mu.Lock()
		defer mu.Unlock()
		counter += n
		return counter - n
	}
	for w := range 8 {
		wg.Go(func() {
			l := stores[w%2].Log()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + w%5
				num := next(n)
				msgs := make([]protocol.Message, n)
				for i := range msgs {
					msgs[i] = storetest.Message(fmt.Sprintf("dev-%d", (num+i)%10), 1.7e9+float64(num+i), num+i)
				}
				first, err := l.Append(ctx, msgs)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					for i := range n {
						if _, dup := acked[first+uint64(i)]; dup {
							t.Errorf("seq %d acknowledged twice", first+uint64(i))
						}
						acked[first+uint64(i)] = num + i
					}
				}
				mu.Unlock()
			}
		})
	}
	ackedNow := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	for r := range rounds {
		victim := r % 3
		before := ackedNow()
		time.Sleep(300 * time.Millisecond)
		c.Kill(victim)
		time.Sleep(1500 * time.Millisecond) // appends go on (or retry) on the survivors
		c.Start(victim)
		c.WaitReady(30 * time.Second)
		// Kill the next node only once the restarted one has caught up,
		// or the streams lose their quorum: that is two failures at once.
		waitCurrent(t, c.URL(), name+"_log", name+"_history", "KV_"+name+"_state", "KV_"+name+"_telemetry")
		t.Logf("round %d: killed %s; %d acknowledged before, %d after", r, c.Nodes[victim].Name, before, ackedNow())
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if ackedNow() == 0 {
		t.Fatal("nothing was acknowledged")
	}
	// Read everything back through a fresh store.
	s, err := jetstream.Dial(ctx, c.URL(), &jetstream.Options{Name: name, Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := s.Log()
	var st store.LogStats
	for range 50 { // a restarted node may still be catching up
		if st, err = l.Stats(ctx); err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]uint64{}
	for seq := uint64(1); seq <= st.Last; {
		recs, err := l.Read(ctx, seq, 500)
		if err != nil {
			t.Fatalf("read at %d: %v", seq, err)
		}
		for _, r := range recs {
			if r.Seq != seq {
				t.Fatalf("hole: %d after %d", r.Seq, seq-1)
			}
			n, _ := r.Message.Int("test.n")
			if want, ok := acked[seq]; ok && int(n) != want {
				t.Fatalf("seq %d holds %d, %d was acknowledged", seq, n, want)
			}
			if prev, dup := seen[int(n)]; dup {
				t.Logf("message %d stored twice (seq %d and %d): an append retried after its answer was lost", n, prev, seq)
			}
			seen[int(n)] = seq
			seq++
		}
	}
	for seq := range acked {
		if seq > st.Last {
			t.Fatalf("acknowledged seq %d beyond the end %d", seq, st.Last)
		}
	}
	t.Logf("%d rounds: %d records acknowledged and verified, %d appends failed (not acknowledged), log of %d", rounds, len(acked), failed, st.Last)
	if err := errors.Join(); err != nil {
		t.Fatal(err)
	}
}

// waitCurrent waits until every replica of the named streams is current.
func waitCurrent(t *testing.T, url string, streams ...string) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	j, _ := js.New(nc)
	deadline := time.Now().Add(60 * time.Second)
	for _, name := range streams {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			st, err := j.Stream(ctx, name)
			cancel()
			ok := err == nil && st.CachedInfo().Cluster != nil && st.CachedInfo().Cluster.Leader != ""
			if ok {
				cl := st.CachedInfo().Cluster
				ok = len(cl.Replicas) == 2
				for _, r := range cl.Replicas {
					ok = ok && r.Current && !r.Offline
				}
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stream %s not current after a restart: %v", name, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}
