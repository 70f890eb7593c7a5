//go:build !unix

package embedded

import (
	"net"
	"syscall"
)

// sysRead is never called outside Unix: rawConn returns nil, so input
// reads through the connection's Read method.
func sysRead(uintptr, []byte) (int, error) { return 0, syscall.EINVAL }

// socketReadable: outside Unix connections are not parked, and a read
// may always wait.
func socketReadable(syscall.RawConn) bool { return true }

// rawConn: outside Unix input reads every connection through its Read
// method.
func rawConn(net.Conn) syscall.RawConn { return nil }
