package channel

import (
	"errors"
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
	return c.park.Park()
}

// resume is the parked connection's wake function: it runs the read loop
// again, in a new goroutine.
func (c *Conn) resume() { c.run() }
