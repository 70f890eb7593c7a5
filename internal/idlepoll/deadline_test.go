package idlepoll

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeParked returns a Socket outside any poller, parked, whose wake
// function records when it ran: the deadline heap needs nothing else.
func fakeParked(woken func(*Socket)) *Socket {
	s := &Socket{slot: -1}
	s.wake = func() { woken(s) }
	s.state.Store(parked)
	return s
}

// checkHeap verifies the heap order and every socket's index.
func checkHeap(t *testing.T) {
	t.Helper()
	deadlines.mu.Lock()
	defer deadlines.mu.Unlock()
	for i, s := range deadlines.h {
		if int(s.hidx) != i+1 {
			t.Fatalf("heap[%d].hidx = %d", i, s.hidx)
		}
		if i > 0 && deadlines.h[(i-1)/2].due > s.due {
			t.Fatalf("heap order broken at %d", i)
		}
	}
}

func TestWakeAtFiresAtTheDeadline(t *testing.T) {
	before := pendingDeadlines()
	woken := make(chan time.Time, 1)
	s := fakeParked(func(*Socket) { woken <- time.Now() })
	start := time.Now()
	due := start.Add(60 * time.Millisecond)
	s.WakeAt(due.UnixNano())
	select {
	case at := <-woken:
		if at.Before(due) {
			t.Fatalf("woken %v before the deadline", due.Sub(at))
		}
		if late := at.Sub(due); late > 500*time.Millisecond {
			t.Fatalf("woken %v after the deadline", late)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not woken at the deadline")
	}
	if got := pendingDeadlines(); got != before {
		t.Fatalf("%d deadlines pending after firing, want %d", got, before)
	}
}

func TestWakeAtMovedAndCancelled(t *testing.T) {
	var mu sync.Mutex
	when := map[*Socket]time.Time{}
	note := func(s *Socket) { mu.Lock(); when[s] = time.Now(); mu.Unlock() }
	now := time.Now()
	later := fakeParked(note)   // set early, then moved later
	earlier := fakeParked(note) // set late, then moved earlier
	gone := fakeParked(note)    // set, then cancelled
	stopped := fakeParked(note) // set, then stopped
	later.WakeAt(now.Add(30 * time.Millisecond).UnixNano())
	earlier.WakeAt(now.Add(time.Hour).UnixNano())
	gone.WakeAt(now.Add(40 * time.Millisecond).UnixNano())
	stopped.WakeAt(now.Add(40 * time.Millisecond).UnixNano())
	later.WakeAt(now.Add(250 * time.Millisecond).UnixNano())
	earlier.WakeAt(now.Add(50 * time.Millisecond).UnixNano())
	gone.WakeAt(0)
	stopped.Stop() // wakes it now, and the deadline must not again
	checkHeap(t)
	time.Sleep(150 * time.Millisecond)
	mu.Lock()
	_, l := when[later]
	e, ok := when[earlier]
	st := when[stopped]
	mu.Unlock()
	if l {
		t.Fatal("woken at the deadline it had before being moved later")
	}
	if !ok || e.Before(now.Add(50*time.Millisecond)) {
		t.Fatalf("deadline moved earlier: woken %v (ok %v)", e.Sub(now), ok)
	}
	stopped.state.Store(parked) // as if parked again: its old deadline must be gone
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if at, ok := when[later]; !ok || at.Before(now.Add(250*time.Millisecond)) {
		t.Fatalf("deadline moved later: woken %v (ok %v)", at.Sub(now), ok)
	}
	if _, ok := when[gone]; ok {
		t.Fatal("cancelled deadline fired")
	}
	if when[stopped] != st {
		t.Fatal("deadline of a stopped socket fired")
	}
}

// TestWakeAtMany gives thousands of sockets deadlines, moves and cancels
// some from many goroutines, and checks that each is woken exactly once,
// never before its final deadline, and the cancelled ones never.
func TestWakeAtMany(t *testing.T) {
	const n = 5000
	type rec struct {
		due    atomic.Int64
		wakes  atomic.Int32
		wokeAt atomic.Int64
	}
	recs := make([]rec, n)
	socks := make([]*Socket, n)
	var wg sync.WaitGroup
	var pending sync.WaitGroup
	for i := range socks {
		socks[i] = fakeParked(func(*Socket) {
			recs[i].wokeAt.Store(time.Now().UnixNano())
			recs[i].wakes.Add(1)
			pending.Done()
		})
	}
	start := time.Now().UnixNano()
	const workers = 8
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := w; i < n; i += workers {
				// The deadline that stands is recorded before it is set:
				// it may fire before this loop goes on.
				d := start + int64(20*time.Millisecond) + r.Int64N(int64(400*time.Millisecond))
				switch i % 4 {
				case 1: // moved
					moved := start + int64(20*time.Millisecond) + r.Int64N(int64(400*time.Millisecond))
					// First set far enough ahead that it cannot fire
					// before it is moved, however slowly this loop runs
					// (-race, a loaded machine).
					socks[i].WakeAt(d + int64(3*time.Second))
					recs[i].due.Store(moved)
					pending.Add(1)
					socks[i].WakeAt(moved)
				case 2: // cancelled
					socks[i].WakeAt(d + int64(3*time.Second))
					socks[i].WakeAt(0)
				default:
					recs[i].due.Store(d)
					pending.Add(1)
					socks[i].WakeAt(d)
				}
			}
		}()
	}
	wg.Wait()
	checkHeap(t)
	done := make(chan struct{})
	go func() { pending.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every deadline fired")
	}
	time.Sleep(50 * time.Millisecond)
	for i := range recs {
		r := &recs[i]
		due := r.due.Load()
		switch {
		case due == 0 && r.wakes.Load() != 0:
			t.Fatalf("socket %d: cancelled deadline fired", i)
		case due != 0 && r.wakes.Load() != 1:
			t.Fatalf("socket %d: woken %d times", i, r.wakes.Load())
		case due != 0 && r.wokeAt.Load() < due:
			t.Fatalf("socket %d: woken %v early", i, time.Duration(due-r.wokeAt.Load()))
		}
	}
	for i := range socks {
		socks[i].WakeAt(0)
	}
	checkHeap(t)
}

