//go:build unix

package embedded

import (
	"net"
	"syscall"
)

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
