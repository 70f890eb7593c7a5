package embedded

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/internal/idlepoll"
	"github.com/mochi-mqtt/server/v2/packets"
)

// This file is a connection's life: serve runs the handshake (connect.go),
// then the read loop, which dispatches each packet to its room — publish.go
// for PUBLISH and PUBREL, deliver.go for the acknowledgements of what the
// broker sent, subscribe.go for SUBSCRIBE and UNSUBSCRIBE — and finally
// detaches the connection from its session (session.go). writer.go sends;
// park.go lets an idle connection wait without a goroutine.

// ctrlLimit bounds the acknowledgements waiting for the writer: a client
// that publishes without reading its acknowledgements stalls its own reads
// instead of growing memory.
const ctrlLimit = 64 << 10

// errNormalDisconnect ends the read loop after a client's DISCONNECT.
var errNormalDisconnect = errors.New("embedded: client disconnected")

type conn struct {
	srv *Server
	// nc is nil while the connection is parked with its socket released
	// (park.go): ncMu guards that change, and whoever finds it nil gets a
	// net.Conn through netConn. The reader reads nc without the lock: it is
	// the only one to set it nil, and others set it only from nil.
	nc   net.Conn
	ncMu sync.Mutex
	// outer is the pass-through wrapper ServeConn was given when nc is
	// the connection beneath it (ServeConn): closed once the connection
	// is, for what it frees.
	outer net.Conn
	in    *input
	done  event // after detach
	wdone event // when writing has ended for good
	// wstate runs the writer goroutine on demand, and park (nil when the
	// connection cannot be parked) lets the reader's go while nothing
	// arrives, so that an idle connection costs no goroutine at all.
	wstate atomic.Int32
	// connacking is set just before the CONNACK is written: from then
	// until wstate leaves writerNotReady the client may already know it
	// is connected, so a shutdown waits for the writer (see shutdown).
	connacking atomic.Bool
	park       *idlepoll.Socket

	// hooks is the context handed to the code that may keep it past
	// the call (an Interceptor, a REST handler), made on first use: it
	// ends when the connection does. Synchronous checks (authentication,
	// authorization, namespaces) get the server's context, which is all
	// the connection's could be while the read loop runs. Reader-owned.
	hooks *hookContext
	sess  atomic.Pointer[session]

	client *Client

	// Guarded by sess.mu (closing too, below).
	ctrl []byte

	ctrlSpare []byte // owned by the running writer

	// Owned by the writer goroutine (set before it starts).
	aliasOut map[string]uint16
	maxOut   int // client's Maximum Packet Size, 0 = none

	// Owned by the reader goroutine.
	aliasIn   map[uint16]string
	will      *message
	keepAlive time.Duration
	// Times on the server's clock (Server.now) in Unix nanoseconds, 0 for
	// none: a time.Time is three words, and an idle connection keeps these.
	deadlineSet  int64
	readDeadline int64 // the keep-alive deadline in force
	lastPacket   int64 // when the read loop last handled a packet other than (UN)SUBSCRIBE (park.go)
	parkDeadline int64 // the read deadline of the wait before parking; 0: readDeadline is in force
	restSem      chan struct{}
	closeOnce    sync.Once

	// The small fields, side by side so that they share words: the struct
	// then fits the 256-byte allocation size class. Owners as above.
	willDelay uint32 // reader
	// linger is set once the read loop has ended with an error the server
	// answers with a DISCONNECT: the socket is then closed by lingerClose.
	linger         atomic.Bool
	limit          int32  // in-flight limit toward the client (writer)
	aliasOutMax    uint16 // writer
	version        byte
	closing        bool // guarded by sess.mu
	releaseLater   bool // the reader parked with the writer running: the writer releases the socket (ncMu)
	normalClose    bool // reader
	connectExpiry0 bool // reader
	keepSocket     bool // reader: the last wake came soon after the packet before it (park.go)
}

// After a DISCONNECT with an error code, the server keeps reading (and
// discarding) for at most lingerTime or lingerBytes before closing.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 1 << 20
)

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc}
	if pt, ok := nc.(passThroughConn); ok {
		c.nc, c.outer = pt.BareConn(), nc
	}
	c.wstate.Store(writerNotReady)
	if s.lim.parkAfter >= 0 {
		c.park = idlepoll.For(parkable(c.nc), c.resume)
	}
	return c
}

