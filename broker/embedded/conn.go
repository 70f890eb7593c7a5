package embedded

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// ctrlLimit bounds the acknowledgements waiting for the writer: a client
// that publishes without reading its acknowledgements stalls its own reads
// instead of growing memory.
const ctrlLimit = 64 << 10

// reservedPrefix is flespi's platform namespace: client publishes there are
// acknowledged and discarded, except REST over MQTT.
const reservedPrefix = "flespi/"

const restPrefix = "flespi/rest/"

// errNormalDisconnect ends the read loop after a client's DISCONNECT.
var errNormalDisconnect = errors.New("embedded: client disconnected")

type conn struct {
	srv   *Server
	nc    net.Conn
	in    *input
	done  chan struct{} // closed after detach
	wdone chan struct{} // closed when writing has ended for good
	// wstate runs the writer goroutine on demand, so an idle connection
	// costs one goroutine (the reader), not two.
	wstate    atomic.Int32
	wdoneOnce sync.Once

	ctx    context.Context
	cancel context.CancelFunc
	sess   atomic.Pointer[session]

	version byte
	client  *Client

	// Guarded by sess.mu.
	ctrl    []byte
	closing bool

	ctrlSpare []byte // owned by the running writer

	// Owned by the writer goroutine (set before it starts).
	aliasOut    map[string]uint16
	aliasOutMax uint16
	maxOut      int // client's Maximum Packet Size, 0 = none
	limit       int // in-flight limit toward the client

	// Owned by the reader goroutine.
	aliasIn        map[uint16]string
	will           *message
	willDelay      uint32
	keepAlive      time.Duration
	deadlineSet    time.Time
	normalClose    bool
	connectExpiry0 bool
	restSem        chan struct{}
	closeOnce      sync.Once
	// linger is set once the read loop has ended with an error the server
	// answers with a DISCONNECT: the socket is then closed by lingerClose.
	linger atomic.Bool
}

// After a DISCONNECT with an error code, the server keeps reading (and
// discarding) for at most lingerTime or lingerBytes before closing.
const (
	lingerTime  = 2 * time.Second
	lingerBytes = 1 << 20
)

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, done: make(chan struct{}), wdone: make(chan struct{})}
	c.wstate.Store(writerNotReady)
	c.ctx, c.cancel = context.WithCancel(s.ctx)
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
	c.wdoneOnce.Do(func() { close(c.wdone) })
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		if c.linger.Load() {
			go c.lingerClose()
			return
		}
		c.nc.Close()
	})
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

// serve runs the connection: handshake, read loop, then detach. An idle
// connection's goroutine waits in readLoop under serve: both frames are kept
// small (the work is in non-inlined helpers) so that the runtime can shrink
// an idle reader's stack, most of what an idle connection costs.
func (c *conn) serve() {
	defer c.cancel()
	c.in = newInput(c.nc)
	if se := c.start(); se != nil {
		c.finish(se, c.readLoop(se))
	}
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
		close(c.done)
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
	c.shutdown(code, code >= 0x80)
	<-c.wdone
	c.detach(se, err)
}

// shutdown stops the connection, first sending a DISCONNECT with code to
// an MQTT 5 client when send is set. It does not wait.
func (c *conn) shutdown(code byte, send bool) {
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
	se.cond.Broadcast()
	se.mu.Unlock()
	c.signal()
	go func() {
		select {
		case <-c.wdone:
		case <-time.After(time.Second):
		}
		c.close()
	}()
}

// readPacket reads one packet; the body is freshly allocated and owned by
// the caller (decoded strings point into it). Its frame stays small: an
// idle connection waits in it (see serve).
func (c *conn) readPacket() (packets.FixedHeader, []byte, error) {
	c.refreshDeadline()
	c.in.idle()
	b, err := c.in.ReadByte()
	if err != nil {
		return packets.FixedHeader{}, nil, err
	}
	return c.readPacketFrom(b)
}

// refreshDeadline moves the keep-alive read deadline forward.
//
//go:noinline
func (c *conn) refreshDeadline() {
	if c.keepAlive > 0 {
		// Refreshing the deadline costs a syscall-ish timer update: do it at
		// most every keepAlive/4 (≤ 1 s), which still leaves every packet
		// at least 1.25 × keep-alive.
		if now := c.srv.now(); now.Sub(c.deadlineSet) > min(time.Second, c.keepAlive/4) {
			c.nc.SetReadDeadline(now.Add(c.keepAlive * 3 / 2))
			c.deadlineSet = now
		}
	}
}

