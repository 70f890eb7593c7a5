//go:build unix

package wsstream

import (
	"io"
	"net"
	"syscall"
)

// socketReader waits for a socket to be readable through its
// syscall.RawConn and only then takes a buffer from rawPool to read into,
// so that a connection waiting for its next frame holds none: what the
// embedded broker's input does for TCP.
// It is part of the ServerConn (one allocation less per connection).
type socketReader struct {
	rc     syscall.RawConn // nil: not a socket
	c      *ServerConn
	readFn func(fd uintptr) bool // bound once
	n      int
	err    error
}

// init makes s read c's connection if it is a socket, and reports whether
// it is.
func (s *socketReader) init(c *ServerConn) bool {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	s.rc, s.c = rc, c
	s.readFn = s.read
	return true
}

// fill reads what has arrived into c's buffer, taking one if c holds
// none, after waiting (with c's read deadline) until there is something.
func (s *socketReader) fill() (int, error) {
	s.n, s.err = 0, nil
	if err := s.rc.Read(s.readFn); err != nil {
		return 0, &net.OpError{Op: "read", Net: s.c.nc.LocalAddr().Network(), Source: s.c.nc.LocalAddr(), Addr: s.c.nc.RemoteAddr(), Err: err}
	}
	return s.n, s.err
}

func (s *socketReader) read(fd uintptr) bool {
	c := s.c
	pooled := c.raw == nil
	if pooled {
		c.raw = rawPool.Get().(*[]byte)
		c.r, c.w = 0, 0
	}
	for {
		n, err := syscall.Read(int(fd), (*c.raw)[c.w:])
		switch err {
		case nil:
			if n == 0 {
				s.err = io.EOF
			}
			c.w += n
			s.n = n
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			if pooled {
				c.releaseIfEmpty()
			}
			return false // wait for readability
		default:
			s.err = &net.OpError{Op: "read", Net: c.nc.LocalAddr().Network(), Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(), Err: err}
		}
		if pooled {
			c.releaseIfEmpty()
		}
		return true
	}
}