// Writer states.
const (
	writerIdle     = iota // no writer goroutine
	writerRunning         // a writer goroutine is draining
	writerMore            // running, and more work arrived meanwhile
	writerDead            // writing has ended for good
	writerNotReady        // before CONNACK: work waits
)

// signal makes sure a writer goroutine will look at the connection's work.
func (c *conn) signal() {
	for {
		switch st := c.wstate.Load(); st {
		case writerIdle:
			if c.wstate.CompareAndSwap(writerIdle, writerRunning) {
				go c.writeLoop()
				return
			}
		case writerRunning:
			if c.wstate.CompareAndSwap(writerRunning, writerMore) {
				return
			}
		default: // more already pending, dead, or not ready
			return
		}
	}
}

// endWriting marks writing as finished for good.
func (c *conn) endWriting() {
	c.wstate.Store(writerDead)
	c.wdone.fire()
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.ncMu.Lock()
		if c.park != nil {
			// Out of the poller before the descriptor closes; a parked
			// reader wakes and finds the connection closed. Stop closes
			// a released socket itself.
			c.park.Stop()
		}
		nc := c.nc
		c.ncMu.Unlock()
		if nc == nil {
			c.closeOuter()
			return
		}
		if c.linger.Load() {
			go c.lingerClose()
			return
		}
		nc.Close()
		c.closeOuter()
	})
}

// passThroughConn is a net.Conn wrapper that buffers nothing and only
// observes the connection's life (a connection bound counting it until it
// is closed; channel.PassThroughConn is the same): the broker reads,
// writes and parks the connection beneath, so that an idle one can let go
// of its socket, and closes the wrapper when the connection ends.
type passThroughConn interface {
	net.Conn
	BareConn() net.Conn
}

// closeOuter closes the pass-through wrapper, if any, after the socket.
func (c *conn) closeOuter() {
	if c.outer != nil {
		c.outer.Close()
	}
}

// lingerClose closes a connection the server ends with a DISCONNECT while
// the client may still be sending (pipelined PUBLISHes, PUBRELs for the
// PUBRECs it is reading). Closing a socket with input still arriving makes
// the kernel answer with a reset: the client's next write fails and the
// reset may discard the DISCONNECT it has not read yet, so it never learns
// the reason code. Instead: end our side (FIN after the DISCONNECT), read
// and discard until the client closes, for at most lingerTime and
// lingerBytes, then close. Nothing more is sent (MQTT 5 §3.14.4).
func (c *conn) lingerClose() {
	defer c.closeOuter()
	defer c.nc.Close()
	// Server.Close does not wait for lingering clients.
	defer context.AfterFunc(c.srv.ctx, func() { c.nc.Close() })()
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() != nil {
			return
		}
	}
	c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, c.nc, lingerBytes)
}

// serve runs the connection: handshake, read loop, then detach. It
// returns false when the connection has been parked (park.go): resume
// carries on in another goroutine. A connection that cannot be parked
// waits in readLoop under serve: both frames are kept small (the work is in
// non-inlined helpers) so that the runtime can shrink an idle reader's
// stack.
func (c *conn) serve() bool {
	c.in = newInput(c.nc)
	se := c.start()
	if se == nil {
		c.endHooks()
		return true
	}
	if c.park != nil {
		c.in.lift = c.liftParkDeadline
	}
	c.refreshDeadline()
	return c.run(se)
}

// run reads and handles packets until the connection ends (true) or is
// parked (false).
func (c *conn) run(se *session) bool {
	parked, err := c.readLoop(se)
	if parked {
		return false
	}
	c.finish(se, err)
	c.endHooks()
	return true
}

// start runs the handshake; it returns nil when the connection is over.
//
//go:noinline
func (c *conn) start() *session {
	se, err := c.handshake()
	if err == nil {
		return se
	}
	c.srv.log.Debug("embedded: connect refused", "remote", c.nc.RemoteAddr(), "err", err)
	c.close()
	c.endWriting()
	if se != nil {
		c.detach(se, err)
	} else {
		c.done.fire()
	}
	return nil
}

