//go:build unix

package embedded

import (
	"net"
	"syscall"
)

func sysRead(fd uintptr, p []byte) (int, error) { return syscall.Read(int(fd), p) }

// socketReadable reports whether a read of the socket would not wait: it
// has bytes, has reached the end of the stream, or has an error to report.
func socketReadable(raw syscall.RawConn) bool {
	readable := true
	var b [1]byte
	raw.Read(func(fd uintptr) bool {
		for {
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if err == syscall.EINTR {
				continue
			}
			readable = err != syscall.EAGAIN
			return true
		}
	})
	return readable
}

// rawConn returns the raw socket of a TCP or Unix connection, or of a
// wrapper that implements syscall.Conn and reads nothing itself (a
// listener that counts connections, say); nil for any other net.Conn
// (TLS, WebSocket, net.Pipe), which input reads through its Read method.
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}
