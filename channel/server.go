package channel

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Handler receives the messages a channel decoded. A nil error means the
// messages are durable (stored in the log): only then does the channel send
// the codec's reply (ACK) to the device. A non-nil error withholds the reply
// and closes nothing: the device, seeing no ACK, resends from its black box.
//
// msgs and the storage behind them belong to the channel and are valid only
// until HandleMessages returns; clone a message ([protocol.Message.Clone]) to
// keep it. The slice may be modified by the handler.
//
// HandleMessages is called from one goroutine per connection: calls for one
// connection never overlap, calls for different connections run
// concurrently, so a Handler must be safe for concurrent use.
type Handler interface {
	HandleMessages(ctx context.Context, c *Conn, msgs []protocol.Message) error
}

// HandlerFunc adapts a function to a [Handler].
type HandlerFunc func(ctx context.Context, c *Conn, msgs []protocol.Message) error

// HandleMessages calls f.
func (f HandlerFunc) HandleMessages(ctx context.Context, c *Conn, msgs []protocol.Message) error {
	return f(ctx, c, msgs)
}

// ConnState is a step in a connection's life, reported to [Server.ConnState].
type ConnState int

const (
	// StateNew: a TCP connection was accepted, or a UDP datagram came from a
	// new remote address.
	StateNew ConnState = iota
	// StateIdentified: the session learnt the device's ident (the login
	// frame, or the first frame that carries it).
	StateIdentified
	// StateClosed: the connection closed, or the UDP session expired.
	StateClosed
)

func (s ConnState) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateIdentified:
		return "identified"
	case StateClosed:
		return "closed"
	}
	return fmt.Sprintf("ConnState(%d)", int(s))
}

// Defaults used when the matching [Server] field is zero.
const (
	DefaultIdleTimeout   = 10 * time.Minute // flespi's TCP idle timeout
	DefaultLoginTimeout  = time.Minute
	DefaultReadTimeout   = time.Minute
	DefaultWriteTimeout  = 30 * time.Second
	DefaultIdleParkAfter = 5 * time.Second // see Server.IdleParkAfter
	DefaultCommandTTL    = 24 * time.Hour
	DefaultMaxQueued     = 100
	DefaultUDPQueue      = 16
)

// Server accepts trackers of one protocol over TCP ([Server.Serve]) and UDP
// ([Server.ServePacket]), decodes their frames with Codec, hands the
// messages to Handler and sends the codec's replies. Its zero value, with
// Codec and Handler set, is ready to use; every other field has a documented
// default. Fields must not be changed once serving has started.
type Server struct {
	// Codec is the protocol; required.
	Codec protocol.Codec
	// Handler receives decoded messages; required.
	Handler Handler

	// ChannelID and ProtocolID are stamped on every message as "channel.id"
	// and "protocol.id"; zero leaves the parameter out.
	ChannelID  int64
	ProtocolID int64

	// IdleTimeout closes a connection (or forgets a UDP session) that has
	// sent nothing for this long. 0 means [DefaultIdleTimeout] (10 minutes,
	// as flespi); negative means never.
	IdleTimeout time.Duration
	// LoginTimeout closes a connection whose device has not identified
	// itself (no login, no frame carrying its ident) this long after it
	// connected, and ends a UDP session that has not. A device logs in with
	// its first frame, so the default is far below IdleTimeout: a port
	// scanner or a half-open client does not hold a connection for ten
	// minutes. 0 means [DefaultLoginTimeout] (1 minute); negative means
	// only IdleTimeout applies.
	LoginTimeout time.Duration
	// ReadTimeout bounds the time a frame may take to arrive once its first
	// bytes are in, so that a device trickling a partial frame cannot hold a
	// connection until the idle timeout. 0 means [DefaultReadTimeout];
	// negative means only IdleTimeout applies.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of a reply or command; a device that
	// does not read is disconnected. A write may wait up to half again as
	// long: the deadline is moved ahead by 1.5 × WriteTimeout once less
	// than WriteTimeout is left, not before every write. 0 means
	// [DefaultWriteTimeout]; negative means no limit.
	WriteTimeout time.Duration
	// IdleParkAfter is how long a TCP connection waits for its next bytes
	// with a goroutine of its own before its socket is parked in a shared
	// poller, where it costs no goroutine and no read buffer until bytes
	// arrive (Linux, plain TCP listeners, not proxy channels; elsewhere
	// connections are never parked). 0 means [DefaultIdleParkAfter];
	// negative means never park. Waking a parked connection costs some
	// microseconds more than a wait in Go's poller, which a busy connection
	// should not pay after every burst: the default, longer than the
	// broker's, spares trackers reporting every few seconds a park and a
	// wake per message (~25 µs of CPU, about what the rest of a message
	// costs the channel; a device quiet for more than ten park delays, at
	// most 10 s, also gives up its net.Conn while parked, ~40 µs more per
	// wake), while those reporting every 10 s or more, and parked
	// vehicles' heartbeats, still wait parked.
	IdleParkAfter time.Duration
	// MaxConns bounds the open TCP connections plus live UDP sessions; a
	// connection over the limit is closed at once (a datagram from a new
	// address is dropped). 0 means no limit.
	MaxConns int
	// MaxFrameSize bounds the bytes held for one incomplete frame (and the
	// size of a UDP datagram). 0 means [protocol.DefaultMaxFrameSize]. The
	// codec applies its own limit too.
	MaxFrameSize int

	// CommandTTL is the time to live of a command given to [Server.Send]
	// with a zero ttl. 0 means [DefaultCommandTTL].
	CommandTTL time.Duration
	// MaxQueuedCommands bounds the commands waiting for one ident. 0 means
	// [DefaultMaxQueued].
	MaxQueuedCommands int

	// Logger receives the server's logs; nil means slog.Default().
	Logger *slog.Logger
	// ConnState, when set, is called as connections change state. It runs
	// on the connection's goroutine and must not block for long.
	ConnState func(*Conn, ConnState)
	// OnError, when set, is called with every connection-level error: a
	// decode error, a handler error, a recovered panic ([*PanicError]), a
	// failed write, an incomplete frame past ReadTimeout (idle closes are
	// only logged). c is nil for errors of the listener.
	OnError func(c *Conn, err error)
	// Record, when set, records each connection's raw traffic in the
	// protocol/traffic format; see [Recorder] and [DirRecorder].
	Record Recorder
	// Proxy, when it names upstreams, forwards every device's frames to
	// other servers as well (a proxy channel); the zero value proxies
	// nothing. See [Proxy].
	Proxy Proxy

	mu        sync.Mutex
	conns     map[*Conn]struct{}
	byIdent   map[string]*Conn
	udp       map[*udpServer]struct{}
	listeners map[net.Listener]struct{}
	queues    map[string][]*Call
	shutdown  atomic.Bool
	done      chan struct{} // closed by Shutdown or Close
	wg        sync.WaitGroup
	nextID    atomic.Uint64
	nextCmdID atomic.Uint32

	stats counters
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout == 0 {
		return DefaultIdleTimeout
	}
	return s.IdleTimeout
}

