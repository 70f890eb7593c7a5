package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/protocol/traffic"
)

// Proxy makes a [Server] a proxy channel: every device connection is also
// forwarded, frame by frame, to one or more upstream servers (the platform
// a fleet is moving away from), and the first upstream's answers go back to
// the device. The zero value proxies nothing. See "Proxy channels" in the
// package documentation for what is forwarded when, and why.
type Proxy struct {
	// Upstreams are the servers ("host:port") each device connection is
	// forwarded to, each over a connection of its own; the first one's
	// answers are relayed to the device, the others' are only recorded.
	// Empty: no proxy.
	Upstreams []string
	// Ack says who acknowledges the device's frames; the zero value is
	// [AckUpstream]. UDP sessions always get ours.
	Ack ProxyAck
	// DialTimeout bounds each connection attempt to an upstream. 0 means
	// [DefaultProxyDialTimeout].
	DialTimeout time.Duration
	// ReplyTimeout is how long the first upstream may stay silent after a
	// frame it has to answer (and how long a write to any upstream may
	// take) before it is taken for down: its connection is closed, the
	// device gets our answers to the frames it left unanswered, and
	// reconnection starts. 0 means [DefaultProxyReplyTimeout].
	ReplyTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between reconnections to an
	// upstream (doubling, with jitter). 0 means 1 s and 1 minute.
	RetryMin, RetryMax time.Duration
	// MaxBacklog bounds the bytes of frames held for an upstream that is
	// down, per device connection; they are sent when it is back (the
	// oldest are dropped beyond, and counted). 0 means
	// [DefaultProxyBacklog]; negative holds none.
	MaxBacklog int
	// Dial, when set, opens the connections to the upstreams (TLS, a
	// SOCKS proxy); nil uses a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ProxyAck chooses who acknowledges the frames of a proxied device.
type ProxyAck uint8

const (
	// AckUpstream: while the first upstream is connected, the device gets
	// the upstream's answers (to frames it received only once our Handler
	// had stored them), and ours while it is down or silent. The device
	// sees its old platform as before, and an acknowledged frame is stored
	// on both sides.
	AckUpstream ProxyAck = iota
	// AckOurs: the device always gets our answers. The first upstream's
	// acknowledgements are recognised (they are the bytes we answered the
	// same frame with) and dropped; its other bytes, such as commands, are
	// relayed. For protocols whose acknowledgements are fixed by the frame
	// (Teltonika, GT06, Wialon IPS): an upstream that acknowledges in other
	// words has them relayed as well, and the device gets two.
	AckOurs
)

// Defaults of the [Proxy] fields.
const (
	DefaultProxyDialTimeout  = 10 * time.Second
	DefaultProxyReplyTimeout = 10 * time.Second
	DefaultProxyBacklog      = 64 << 10
)

func (a ProxyAck) String() string {
	if a == AckOurs {
		return "ours"
	}
	return "upstream"
}

// ParseProxyAck parses "upstream" (or "") and "ours".
func ParseProxyAck(s string) (ProxyAck, error) {
	switch s {
	case "", "upstream":
		return AckUpstream, nil
	case "ours":
		return AckOurs, nil
	}
	return 0, fmt.Errorf("channel: proxy ack %q: want \"upstream\" or \"ours\"", s)
}

// ErrUpstreamSilent is why an upstream that did not answer within
// ReplyTimeout was disconnected (reported to OnError).
var ErrUpstreamSilent = errors.New("channel: upstream did not answer")

func (p *Proxy) enabled() bool { return len(p.Upstreams) > 0 }

func (p *Proxy) dialTimeout() time.Duration {
	if p.DialTimeout > 0 {
		return p.DialTimeout
	}
	return DefaultProxyDialTimeout
}

func (p *Proxy) replyTimeout() time.Duration {
	if p.ReplyTimeout > 0 {
		return p.ReplyTimeout
	}
	return DefaultProxyReplyTimeout
}

func (p *Proxy) backlog() int {
	switch {
	case p.MaxBacklog < 0:
		return 0
	case p.MaxBacklog == 0:
		return DefaultProxyBacklog
	}
	return p.MaxBacklog
}

// retryDelay is the backoff before attempt n (from 1): RetryMin doubled
// each time up to RetryMax, within ±20% so that a fleet whose upstream went
// down does not reconnect in one wave.
func (p *Proxy) retryDelay(n int) time.Duration {
	lo, hi := p.RetryMin, p.RetryMax
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = time.Minute
	}
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

func (p *Proxy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.dialTimeout())
	defer cancel()
	if p.Dial != nil {
		return p.Dial(ctx, network, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// proxyFirstWait bounds how long a device's first frame waits for the
// connection to the first upstream.
const proxyFirstWait = 2 * time.Second

// Limits of the frames kept to replay a device's login to an upstream
// that (re)connects mid-session.
const (
	maxPreambleFrames = 8
	maxPreambleBytes  = 16 << 10
	maxExpectations   = 256
)

// savedFrame is a frame kept for an upstream: its bytes and the answer our
// codec gave it.
type savedFrame struct{ raw, reply []byte }

func saveFrame(raw, reply []byte) savedFrame {
	return savedFrame{raw: bytes.Clone(raw), reply: bytes.Clone(reply)}
}

// proxyConn is the proxy side of one device connection or UDP session.
// Its lock orders everything that reaches the device from the proxy: our
// answers, the upstream's answers and commands.
type proxyConn struct {
	c   *Conn
	cfg *Proxy
	udp bool

	mu         sync.Mutex
	ups        []*upstream
	preamble   []savedFrame // the frames up to the login, replayed to a new upstream connection
	preBytes   int
	identified bool
	closed     bool

	firstOnce  sync.Once
	firstTried chan struct{} // closed when the first attempt to reach the first upstream ended
	waited     bool          // the first frame waited for it (the connection's goroutine only)
}

// expectKind says what becomes of the first upstream's answer to a frame.
type expectKind uint8

const (
	expectRelay  expectKind = iota // the device waits for it (AckUpstream)
	expectDrop                     // the device got ours (AckOurs): drop it
	expectReplay                   // a replayed frame: the device got its answer long ago
)

type expectation struct {
	raw, reply []byte
	kind       expectKind
	at         time.Time
	ready      bool // the device's login answer: commands may follow it
	preamble   bool // a login frame, replayed to every new connection anyway
	// unsure: bytes the upstream sent while this answer was awaited were
	// relayed without being it. They may have been it in other words, so
	// the device cannot be given ours any more, and the upstream's silence
	// about it proves nothing.
	unsure bool
}

// upstream is one upstream server of one device connection.
type upstream struct {
	p    *proxyConn
	n    int // from 1
	addr string

	// Under p.mu:
	nc       net.Conn // nil while down
	gen      uint64   // bumped at every connect and down: a stale reader leaves quietly
	failures int
	retry    *time.Timer
	backlog  []savedFrame
	backSize int
	// The first upstream only:
	expect []expectation
	held   []byte // the start of an expected answer, waiting for the rest
	heard  time.Time
	timer  *time.Timer
}

// newProxyConn starts connecting c's upstreams.
func newProxyConn(c *Conn, udp bool) *proxyConn {
	cfg := &c.srv.Proxy
	p := &proxyConn{c: c, cfg: cfg, udp: udp, firstTried: make(chan struct{})}
	for i, addr := range cfg.Upstreams {
		p.ups = append(p.ups, &upstream{p: p, n: i + 1, addr: addr})
	}
	for _, up := range p.ups {
		go up.connect()
	}
	return p
}

func (p *proxyConn) first() *upstream { return p.ups[0] }

// ackByUpstream reports whether the device's next frame is answered by the
// first upstream.
func (p *proxyConn) ackByUpstream() bool {
	return p.cfg.Ack == AckUpstream && !p.udp && p.first().nc != nil
}

// frame forwards a frame our Handler accepted (or that had no messages) to
// the upstreams and answers the device, with ours or through the first
// upstream. It reports whether the device has its answer already (false:
// the first upstream's is awaited).
func (p *proxyConn) frame(raw, reply []byte, hasMessages bool) (answered bool, err error) {
	// A device's first frame waits for the first attempt to reach the
	// upstream, so that the upstream sees the login live and answers it;
	// not long, as an upstream that does not answer its SYNs must not keep
	// the device from being served.
	select {
	case <-p.firstTried:
	default:
		if p.waited {
			break // the device's first frame waited already
		}
		p.waited = true
		t := time.NewTimer(min(p.cfg.dialTimeout(), proxyFirstWait))
		select {
		case <-p.firstTried:
		case <-t.C:
		case <-p.c.ctx.Done():
			t.Stop()
			return true, ErrConnClosed
		}
		t.Stop()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return true, ErrConnClosed
	}
	inPreamble := false
	if !p.identified {
		if !hasMessages && len(p.preamble) < maxPreambleFrames && p.preBytes+len(raw) <= maxPreambleBytes {
			p.preamble = append(p.preamble, saveFrame(raw, reply))
			p.preBytes += len(raw)
			inPreamble = true
		}
		p.identified = p.c.Ident() != ""
	}
	byUpstream := p.ackByUpstream()
	for i, up := range p.ups {
		if up.nc == nil {
			if !inPreamble {
				up.keep(raw, reply)
			}
			continue
		}
		kind := expectDrop
		if i == 0 && byUpstream {
			kind = expectRelay
		}
		up.send(raw, reply, kind, inPreamble)
	}
	if byUpstream {
		if p.first().nc == nil {
			return true, nil // the write failed: down() answered with ours
		}
		if len(reply) > 0 {
			e := &p.first().expect[len(p.first().expect)-1]
			e.ready = p.c.Ident() != "" && !p.c.cmdReady.Load()
			return false, nil
		}
		return true, nil
	}
	if len(reply) > 0 {
		if err := p.c.write(reply); err != nil {
			return true, err
		}
	}
	return true, nil
}

// send writes a frame to the upstream, expecting its answer (first
// upstream). A failed write takes the upstream down. Under p.mu.
func (up *upstream) send(raw, reply []byte, kind expectKind, preamble bool) {
	if up.n == 1 && len(reply) > 0 {
		if len(up.expect) >= maxExpectations {
			up.expect = up.expect[1:] // a UDP upstream that never answers: forget the oldest
		}
		e := expectation{reply: bytes.Clone(reply), kind: kind, at: time.Now(), preamble: preamble}
		if !up.p.udp {
			e.raw = bytes.Clone(raw) // sent again if the connection dies before the answer
		}
		up.expect = append(up.expect, e)
		up.arm()
	}
	if kind == expectReplay {
		up.p.c.srv.stats.proxyReplayed.Add(1)
	}
	// Recorded first: the answer may be read before Write returns.
	if rec := up.p.c.rec; rec != nil {
		rec.chunkUp(traffic.ToUpstream, up.n, raw)
	}
	up.nc.SetWriteDeadline(time.Now().Add(up.p.cfg.replyTimeout()))
	if _, err := up.nc.Write(raw); err != nil {
		up.down(fmt.Errorf("channel: write to upstream %s: %w", up.addr, err))
		return
	}
	up.p.c.srv.stats.proxyFrames.Add(1)
}

// keep holds a frame for the upstream while it is down. Under p.mu.
func (up *upstream) keep(raw, reply []byte) {
	max := up.p.cfg.backlog()
	if len(raw) > max || up.p.udp {
		up.p.c.srv.stats.proxyDropped.Add(1)
		return
	}
	for up.backSize+len(raw) > max && len(up.backlog) > 0 {
		up.backSize -= len(up.backlog[0].raw)
		up.backlog = up.backlog[1:]
		up.p.c.srv.stats.proxyDropped.Add(1)
	}
	up.backlog = append(up.backlog, saveFrame(raw, reply))
	up.backSize += len(raw)
}

// connect dials the upstream and, once connected, replays the device's
// login and the frames held while it was down, then reads its answers.
func (up *upstream) connect() {
	p := up.p
	network := "tcp"
	if p.udp {
		network = "udp"
	}
	nc, err := p.cfg.dial(p.c.ctx, network, up.addr)
	if up.n == 1 {
		defer p.firstOnce.Do(func() { close(p.firstTried) })
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		if nc != nil {
			nc.Close()
		}
		return
	}
	if err != nil {
		up.failed(fmt.Errorf("channel: connect to upstream %s: %w", up.addr, err))
		return
	}
	up.nc, up.failures = nc, 0
	up.gen++
	p.c.srv.stats.proxyConnects.Add(1)
	p.c.srv.logger().Debug("channel: upstream connected", "peer", p.c.peer, "ident", p.c.Ident(), "upstream", up.addr)
	go up.read(nc, up.gen)
	// The upstream must hear the login before anything else; the answers
	// to what is replayed are not the device's business any more.
	backlog := up.backlog
	up.backlog, up.backSize = nil, 0
	for _, f := range p.preamble {
		if up.nc == nil {
			break
		}
		up.send(f.raw, f.reply, expectReplay, true)
	}
	for i, f := range backlog {
		if up.nc == nil {
			// Down again: what was not written waits for the next time.
			for _, f := range backlog[i:] {
				up.keep(f.raw, f.reply)
			}
			return
		}
		up.send(f.raw, f.reply, expectReplay, false)
	}
}

// failed counts a failed attempt or a lost connection and schedules the
// next attempt. Under p.mu.
func (up *upstream) failed(err error) {
	p := up.p
	up.failures++
	p.c.srv.stats.proxyFailures.Add(1)
	delay := p.cfg.retryDelay(up.failures)
	p.c.srv.logger().Info("channel: upstream unavailable; retrying", "peer", p.c.peer, "ident", p.c.Ident(),
		"upstream", up.addr, "err", err, "attempt", up.failures, "retry_in", delay)
	p.c.srv.reportError(p.c, err)
	up.retry = time.AfterFunc(delay, up.connect)
}

// down closes the connection to the upstream. For the first upstream, the
// frames whose answers the device was waiting for get ours now, in order:
// they are stored, and with the connection closed no late answer of the
// upstream can reach the device after them. Under p.mu.
func (up *upstream) down(err error) {
	if up.nc == nil {
		return
	}
	up.nc.Close()
	up.nc = nil
	up.gen++
	if up.timer != nil {
		up.timer.Stop()
	}
	pending := up.expect
	up.expect, up.held = nil, nil
	// The frames the upstream did not answer may not have reached it: they
	// go to the next connection (it may get one twice; better than never).
	var resend []savedFrame
	for _, e := range pending {
		if e.raw != nil && !e.preamble {
			resend = append(resend, savedFrame{e.raw, e.reply})
		}
	}
	if len(resend) > 0 {
		held := up.backlog
		up.backlog, up.backSize = nil, 0
		for _, f := range append(resend, held...) {
			up.keep(f.raw, f.reply)
		}
	}
	for _, e := range pending {
		if e.kind == expectRelay && !e.unsure {
			if werr := up.p.c.write(e.reply); werr != nil {
				up.p.c.Close()
				break
			}
			if e.ready {
				up.p.c.commandsReady()
			}
		}
	}
	up.failed(err)
}

// read copies the upstream's bytes until its connection ends.
func (up *upstream) read(nc net.Conn, gen uint64) {
	p := up.p
	size := readBufferSize
	if p.udp {
		size = p.c.srv.maxFrame() // a datagram is read whole or truncated
	}
	buf := make([]byte, size)
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			if rec := p.c.rec; rec != nil {
				rec.chunkUp(traffic.FromUpstream, up.n, buf[:n])
			}
			p.mu.Lock()
			if up.gen == gen && up.n == 1 {
				up.answer(buf[:n])
			}
			p.mu.Unlock()
		}
		if err != nil {
			p.mu.Lock()
			if up.gen == gen && !p.closed {
				up.down(fmt.Errorf("channel: upstream %s: %w", up.addr, err))
			}
			p.mu.Unlock()
			return
		}
	}
}

// answer sorts what the first upstream sent: its answers to the frames we
// forwarded (relayed or dropped, see [ProxyAck]) and everything else, such
// as commands, relayed to the device as it comes. Under p.mu.
func (up *upstream) answer(data []byte) {
	up.heard = time.Now()
	if len(up.held) > 0 {
		data = append(up.held, data...)
		up.held = nil
	}
	for len(data) > 0 {
		if len(up.expect) == 0 {
			up.relay(data)
			break
		}
		e := up.expect[0]
		if bytes.HasPrefix(data, e.reply) {
			if e.kind == expectRelay {
				if !up.relay(e.reply) {
					return
				}
			}
			up.resolved(e)
			data = data[len(e.reply):]
			continue
		}
		if !up.p.udp && bytes.HasPrefix(e.reply, data) {
			up.held = bytes.Clone(data) // the rest of the answer is on its way
			break
		}
		if e.kind == expectReplay {
			// The upstream answered a replayed login in its own words.
			n := min(len(data), len(e.reply))
			up.resolved(e)
			data = data[n:]
			continue
		}
		// Not the answer we expected: a command, or an answer in other
		// words. It goes to the device as it is. The answers awaited stay,
		// so that they are still recognised when they come, but they are
		// unsure now (see expectation).
		for i := range up.expect {
			e := &up.expect[i]
			e.unsure = true
			if e.ready {
				e.ready = false
				up.p.c.commandsReady()
			}
		}
		up.relay(data)
		break
	}
	up.arm()
}

// resolved pops the oldest expectation. Under p.mu.
func (up *upstream) resolved(e expectation) {
	up.expect = up.expect[1:]
	if e.ready {
		up.p.c.commandsReady()
	}
}

// relay writes the upstream's bytes to the device. Under p.mu.
func (up *upstream) relay(b []byte) bool {
	up.p.c.srv.stats.proxyRelayed.Add(uint64(len(b)))
	if err := up.p.c.write(b); err != nil {
		up.p.c.Close()
		return false
	}
	return true
}

// arm sets the timer that takes a silent first upstream down, and forgets
// unsure answers awaited for longer than ReplyTimeout. Under p.mu.
func (up *upstream) arm() {
	if up.p.udp {
		return // no connection to give up on: our answers went out already
	}
	timeout := up.p.cfg.replyTimeout()
	old := time.Now().Add(-timeout)
	kept := up.expect[:0]
	for _, e := range up.expect {
		if !e.unsure || e.at.After(old) {
			kept = append(kept, e)
		}
	}
	clear(up.expect[len(kept):])
	up.expect = kept
	dl, ok := up.deadline()
	if !ok {
		if up.timer != nil {
			up.timer.Stop()
		}
		return
	}
	d := time.Until(dl)
	if up.timer == nil {
		up.timer = time.AfterFunc(d, up.timeout)
	} else {
		up.timer.Reset(d)
	}
}

// deadline is when the oldest answer awaited (and not unsure) is overdue:
// the upstream has ReplyTimeout from the frame or from its last bytes.
func (up *upstream) deadline() (time.Time, bool) {
	for _, e := range up.expect {
		if e.unsure {
			continue
		}
		from := e.at
		if up.heard.After(from) {
			from = up.heard
		}
		return from.Add(up.p.cfg.replyTimeout()), true
	}
	if len(up.expect) > 0 {
		// Only unsure ones: look again when the oldest is forgotten.
		return up.expect[0].at.Add(up.p.cfg.replyTimeout()), true
	}
	return time.Time{}, false
}

func (up *upstream) timeout() {
	p := up.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || up.nc == nil || len(up.expect) == 0 {
		return
	}
	up.arm() // forgets the unsure answers that are too old
	dl, ok := up.deadline()
	if !ok || time.Now().Before(dl) || allUnsure(up.expect) {
		return
	}
	up.down(fmt.Errorf("%w: %s sent nothing for %v", ErrUpstreamSilent, up.addr, p.cfg.replyTimeout()))
}

func allUnsure(es []expectation) bool {
	for _, e := range es {
		if !e.unsure {
			return false
		}
	}
	return true
}

// close ends the upstream connections with the device's.
func (p *proxyConn) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, up := range p.ups {
		p.c.srv.stats.proxyDropped.Add(uint64(len(up.backlog)))
		up.backlog = nil
		if up.retry != nil {
			up.retry.Stop()
		}
		if up.timer != nil {
			up.timer.Stop()
		}
		if up.nc != nil {
			up.nc.Close()
			up.nc = nil
			up.gen++
		}
	}
	p.firstOnce.Do(func() { close(p.firstTried) })
}
