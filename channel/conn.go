package channel

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gnssgate/gnssgate/internal/idlepoll"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// Conn is one device connection: a TCP connection, a UDP session (one
// remote address), or the source of one HTTP request or MQTT delivery. Its
// methods are safe for concurrent use.
type Conn struct {
	srv     *Server
	id      uint64
	network string // "tcp", "udp", "http", "mqtt"
	remote  net.Addr
	peer    string
	since   time.Time

	parent context.Context // the Serve context
	ctx    context.Context // cancelled when the connection closes
	cancel context.CancelFunc

	// nc is the TCP connection; nil while it is parked with its socket
	// released (park.go). ncMu guards that change: the reader, the only
	// one to set it nil, reads it without the lock; everyone else goes
	// through netConn, which makes a net.Conn again when it is nil.
	nc   net.Conn
	ncMu sync.Mutex
	// outer is the PassThroughConn the listener returned, when nc is the
	// connection beneath it: closed after nc.
	outer net.Conn
	pc    net.PacketConn // UDP
	udp   *udpServer     // UDP
	in    chan []byte    // UDP datagrams waiting for the session goroutine
	wmu   sync.Mutex     // serializes writes and write deadlines
	wbuf  []byte         // command encoding buffer, under wmu
	// The write deadline set on wdlConn, under wmu: moved only when less
	// than WriteTimeout is left, not before every reply (a timer update
	// each, ~8 % of the cost of an ACK at 19,000 devices).
	wdl     time.Time
	wdlConn net.Conn

	ident atomic.Pointer[string]
	guard *guard // the session, behind a lock shared with command encoding

	bytesIn, bytesOut atomic.Uint64
	msgsIn, msgsOut   atomic.Uint64
	last              atomic.Int64 // unix nanoseconds of the last byte in

	cmdMu   sync.Mutex // keeps commands to the device in order
	cmu     sync.Mutex // pending
	pending []*Call    // sent, awaiting the device's answer, oldest first

	rec       *recording
	proxy     *proxyConn  // a proxy channel's upstreams; nil otherwise
	cmdReady  atomic.Bool // the device has had the answer to its login: commands may go
	closed    atomic.Bool
	closeOnce sync.Once
	// keepSocket (reader-owned, in closeOnce's padding): the last wake came
	// soon after the bytes before it, so the next park keeps the socket
	// (park.go).
	keepSocket bool
	closeErr   error

	// The TCP read loop's state, kept here so that the loop can stop while
	// the connection is parked and go on in a new goroutine (park.go).
	served     *sync.WaitGroup // the Serve call's: Done when the connection ends
	dec        *protocol.StreamDecoder
	rbuf       *[]byte   // from readPool; nil while parked
	frameStart time.Time // when the bytes of the incomplete frame began
	idleFrom   time.Time // when the last bytes were handled: idle and park delays count from here
	park       *idlepoll.Socket
	raw        syscall.RawConn // the socket, for reads that do not wait
}

// ConnInfo is a snapshot of a connection, as [Server.Conns] lists them.
type ConnInfo struct {
	ID           uint64    `json:"id"`
	Ident        string    `json:"ident"`   // "" until the device identified itself
	Network      string    `json:"network"` // "tcp" or "udp"
	Peer         string    `json:"peer"`    // remote ip:port
	Since        time.Time `json:"since"`
	LastActivity time.Time `json:"last_activity"` // last byte (or datagram) from the device
	BytesIn      uint64    `json:"bytes_in"`
	BytesOut     uint64    `json:"bytes_out"`
	MessagesIn   uint64    `json:"messages_in"`  // messages decoded from the device
	MessagesOut  uint64    `json:"messages_out"` // packets sent to the device: replies and commands
	Pending      int       `json:"pending"`      // commands sent and awaiting an answer
}

func (s *Server) newConn(parent context.Context, network string, remote net.Addr) *Conn {
	now := time.Now()
	c := &Conn{srv: s, id: s.nextID.Add(1), network: network, remote: remote, since: now, parent: parent}
	if remote != nil {
		c.peer = remote.String()
	}
	c.ctx, c.cancel = context.WithCancel(parent)
	c.last.Store(now.UnixNano())
	c.guard = &guard{codec: s.Codec, keepRaw: s.Proxy.enabled()}
	if s.Record != nil {
		c.rec = &recording{conn: c, rec: s.Record}
	}
	return c
}

