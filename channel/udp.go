package channel

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// udpServer is one PacketConn served by ServePacket: a session per remote
// address, each with its own goroutine so that a slow handler for one
// device does not hold up the others.
type udpServer struct {
	srv      *Server
	pc       net.PacketConn
	ctx      context.Context
	sessions map[string]*Conn // under srv.mu
	wg       sync.WaitGroup
}

// ServePacket serves UDP devices on pc until ctx ends or the server is shut
// down. Each datagram is one frame. Datagrams from one remote address share
// a session (and a [Conn]), which expires after IdleTimeout without
// datagrams. Datagrams waiting for a busy session are queued, a few per
// session; beyond that they are dropped (and counted): the device resends
// what it did not see acknowledged. The return values follow
// [Server.Serve]; Shutdown and Close close pc.
func (s *Server) ServePacket(ctx context.Context, pc net.PacketConn) error {
	if err := s.init(); err != nil {
		return err
	}
	u := &udpServer{srv: s, pc: pc, ctx: ctx, sessions: make(map[string]*Conn)}
	s.mu.Lock()
	if s.shutdown.Load() {
		s.mu.Unlock()
		pc.Close()
		return ErrServerClosed
	}
	s.udp[u] = struct{}{}
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(aLongTimeAgo) })
	defer stop()

	max := s.maxFrame()
	buf := make([]byte, max+1)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if n > 0 && addr != nil {
			if n > max {
				s.stats.datagramsDropped.Add(1)
				s.logger().Warn("channel: datagram over MaxFrameSize dropped", "peer", addr.String(), "limit", max)
			} else {
				u.dispatch(addr, buf[:n])
			}
		}
		if err == nil {
			continue
		}
		if s.shutdown.Load() {
			return ErrServerClosed
		}
		if ctx.Err() != nil {
			u.closeSessions()
			u.wg.Wait()
			s.mu.Lock()
			delete(s.udp, u)
			s.mu.Unlock()
			return ctx.Err()
		}
		if errors.Is(err, net.ErrClosed) {
			s.mu.Lock()
			delete(s.udp, u)
			s.mu.Unlock()
			return err
		}
		// ICMP errors and the like surface as read errors on some systems;
		// they concern one peer, not the socket.
		s.logger().Debug("channel: UDP read error", "err", err)
		s.reportError(nil, err)
	}
}

func (u *udpServer) dispatch(addr net.Addr, dgram []byte) {
	s := u.srv
	key := addr.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := u.sessions[key]
	if c == nil {
		if s.shutdown.Load() {
			return
		}
		if s.MaxConns > 0 && len(s.conns) >= s.MaxConns {
			s.stats.connsRejected.Add(1)
			s.stats.datagramsDropped.Add(1)
			return
		}
		c = s.newConn(u.ctx, "udp", addr)
		c.pc, c.udp = u.pc, u
		c.in = make(chan []byte, DefaultUDPQueue)
		if s.Proxy.enabled() {
			c.proxy = newProxyConn(c, true)
		}
		u.sessions[key] = c
		s.conns[c] = struct{}{}
		s.stats.connsTotal.Add(1)
		s.wg.Add(1)
		u.wg.Add(1)
		go s.serveSession(c, key)
	}
	select {
	case c.in <- append([]byte(nil), dgram...):
	default:
		s.stats.datagramsDropped.Add(1)
	}
}

func (u *udpServer) closeSessions() {
	u.srv.mu.Lock()
	cs := make([]*Conn, 0, len(u.sessions))
	for _, c := range u.sessions {
		cs = append(cs, c)
	}
	u.srv.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// serveSession is the life of one UDP session.
func (s *Server) serveSession(c *Conn, key string) {
	u := c.udp
	defer u.wg.Done()
	defer s.wg.Done()
	defer s.endConn(c)
	forget := func() {
		s.mu.Lock()
		if u.sessions[key] == c {
			delete(u.sessions, key)
		}
		s.mu.Unlock()
	}
	defer forget()
	dec := protocol.NewStreamDecoder(c.guard, protocol.UDP, s.maxFrame())
	s.setState(c, StateNew)
	fn := c.frame
	var expire <-chan time.Time
	var timer *time.Timer
	if idle := s.idleTimeout(); idle > 0 {
		timer = time.NewTimer(idle)
		defer timer.Stop()
		expire = timer.C
	}
	// A session that has not identified within LoginTimeout ends: its
	// datagrams were dropped anyway, and it holds a place under MaxConns.
	var loginC <-chan time.Time
	if lt := s.loginTimeout(); lt > 0 {
		login := time.NewTimer(lt)
		defer login.Stop()
		loginC = login.C
	}
	handle := func(d []byte) bool {
		c.noteIn(d)
		err := c.feed(dec, d, fn)
		var pe *PanicError
		switch {
		case err == nil:
			return true
		case err == errCloseAfterReply:
			return false
		case errors.As(err, &pe):
			c.fail(err)
			return false
		default:
			// A bad datagram costs only itself; the session goes on.
			c.fail(err)
			return !c.closed.Load()
		}
	}
	for {
		select {
		case d := <-c.in:
			if timer != nil {
				timer.Reset(s.idleTimeout())
			}
			if !handle(d) {
				return
			}
		case <-loginC:
			loginC = nil
			if c.Ident() != "" {
				continue
			}
			forget()
			s.stats.loginTimeouts.Add(1)
			if n := len(c.in); n > 0 {
				s.stats.datagramsDropped.Add(uint64(n))
			}
			s.logger().Debug("channel: UDP session without login ended", "peer", c.peer, "timeout", s.loginTimeout())
			return
		case <-expire:
			s.mu.Lock()
			if len(c.in) == 0 {
				if u.sessions[key] == c {
					delete(u.sessions, key)
				}
				s.mu.Unlock()
				s.stats.idleClosed.Add(1)
				return
			}
			s.mu.Unlock()
			timer.Reset(s.idleTimeout())
		case <-c.ctx.Done():
			return
		case <-s.done:
			// Shutdown: finish what has arrived, then end.
			forget()
			for {
				select {
				case d := <-c.in:
					if !handle(d) {
						return
					}
				default:
					return
				}
			}
		}
	}
}
