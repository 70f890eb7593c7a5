package idlepoll

import (
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// poller is one epoll instance and the goroutine that waits on it.
type poller struct {
	table
	epfd int
}

var (
	sharedOnce   sync.Once
	sharedPoller *poller
)

// shared returns the process's poller, started on first use; nil if epoll
// is not available.
func shared() *poller {
	sharedOnce.Do(func() {
		fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			slog.Warn("idlepoll: no epoll, idle connections keep their goroutines", "err", err)
			return
		}
		sharedPoller = &poller{epfd: fd}
		go sharedPoller.run()
	})
	return sharedPoller
}

// events: one-shot, so that a socket reports once per Park and the owner,
// not the poller, reads it; EPOLLRDHUP wakes a parked owner when the peer
// closes, to see the end of the stream.
const events = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

// arm adds s's descriptor to the epoll set, or re-arms it; s.mu is held.
func (p *poller) arm(s *Socket) error {
	ev := unix.EpollEvent{Events: events, Fd: s.slot, Pad: int32(s.gen)}
	var err error
	if s.raw == nil {
		// Released: the duplicate descriptor is the Socket's own.
		if s.dupfd == 0 {
			return net.ErrClosed
		}
		op := unix.EPOLL_CTL_MOD
		if !s.watched {
			op = unix.EPOLL_CTL_ADD
		}
		if err = unix.EpollCtl(p.epfd, op, int(s.dupfd)-1, &ev); err == nil {
			s.watched = true
		}
		return err
	}
	cerr := s.raw.Control(func(fd uintptr) {
		op := unix.EPOLL_CTL_MOD
		if !s.watched {
			op = unix.EPOLL_CTL_ADD
		}
		if err = unix.EpollCtl(p.epfd, op, int(fd), &ev); err == nil {
			s.watched = true
		}
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// remove takes s's descriptor out of the epoll set and frees its slot;
// s.mu is held. A closed descriptor has left the set already.
func (p *poller) remove(s *Socket) {
	if s.watched {
		if s.raw == nil {
			unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(s.dupfd)-1, nil)
		} else {
			s.raw.Control(func(fd uintptr) {
				unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
			})
		}
		s.watched = false
	}
	p.release(s)
}

func (p *poller) run() {
	evs := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, evs, -1)
		if err != nil {
			if err != unix.EINTR {
				// Not expected with a valid descriptor: do not spin.
				slog.Error("idlepoll: epoll_wait", "err", err)
				time.Sleep(10 * time.Millisecond)
			}
			continue
		}
		for i := range evs[:n] {
			if s := p.lookup(evs[i].Fd, uint32(evs[i].Pad)); s != nil {
				s.Wake()
			}
		}
	}
}