// ID is unique among the server's connections.
func (c *Conn) ID() uint64 { return c.id }

// Ident returns the device's ident, or "" until the device identified
// itself.
func (c *Conn) Ident() string {
	if p := c.ident.Load(); p != nil {
		return *p
	}
	return ""
}

// RemoteAddr returns the device's address.
func (c *Conn) RemoteAddr() net.Addr { return c.remote }

// Network returns "tcp", "udp", "http" or "mqtt".
func (c *Conn) Network() string { return c.network }

// Context is cancelled when the connection closes.
func (c *Conn) Context() context.Context { return c.ctx }

// Info returns a snapshot of the connection's counters.
func (c *Conn) Info() ConnInfo {
	c.cmu.Lock()
	pending := len(c.pending)
	c.cmu.Unlock()
	return ConnInfo{
		ID: c.id, Ident: c.Ident(), Network: c.network, Peer: c.peer, Since: c.since,
		LastActivity: time.Unix(0, c.last.Load()),
		BytesIn:      c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		MessagesIn: c.msgsIn.Load(), MessagesOut: c.msgsOut.Load(),
		Pending: pending,
	}
}

// Close closes the connection (for UDP, forgets the session). Commands
// awaiting an answer on it complete with [ErrConnClosed].
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.cancel()
		c.ncMu.Lock()
		if c.park != nil {
			// Before the close, so that the descriptor's number, once
			// reused, gets none of its events; wakes it if parked. It
			// closes a released socket itself.
			c.park.Stop()
		}
		nc := c.nc
		c.ncMu.Unlock()
		if nc != nil {
			c.closeErr = nc.Close()
		}
		if c.outer != nil {
			c.outer.Close() // what it frees; the socket is closed already
		}
	})
	return c.closeErr
}

// PassThroughConn is a net.Conn wrapper that buffers nothing and only
// observes the connection's life, such as a connection bound counting it
// until it is closed. A [Server] reads, writes and parks the connection
// beneath (BareConn: when idle, a bare TCP socket lets go of its goroutine
// and buffers) and closes the wrapper when the connection ends.
type PassThroughConn interface {
	net.Conn
	BareConn() net.Conn
}

// interrupt wakes a reader blocked between frames so that it notices a
// shutdown; see serveConn for why the order of operations is race-free.
func (c *Conn) interrupt() {
	c.ncMu.Lock()
	if c.nc != nil {
		c.nc.SetReadDeadline(aLongTimeAgo)
	}
	c.ncMu.Unlock()
	if c.park != nil {
		c.park.Wake()
	}
}

func (c *Conn) setIdent(ident string) {
	old := c.Ident()
	c.ident.Store(&ident)
	if c.srv == nil {
		return
	}
	if old != "" {
		c.srv.mu.Lock()
		if c.srv.byIdent[old] == c {
			delete(c.srv.byIdent, old)
		}
		c.srv.mu.Unlock()
	}
	c.srv.identified(c, ident)
	if c.rec != nil {
		c.rec.identified()
	}
}

// write sends b to the device within the write timeout.
func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

func (c *Conn) writeLocked(b []byte) error {
	if c.closed.Load() {
		return ErrConnClosed
	}
	if c.rec != nil {
		// Recorded before it is written: the device may answer, and its
		// answer be recorded, before Write returns.
		c.rec.chunk(traffic.Out, b)
	}
	var n int
	var err error
	if c.pc == nil {
		var nc net.Conn
		if nc, err = c.netConn(); err != nil {
			return fmt.Errorf("channel: write to %s: %w", c.peer, err)
		}
		if wt := c.srv.writeTimeout(); wt > 0 {
			if now := time.Now(); nc != c.wdlConn || c.wdl.Sub(now) < wt {
				c.wdl, c.wdlConn = now.Add(wt+wt/2), nc
				nc.SetWriteDeadline(c.wdl)
			}
		}
		n, err = nc.Write(b)
	} else {
		n, err = c.pc.WriteTo(b, c.remote)
	}
	if n > 0 {
		c.bytesOut.Add(uint64(n))
		c.srv.stats.bytesOut.Add(uint64(n))
	}
	if err != nil {
		return fmt.Errorf("channel: write to %s: %w", c.peer, err)
	}
	c.msgsOut.Add(1)
	return nil
}