// readPacketFrom reads the rest of a packet whose first byte is b.
//
//go:noinline
func (c *conn) readPacketFrom(b byte) (packets.FixedHeader, []byte, error) {
	var fh packets.FixedHeader
	if err := fh.Decode(b); err != nil {
		return fh, nil, &ProtocolError{Code: 0x81, Packet: "fixed header", Err: err}
	}
	rem, shift, n := 0, 0, 1
	for {
		b, err := c.in.ReadByte()
		if err != nil {
			return fh, nil, err
		}
		n++
		rem |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		shift += 7
		if shift > 21 {
			return fh, nil, &ProtocolError{Code: 0x81, Packet: packetName(fh.Type), Err: errors.New("remaining length over 4 bytes")}
		}
	}
	if n+rem > c.srv.lim.maxPacket {
		return fh, nil, &ProtocolError{Code: 0x95, Packet: packetName(fh.Type),
			Err: fmt.Errorf("%w: %d bytes", ErrPacketTooLarge, n+rem)}
	}
	fh.Remaining = rem
	body := make([]byte, rem)
	if _, err := io.ReadFull(c.in, body); err != nil {
		return fh, nil, err
	}
	return fh, body, nil
}

func packetName(t byte) string {
	if n, ok := packets.PacketNames[t]; ok {
		return strings.ToUpper(n)
	}
	return "packet " + strconv.Itoa(int(t))
}

// decode runs a mochi decoder, turning its errors and any panic on hostile
// input into a malformed-packet error.
func decode(t byte, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ProtocolError{Code: 0x81, Packet: packetName(t), Err: fmt.Errorf("malformed: %v", r)}
		}
	}()
	if err := f(); err != nil {
		code := byte(0x81)
		var mc packets.Code
		if errors.As(err, &mc) && mc.Code >= 0x80 {
			code = mc.Code
		}
		return &ProtocolError{Code: code, Packet: packetName(t), Err: err}
	}
	return nil
}

// connack writes a CONNACK directly (the writer is not running yet).
func (c *conn) connack(code byte, present bool, props *packets.Properties) error {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ProtocolVersion: c.version,
		SessionPresent: present, ReasonCode: code}
	if c.version != 5 {
		pk.ProtocolVersion = 4
		pk.ReasonCode = v3Code(code)
	} else if props != nil {
		pk.Properties = *props
	}
	var buf bytes.Buffer
	if err := pk.ConnackEncode(&buf); err != nil {
		return err
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.srv.lim.writeTimeout))
	_, err := c.nc.Write(buf.Bytes())
	return err
}

// v3Code maps an MQTT 5 CONNACK reason to a 3.1.1 return code.
func v3Code(code byte) byte {
	switch code {
	case 0:
		return 0
	case 0x84:
		return 1
	case 0x85:
		return 2
	case 0x86:
		return 4
	case 0x87:
		return 5
	}
	return 3
}

func (c *conn) refuse(code byte, err error) error {
	c.connack(code, false, nil)
	return &ProtocolError{Code: code, Packet: "CONNECT", Err: err}
}

