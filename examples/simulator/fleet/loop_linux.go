//go:build linux

package fleet

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

// The event loops: on Linux the TCP devices are not a goroutine each but
// the state of one epoll loop among a few (one per devicesPerLoop, at most
// GOMAXPROCS). A device does what runDevice does, step for step (each
// method below names the part of runDevice, deliver or connect it is),
// with its socket in the loop's epoll set and its next deadline (next
// packet, ACK timeout, reconnect pause) in the loop's timer heap. A
// goroutine per device costs two goroutine wake-ups per packet (the
// timer, the reply) and the scheduler's work around them; here one
// epoll_wait serves every reply that arrived meanwhile, and a packet costs
// about its write and its read. UDP devices stay goroutines.

// devicesPerLoop is how many devices one loop is given before a second
// runs: one loop keeps up with tens of thousands of packets a second.
const devicesPerLoop = 5000

// useLoops is false in tests of the goroutine engine.
var useLoops = true

// loopState is what a loop device is waiting for.
type loopState uint8

const (
	waitNext    loopState = iota // the next packet's time (or the start)
	waitPause                    // the end of the pause before reconnecting
	waitConnect                  // the connection, up to a timeout
	waitLogin                    // the login's reply, up to a timeout
	waitAck                      // the packet's reply, up to a timeout
	finished
)

// loopDev is a device of an event loop.
type loopDev struct {
	*dev
	l        *loop
	idx      int32 // in l.devs: the epoll events' data, with gen
	fd       int   // -1: no connection
	gen      int32 // connections made: an event of an earlier one is ignored
	state    loopState
	due      time.Time // when the state times out
	hi       int       // index in the loop's heap; -1 when not in it
	next     time.Time // runDevice's next
	try      int       // connect's login try
	readable bool      // the socket has had data since it was last read dry
}

type loop struct {
	s     *sim
	ctx   context.Context
	ep    int
	wake  int // eventfd, written when ctx ends
	sa    unix.Sockaddr
	raddr net.Addr
	fam   int
	devs  []*loopDev
	live  int
	timer timerHeap
}

// runLoops runs the TCP fleet in event loops; false, having run nothing,
// when the address or the system does not allow it.
func (s *sim) runLoops(ctx context.Context) bool {
	c := s.cfg
	if !useLoops || c.network != "tcp" {
		return false
	}
	ra, err := net.ResolveTCPAddr("tcp", c.Addr)
	if err != nil || ra.Zone != "" {
		return false // the goroutines report the dial errors
	}
	var sa unix.Sockaddr
	fam := unix.AF_INET
	if ip4 := ra.IP.To4(); ip4 != nil {
		sa = &unix.SockaddrInet4{Port: ra.Port, Addr: [4]byte(ip4)}
	} else {
		fam = unix.AF_INET6
		sa = &unix.SockaddrInet6{Port: ra.Port, Addr: [16]byte(ra.IP.To16())}
	}
	n := min(max((c.Devices+devicesPerLoop-1)/devicesPerLoop, 1), runtime.GOMAXPROCS(0))
	loops := make([]*loop, n)
	for i := range loops {
		l := &loop{s: s, ctx: ctx, ep: -1, wake: -1, sa: sa, raddr: ra, fam: fam}
		if l.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err == nil {
			l.wake, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		}
		if err == nil {
			err = unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, l.wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1})
		}
		loops[i] = l
		if err != nil {
			for _, l := range loops[:i+1] {
				l.close()
			}
			return false
		}
	}
	for i := range c.Devices {
		l := loops[i%n]
		sess, err := device.New(c.Protocol, device.IMEI(c.IdentBase+uint64(i)), c.opts)
		if err != nil { // resolve checked the options with one ident; another cannot fail
			s.fail(i, "config", err)
			continue
		}
		d, start := s.newDev(i, sess)
		e := &loopDev{dev: d, l: l, idx: int32(len(l.devs)), fd: -1, hi: -1, next: start}
		d.closeConn = e.closeFD
		l.devs = append(l.devs, e)
		l.live++
		e.sleep(start, waitNext)
	}
	stop := context.AfterFunc(ctx, func() {
		for _, l := range loops {
			unix.Write(l.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
		}
	})
	defer stop()
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(l.run)
	}
	wg.Wait()
	return true
}