// errCloseAfterReply stops the frame loop after a reply the codec asked to
// close on (Result.Close).
var errCloseAfterReply = errors.New("channel: codec asked to close")

// serveConn is the life of one TCP connection.
func (s *Server) serveConn(c *Conn) {
	// The session exists before anyone hears of the connection, so that a
	// ConnState callback may already send it commands.
	c.dec = protocol.NewStreamDecoder(c.guard, protocol.TCP, s.maxFrame())
	if s.Proxy.enabled() {
		c.proxy = newProxyConn(c, false)
	}
	c.idleFrom = c.since
	s.setState(c, StateNew)
	c.run()
}

// run reads the connection until it ends or parks; resume (park.go) calls
// it again when a parked connection wakes.
func (c *Conn) run() {
	if !c.readLoop() {
		c.srv.endConn(c)
	}
}

// readLoop reads and decodes frames. It returns true when the connection
// has been parked: the goroutine must then leave it alone.
func (c *Conn) readLoop() (parked bool) {
	s := c.srv
	log := s.logger()
	fn := c.frame
	dec := c.dec
	idle, rt, lt, pa := s.idleTimeout(), s.readTimeout(), s.loginTimeout(), s.parkAfter()
	fresh := false  // bytes were handled in the last round
	waited := false // the last read waited the park delay in vain
	// A connection parks at once after its login, if nothing else has
	// arrived (park.go): a device reconnecting in a crowd (a gateway
	// restart brings the whole fleet back) would otherwise keep a goroutine
	// for the park delay, and the runtime keeps every goroutine descriptor
	// it ever had (~480 B each).
	loggedIn := c.Ident() != ""
	parkNext := false
	for {
		// The deadline is armed before the shutdown flag is read, and
		// Shutdown sets the flag before moving the deadline to the past
		// (and waking a parked connection): whichever order they
		// interleave in, the Read below cannot block past a shutdown.
		midFrame := dec.Buffered() > 0
		now := time.Now()
		if fresh {
			c.idleFrom = now
			fresh = false
		}
		if !midFrame {
			c.frameStart = time.Time{}
		} else if c.frameStart.IsZero() {
			c.frameStart = now
		}
		var dl time.Time
		if idle > 0 {
			dl = c.idleFrom.Add(idle)
		}
		// A frame must complete within ReadTimeout of its first bytes, however
		// steadily a device trickles them.
		if midFrame && rt > 0 && (dl.IsZero() || c.frameStart.Add(rt).Before(dl)) {
			dl = c.frameStart.Add(rt)
		}
		// A device must say who it is within LoginTimeout of connecting.
		loginBy := c.since.Add(lt)
		if lt > 0 && c.Ident() == "" && (dl.IsZero() || loginBy.Before(dl)) {
			dl = loginBy
		}
		// Between frames, a parkable connection waits in Go's poller for at
		// most the park delay, then parks (park.go).
		canPark := c.park != nil && !midFrame
		parkNow := false
		rdl := dl
		if canPark {
			parkAt := c.idleFrom.Add(pa)
			if parkNow = parkNext || !now.Before(parkAt); !parkNow && (rdl.IsZero() || parkAt.Before(rdl)) {
				rdl = parkAt
			}
		}
		parkNext = false
		c.nc.SetReadDeadline(rdl)
		if s.shutdown.Load() && !midFrame {
			return false
		}
		buf := c.readBuf()
		var n int
		var err error
		if parkNow {
			// Idle for the park delay (or woken from the poller): read what
			// has arrived, and park if nothing has. Straight after a wait
			// that timed out the read is not worth its system call: the
			// poller reports bytes that came since as soon as it is armed.
			if waited {
				err = errWouldBlock
			} else {
				n, err = c.readNoWait(buf)
			}
			waited = false
			if err == errWouldBlock {
				if c.parkIdle(dl) {
					return true
				}
				// Not parked (it is being closed): wait here.
				if err := c.reacquire(); err != nil {
					if !c.closed.Load() {
						c.fail(err)
					}
					return false
				}
				buf = c.readBuf()
				n, err = c.nc.Read(buf)
			}
		} else {
			n, err = c.nc.Read(buf)
		}
		if n > 0 {
			fresh = true
			c.noteIn(buf[:n])
			if ferr := c.feed(dec, buf[:n], fn); ferr != nil {
				if ferr != errCloseAfterReply {
					c.fail(ferr)
				}
				return false
			}
			if !loggedIn && c.Ident() != "" {
				loggedIn, parkNext = true, true
			}
		}
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				if lt > 0 && c.Ident() == "" && time.Since(c.since) >= lt {
					s.stats.loginTimeouts.Add(1)
					c.fail(fmt.Errorf("%w: %s sent no login within %v (%d bytes in)", ErrLoginTimeout, c.peer, lt, c.bytesIn.Load()))
				} else if midFrame && rt > 0 && time.Since(c.frameStart) >= rt {
					s.stats.readTimeouts.Add(1)
					c.fail(fmt.Errorf("channel: %s: %w: no complete frame within %v (%d bytes held)", c.peer, os.ErrDeadlineExceeded, rt, dec.Buffered()))
				} else if s.shutdown.Load() {
					continue // interrupted by Shutdown: finish a partial frame, or leave at the top
				} else if idle > 0 && time.Since(c.idleFrom) >= idle {
					s.stats.idleClosed.Add(1)
					log.Debug("channel: idle connection closed", "peer", c.peer, "ident", c.Ident(), "idle", idle)
				} else {
					waited = n == 0
					continue // the park delay passed: park at the top
				}
			case c.closed.Load():
				// Closed on purpose (CloseIdent, Shutdown's deadline): no more
				// frames are decoded, since their replies could not be sent.
			case err == io.EOF:
				if ferr := c.finish(dec, fn); ferr != nil {
					log.Debug("channel: connection ended inside a frame", "peer", c.peer, "ident", c.Ident(), "err", ferr)
				}
			default:
				c.fail(err)
			}
			return false
		}
	}
}

