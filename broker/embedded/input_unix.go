//go:build unix

package embedded

import (
	"net"
	"syscall"
)

// rawConn returns the raw socket of a TCP or Unix connection, nil for any
// other net.Conn (TLS, WebSocket, net.Pipe), which input reads through
// its Read method.
func rawConn(nc net.Conn) syscall.RawConn {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}