func (l *loop) close() {
	if l.ep >= 0 {
		unix.Close(l.ep)
	}
	if l.wake >= 0 {
		unix.Close(l.wake)
	}
}

// run serves the loop's devices until each has finished or ctx ends.
func (l *loop) run() {
	defer l.close()
	events := make([]unix.EpollEvent, 512)
	for l.live > 0 && l.ctx.Err() == nil {
		msec := -1
		if len(l.timer) > 0 {
			// epoll_wait counts milliseconds: a deadline is met up to 1 ms
			// late, never early.
			wait := time.Until(l.timer[0].due)
			msec = max(0, int((wait+time.Millisecond-1)/time.Millisecond))
		}
		n, err := unix.EpollWait(l.ep, events, msec)
		if err != nil && !errors.Is(err, unix.EINTR) {
			l.s.fail(0, "event loop", os.NewSyscallError("epoll_wait", err))
			break
		}
		// The replies read now arrived before this instant: it is their
		// ACK time, up to the time it takes to handle those before them.
		now := time.Now()
		for _, ev := range events[:max(n, 0)] {
			if ev.Fd < 0 || int(ev.Fd) >= len(l.devs) {
				continue // the wake-up: ctx ended
			}
			if e := l.devs[ev.Fd]; e.fd >= 0 && e.gen == ev.Pad {
				e.event(ev.Events, now)
			}
		}
		now = time.Now()
		for len(l.timer) > 0 && !l.timer[0].due.After(now) {
			e := heap.Pop(&l.timer).(*loopDev)
			e.expired()
		}
	}
	for _, e := range l.devs {
		e.closeFD()
	}
}

// sleep waits until t in state st.
func (e *loopDev) sleep(t time.Time, st loopState) {
	e.state = st
	e.due = t
	if e.hi >= 0 {
		heap.Fix(&e.l.timer, e.hi)
	} else {
		heap.Push(&e.l.timer, e)
	}
}

func (e *loopDev) finish() {
	e.state = finished
	if e.hi >= 0 {
		heap.Remove(&e.l.timer, e.hi)
	}
	e.closeFD()
	e.l.live--
}

// expired is called when e's deadline has come.
func (e *loopDev) expired() {
	d, s, c := e.dev, e.dev.s, e.dev.s.cfg
	switch e.state {
	case waitNext:
		e.nextPacket()
	case waitPause:
		e.deliver()
	case waitConnect:
		e.connectFailed(&net.OpError{Op: "dial", Net: "tcp", Addr: e.l.raddr, Err: os.ErrDeadlineExceeded})
	case waitLogin:
		if e.readable { // what came before the deadline counts
			if e.poll(time.Now()) {
				return
			}
		}
		s.fail(d.n, "login timeout", errTimeout)
		if e.try < c.Retries {
			e.try++
			e.sendLogin()
			return
		}
		e.pause()
	case waitAck:
		if e.readable {
			if e.poll(time.Now()) {
				return
			}
		}
		s.fail(d.n, "ack timeout", errTimeout)
		if d.onConn > c.Retries { // resent enough on this connection: reconnect
			e.pause()
			return
		}
		e.deliver()
	}
}

// nextPacket is runDevice's loop: the next packet when it is due, then
// its delivery.
func (e *loopDev) nextPacket() {
	d, s := e.dev, e.dev.s
	if !d.pending {
		if !e.next.Before(s.end) {
			e.finish()
			return
		}
		if time.Now().Before(e.next) {
			e.sleep(e.next, waitNext)
			return
		}
		if err := d.make(e.next); err != nil {
			s.fail(d.n, "config", err)
			e.finish()
			return
		}
		e.next = e.next.Add(s.cfg.period)
	}
	e.deliver()
}

// deliver is the top of deliver's loop.
func (e *loopDev) deliver() {
	s := e.dev.s
	if e.l.ctx.Err() != nil || time.Now().After(s.giveUp) {
		e.finish()
		return
	}
	if e.fd < 0 {
		e.connect()
		return
	}
	e.send()
}

