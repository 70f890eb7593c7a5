package idlepoll

import (
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
)

// ErrUnsupported: this platform has no poller for parked sockets.
var ErrUnsupported = errors.New("idlepoll: parking sockets is not supported on this platform")

var (
	errReleased    = errors.New("idlepoll: socket already released")
	errNotReleased = errors.New("idlepoll: socket not released")
)

// Socket states.
const (
	running = iota // the owner reads, or a wake function is about to
	parked         // in the poller, no goroutine
)

// A Socket is one connection's place in the poller. Its methods may be
// called from any goroutine.
type Socket struct {
	raw  syscall.RawConn // nil while released (Release)
	wake func()
	due  int64 // the deadline (WakeAt), under deadlines.mu

	mu      sync.Mutex // serialises Park, Stop, Release and Revive
	state   atomic.Int32
	slot    int32  // index in the poller's table; -1 once stopped
	gen     uint32 // the slot's generation, to ignore stale events
	hidx    int32  // 1 + index in the deadline heap; 0: no deadline (deadlines.mu)
	dupfd   int32  // 1 + the descriptor kept by Release; 0: none (the zero Socket holds none)
	watched bool   // the descriptor is in the epoll set
}

// For returns a Socket for the connection nc, whose wake function runs in a
// new goroutine after each Park once the socket is readable. nc must be a
// socket (it implements syscall.Conn: *net.TCPConn, *net.UnixConn, or a
// wrapper that passes its SyscallConn through). For returns nil when nc is
// not a socket or this platform has no poller: the caller then does not
// park.
func For(nc any, wake func()) *Socket {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := shared()
	if p == nil {
		return nil
	}
	s := &Socket{raw: raw, wake: wake}
	p.add(s)
	return s
}

// Park hands the socket to the poller until it is readable, hung up or in
// error, or until Wake or Stop is called; the wake function then runs in a
// new goroutine. The caller must have nothing buffered for the connection
// and, after Park returns true, must leave the connection alone: it belongs
// to the wake function, which may already be running. Park returns false
// when the socket was not parked (stopped, or the poller refused it): the
// caller keeps reading itself.
func (s *Socket) Park() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slot < 0 {
		return false
	}
	s.state.Store(parked)
	if err := sharedPoller.arm(s); err != nil {
		// Nobody can have woken it: Wake and Stop would have taken s.mu
		// (Stop) or found no event (the poller), except a Wake racing
		// with us, which already started the wake function.
		return !s.state.CompareAndSwap(parked, running)
	}
	return true
}

// Wake runs the wake function now if the socket is parked, and reports
// whether it did; a timer calls it when the owner's read deadline passes.
// A readiness event that arrives later is ignored unless the socket has
// been parked again.
func (s *Socket) Wake() bool {
	if s.state.CompareAndSwap(parked, running) {
		go s.wake()
		return true
	}
	return false
}

// Stop takes the socket out of the poller for good, waking its owner if it
// is parked; later calls to Park return false. Call it before closing the
// connection, so that the descriptor's number, once reused, cannot receive
// this socket's events. Stop may be called more than once.
func (s *Socket) Stop() {
	s.mu.Lock()
	if s.slot >= 0 {
		sharedPoller.remove(s)
	}
	if fd, ok := s.kept(); ok {
		closeFD(fd) // released: the socket is closed here
		s.dupfd = 0
	}
	s.mu.Unlock()
	s.WakeAt(0)
	s.Wake()
}

// kept returns the descriptor Release kept, if any; s.mu is held.
func (s *Socket) kept() (int, bool) { return int(s.dupfd) - 1, s.dupfd > 0 }

// Raw is the socket's syscall.RawConn, for an owner that reads it without
// waiting (one per connection: For has made it already); Revive changes
// it, and it is nil while the socket is released.
func (s *Socket) Raw() syscall.RawConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw
}

// Parked reports whether the socket is waiting in the poller.
func (s *Socket) Parked() bool { return s.state.Load() == parked }

// table is the poller's index of its sockets: an event carries a slot and
// its generation, never a pointer, so that the garbage collector and stale
// events stay out of the way.
type table struct {
	mu    sync.Mutex
	slots []*Socket
	gens  []uint32
	free  []int32
	n     int
}

func (t *table) add(s *Socket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if k := len(t.free); k > 0 {
		s.slot = t.free[k-1]
		t.free = t.free[:k-1]
	} else {
		s.slot = int32(len(t.slots))
		t.slots = append(t.slots, nil)
		t.gens = append(t.gens, 0)
	}
	t.slots[s.slot] = s
	s.gen = t.gens[s.slot]
	t.n++
}

// release frees s's slot; s.mu is held.
func (t *table) release(s *Socket) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.slots[s.slot] = nil
	t.gens[s.slot]++
	t.free = append(t.free, s.slot)
	s.slot = -1
	t.n--
}

// lookup returns the socket an event is for, nil if it is stale.
func (t *table) lookup(slot int32, gen uint32) *Socket {
	t.mu.Lock()
	defer t.mu.Unlock()
	if slot < 0 || int(slot) >= len(t.slots) || t.gens[slot] != gen {
		return nil
	}
	return t.slots[slot]
}

// Watched returns how many sockets are registered (created by For and not
// yet stopped); for tests and statistics.
func Watched() int {
	p := shared()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
