package channel

import (
	"errors"
	"net"
	"sync"
	"time"
)

// This file lets an idle TCP connection wait without a goroutine, as
// broker/embedded's connections do. A connection that has had no bytes for
// Server.IdleParkAfter, with no partial frame held, gives its read buffer
// back to the pool, drops the decoder's storage, and parks its socket in the
// shared poller (internal/idlepoll); its goroutine returns. When bytes
// arrive (or the peer hangs up, or its idle or login deadline comes, or the
// server shuts it down) resume runs the read loop again in a new goroutine,
// which reads what arrived without waiting, and parks again if nothing did.
// An idle connection then holds no stack and no buffer: only its state.
//
// Parking and waking cost more than a wait in Go's own poller, so a
// connection first waits there, with a read deadline at the park delay,
// and parks only if nothing came: a busy tracker never parks.

var readPool = sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}

// errWouldBlock: readNoWait found nothing to read.
var errWouldBlock = errors.New("channel: nothing to read")

// readBuf returns the connection's read buffer, taking one from the pool
// if it holds none.
func (c *Conn) readBuf() []byte {
	if c.rbuf == nil {
		c.rbuf = readPool.Get().(*[]byte)
	}
	return *c.rbuf
}

func (c *Conn) putReadBuf() {
	if c.rbuf != nil {
		readPool.Put(c.rbuf)
		c.rbuf = nil
	}
}

// parkIdle parks the connection, which has nothing buffered, until bytes
// arrive or dl (its idle or login deadline; zero for none) passes, and
// reports whether it did: the goroutine must then return without touching
// the connection, which belongs to resume. false means the connection is
// being closed, or dl has passed: the caller reads as usual.
func (c *Conn) parkIdle(dl time.Time) bool {
	c.putReadBuf()
	c.dec.Release()
	if dl.IsZero() {
		c.park.WakeAt(0)
	} else {
		// Nobody reads a parked socket, so its read deadline would not
		// fire: the poller's shared deadline heap wakes the connection (no
		// timer of its own), whose next read then times out.
		if time.Until(dl) <= 0 {
			return false
		}
		c.park.WakeAt(dl.UnixNano())
	}
	if !c.keepSocket {
		c.releaseSocket()
	}
	return c.park.Park()
}

// releaseSocket gives up the net.Conn of a connection about to park,
// keeping its descriptor in the idlepoll.Socket (Release): net's
// descriptor and addresses and the runtime's poll descriptor are ~600 B of
// what a parked connection costs. A write in progress (a command) is
// waited for; later writes, and the woken reader, make a net.Conn again
// (netConn), for a few system calls.
func (c *Conn) releaseSocket() {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	if c.nc != nil && c.park.Release(c.nc) == nil {
		c.nc, c.raw = nil, nil
	}
}

// keepSocketGap is how soon after its last bytes a parked connection must
// wake for its socket to be kept at the next park: ten park delays, at
// most 10 s. A device reporting more often than that keeps a net.Conn
// (~600 B) between its reports rather than pay ~40 µs of system calls per
// report; a quieter one releases it at each park, which costs it at most a
// few microseconds a second.
func keepSocketGap(parkAfter time.Duration) time.Duration {
	return min(10*parkAfter, 10*time.Second)
}

// netConn returns the TCP connection, making a net.Conn again if a parked
// connection has released its socket; it fails once the connection is
// closed.
func (c *Conn) netConn() (net.Conn, error) {
	c.ncMu.Lock()
	defer c.ncMu.Unlock()
	if c.nc == nil {
		if c.park == nil {
			return nil, ErrConnClosed
		}
		nc, err := c.park.Revive()
		if err != nil {
			return nil, err
		}
		c.nc = nc
	}
	return c.nc, nil
}

// reacquire is the reader's netConn: after a wake, or a park that did not
// happen, it takes the connection (a new one if its socket was released,
// by now or by a writer meanwhile) and the RawConn readNoWait reads.
func (c *Conn) reacquire() error {
	if _, err := c.netConn(); err != nil {
		return err
	}
	c.raw = c.park.Raw()
	return nil
}

// resume is the parked connection's wake function: it runs the read loop
// again, in a new goroutine.
func (c *Conn) resume() {
	// A device that reports again soon after parking keeps its socket at
	// the next park: a Release and a Revive per message would cost it more
	// CPU than the message. Only a gap of keepSocketGap or more lets it go
	// again.
	c.keepSocket = time.Since(c.idleFrom) < keepSocketGap(c.srv.parkAfter())
	if err := c.reacquire(); err != nil {
		if !c.closed.Load() {
			c.fail(err)
		}
		c.srv.endConn(c)
		return
	}
	c.run()
}