func (s *Server) loginTimeout() time.Duration {
	if s.LoginTimeout == 0 {
		return DefaultLoginTimeout
	}
	return s.LoginTimeout
}

func (s *Server) readTimeout() time.Duration {
	if s.ReadTimeout == 0 {
		return DefaultReadTimeout
	}
	return s.ReadTimeout
}

func (s *Server) writeTimeout() time.Duration {
	if s.WriteTimeout == 0 {
		return DefaultWriteTimeout
	}
	return s.WriteTimeout
}

// parkAfter returns the park delay; negative: never park.
func (s *Server) parkAfter() time.Duration {
	if s.IdleParkAfter == 0 {
		return DefaultIdleParkAfter
	}
	return s.IdleParkAfter
}

func (s *Server) maxFrame() int { return protocol.FrameLimit(s.MaxFrameSize) }

func (s *Server) init() error {
	if s.Codec == nil || s.Handler == nil {
		return ErrNoHandler
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	return nil
}

func (s *Server) initLocked() {
	if s.conns == nil {
		s.conns = make(map[*Conn]struct{})
		s.byIdent = make(map[string]*Conn)
		s.udp = make(map[*udpServer]struct{})
		s.listeners = make(map[net.Listener]struct{})
		s.queues = make(map[string][]*Call)
		s.done = make(chan struct{})
	}
}

// Serve accepts TCP connections on ln, a goroutine each, until ctx ends or
// the server is shut down. After [Server.Shutdown] or [Server.Close] it
// returns [ErrServerClosed] at once (Shutdown does the waiting). When ctx
// ends it closes ln and every connection it accepted, waits for their
// goroutines, and returns ctx.Err(). A failure of ln is returned as is.
//
// ctx is the parent of every handler context of those connections. Serve
// may be called several times, for several listeners.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.init(); err != nil {
		return err
	}
	if !s.addListener(ln) {
		ln.Close()
		return ErrServerClosed
	}
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()

	defer s.removeListener(ln)
	var mine sync.WaitGroup
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shutdown.Load() {
				return ErrServerClosed
			}
			if ctx.Err() != nil {
				s.closeConnsOf(ctx)
				mine.Wait()
				return ctx.Err()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: back off as
				// net/http does rather than spin.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger().Warn("channel: accept failed; retrying", "err", err, "delay", delay)
				s.reportError(nil, err)
				select {
				case <-time.After(delay):
				case <-ctx.Done():
				case <-s.done:
				}
				continue
			}
			return err
		}
		delay = 0
		c := s.newConn(ctx, "tcp", nc.RemoteAddr())
		c.nc = nc
		if pt, ok := nc.(PassThroughConn); ok {
			c.nc, c.outer = pt.BareConn(), nc
		}
		c.served = &mine
		if s.parkAfter() >= 0 && !s.Proxy.enabled() {
			c.setParkable()
		}
		if !s.track(c) {
			s.stats.connsRejected.Add(1)
			c.Close()
			c.cancel()
			continue
		}
		mine.Add(1)
		// s.wg and mine are Done when the connection ends (endConn), which
		// may be on another goroutine if it was parked meanwhile.
		go s.serveConn(c)
	}
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) addListener(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown.Load() {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) removeListener(ln net.Listener) {
	s.mu.Lock()
	delete(s.listeners, ln)
	s.mu.Unlock()
}

// track registers a new connection unless the server is shutting down or
// full. It adds to s.wg on success.
func (s *Server) track(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown.Load() || (s.MaxConns > 0 && len(s.conns) >= s.MaxConns) {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.stats.connsTotal.Add(1)
	return true
}

func (s *Server) untrack(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if id := c.Ident(); id != "" && s.byIdent[id] == c {
		delete(s.byIdent, id)
	}
	s.mu.Unlock()
}

// closeConnsOf closes the connections whose serving context is ctx's child:
// those of one Serve call whose ctx ended.
func (s *Server) closeConnsOf(ctx context.Context) {
	s.mu.Lock()
	var cs []*Conn
	for c := range s.conns {
		if c.parent == ctx {
			cs = append(cs, c)
		}
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// Shutdown stops the server gracefully: it closes the listeners, stops
// reading UDP sockets, closes connections that are idle between frames,
// lets each busy connection finish the frame it is handling (the handler
// runs and the ACK is sent), and waits for every connection to end. If ctx
// ends first, Shutdown closes what is left and returns ctx.Err(). Queued
// commands complete with [ErrServerClosed].
func (s *Server) Shutdown(ctx context.Context) error {
	s.beginShutdown()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// Connections that went idle since the last look get interrupted
		// again: a frame finished, its reader must now see the flag.
		s.interruptAll()
		select {
		case <-done:
			s.closePacketConns()
			return nil
		case <-ctx.Done():
			s.closeAll()
			<-done
			s.closePacketConns()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listeners and every connection at once, without
// draining, and waits for the connection goroutines to end.
func (s *Server) Close() error {
	s.beginShutdown()
	s.closeAll()
	s.wg.Wait()
	s.closePacketConns()
	return nil
}

func (s *Server) beginShutdown() {
	s.mu.Lock()
	s.initLocked()
	first := !s.shutdown.Swap(true)
	for ln := range s.listeners {
		ln.Close()
	}
	for u := range s.udp {
		u.pc.SetReadDeadline(aLongTimeAgo)
	}
	var calls []*Call
	if first {
		close(s.done)
		for id, q := range s.queues {
			calls = append(calls, q...)
			delete(s.queues, id)
		}
	}
	s.mu.Unlock()
	for _, c := range calls {
		c.complete(protocol.CommandResponse{}, ErrServerClosed)
	}
}

var aLongTimeAgo = time.Unix(1, 0)

func (s *Server) interruptAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.interrupt()
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	cs := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

func (s *Server) closePacketConns() {
	s.mu.Lock()
	var us []*udpServer
	for u := range s.udp {
		us = append(us, u)
	}
	s.mu.Unlock()
	for _, u := range us {
		u.pc.Close()
	}
}

// Conns returns a snapshot of the open connections and live UDP sessions,
// oldest first.
func (s *Server) Conns() []ConnInfo {
	s.mu.Lock()
	cs := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	out := make([]ConnInfo, len(cs))
	for i, c := range cs {
		out[i] = c.Info()
	}
	slices.SortFunc(out, func(a, b ConnInfo) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Conn returns the newest open connection of the device with this ident,
// or nil.
func (s *Server) Conn(ident string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byIdent[ident]
}

// CloseIdent closes every connection of the device with this ident and
// returns how many it closed.
func (s *Server) CloseIdent(ident string) int {
	s.mu.Lock()
	var cs []*Conn
	for c := range s.conns {
		if c.Ident() == ident {
			cs = append(cs, c)
		}
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
	return len(cs)
}

// CloseAll closes every connection and UDP session (the server goes on
// accepting) and returns how many it closed.
func (s *Server) CloseAll() int {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	s.closeAll()
	return n
}

func (s *Server) reportError(c *Conn, err error) {
	if s.OnError != nil {
		s.OnError(c, err)
	}
}

func (s *Server) setState(c *Conn, st ConnState) {
	if s.ConnState != nil {
		s.ConnState(c, st)
	}
}

// identified registers c as the connection of ident and sends the commands
// queued for it.
func (s *Server) identified(c *Conn, ident string) {
	s.mu.Lock()
	if _, open := s.conns[c]; open {
		s.byIdent[ident] = c
	}
	s.mu.Unlock()
	s.setState(c, StateIdentified)
}
