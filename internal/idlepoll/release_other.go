//go:build !linux

package idlepoll

import "net"

// Release: without a poller no Socket exists (For returns nil).
func (s *Socket) Release(net.Conn) error { return ErrUnsupported }

// Revive: see Release.
func (s *Socket) Revive() (net.Conn, error) { return nil, ErrUnsupported }

func closeFD(int) {}
