package fdlimit

import (
	"net"
	"sync"
	"sync/atomic"
	"syscall"
)

// Budget shares a number of accepted connections among listeners. A
// server holds a socket per device, and its database opens files too,
// from the same per-process limit: once sockets have taken every file, the
// database cannot rotate its write-ahead log and stops the process. Give
// the listeners a Budget of the limit less what the rest of the process
// needs, and a connection over it is closed as soon as it is accepted
// (the device retries later) instead.
type Budget struct {
	slots    chan struct{}
	rejected atomic.Uint64
}

// NewBudget returns a Budget of n connections (at least 1).
func NewBudget(n int) *Budget {
	return &Budget{slots: make(chan struct{}, max(n, 1))}
}

// Size is the number of connections the Budget allows at once.
func (b *Budget) Size() int { return cap(b.slots) }

// InUse is the number of connections open under the Budget.
func (b *Budget) InUse() int { return len(b.slots) }

// Rejected counts the connections closed because the Budget was spent.
func (b *Budget) Rejected() uint64 { return b.rejected.Load() }

// Listener returns ln with every accepted connection counted against the
// Budget until it is closed. Connections that implement syscall.Conn
// (TCP) still do, so servers keep their raw-socket paths.
func (b *Budget) Listener(ln net.Listener) net.Listener {
	return &budgetListener{Listener: ln, b: b}
}

type budgetListener struct {
	net.Listener
	b *Budget
}

func (l *budgetListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.b.slots <- struct{}{}:
			if sc, ok := c.(syscallConn); ok {
				return &budgetSocket{budgetConn{Conn: c, b: l.b}, sc}, nil
			}
			return &budgetConn{Conn: c, b: l.b}, nil
		default:
			// Counted first: whoever sees the connection closed sees
			// it counted.
			l.b.rejected.Add(1)
			c.Close()
		}
	}
}

type budgetConn struct {
	net.Conn
	b    *Budget
	once sync.Once
}

// BareConn returns the connection the Budget counts: the wrapper buffers
// nothing, so a server may read, write and park it directly, as long as it
// closes the wrapper too (channel.PassThroughConn; broker/embedded's
// ServeConn does the same).
func (c *budgetConn) BareConn() net.Conn { return c.Conn }

func (c *budgetConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.b.slots })
	return err
}

// syscallConn is a socket: a TCP connection's raw access and half-close.
type syscallConn interface {
	syscall.Conn
	CloseWrite() error
}

type budgetSocket struct {
	budgetConn
	sc syscallConn
}

func (c *budgetSocket) SyscallConn() (syscall.RawConn, error) { return c.sc.SyscallConn() }
func (c *budgetSocket) CloseWrite() error                     { return c.sc.CloseWrite() }