func (c *conn) handshake() (*session, error) {
	s := c.srv
	c.nc.SetReadDeadline(time.Now().Add(s.lim.connectTimeout))
	fh, body, err := c.readPacket()
	if err != nil {
		return nil, err
	}
	if fh.Type != packets.Connect {
		return nil, &ProtocolError{Code: 0x82, Packet: packetName(fh.Type), Err: errors.New("first packet is not CONNECT")}
	}
	pk := packets.Packet{FixedHeader: fh}
	if err := decode(fh.Type, func() error { return pk.ConnectDecode(body) }); err != nil {
		c.version = pk.ProtocolVersion
		if pk.ProtocolVersion != 3 && pk.ProtocolVersion != 4 && pk.ProtocolVersion != 5 {
			return nil, c.refuse(0x84, err)
		}
		return nil, c.refuse(0x81, err)
	}
	c.version = pk.ProtocolVersion
	if code := pk.ConnectValidate(); code != packets.CodeSuccess {
		if code == packets.ErrProtocolViolationProtocolVersion {
			return nil, c.refuse(0x84, code)
		}
		if code == packets.ErrProtocolViolationProtocolName {
			return nil, &ProtocolError{Code: code.Code, Packet: "CONNECT", Err: code}
		}
		return nil, c.refuse(code.Code, code)
	}
	cp := &pk.Connect
	props := packets.Properties{}
	id := cp.ClientIdentifier
	if id == "" {
		// A persistent session nobody can name again would only hold
		// memory until it expires: refused for every version.
		if !cp.Clean {
			return nil, c.refuse(0x85, errors.New("empty client ID with a persistent session"))
		}
		var b [12]byte
		rand.Read(b[:])
		id = "auto-" + hex.EncodeToString(b[:])
		if c.version == 5 {
			props.AssignedClientID = id
		}
	}
	id = strings.Clone(id)
	info := ConnectInfo{ClientID: id, Username: string(cp.Username), Password: slices.Clone(cp.Password),
		ProtocolVersion: c.version, RemoteAddr: c.nc.RemoteAddr()}
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		info.TLS = &st
	}
	var token *Token
	switch {
	case !cp.UsernameFlag && !cp.PasswordFlag:
		if !s.cfg.AllowAnonymous {
			return nil, c.refuse(0x87, errors.New("anonymous clients are not allowed"))
		}
	case s.cfg.Authenticator == nil:
		return nil, c.refuse(0x86, ErrBadCredentials)
	default:
		ctx, cancel := context.WithTimeout(c.ctx, s.lim.connectTimeout)
		token, err = s.cfg.Authenticator.Authenticate(ctx, info)
		cancel()
		if err != nil {
			code := byte(0x86)
			switch {
			case errors.Is(err, broker.ErrNotAuthorized):
				code = 0x87
			case errors.Is(err, ErrServerBusy):
				code = 0x88
			}
			return nil, c.refuse(code, err)
		}
	}
	c.client = &Client{ID: id, Username: info.Username, Token: token, ProtocolVersion: c.version, RemoteAddr: info.RemoteAddr}

	if cp.WillFlag {
		if !validTopicName(cp.WillTopic) {
			return nil, c.refuse(0x90, fmt.Errorf("%w: will topic %q", broker.ErrBadTopic, cp.WillTopic))
		}
		if err := s.auth.Authorize(c.ctx, c.client, cp.WillTopic, true); err != nil {
			return nil, c.refuse(0x87, err)
		}
		if !strings.HasPrefix(cp.WillTopic, reservedPrefix) {
			wp := &cp.WillProperties
			w := &message{topic: strings.Clone(cp.WillTopic), payload: slices.Clone(cp.WillPayload),
				qos: cp.WillQos, retain: cp.WillRetain, created: time.Now()}
			w.props = propsFrom(wp)
			if wp.MessageExpiryInterval > 0 {
				w.expiry = w.created.Add(time.Duration(wp.MessageExpiryInterval) * time.Second)
			}
			c.will, c.willDelay = w, wp.WillDelayInterval
		}
	}

	var expiry uint32
	if c.version == 5 {
		expiry = pk.Properties.SessionExpiryInterval
		if expiry > s.lim.maxSessionIdle {
			expiry = s.lim.maxSessionIdle
			props.SessionExpiryInterval, props.SessionExpiryIntervalFlag = expiry, true
		}
		c.connectExpiry0 = expiry == 0
	} else if !cp.Clean {
		expiry = s.lim.maxSessionIdle
	}
	ka := cp.Keepalive
	if c.version == 5 && s.lim.serverKeepAlive > 0 && (ka == 0 || ka > s.lim.serverKeepAlive) {
		ka = s.lim.serverKeepAlive
		props.ServerKeepAlive, props.ServerKeepAliveFlag = ka, true
	}
	c.keepAlive = time.Duration(ka) * time.Second
	c.limit = s.lim.maxInflight
	if c.version == 5 {
		if rm := int(pk.Properties.ReceiveMaximum); rm > 0 && rm < c.limit {
			c.limit = rm
		}
		c.maxOut = int(pk.Properties.MaximumPacketSize)
		c.aliasOutMax = pk.Properties.TopicAliasMaximum
		if c.aliasOutMax > 0 {
			c.aliasOut = make(map[string]uint16)
		}
		props.ReceiveMaximum = uint16(s.lim.maxInflight)
		props.MaximumPacketSize = uint32(s.lim.maxPacket)
		props.TopicAliasMaximum = s.lim.topicAliasMax
		props.RetainAvailable, props.RetainAvailableFlag = 1, true
		props.WildcardSubAvailable, props.WildcardSubAvailableFlag = 1, true
		props.SubIDAvailable, props.SubIDAvailableFlag = 1, true
		props.SharedSubAvailable, props.SharedSubAvailableFlag = 1, true
	}

	se, present, err := s.attach(c, id, cp.Clean, expiry)
	if err != nil {
		code := byte(0x88)
		if errors.Is(err, ErrServerBusy) {
			code = 0x97
		}
		return nil, c.refuse(code, err)
	}
	if err := c.connack(0, present, &props); err != nil {
		return se, err // attached but never served: serve detaches it
	}
	c.nc.SetReadDeadline(time.Time{})
	c.deadlineSet = time.Time{}
	c.sess.Store(se)
	c.wstate.Store(writerIdle)
	c.signal() // work that arrived before CONNACK
	if cb := s.cfg.ConnState; cb != nil {
		cb(c.client, StateConnected, nil)
	}
	return se, nil
}

