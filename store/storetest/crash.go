package storetest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// crashEnv names the directory a re-executed test binary appends to.
const crashEnv = "GNSSGATE_STORETEST_CRASH_DIR"

// Crash is the kill test for durable engines. It re-executes the test binary
// (running only the calling test) as a child that appends from several
// goroutines and prints every acknowledged batch and committed cursor; the
// parent kills it with SIGKILL after a random number of acknowledgements,
// reopens the directory and checks that every acknowledged message is there,
// intact, that the whole log decodes, that the cursor is not behind what was
// acknowledged, and that new appends get fresh sequence numbers. It repeats
// this iterations times on the same directory, so recovery runs on top of
// recovered data.
//
// The calling test must call Crash unconditionally (the child runs the same
// test). Unix only.
func Crash(t *testing.T, open Opener, iterations int) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(t, open, dir) // never returns
	}
	dir := t.TempDir()
	pattern := make([]string, 0, 4)
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	acked := map[uint64]int{} // seq → message number, over all iterations
	var lastCommit uint64
	for it := range iterations {
		want := 20 + rand.IntN(400) // acknowledgements before the kill
		cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(pattern, "/"), "-test.count=1", "-test.v=false")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		got := 0
		for got < want && sc.Scan() {
			var first, n uint64
			var num int
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "ACK "):
				if _, err := fmt.Sscanf(line, "ACK %d %d %d", &first, &n, &num); err != nil {
					t.Fatalf("child printed %q: %v", line, err)
				}
				for i := range n {
					acked[first+i] = num + int(i)
				}
				got++
			case strings.HasPrefix(line, "COMMIT "):
				if _, err := fmt.Sscanf(line, "COMMIT %d", &first); err != nil {
					t.Fatalf("child printed %q: %v", line, err)
				}
				lastCommit = max(lastCommit, first)
			}
		}
		// Kill mid-stream: appends are in flight right now.
		cmd.Process.Signal(syscall.SIGKILL)
		go func() { // drain so the child never blocks on a full pipe
			for sc.Scan() {
			}
		}()
		cmd.Wait()
		if got < want {
			t.Fatalf("iteration %d: child stopped after %d acknowledgements", it, got)
		}
		verifyAfterCrash(t, open, dir, acked, lastCommit, it)
	}
	t.Logf("%d kill iterations, %d acknowledged messages verified", iterations, len(acked))
}

func verifyAfterCrash(t *testing.T, open Opener, dir string, acked map[uint64]int, lastCommit uint64, it int) {
	t.Helper()
	ctx := ctxT(t)
	s := open(t, dir, store.Config{Log: store.LogConfig{TrimInterval: -1}})
	defer s.Close()
	l := s.Log()
	st := check(l.Stats(ctx))(t)
	if st.First != 1 {
		t.Fatalf("iteration %d: log starts at %d", it, st.First)
	}
	var maxAcked uint64
	for seq := range acked {
		maxAcked = max(maxAcked, seq)
	}
	if st.Last < maxAcked {
		t.Fatalf("iteration %d: log ends at %d, but %d was acknowledged", it, st.Last, maxAcked)
	}
	// Every record decodes, in order, with no gap; acknowledged ones are intact.
	next := uint64(1)
	for next <= st.Last {
		recs, err := l.Read(ctx, next, 1000)
		if err != nil {
			t.Fatalf("iteration %d: reading at %d: %v", it, next, err)
		}
		if len(recs) == 0 {
			t.Fatalf("iteration %d: nothing at %d of %d", it, next, st.Last)
		}
		for _, r := range recs {
			if r.Seq != next {
				t.Fatalf("iteration %d: gap: %d after %d", it, r.Seq, next-1)
			}
			n := msgN(&r.Message)
			if num, ok := acked[r.Seq]; ok && n != num {
				t.Fatalf("iteration %d: seq %d holds message %d, %d was acknowledged", it, r.Seq, n, num)
			}
			want := Message(fmt.Sprintf("dev-%d", n%10), 1.7e9+float64(n), n)
			sameMessage(t, &r.Message, &want, fmt.Sprintf("iteration %d: seq %d", it, r.Seq))
			next++
		}
	}
	if lastCommit > 0 {
		c, err := l.Cursor(ctx, "crash")
		if err != nil || c < lastCommit {
			t.Fatalf("iteration %d: cursor %d, %v; %d was committed", it, c, err, lastCommit)
		}
	}
	// Sequence numbers are never reused: not even those of batches lost
	// unacknowledged.
	if first := check(l.Append(ctx, []protocol.Message{Message("dev-7", 1.7e9+7, 7)}))(t); first != st.Last+1 {
		t.Fatalf("iteration %d: append after recovery at %d, want %d", it, first, st.Last+1)
	}
}

// crashChild appends until killed, printing what was acknowledged.
func crashChild(t *testing.T, open Opener, dir string) {
	s := open(t, dir, store.Config{Log: store.LogConfig{TrimInterval: -1}})
	l := s.Log()
	ctx := context.Background()
	var out sync.Mutex
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		out.Lock()
		os.Stdout.WriteString(line) // one write per line: nothing interleaves
		out.Unlock()
	}
	// Message numbers continue from earlier runs so that every message
	// in the directory is distinct.
	base := int(time.Now().UnixNano() % 1e9 / 1000 * 1000)
	const writers = 8
	for w := range writers {
		go func() {
			num := base + w*1_000_000
			for {
				n := 1 + rand.IntN(20)
				msgs := make([]protocol.Message, n)
				for i := range msgs {
					msgs[i] = Message(fmt.Sprintf("dev-%d", (num+i)%10), 1.7e9+float64(num+i), num+i)
				}
				first, err := l.Append(ctx, msgs)
				if err != nil {
					say("ERR %v\n", err)
					os.Exit(3)
				}
				say("ACK %d %d %d\n", first, n, num)
				num += n
			}
		}()
	}
	go func() {
		for {
			time.Sleep(2 * time.Millisecond)
			st, err := l.Stats(ctx)
			if err != nil || st.Last == 0 {
				continue
			}
			if err := l.Commit(ctx, "crash", st.Last+1); err == nil {
				say("COMMIT %d\n", st.Last+1)
			}
		}
	}()
	select {} // until SIGKILL
}