// readBufferSize is the per-connection read buffer: tracker frames are
// small, and ten thousand connections each holding 64 KiB would be 640 MB.
const readBufferSize = 2048

func (c *Conn) noteIn(p []byte) {
	c.last.Store(time.Now().UnixNano())
	c.bytesIn.Add(uint64(len(p)))
	c.srv.stats.bytesIn.Add(uint64(len(p)))
	if c.rec != nil {
		c.rec.chunk(traffic.In, p)
	}
}

// feed runs the decoder over p, containing a panic of the codec or the
// handler to this connection.
func (c *Conn) feed(dec *protocol.StreamDecoder, p []byte, fn protocol.FrameFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = c.panicked(r)
		}
	}()
	return dec.Feed(p, fn)
}

func (c *Conn) finish(dec *protocol.StreamDecoder, fn protocol.FrameFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = c.panicked(r)
		}
	}()
	return dec.Finish(fn)
}

func (c *Conn) panicked(r any) error {
	pe := &PanicError{Value: r, Stack: debug.Stack()}
	if f := c.guard.current(); f != nil {
		pe.Frame = append([]byte{}, f...)
	}
	c.guard.unlockIfHeld()
	c.srv.stats.panics.Add(1)
	attrs := []any{"peer", c.peer, "ident", c.Ident(), "panic", fmt.Sprint(r), "stack", string(pe.Stack)}
	if pe.Frame != nil {
		attrs = append(attrs, "frame", hexLimit(pe.Frame, 4096))
	}
	c.srv.logger().Error("channel: panic; closing the connection", attrs...)
	return pe
}