func propsFrom(p *packets.Properties) msgProps {
	mp := msgProps{payloadFormat: p.PayloadFormat, payloadFormatSet: p.PayloadFormatFlag,
		contentType: strings.Clone(p.ContentType), responseTopic: strings.Clone(p.ResponseTopic),
		correlation: slices.Clone(p.CorrelationData)}
	if len(p.User) > 0 {
		mp.user = make([]packets.UserProperty, len(p.User))
		for i, u := range p.User {
			mp.user[i] = packets.UserProperty{Key: strings.Clone(u.Key), Val: strings.Clone(u.Val)}
		}
	}
	return mp
}

// attach binds c to the session id, taking it over from another
// connection, resuming it, or creating it.
func (s *Server) attach(c *conn, id string, clean bool, expiry uint32) (*session, bool, error) {
	for tries := 0; tries < 10; tries++ {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, false, broker.ErrClosed
		}
		se := s.sessions[id]
		if se != nil {
			se.mu.Lock()
			old := se.conn
			se.mu.Unlock()
			if old != nil {
				s.mu.Unlock()
				old.shutdown(0x8E, true)
				select {
				case <-old.done:
				case <-time.After(5 * time.Second):
					return nil, false, fmt.Errorf("embedded: session %q: takeover timed out: %w", id, ErrServerBusy)
				}
				continue
			}
			if clean {
				s.mu.Unlock()
				s.endSession(se)
				continue
			}
			se.mu.Lock()
			if se.gone {
				se.mu.Unlock()
				s.mu.Unlock()
				continue
			}
			for _, t := range []*time.Timer{se.expireTimer, se.willTimer} {
				if t != nil {
					t.Stop()
				}
			}
			se.expireTimer, se.willTimer, se.pendingWill = nil, nil, nil
			se.conn, se.expiry = c, expiry
			se.online.Store(true)
			se.resend = se.resend[:0]
			for _, o := range se.inflight {
				se.resend = append(se.resend, o)
			}
			slices.SortFunc(se.resend, func(a, b *outbound) int { return int(a.seq - b.seq) })
			se.mu.Unlock()
			s.mu.Unlock()
			c.signal()
			return se, true, nil
		}
		if len(s.sessions) >= s.lim.maxSessions {
			s.mu.Unlock()
			return nil, false, fmt.Errorf("embedded: %d sessions: %w", len(s.sessions), ErrServerBusy)
		}
		se = newSession(s, id)
		se.conn, se.expiry = c, expiry
		se.online.Store(true)
		s.sessions[id] = se
		s.mu.Unlock()
		return se, false, nil
	}
	return nil, false, fmt.Errorf("embedded: session %q: attach: %w", id, ErrServerBusy)
}

// detach unbinds c from se after the connection ended: publishes or
// schedules the will, and ends or schedules the end of the session.
func (c *conn) detach(se *session, cause error) {
	s := c.srv
	c.cancel()
	closing := s.ctx.Err() != nil
	se.mu.Lock()
	mine := se.conn == c
	if mine {
		se.conn = nil
		se.online.Store(false)
		se.resend = nil
	}
	expiry, gone := se.expiry, se.gone
	var will *message
	if c.will != nil && !c.normalClose && !gone && !closing {
		delay := min(c.willDelay, expiry)
		if delay == 0 {
			will = c.will
		} else {
			se.pendingWill = c.will
			se.willTimer = time.AfterFunc(time.Duration(delay)*time.Second, func() {
				se.mu.Lock()
				w := se.pendingWill
				se.pendingWill = nil
				se.mu.Unlock()
				if w != nil {
					s.publish(w)
				}
			})
		}
	}
	if mine && !gone && expiry > 0 && !closing {
		se.expireTimer = time.AfterFunc(time.Duration(expiry)*time.Second, func() {
			s.endSessionIf(se, true)
		})
	}
	se.mu.Unlock()
	if will != nil {
		will.created = time.Now()
		s.publish(will)
	}
	if mine && expiry == 0 && !gone {
		s.endSession(se)
	}
	close(c.done)
	if cb := s.cfg.ConnState; cb != nil && c.client != nil {
		if errors.Is(cause, errNormalDisconnect) {
			cause = nil
		}
		cb(c.client, StateDisconnected, cause)
	}
}