// finish ends a connection whose read loop returned err.
//
//go:noinline
func (c *conn) finish(se *session, err error) {
	code := byte(0)
	var pe *ProtocolError
	if errors.As(err, &pe) {
		code = pe.Code
	}
	if err != nil && !errors.Is(err, errNormalDisconnect) && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.srv.log.Debug("embedded: connection ended", "client", c.client.ID, "err", err)
	}
	if code >= 0x80 && c.version == 5 {
		// The read loop is over: lingerClose may read the socket.
		c.linger.Store(true)
	}
	if c.park != nil {
		c.park.WakeAt(0) // the keep-alive deadline of its last park
	}
	c.shutdown(code, code >= 0x80)
	<-c.wdone.wait()
	c.detach(se, err)
	c.srv.stats.clients.Add(-1)
}

// shutdown stops the connection, first sending a DISCONNECT with code to
// an MQTT 5 client when send is set. It does not wait, except for a
// connection between its CONNACK and the writer being ready (at most a
// second): the client has been told it is connected and gets the
// DISCONNECT too.
func (c *conn) shutdown(code byte, send bool) {
	for i := 0; i < 100 && c.connacking.Load() && c.wstate.Load() == writerNotReady; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	se := c.sess.Load()
	if se == nil || c.wstate.Load() == writerNotReady {
		c.close()
		return
	}
	se.mu.Lock()
	if !c.closing {
		c.closing = true
		if send && c.version == 5 {
			c.ctrl = append(c.ctrl, packets.Disconnect<<4, 2, code, 0)
		}
	}
	se.broadcastLocked()
	se.mu.Unlock()
	c.signal()
	go func() {
		select {
		case <-c.wdone.wait():
		case <-time.After(time.Second):
		}
		c.close()
	}()
}

// readLoop reads and handles packets; it returns parked when the
// connection has nothing to read and has been handed to the poller.
func (c *conn) readLoop(se *session) (parked bool, err error) {
	for {
		if c.park != nil && c.in.empty() {
			if parked, err := c.parkIdle(); parked || err != nil {
				return parked, readErr(err)
			}
		}
		fh, body, err := c.readPacket() // an idle connection that cannot be parked waits here
		if err != nil {
			return false, readErr(err)
		}
		if err := c.handle(se, fh, body); err != nil {
			return false, err
		}
		if fh.Type != packets.Subscribe && fh.Type != packets.Unsubscribe {
			// A (UN)SUBSCRIBE does not make the connection busy: a
			// subscriber goes quiet after its SUBACK, and waiting the park
			// delay with a goroutine (its stack grown by the SUBSCRIBE:
			// ~8 KB) cost each of thousands of clients subscribing at once
			// ~2 KB of RSS that stayed after they parked.
			c.lastPacket = c.srv.clock.Load()
		}
		c.refreshDeadline()
	}
}

// readErr turns a read deadline (keep-alive) into its protocol error.
//
//go:noinline
func readErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &ProtocolError{Code: 0x8D, Packet: "keep alive", Err: err}
	}
	return err
}

// handle dispatches one packet. It is a separate frame from readLoop so
// that the decoded packets.Packet (about a kilobyte) is not on the stack
// while an idle connection waits for its next packet: a shallow stack at
// the wait lets the runtime shrink an idle reader's stack to its minimum,
// which is most of an idle connection's memory.
//
//go:noinline
func (c *conn) handle(se *session, fh packets.FixedHeader, body []byte) (err error) {
	pk := packets.Packet{FixedHeader: fh, ProtocolVersion: c.version}
	switch fh.Type {
	case packets.Publish:
		err = c.handlePublish(se, &pk, body)
	case packets.Pubrel:
		if err = decode(fh.Type, func() error { return pk.PubrelDecode(body) }); err == nil {
			c.handlePubrel(se, pk.PacketID)
		}
	case packets.Puback, packets.Pubcomp:
		if err = decode(fh.Type, func() error { return pk.PubackDecode(body) }); err == nil {
			if err = se.checkAck(fh.Type, pk.PacketID); err == nil {
				se.ack(pk.PacketID)
			}
		}
	case packets.Pubrec:
		if err = decode(fh.Type, func() error { return pk.PubrecDecode(body) }); err == nil {
			if err = se.checkAck(fh.Type, pk.PacketID); err == nil {
				c.handlePubrec(se, pk.PacketID, pk.ReasonCode)
			}
		}
	case packets.Subscribe:
		if err = decode(fh.Type, func() error { return pk.SubscribeDecode(body) }); err == nil {
			err = c.handleSubscribe(se, &pk)
		}
	case packets.Unsubscribe:
		if err = decode(fh.Type, func() error { return pk.UnsubscribeDecode(body) }); err == nil {
			err = c.handleUnsubscribe(se, &pk)
		}
	case packets.Pingreq:
		if len(body) != 0 {
			err = &ProtocolError{Code: 0x81, Packet: "PINGREQ", Err: errors.New("non-empty body")}
		} else {
			c.queueCtrl(se, packets.Pingresp<<4, 0)
		}
	case packets.Disconnect:
		if err = decode(fh.Type, func() error { return pk.DisconnectDecode(body) }); err == nil {
			if c.version == 5 && len(body) > 0 {
				// mochi reads the reason only when properties follow; with
				// Remaining Length 1 the byte is the reason all the same
				// (§3.14.2.1: only a missing reason means 0x00).
				pk.ReasonCode = body[0]
			}
			err = c.handleDisconnect(se, &pk)
		}
	default:
		err = &ProtocolError{Code: 0x82, Packet: packetName(fh.Type), Err: errors.New("unexpected packet")}
	}
	return err
}

