//go:build !linux

package idlepoll

// poller: outside Linux there is none (kqueue could serve the BSDs and
// macOS; not done yet), and For returns nil.
type poller struct{ table }

var sharedPoller *poller

func shared() *poller { return nil }

func (p *poller) arm(*Socket) error { return ErrUnsupported }

func (p *poller) remove(s *Socket) { p.release(s) }
