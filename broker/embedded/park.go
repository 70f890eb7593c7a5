package embedded

import (
	"errors"
	"net"
	"os"
	"time"
)

// This file lets an idle connection wait without a goroutine. When the
// read loop has consumed everything and a read that does not wait finds
// nothing more, the connection's socket is parked in the shared poller
// (internal/idlepoll) and the goroutine returns; when bytes arrive (or the
// peer hangs up, or the keep-alive deadline passes, or the server closes
// the connection) resume runs the read loop again in a new goroutine. An
// idle connection then holds no stack, no read buffer and no writer
// goroutine (writer.go starts one only while there is something to send):
// only its state. A TCP connection also releases its net.Conn while
// parked, keeping a duplicate of the descriptor in its idlepoll.Socket
// (releaseSocket): whoever needs the connection next — the woken reader,
// the writer with a delivery — makes a net.Conn again (netConn). That is
// ~600 B less per parked connection (net's descriptor and addresses, the
// runtime's poll descriptor) for a few system calls per park and wake. A
// connection that cannot be parked (any net.Conn that is not a socket nor
// over one, such as net.Pipe; a platform without a poller) keeps one
// goroutine waiting in the read loop, as before.
//
// Parking and waking cost more than waiting in Go's own poller (an
// epoll_ctl, a wake of the shared goroutine, a new goroutine): a busy
// connection would pay that after every burst, doubling the CPU a
// publisher with one message in flight costs. So a connection that has
// had a packet within Config.IdleParkAfter (d) first waits in Go's poller
// (a CONNECT, SUBSCRIBE or UNSUBSCRIBE does not count: a client usually
// goes quiet after them, and thousands subscribing at once would each hold
// a goroutine, its stack grown by the SUBSCRIBE, for d), with a read
// deadline d ahead, and parks only if nothing came. The
// deadline is moved only when less than d/2 of it is left, not before every
// wait (that cost a busy connection 6 % more CPU), so it stays in force
// while the following packets are read: a read that times out on it lifts
// it (liftParkDeadline) and reads again. A connection parks after between
// d/2 and d without a byte.

// parkable returns the socket whose readability tells that the connection
// has input: the connection itself, or the one under TLS, a WebSocket
// (websocket.go) or both, each of which answers a read with a deadline in
// the past from what it holds (input.fillNoWait).
func parkable(nc net.Conn) net.Conn {
	for {
		u, ok := nc.(interface{ NetConn() net.Conn }) // *tls.Conn, wsConn
		if !ok {
			return nc
		}
		nc = u.NetConn()
	}
}

// parkIdle is called by the read loop when everything read has been
// handled. It reads what has arrived without waiting; if nothing has, it
// parks the connection and reports parked: the goroutine must then return
// without touching the connection, which belongs to resume. parked is
// false, with no error, when there is input to handle or the connection
// could not be parked (it is closing): the read loop then reads as usual.
//
//go:noinline
func (c *conn) parkIdle() (parked bool, err error) {
	c.in.idle()
	d := int64(c.srv.lim.parkAfter)
	if now := c.srv.clock.Load(); now < c.lastPacket+d {
		if c.keepAlive > 0 && c.readDeadline < now+d {
			c.liftParkDeadline()
			return false, nil // the keep-alive deadline comes first: wait for it
		}
		// Recently active: wait in Go's poller first.
		if c.parkDeadline < now+d/2 {
			c.parkDeadline = now + d
			c.nc.SetReadDeadline(time.Unix(0, c.parkDeadline))
		}
		err := c.in.fill()
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
			return false, err
		}
	}
	c.liftParkDeadline()
	if err := c.in.fillNoWait(unixTime(c.readDeadline)); err != errWouldBlock {
		return false, err
	}
	if c.keepAlive > 0 {
		// Nobody reads a parked socket, so its read deadline would not
		// fire: the poller's shared deadline heap wakes the connection at
		// the deadline (no timer of its own), and the read loop's next read
		// then times out.
		if time.Until(unixTime(c.readDeadline)) <= 0 {
			return false, nil
		}
		c.park.WakeAt(c.readDeadline)
	}
	// The input holds nothing now: a parked connection gives it back, and
	// resume takes one; and its socket, if no writer is using it.
	c.in.release()
	c.in = nil
	if !c.keepSocket {
		c.releaseSocket(false)
	}
	if c.park.Park() {
		// A writer that went idle between the deferral above and Park
		// found the connection not parked yet and left the release to us.
		c.releaseDeferred()
		return true, nil
	}
	// Not parked: the connection is being closed.
	nc, err := c.netConn()
	if err != nil {
		return false, err
	}
	nc.SetReadDeadline(unixTime(c.readDeadline))
	c.in = newInput(nc)
	c.in.lift = c.liftParkDeadline
	return false, nil
}