// queueCtrl appends an encoded control packet for the writer, waiting
// while too many are pending.
func (c *conn) queueCtrl(se *session, b ...byte) {
	se.mu.Lock()
	for len(c.ctrl) > ctrlLimit && !c.closing {
		se.cond.Wait()
	}
	if !c.closing {
		c.ctrl = append(c.ctrl, b...)
	}
	se.mu.Unlock()
	c.signal()
}

func (c *conn) ack(se *session, typ byte, id uint16, code byte) {
	flags := byte(0)
	if typ == packets.Pubrel {
		flags = 2
	}
	if c.version == 5 && code != 0 {
		c.queueCtrl(se, typ<<4|flags, 3, byte(id>>8), byte(id), code)
		return
	}
	c.queueCtrl(se, typ<<4|flags, 2, byte(id>>8), byte(id))
}

func (c *conn) readLoop(se *session) error {
	for {
		fh, body, err := c.readPacket() // an idle connection waits here
		if err != nil {
			return readErr(err)
		}
		if err := c.handle(se, fh, body); err != nil {
			return err
		}
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
	case packets.Puback, packets.Pubcomp:
		if err = decode(fh.Type, func() error { return pk.PubackDecode(body) }); err == nil {
			se.ack(pk.PacketID)
		}
	case packets.Pubrec:
		if err = decode(fh.Type, func() error { return pk.PubrecDecode(body) }); err == nil {
			c.handlePubrec(se, pk.PacketID, pk.ReasonCode)
		}
	case packets.Pubrel:
		if err = decode(fh.Type, func() error { return pk.PubrelDecode(body) }); err == nil {
			se.mu.Lock()
			_, ok := se.inQoS2[pk.PacketID]
			delete(se.inQoS2, pk.PacketID)
			se.mu.Unlock()
			code := byte(0)
			if !ok {
				code = 0x92
			}
			c.ack(se, packets.Pubcomp, pk.PacketID, code)
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
			err = c.handleDisconnect(se, &pk)
		}
	default:
		err = &ProtocolError{Code: 0x82, Packet: packetName(fh.Type), Err: errors.New("unexpected packet")}
	}
	return err
}

func (c *conn) handleDisconnect(se *session, pk *packets.Packet) error {
	if c.version == 5 && pk.Properties.SessionExpiryIntervalFlag {
		e := pk.Properties.SessionExpiryInterval
		if c.connectExpiry0 && e != 0 {
			return &ProtocolError{Code: 0x82, Packet: "DISCONNECT", Err: errors.New("session expiry set after connecting with none")}
		}
		se.mu.Lock()
		se.expiry = min(e, c.srv.lim.maxSessionIdle)
		se.mu.Unlock()
	}
	// Reason 0x04 (disconnect with will message) keeps the will.
	c.normalClose = !(c.version == 5 && pk.ReasonCode == 0x04)
	return errNormalDisconnect
}

func (c *conn) handlePubrec(se *session, id uint16, code byte) {
	if code >= 0x80 {
		se.ack(id)
		return
	}
	se.mu.Lock()
	o, ok := se.inflight[id]
	if ok {
		o.rel = true
	}
	se.mu.Unlock()
	if !ok {
		c.ack(se, packets.Pubrel, id, 0x92)
		return
	}
	c.ack(se, packets.Pubrel, id, 0)
}

