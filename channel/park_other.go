//go:build !linux

package channel

// setParkable: parking needs the Linux poller (internal/idlepoll);
// elsewhere a connection keeps its goroutine waiting in a read.
func (c *Conn) setParkable() {}

// readNoWait is never called where connections cannot park.
func (c *Conn) readNoWait(p []byte) (int, error) { return 0, errWouldBlock }