func hexLimit(b []byte, n int) string {
	if len(b) > n {
		return hex.EncodeToString(b[:n]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return hex.EncodeToString(b)
}

// fail logs and reports an error that ends the connection (or, for UDP,
// one datagram).
func (c *Conn) fail(err error) {
	if c.closed.Load() && !errors.Is(err, os.ErrDeadlineExceeded) {
		return // closed on purpose: the read error is the consequence
	}
	var pe *PanicError
	if !errors.As(err, &pe) { // panics were logged with their stack already
		var de *protocol.DecodeError
		if errors.As(err, &de) {
			c.srv.stats.decodeErrors.Add(1)
		}
		c.srv.logger().Warn("channel: connection error", "peer", c.peer, "ident", c.Ident(), "err", err)
	}
	c.srv.reportError(c, err)
}

// frame handles one decoded frame: ident, command answers, messages, reply.
func (c *Conn) frame(frame []byte, r *protocol.Result) error {
	s := c.srv
	s.stats.framesIn.Add(1)
	raw := frame
	if c.guard != nil && c.guard.keepRaw {
		// A proxy forwards the bytes as they came, framing included.
		if len(c.guard.raw) > 0 {
			raw = c.guard.raw
		}
		defer func() { c.guard.raw = c.guard.raw[:0] }()
	}
	if r.Ident != "" && r.Ident != c.Ident() {
		// Commands wait until the device has had the answer to its login:
		// a command written before it would be read as that answer.
		c.cmdReady.Store(false)
		c.setIdent(r.Ident)
	}
	if len(r.Responses) > 0 {
		c.answered(r.Responses)
	}
	if n := len(r.Messages); n > 0 {
		if c.Ident() == "" && !allIdentified(r.Messages) {
			return c.refuse(n)
		}
		c.stamp(r.Messages)
		c.msgsIn.Add(uint64(n))
		s.stats.messagesIn.Add(uint64(n))
		if err := s.Handler.HandleMessages(c.ctx, c, r.Messages); err != nil {
			// No reply: the device resends what it did not see acknowledged.
			s.stats.handlerErrors.Add(1)
			s.logger().Warn("channel: handler refused messages; no ACK sent", "peer", c.peer, "ident", c.Ident(), "messages", n, "err", err)
			s.reportError(c, err)
			if r.Close {
				return errCloseAfterReply
			}
			return nil
		}
		s.stats.messagesAcked.Add(uint64(n))
	}
	answered := true
	if c.proxy != nil && !r.Close {
		var err error
		if answered, err = c.proxy.frame(raw, r.Reply, len(r.Messages) > 0); err != nil {
			return err
		}
	} else if len(r.Reply) > 0 {
		if err := c.write(r.Reply); err != nil {
			return err
		}
	}
	if r.Close {
		return errCloseAfterReply
	}
	if answered && c.Ident() != "" && !c.cmdReady.Load() {
		c.cmdReady.Store(true)
		s.flushQueue(c)
	}
	return nil
}

// commandsReady lets queued commands go once the device has had the answer
// to its login through a proxy channel's upstream.
func (c *Conn) commandsReady() {
	if c.Ident() != "" && !c.cmdReady.Swap(true) && c.srv != nil {
		go c.srv.flushQueue(c)
	}
}

// allIdentified reports whether every message carries its own ident, as
// the messages of protocols that put the ident in every frame do.
func allIdentified(msgs []protocol.Message) bool {
	for i := range msgs {
		if id, ok := msgs[i].Str(protocol.ParamIdent); !ok || id == "" {
			return false
		}
	}
	return true
}

// refuse turns away a frame whose messages have no ident: nothing is
// stored or acknowledged, so that whoever can reach the port cannot write
// into the store without a login. Over TCP the device gets the protocol's
// refusal, when it has one, and the returned error closes the connection;
// over UDP the datagram is dropped and the session goes on.
func (c *Conn) refuse(n int) error {
	c.srv.stats.unidentified.Add(1)
	if c.network == "tcp" {
		if b := c.guard.refusal(); len(b) > 0 {
			c.write(b) // best effort: the connection closes either way
		}
	}
	return fmt.Errorf("%w: %d message(s) from %s, which has not logged in", ErrNoIdent, n, c.peer)
}

// stamp adds the parameters the channel owns to each message.
func (c *Conn) stamp(msgs []protocol.Message) {
	now := float64(time.Now().UnixMicro()) / 1e6
	ident := c.Ident()
	var chID, protoID int64
	if c.srv != nil {
		chID, protoID = c.srv.ChannelID, c.srv.ProtocolID
	}
	stampMessages(msgs, now, chID, protoID, c.peer, ident)
}

func stampMessages(msgs []protocol.Message, now float64, chID, protoID int64, peer, ident string) {
	for i := range msgs {
		m := &msgs[i]
		if ident != "" && !m.Has(protocol.ParamIdent) {
			m.SetString(protocol.ParamIdent, ident)
		}
		if !m.Has(protocol.ParamTimestamp) {
			m.SetFloat(protocol.ParamTimestamp, now)
		}
		m.SetFloat(protocol.ParamServerTimestamp, now)
		if chID != 0 {
			m.SetInt(protocol.ParamChannelID, chID)
		}
		if protoID != 0 {
			m.SetInt(protocol.ParamProtocolID, protoID)
		}
		if peer != "" {
			m.SetString(protocol.ParamPeer, peer)
		}
	}
}

// endConn runs when a connection's goroutine ends.
func (s *Server) endConn(c *Conn) {
	c.Close()
	if c.proxy != nil {
		c.proxy.close()
	}
	if c.rec != nil {
		c.rec.close()
	}
	s.untrack(c)
	c.failPending(ErrConnClosed)
	s.setState(c, StateClosed)
	s.logger().Debug("channel: connection closed", "peer", c.peer, "ident", c.Ident(),
		"bytes_in", c.bytesIn.Load(), "bytes_out", c.bytesOut.Load(), "messages", c.msgsIn.Load())
	c.putReadBuf()
	if c.served != nil {
		c.served.Done()
		s.wg.Done()
	}
}

// guard wraps the server's codec for one connection. It remembers the bytes
// the codec is working on, so that a panic can be logged with its frame,
// and it locks the session so that commands can be encoded from other
// goroutines while the reader decodes.
type guard struct {
	codec protocol.Codec
	mu    sync.Mutex
	held  atomic.Bool
	cur   []byte
	sess  protocol.Session
	// keepRaw collects in raw the bytes the splitter consumed up to the
	// frame being handled (a proxy forwards them as they came).
	keepRaw bool
	raw     []byte
}

func (g *guard) consumed(data []byte, adv int) {
	if g.keepRaw && adv > 0 && adv <= len(data) {
		g.raw = append(g.raw, data[:adv]...)
	}
}

func (g *guard) Name() string { return g.codec.Name() }

func (g *guard) Split(data []byte, atEOF bool) (int, []byte, error) {
	g.cur = data
	adv, frame, err := g.codec.Split(data, atEOF)
	g.cur = nil
	g.consumed(data, adv)
	return adv, frame, err
}

func (g *guard) NewSession(t protocol.Transport) protocol.Session {
	g.sess = g.codec.NewSession(t)
	if sp, ok := g.sess.(protocol.Splitter); ok {
		return &splitGuardSession{guardSession{g}, sp}
	}
	return &guardSession{g}
}

func (g *guard) lock()   { g.mu.Lock(); g.held.Store(true) }
func (g *guard) unlock() { g.held.Store(false); g.mu.Unlock() }

// unlockIfHeld releases the session lock after a panic inside Decode; only
// the reader goroutine holds it across a call that can panic.
func (g *guard) unlockIfHeld() {
	if g.held.Load() {
		g.unlock()
	}
}

func (g *guard) current() []byte { return g.cur }

type guardSession struct{ g *guard }

func (s *guardSession) Decode(frame []byte, r *protocol.Result) error {
	g := s.g
	g.lock()
	g.cur = frame
	err := g.sess.Decode(frame, r)
	g.cur = nil
	g.unlock()
	return err
}

type splitGuardSession struct {
	guardSession
	sp protocol.Splitter
}

func (s *splitGuardSession) Split(data []byte, atEOF bool) (int, []byte, error) {
	g := s.g
	g.lock()
	g.cur = data
	adv, frame, err := s.sp.Split(data, atEOF)
	g.cur = nil
	g.unlock()
	g.consumed(data, adv)
	return adv, frame, err
}

// refusal returns the session's refusal reply ([protocol.Refuser]), or nil.
func (g *guard) refusal() []byte {
	g.lock()
	defer g.unlock()
	if rf, ok := g.sess.(protocol.Refuser); ok {
		return append([]byte(nil), rf.Refusal()...)
	}
	return nil
}

// encode appends cmd's wire form to dst using the session, or fails with
// protocol.ErrNoCommands.
func (g *guard) encode(dst []byte, cmd protocol.Command) ([]byte, error) {
	g.lock()
	defer g.unlock()
	enc, ok := g.sess.(protocol.CommandEncoder)
	if !ok {
		return dst, fmt.Errorf("channel: %s: %w", g.codec.Name(), protocol.ErrNoCommands)
	}
	return enc.EncodeCommand(dst, cmd)
}
