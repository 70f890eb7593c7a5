package idlepoll

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Releasing a parked connection's net.Conn. A *net.TCPConn costs a parked
// connection more than its own state: the net package's descriptor (128
// bytes), both addresses with their socket addresses (160), the TCPConn
// and a RawConn, and outside the heap the runtime's poll descriptor (~320
// bytes, with its two deadline timers). Release keeps only a duplicate of
// the descriptor, in the Socket; Revive makes a net.Conn again when the
// connection is needed (bytes arrived, something to send). Both cost a few
// system calls (dup and close; for Revive also getsockname, getpeername and
// the runtime poller's registration), paid once per park, by connections
// idle for their owner's park delay.

// Release closes nc, the connection whose socket s watches, keeping a
// duplicate of its descriptor: until Revive the socket is parked without a
// net.Conn. nc must be a bare socket (*net.TCPConn or *net.UnixConn),
// nothing buffered above it, and the owner must not use it afterwards,
// nor let anyone else (a writer) use it meanwhile. Stop closes a released
// socket's descriptor.
func (s *Socket) Release(nc net.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slot < 0 {
		return net.ErrClosed
	}
	if s.raw == nil {
		return errReleased
	}
	dup, derr := -1, error(nil)
	if err := s.raw.Control(func(fd uintptr) {
		dup, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
		if derr == nil && s.watched {
			// Out of the epoll set under its own number: the
			// registration would otherwise outlive that number, since
			// the duplicate keeps the socket open.
			unix.EpollCtl(sharedPoller.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
			s.watched = false
		}
	}); err != nil {
		return err
	}
	if derr != nil {
		return fmt.Errorf("idlepoll: release: %w", derr)
	}
	nc.Close() // the duplicate keeps the socket open: no FIN
	s.raw, s.dupfd = nil, int32(dup)+1
	if s.state.Load() == parked {
		// Released while parked (by a writer): watch the duplicate.
		if err := sharedPoller.arm(s); err != nil {
			s.Wake()
		}
	}
	return nil
}

// Revive returns a new net.Conn for a released socket, which then watches
// it (a parked socket stays parked). It fails with net.ErrClosed once the
// socket is stopped.
func (s *Socket) Revive() (net.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slot < 0 {
		return nil, net.ErrClosed
	}
	if s.raw != nil {
		return nil, errNotReleased
	}
	fd, ok := s.kept()
	if !ok {
		return nil, net.ErrClosed // a Revive failed: the socket is gone
	}
	f := os.NewFile(uintptr(fd), "")
	nc, err := net.FileConn(f) // a duplicate again: f is closed below
	var raw syscall.RawConn
	if err == nil {
		if raw, err = nc.(syscall.Conn).SyscallConn(); err != nil {
			nc.Close()
		}
	}
	if s.watched {
		unix.EpollCtl(sharedPoller.epfd, unix.EPOLL_CTL_DEL, fd, nil)
		s.watched = false
	}
	// Closed in any case: f owns the descriptor now, and would close it
	// when collected. After a failure (no descriptor left for the
	// duplicate, say) the socket is closed and the owner ends it.
	f.Close()
	s.dupfd = 0
	if err != nil {
		return nil, fmt.Errorf("idlepoll: revive: %w", err)
	}
	s.raw = raw
	if s.state.Load() == parked {
		// Still waiting: watch the new descriptor.
		if err := sharedPoller.arm(s); err != nil {
			s.Wake()
		}
	}
	return nc, nil
}

func closeFD(fd int) { unix.Close(fd) }