// queueCtrl appends an encoded control packet for the writer, waiting
// while too many are pending.
func (c *conn) queueCtrl(se *session, b ...byte) {
	se.mu.Lock()
	for len(c.ctrl) > ctrlLimit && !c.closing {
		se.waitLocked()
	}
	if !c.closing {
		c.ctrl = append(c.ctrl, b...)
	}
	se.mu.Unlock()
	c.signal()
}

// ack queues a PUBACK, PUBREC, PUBREL or PUBCOMP, with a reason code for
// MQTT 5 clients when code is not 0.
func (c *conn) ack(se *session, typ byte, id uint16, code byte) {
	var b [5]byte
	c.queueCtrl(se, c.encodeAck(b[:0], typ, id, code)...)
}

// ackNoWait is ack for goroutines that must not wait for the client to
// read (completions of the data directory's writer): it does not wait for
// room in c.ctrl. Their callers bound what they queue by other means.
func (c *conn) ackNoWait(se *session, typ byte, id uint16, code byte) {
	var b [5]byte
	se.mu.Lock()
	if !c.closing {
		c.ctrl = append(c.ctrl, c.encodeAck(b[:0], typ, id, code)...)
	}
	se.mu.Unlock()
	c.signal()
}

func (c *conn) encodeAck(b []byte, typ byte, id uint16, code byte) []byte {
	flags := byte(0)
	if typ == packets.Pubrel {
		flags = 2
	}
	if c.version == 5 && code != 0 {
		return append(b, typ<<4|flags, 3, byte(id>>8), byte(id), code)
	}
	return append(b, typ<<4|flags, 2, byte(id>>8), byte(id))
}

// event is a one-shot signal (a connection's end) whose channel is made
// only when someone waits for it: most connections end with nobody
// waiting, and an idle one would otherwise hold a channel for nothing.
type event struct{ p atomic.Pointer[chan struct{}] }

// firedChan is the channel of every event that fired before anyone waited.
var firedChan = func() *chan struct{} { ch := make(chan struct{}); close(ch); return &ch }()

// fire signals the event; later calls do nothing.
func (e *event) fire() {
	if old := e.p.Swap(firedChan); old != nil && old != firedChan {
		close(*old)
	}
}

// wait returns a channel closed when the event has fired.
func (e *event) wait() <-chan struct{} {
	for {
		if p := e.p.Load(); p != nil {
			return *p
		}
		ch := make(chan struct{})
		if e.p.CompareAndSwap(nil, &ch) {
			return ch
		}
	}
}

// hookContext is a connection's context for Interceptors and REST handlers.
type hookContext struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// hookCtx returns the connection's context for code that may keep it,
// making it on first use. It must be called from the read loop.
func (c *conn) hookCtx() context.Context {
	if c.hooks == nil {
		ctx, cancel := context.WithCancel(c.srv.ctx)
		c.hooks = &hookContext{ctx, cancel}
	}
	return c.hooks.ctx
}

// endHooks ends the context hookCtx made, if any; the read loop calls it
// when the connection is over.
func (c *conn) endHooks() {
	if c.hooks != nil {
		c.hooks.cancel()
	}
}

// unixTime is the time.Time of Unix nanoseconds n, the zero Time for 0.
// unixNano is unixTime's inverse: 0 for the zero time.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func unixTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
