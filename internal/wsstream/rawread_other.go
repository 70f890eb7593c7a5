//go:build !unix

package wsstream

// socketReader: outside Unix a ServerConn reads through the connection's
// Read method.
type socketReader struct{}

func (*socketReader) init(*ServerConn) bool { return false }

func (*socketReader) fill() (int, error) { panic("unreachable") }
