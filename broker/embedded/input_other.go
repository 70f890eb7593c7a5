//go:build !unix

package embedded

import (
	"net"
	"syscall"
)

// rawConn: outside Unix every connection is read through bufio.
func rawConn(net.Conn) syscall.RawConn { return nil }
