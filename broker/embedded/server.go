package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gnssgate/gnssgate/broker"
)

// Server is the embedded MQTT broker. It serves network clients on the
// listeners given to Serve and is itself a broker.Broker for in-process
// publishers and subscribers. Create it with New; it is safe for
// concurrent use.
type Server struct {
	cfg  Config
	lim  limits
	log  *slog.Logger
	auth Authorizer

	tree     tree
	retained retainedStore
	state    persistence

	ctx    context.Context // ends at Close
	cancel context.CancelFunc

	mu       sync.Mutex
	sessions map[string]*session
	// nsSessions counts the sessions of each namespace (Token.MaxSessions).
	nsSessions map[string]int
	conns      map[*conn]struct{}
	listeners  map[net.Listener]struct{}
	closed     bool

	openErr error // why the data directory could not be used: the server is closed

	clock  atomic.Int64 // Unix ns, refreshed every clockTick: time.Now is costly on the hot path
	nconns atomic.Int64
	// queuedTotal is the sum of every session's queuedBytes.
	queuedTotal atomic.Int64
	sessionSeq  atomic.Uint64
	wg          sync.WaitGroup
	stats       serverStats
}

var _ broker.Broker = (*Server)(nil)

// New returns a Server configured by cfg; nil means the zero Config. With
// a Config.DataDir that cannot be opened or read, New logs the error and
// returns a closed Server, whose Serve returns that error: use Open to get
// it at once.
func New(cfg *Config) *Server {
	s, err := Open(cfg)
	if err != nil {
		s.log.Error("embedded: broker not started", "err", err)
	}
	return s
}

// Open is New that reports whether Config.DataDir could be opened and its
// state loaded. On error the returned Server is closed (never nil).
func Open(cfg *Config) (*Server, error) {
	s := &Server{sessions: make(map[string]*session), nsSessions: make(map[string]int), conns: make(map[*conn]struct{}),
		listeners: make(map[net.Listener]struct{})}
	if cfg != nil {
		s.cfg = *cfg
	}
	s.lim = s.cfg.limits()
	s.log = s.cfg.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	s.auth = s.cfg.Authorizer
	if s.auth == nil {
		s.auth = TokenAuthorizer{}
	}
	s.retained.maxN, s.retained.maxBytes = s.lim.maxRetained, s.lim.maxRetainedBytes
	s.state = memoryState{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.clock.Store(time.Now().UnixNano())
	s.stats.start = time.Now()
	var started []loaded
	if dir := s.cfg.DataDir; dir != "" {
		d, err := openDurable(s, dir)
		if err == nil {
			if started, err = d.load(); err != nil {
				d.db.Close()
			}
		}
		if err != nil {
			s.openErr = err
			s.closed = true
			s.cancel()
			return s, err
		}
		s.state = d
		d.start()
	}
	s.wg.Add(2)
	go s.janitor()
	go s.tick()
	if every := s.cfg.sysInterval(); every > 0 {
		s.wg.Add(1)
		go s.sysLoop(every)
	}
	s.startLoaded(started)
	return s, nil
}

// Serve accepts MQTT connections on ln until ctx ends or the server is
// closed, and then closes ln. Pass a tls.NewListener for MQTT over TLS; see
// ServeWebSocket (or WebSocketHandler, on an http.Server) for WebSocket.
// Serve may be called for several
// listeners at once. It returns broker.ErrClosed after Close, ctx.Err()
// when ctx ended, or the listener's error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		if s.openErr != nil {
			return s.openErr
		}
		return broker.ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil {
				return broker.ErrClosed
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("embedded: accept", "err", err, "retry", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-ctx.Done():
					return ctx.Err()
				case <-s.ctx.Done():
					return broker.ErrClosed
				}
			}
			return err
		}
		backoff = 0
		s.ServeConn(nc)
	}
}

// ServeConn serves one already accepted connection (a net.Pipe in tests,
// a WebSocket). It returns at once; the connection is served on its own
// goroutines and closed when done. A wrapper with a BareConn() net.Conn
// method that buffers nothing (such as a connection bound's, like
// channel.PassThroughConn) is served through the connection beneath, so
// that an idle client's socket can be released (IdleParkAfter), and
// closed after it.
func (s *Server) ServeConn(nc net.Conn) {
	if s.nconns.Add(1) > int64(s.lim.maxConns) || s.ctx.Err() != nil {
		s.nconns.Add(-1)
		nc.Close()
		return
	}
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.nconns.Add(-1)
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		if c.serve() {
			c.served()
		}
	}()
}

// served releases a connection that has ended, from whichever goroutine
// ended it (a parked connection's goroutine is not ServeConn's).
func (c *conn) served() {
	s := c.srv
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.nconns.Add(-1)
	s.wg.Done()
}

// Close disconnects every client (MQTT 5 clients get DISCONNECT "server
// shutting down"), stops in-process subscriptions and releases the
// server. Without a data directory sessions are in memory and do not
// survive Close; with one, what is pending is committed and the directory
// closed. Later calls return broker.ErrClosed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return broker.ErrClosed
	}
	s.closed = true
	s.cancel()
	for ln := range s.listeners {
		ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	sessions := make([]*session, 0, len(s.sessions))
	for _, se := range s.sessions {
		sessions = append(sessions, se)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.shutdown(0x8B, true)
	}
	s.wg.Wait()
	for _, se := range sessions {
		se.mu.Lock()
		for _, t := range []*time.Timer{se.expireTimer, se.willTimer} {
			if t != nil {
				t.Stop()
			}
		}
		se.gone = true
		se.queue.reset()
		se.mu.Unlock()
	}
	if err := s.state.close(); err != nil {
		return fmt.Errorf("embedded: close data directory: %w", err)
	}
	return nil
}

// clockTick is the resolution of Server.now: message timestamps, expiry
// and deadlines are accurate to it.
const clockTick = 5 * time.Millisecond

// now is a coarse clock for per-packet timestamps.
func (s *Server) now() time.Time { return time.Unix(0, s.clock.Load()) }

func (s *Server) tick() {
	defer s.wg.Done()
	t := time.NewTicker(clockTick)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.clock.Store(now.UnixNano())
		}
	}
}

// janitor drops expired retained messages.
func (s *Server) janitor() {
	defer s.wg.Done()
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case now := <-t.C:
			s.retained.sweep(now, s.cfg.RetainedMaxAge)
		}
	}
}

// Supports implements broker.FeatureReporter. "$filter" specs are
// available exactly when package broker can compile them.
func (s *Server) Supports(f broker.Feature) bool {
	if f == broker.FeatureFilterSpec {
		_, err := broker.ParseFilter("$filter/cid=1/a")
		return err == nil
	}
	return true
}
