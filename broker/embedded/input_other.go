//go:build !unix

package embedded

import (
	"net"
	"syscall"
)

// rawConn: outside Unix input reads every connection through its Read
// method.
func rawConn(net.Conn) syscall.RawConn { return nil }