// send is the rest of deliver's loop: (re)send the packet and wait for its
// reply.
func (e *loopDev) send() {
	d, s := e.dev, e.dev.s
	if d.onConn == 0 && d.collides(d.pkt.Ack) {
		d.drop()
		e.deliver()
		return
	}
	if d.sends > 0 {
		if err := d.sess.Data(&d.pkt, d.pts, true); err != nil {
			s.fail(d.n, "config", err)
			e.finish()
			return
		}
		s.resent.Add(1)
	}
	sentAt := time.Now()
	if err := e.write(d.pkt.Bytes); err != nil {
		s.fail(d.n, "write", err)
		e.pause()
		return
	}
	d.sentPacket(sentAt)
	e.await(waitAck)
}

// pause closes the connection and waits before the device reconnects.
func (e *loopDev) pause() {
	e.dev.drop()
	e.sleep(time.Now().Add(e.reconnectDelay()), waitPause)
}

// connect starts a non-blocking connect; its end comes as an event.
func (e *loopDev) connect() {
	l := e.l
	fd, err := unix.Socket(l.fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		e.connectFailed(&net.OpError{Op: "dial", Net: "tcp", Addr: l.raddr, Err: os.NewSyscallError("socket", err)})
		return
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)   // as net.Dial does
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) // the replies' arrival times
	if err := unix.Connect(fd, l.sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		e.connectFailed(&net.OpError{Op: "dial", Net: "tcp", Addr: l.raddr, Err: os.NewSyscallError("connect", err)})
		return
	}
	e.gen++
	// Edge-triggered: an event per arrival, none for data left unread
	// (read when the device waits for a reply) or for send space.
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: e.idx, Pad: e.gen}
	if err := unix.EpollCtl(l.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		e.connectFailed(&net.OpError{Op: "dial", Net: "tcp", Addr: l.raddr, Err: os.NewSyscallError("epoll_ctl", err)})
		return
	}
	e.fd = fd
	e.readable = false
	e.sleep(time.Now().Add(e.s.cfg.AckTimeout), waitConnect)
}

// connectFailed is connect's failed dial.
func (e *loopDev) connectFailed(err error) {
	e.closeFD()
	if e.l.ctx.Err() == nil {
		e.s.fail(e.n, "dial", err)
	}
	e.pause()
}

// connected is connect after the dial: count it, log in.
func (e *loopDev) connected() {
	d, s := e.dev, e.dev.s
	// Connected: from now on only arrivals matter.
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: e.idx, Pad: e.gen}
	unix.EpollCtl(e.l.ep, unix.EPOLL_CTL_MOD, e.fd, &ev)
	if d.dialed {
		s.reconnects.Add(1)
	}
	d.dialed = true
	d.in, d.onConn, d.stale, d.expect = d.in[:0], 0, d.stale[:0], d.expect[:0]
	e.try = 0
	e.sendLogin()
}

// sendLogin is one try of connect's login loop.
func (e *loopDev) sendLogin() {
	d, s := e.dev, e.dev.s
	if !d.sess.Login(&d.login) {
		e.send()
		return
	}
	if err := e.write(d.login.Bytes); err != nil {
		s.fail(d.n, "write", err)
		e.pause()
		return
	}
	d.expect = append(d.expect, append([]byte(nil), d.login.Ack...))
	e.await(waitLogin)
}

// await waits for the reply to what was just sent, first among what has
// arrived already.
func (e *loopDev) await(st loopState) {
	e.sleep(e.ackBy(), st)
	if len(e.in) > 0 || e.readable {
		e.poll(time.Now())
	}
}

