//go:build unix

package wialonsink

import (
	"errors"
	"syscall"
)

// peekConn looks at a connection's socket without reading from it or
// waiting: whether the peer closed it, or sent bytes nobody asked for.
func peekConn(c syscall.Conn) peekState {
	rc, err := c.SyscallConn()
	if err != nil {
		return peekUnknown
	}
	state := peekUnknown
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0:
			state = peekData
		case err == nil: // n == 0: the peer closed its side
			state = peekClosed
		case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EINTR):
			state = peekIdle
		default:
			state = peekClosed // reset, or another error: unusable
		}
		return true // never wait
	})
	if err != nil {
		return peekClosed
	}
	return state
}