func (c *conn) handlePublish(se *session, pk *packets.Packet, body []byte) error {
	s := c.srv
	if err := decode(packets.Publish, func() error { return pk.PublishDecode(body) }); err != nil {
		return err
	}
	qos, id := pk.FixedHeader.Qos, pk.PacketID
	if qos > 0 && id == 0 {
		return &ProtocolError{Code: 0x82, Packet: "PUBLISH", Err: errors.New("QoS > 0 without packet ID")}
	}
	topic := pk.TopicName
	if c.version == 5 {
		p := &pk.Properties
		if len(p.SubscriptionIdentifier) > 0 {
			return &ProtocolError{Code: 0x82, Packet: "PUBLISH", Err: errors.New("subscription identifier in PUBLISH")}
		}
		if p.TopicAliasFlag {
			a := p.TopicAlias
			if a == 0 || a > s.lim.topicAliasMax {
				return &ProtocolError{Code: 0x94, Packet: "PUBLISH", Err: fmt.Errorf("topic alias %d out of range", a)}
			}
			if topic == "" {
				t, ok := c.aliasIn[a]
				if !ok {
					return &ProtocolError{Code: 0x82, Packet: "PUBLISH", Err: fmt.Errorf("unknown topic alias %d", a)}
				}
				topic = t
			} else {
				if c.aliasIn == nil {
					c.aliasIn = make(map[uint16]string)
				}
				c.aliasIn[a] = strings.Clone(topic)
			}
		}
	}
	if !validTopicName(topic) {
		return &ProtocolError{Code: 0x90, Packet: "PUBLISH", Err: fmt.Errorf("%w: %q", broker.ErrBadTopic, topic)}
	}
	if qos == 2 {
		se.mu.Lock()
		_, dup := se.inQoS2[id]
		full := !dup && len(se.inQoS2) >= s.lim.maxInflight
		se.mu.Unlock()
		if dup {
			c.ack(se, packets.Pubrec, id, 0)
			return nil
		}
		if full {
			return &ProtocolError{Code: 0x93, Packet: "PUBLISH", Err: errors.New("receive maximum exceeded")}
		}
	}
	code := byte(0)
	if err := s.auth.Authorize(c.ctx, c.client, topic, true); err != nil {
		code = 0x87
		if !errors.Is(err, broker.ErrNotAuthorized) {
			code = 0x80
		}
	} else if strings.HasPrefix(topic, reservedPrefix) {
		if s.cfg.REST != nil && strings.HasPrefix(topic, restPrefix) {
			c.serveREST(topic, pk)
		}
	} else {
		m := &message{topic: topic, payload: pk.Payload, qos: qos, retain: pk.FixedHeader.Retain,
			created: s.now(), origin: se}
		if c.version == 5 {
			p := &pk.Properties
			m.props = msgProps{payloadFormat: p.PayloadFormat, payloadFormatSet: p.PayloadFormatFlag,
				contentType: p.ContentType, responseTopic: p.ResponseTopic, correlation: p.CorrelationData, user: p.User}
			if p.MessageExpiryInterval > 0 {
				m.expiry = m.created.Add(time.Duration(p.MessageExpiryInterval) * time.Second)
			}
		}
		s.publish(m)
	}
	switch qos {
	case 1:
		c.ack(se, packets.Puback, id, code)
	case 2:
		if code == 0 {
			se.mu.Lock()
			if se.inQoS2 == nil {
				se.inQoS2 = make(map[uint16]struct{})
			}
			se.inQoS2[id] = struct{}{}
			se.mu.Unlock()
		}
		c.ack(se, packets.Pubrec, id, code)
	}
	return nil
}

// serveREST runs a REST-over-MQTT request and publishes the answer to its
// Response Topic, if the client may publish there.
func (c *conn) serveREST(topic string, pk *packets.Packet) {
	s := c.srv
	method, uri, _ := strings.Cut(strings.TrimPrefix(topic, restPrefix), "/")
	req := RESTRequest{Client: c.client, Method: strings.ToLower(method), URI: uri, Body: pk.Payload}
	rt := strings.Clone(pk.Properties.ResponseTopic)
	corr := slices.Clone(pk.Properties.CorrelationData)
	if c.restSem == nil {
		c.restSem = make(chan struct{}, 4)
	}
	select {
	case c.restSem <- struct{}{}:
	case <-c.ctx.Done():
		return
	}
	go func() {
		defer func() { <-c.restSem }()
		resp := s.cfg.REST.ServeREST(c.ctx, req)
		if rt == "" || !validTopicName(rt) || s.auth.Authorize(c.ctx, c.client, rt, true) != nil {
			return
		}
		m := &message{topic: rt, payload: resp.Body, qos: 1, created: s.now()}
		m.props.correlation = corr
		m.props.user = []packets.UserProperty{{Key: "http_code", Val: strconv.Itoa(resp.Status)}}
		s.publish(m)
	}()
}