// event handles what epoll reported for e's socket.
func (e *loopDev) event(ev uint32, now time.Time) {
	if e.state == waitConnect {
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		if errno, err := unix.GetsockoptInt(e.fd, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || errno != 0 {
			if err == nil {
				err = unix.Errno(errno)
			}
			e.connectFailed(&net.OpError{Op: "dial", Net: "tcp", Addr: e.l.raddr, Err: os.NewSyscallError("connect", err)})
			return
		}
		e.connected()
		if ev&(unix.EPOLLIN|unix.EPOLLRDHUP) != 0 {
			e.readable = true
			if e.state == waitLogin || e.state == waitAck {
				e.poll(now)
			}
		}
		return
	}
	e.readable = true
	if e.state == waitLogin || e.state == waitAck {
		e.poll(now)
	}
}

// poll is await's reading: the replies received, then the socket until
// it is dry. It reports whether the wait ended.
func (e *loopDev) poll(now time.Time) bool {
	d := e.dev
	want := d.pkt.Ack
	if e.state == waitLogin {
		want = d.login.Ack
	}
	for {
		for len(d.in) > 0 {
			n, r, err := d.sess.SplitReply(d.in, want)
			if err != nil {
				e.failed(fmt.Errorf("%w: %v", errUnexpected, err))
				return true
			}
			if n == 0 {
				break
			}
			d.in = d.in[n:] // r stays intact until the next read
			ack, skip := d.isAck(r)
			if ack {
				e.replied(r, now)
				return true
			}
			if !skip {
				e.failed(fmt.Errorf("%w % x (waiting for % x)", errUnexpected, r, want))
				return true
			}
		}
		if !e.readable {
			return false
		}
		if len(d.in) == 0 {
			d.in = d.base[:0]
		}
		if len(d.in) == cap(d.in) {
			d.in = append(d.in, 0)[:len(d.in)]
		}
		room := cap(d.in) - len(d.in)
		n, err := unix.Read(e.fd, d.in[len(d.in):cap(d.in)])
		switch {
		case errors.Is(err, unix.EAGAIN):
			e.readable = false
			return false
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			e.failed(&net.OpError{Op: "read", Net: "tcp", Addr: e.l.raddr, Err: os.NewSyscallError("read", err)})
			return true
		case n == 0:
			e.failed(io.EOF)
			return true
		}
		d.in = d.in[:len(d.in)+n]
		if n < room { // read dry: the next arrival is a new event
			e.readable = false
		}
	}
}

// replied is the reply awaited.
func (e *loopDev) replied(r []byte, now time.Time) {
	d, s := e.dev, e.dev.s
	if e.state == waitLogin {
		d.settle(r)
		if !d.connected {
			d.connected = true
			s.connected.Add(1)
		}
		e.send()
		return
	}
	d.acknowledgedAt(r, now)
	// runDevice: packets that fell due while the device waited are not
	// made.
	for now := time.Now(); !e.next.After(now); e.next = e.next.Add(s.cfg.period) {
		s.late.Add(1)
	}
	e.nextPacket()
}

// failed is an await that ended in an error other than a timeout.
func (e *loopDev) failed(err error) {
	d, s := e.dev, e.dev.s
	if e.state == waitLogin {
		if errors.Is(err, errUnexpected) {
			s.fail(d.n, "login rejected", err)
		} else {
			s.fail(d.n, "login "+kindOf(err), err)
		}
		e.pause()
		return
	}
	s.fail(d.n, kindOf(err), err)
	e.pause()
}

// write writes b whole: a device has at most a few packets unacknowledged
// on its connection, far below the socket's buffer, so a write that
// would block counts as failed like a blocking write that timed out.
func (e *loopDev) write(b []byte) error {
	for {
		n, err := unix.Write(e.fd, b)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err == nil && n < len(b) {
			err = unix.EAGAIN
		}
		if err != nil {
			return &net.OpError{Op: "write", Net: "tcp", Addr: e.l.raddr, Err: os.NewSyscallError("write", err)}
		}
		return nil
	}
}

// closeFD closes the connection (closing removes it from the epoll set).
func (e *loopDev) closeFD() {
	if e.fd >= 0 {
		unix.Close(e.fd)
		e.fd = -1
		e.readable = false
	}
}

// timerHeap orders a loop's waiting devices by deadline.
type timerHeap []*loopDev

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hi, h[j].hi = i, j
}
func (h *timerHeap) Push(x any) {
	e := x.(*loopDev)
	e.hi = len(*h)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.hi = -1
	return e
}