// releaseSocket gives up the net.Conn of a TCP connection that parks
// (idlepoll's Release): its descriptor, addresses and the runtime's poll
// descriptor are ~600 B of what an idle connection costs. Not under TLS,
// whose state lives in the tls.Conn, and not while the writer is running
// (it takes the lock in netConn before each write, so the check holds).
// The reader calls it just before parking, and the writer when it goes
// idle while the reader is parked: a woken reader takes ncMu (netConn)
// before it touches nc again.
func (c *conn) releaseSocket(byWriter bool) {
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	if _, ok := c.nc.(*net.TCPConn); !ok || c.linger.Load() {
		return
	}
	if c.wstate.Load() != writerIdle {
		// Parking while the writer sends (the CONNACK, a SUBACK): it
		// releases the socket when it is done (releaseDeferred).
		c.releaseLater = true
		return
	}
	if byWriter && !c.park.Parked() {
		// Woken meanwhile: the reader may be using nc already.
		return
	}
	if c.park.Release(c.nc) == nil {
		c.nc = nil
	}
}

// keepSocketGap is how soon after its last packet a parked connection
// must wake for its socket to be kept at the next park: ten park delays,
// at most 10 s. A client that publishes more often than that keeps a
// net.Conn (~600 B) between its packets rather than pay ~40 µs of system
// calls per packet; one quieter than that releases it at each park, which
// costs it at most a few microseconds a second.
func keepSocketGap(parkAfter time.Duration) time.Duration {
	return min(10*parkAfter, 10*time.Second)
}

// releaseDeferred is called by the writer when it goes idle: if the
// reader parked while it was running, the socket is released now. Only
// then: a subscriber whose reader stays parked while deliveries come would
// otherwise pay a Revive and a Release per batch; its socket is released
// when its reader next parks. A reader that deferred the release but has
// not parked yet keeps the deferral, and calls this once parked: without
// that, a CONNACK written while its reader was on the way to parking left
// the socket held until the connection's next park.
func (c *conn) releaseDeferred() {
	c.ncMu.Lock()
	later := c.releaseLater
	if later && c.park.Parked() {
		c.releaseLater = false
	}
	c.ncMu.Unlock()
	if later {
		c.releaseSocket(true)
	}
}

// netConn returns the connection's net.Conn, making one again if a parked
// connection has released its socket; it fails once the connection is
// closed.
func (c *conn) netConn() (net.Conn, error) {
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	if c.nc == nil {
		nc, err := c.park.Revive()
		if err != nil {
			return nil, err
		}
		c.nc = nc
	}
	return c.nc, nil
}

// liftParkDeadline puts the keep-alive deadline (or none) back in place of
// the wait's; it reports whether there was one to lift.
func (c *conn) liftParkDeadline() bool {
	if c.parkDeadline == 0 {
		return false
	}
	c.parkDeadline = 0
	c.nc.SetReadDeadline(unixTime(c.readDeadline))
	return true
}

// resume is the parked connection's wake function: it runs the read loop
// again, in a new goroutine.
func (c *conn) resume() {
	se := c.sess.Load()
	// A client that talks again soon after parking (a publisher every few
	// seconds) keeps its socket at the next park: a Release and a Revive
	// per message would cost it more CPU than the message. Only a gap of
	// keepSocketGap or more lets it go again.
	// (Below the server clock's resolution the gap cannot be told: a
	// connection parked at once, as tests ask, always releases it.)
	gap := keepSocketGap(c.srv.lim.parkAfter)
	c.keepSocket = gap > clockTick && c.lastPacket != 0 && c.srv.clock.Load()-c.lastPacket < int64(gap)
	nc, err := c.netConn()
	if err != nil {
		// Closed while parked (or the socket could not be revived).
		c.finish(se, err)
		c.endHooks()
		c.served()
		return
	}
	// A socket revived after Release (here or by the writer) is a new
	// net.Conn: the keep-alive deadline goes on it again.
	nc.SetReadDeadline(unixTime(c.readDeadline))
	c.in = newInput(nc)
	c.in.lift = c.liftParkDeadline
	if c.run(se) {
		c.served()
	}
}
