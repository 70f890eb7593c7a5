package channel

import (
	"io"
	"net"

	"github.com/gnssgate/gnssgate/internal/idlepoll"
	"golang.org/x/sys/unix"
)

// setParkable makes the connection park when idle, if its net.Conn is a
// bare socket. Not a TLS connection, nor any wrapper a listener may return
// (PROXY protocol and the like), even one that passes SyscallConn through:
// bytes it has buffered are invisible to the poller and to readNoWait.
func (c *Conn) setParkable() {
	switch c.nc.(type) {
	case *net.TCPConn, *net.UnixConn:
	default:
		return
	}
	if c.park = idlepoll.For(c.nc, c.resume); c.park != nil {
		c.raw = c.park.Raw()
	}
}

// readNoWait reads what has arrived into p without waiting: errWouldBlock
// if nothing has, io.EOF at the end of the stream. The read deadline still
// applies: a deadline that has passed returns a timeout before reading.
func (c *Conn) readNoWait(p []byte) (int, error) {
	var n int
	var serr error
	err := c.raw.Read(func(fd uintptr) bool {
		n, serr = unix.Read(int(fd), p)
		return true
	})
	switch {
	case err != nil:
		return 0, err
	case serr == unix.EAGAIN || serr == unix.EINTR:
		return 0, errWouldBlock
	case serr != nil:
		return 0, serr
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