func (c *conn) handleSubscribe(se *session, pk *packets.Packet) error {
	s := c.srv
	if pk.PacketID == 0 {
		return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("no packet ID")}
	}
	if len(pk.Filters) == 0 {
		return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("no topic filters")}
	}
	subID := 0
	if len(pk.Properties.SubscriptionIdentifier) > 0 {
		subID = pk.Properties.SubscriptionIdentifier[0]
		if subID <= 0 || subID > 268435455 {
			return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("bad subscription identifier")}
		}
	}
	codes := make([]byte, 0, len(pk.Filters))
	var retained []*subscription
	for _, f := range pk.Filters {
		if f.Qos > 2 || (c.version == 5 && f.RetainHandling > 2) {
			return &ProtocolError{Code: 0x81, Packet: "SUBSCRIBE", Err: errors.New("bad subscription options")}
		}
		pf, err := parseFilter(f.Filter)
		if err != nil {
			code := byte(0x8F)
			if errors.Is(err, broker.ErrUnsupported) {
				code = 0x83 // implementation specific: a $filter spec we cannot evaluate
			}
			codes = append(codes, c.subCode(code))
			continue
		}
		if pf.shared() && f.NoLocal {
			return &ProtocolError{Code: 0x82, Packet: "SUBSCRIBE", Err: errors.New("no local on a shared subscription")}
		}
		if err := s.auth.Authorize(c.ctx, c.client, pf.Topic(), false); err != nil {
			code := byte(0x80)
			if errors.Is(err, broker.ErrNotAuthorized) {
				code = 0x87
			}
			codes = append(codes, c.subCode(code))
			continue
		}
		sub := &subscription{sess: se, filter: pf, qos: f.Qos, noLocal: f.NoLocal, rap: f.RetainAsPublished,
			rh: f.RetainHandling, id: subID, pred: pf.Predicate()}
		isNew, err := s.addSubscription(se, sub)
		if err != nil {
			codes = append(codes, c.subCode(0x97))
			continue
		}
		codes = append(codes, sub.qos)
		if sub.rh == 0 || (sub.rh == 1 && isNew) {
			retained = append(retained, sub)
		}
	}
	c.queueCtrl(se, c.appendAck(nil, packets.Suback, pk.PacketID, codes)...)
	for _, sub := range retained {
		s.sendRetained(sub)
	}
	return nil
}

// subCode maps a SUBACK failure to 0x80 for MQTT 3.1.1, which has no other.
func (c *conn) subCode(code byte) byte {
	if c.version != 5 {
		return 0x80
	}
	return code
}

func (c *conn) handleUnsubscribe(se *session, pk *packets.Packet) error {
	if pk.PacketID == 0 || len(pk.Filters) == 0 {
		return &ProtocolError{Code: 0x82, Packet: "UNSUBSCRIBE", Err: errors.New("no packet ID or filters")}
	}
	codes := make([]byte, 0, len(pk.Filters))
	for _, f := range pk.Filters {
		if c.srv.removeSubscription(se, f.Filter) {
			codes = append(codes, 0)
		} else {
			codes = append(codes, 0x11)
		}
	}
	if c.version != 5 {
		codes = nil
	}
	c.queueCtrl(se, c.appendAck(nil, packets.Unsuback, pk.PacketID, codes)...)
	return nil
}

// appendAck encodes a SUBACK or UNSUBACK (no properties).
func (c *conn) appendAck(dst []byte, typ byte, id uint16, codes []byte) []byte {
	rem := 2 + len(codes)
	if c.version == 5 {
		rem++
	}
	dst = append(dst, typ<<4)
	dst = appendVarint(dst, rem)
	dst = append(dst, byte(id>>8), byte(id))
	if c.version == 5 {
		dst = append(dst, 0)
	}
	return append(dst, codes...)
}

func appendVarint(dst []byte, n int) []byte {
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			dst = append(dst, b|0x80)
			continue
		}
		return append(dst, b)
	}
}

func varintLen(n int) int {
	switch {
	case n < 128:
		return 1
	case n < 16384:
		return 2
	case n < 2097152:
		return 3
	}
	return 4
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, byte(len(s)>>8), byte(len(s)))
	return append(dst, s...)
}
