//go:build !unix

package wialonsink

import "syscall"

// peekConn cannot look at a socket without reading it here: a closed
// idle connection is found by the next Write failing, and retried.
func peekConn(syscall.Conn) peekState { return peekUnknown }
