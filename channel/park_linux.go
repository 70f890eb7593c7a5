package channel

import (
	"io"
	"syscall"

	"github.com/gnssgate/gnssgate/internal/idlepoll"
	"golang.org/x/sys/unix"
)

// setParkable makes the connection park when idle, if its net.Conn is a
// socket (not, e.g., a TLS connection, whose own buffers the poller cannot
// see).
func (c *Conn) setParkable() {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	if c.park = idlepoll.For(c.nc, c.resume); c.park != nil {
		c.raw = raw
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