// TestWakeAtParkedSocket: a real parked socket whose deadline passes is
// woken with nothing to read; Stop removes a deadline not yet due.
func TestWakeAtParkedSocket(t *testing.T) {
	supported(t)
	srv, _ := pair(t)
	woken := make(chan time.Time, 2)
	s := For(srv, func() { woken <- time.Now() })
	before := pendingDeadlines()
	due := time.Now().Add(50 * time.Millisecond)
	s.WakeAt(due.UnixNano())
	if !s.Park() {
		t.Fatal("Park refused")
	}
	select {
	case at := <-woken:
		if at.Before(due) {
			t.Fatal("woken before the deadline")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("deadline did not wake the parked socket")
	}
	s.WakeAt(time.Now().Add(time.Hour).UnixNano())
	if pendingDeadlines() != before+1 {
		t.Fatal("deadline not pending")
	}
	if !s.Park() {
		t.Fatal("Park refused")
	}
	s.Stop()
	waitWoken2(t, woken)
	if pendingDeadlines() != before {
		t.Fatal("Stop left the deadline in the heap")
	}
}

// BenchmarkWakeAt: moving a deadline among 10,000 others, what a
// connection does each time it parks.
func BenchmarkWakeAt(b *testing.B) {
	others := make([]*Socket, 10000)
	base := time.Now().Add(time.Hour).UnixNano()
	for i := range others {
		others[i] = fakeParked(func(*Socket) {})
		others[i].WakeAt(base + int64(i)*int64(time.Millisecond))
	}
	s := fakeParked(func(*Socket) {})
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		s.WakeAt(base + (i%20000)*int64(time.Millisecond))
	}
	s.WakeAt(0)
	for _, o := range others {
		o.WakeAt(0)
	}
}

func waitWoken2(t *testing.T, woken chan time.Time) {
	t.Helper()
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not wake the parked socket")
	}
}
