package embedded

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// This file is the CONNECT handshake — decoding and validating CONNECT,
// authentication, the will, the limits negotiated with the client, attaching
// the session and answering with CONNACK — and the DISCONNECT that ends a
// connection normally.

// handshake reads and answers the CONNECT. On success the connection is
// attached to its session and the writer may run. A non-nil session with an
// error means the session was attached but the CONNACK could not be sent:
// the caller detaches it.
func (c *conn) handshake() (*session, error) {
	s := c.srv
	c.nc.SetReadDeadline(time.Now().Add(s.lim.connectTimeout))
	pk, err := c.readConnect()
	if err != nil {
		return nil, err
	}
	cp := &pk.Connect
	props := packets.Properties{}
	id := cp.ClientIdentifier
	if id == "" {
		// MQTT 3.1 requires a client ID; 3.1.1 allows none only with a
		// clean session [MQTT-3.1.3-7]. MQTT 5 allows it with Clean Start 0
		// too: the client learns the assigned ID from CONNACK and can
		// resume the session with it.
		switch {
		case c.version == 3:
			return nil, c.refuse(0x85, errors.New("empty client ID in MQTT 3.1"))
		case c.version == 4 && !cp.Clean:
			return nil, c.refuse(0x85, errors.New("empty client ID with a persistent session"))
		}
		id = assignClientID()
		if c.version == 5 {
			props.AssignedClientID = id
		}
	}
	id = strings.Clone(id)
	if err := c.authenticate(id, cp); err != nil {
		return nil, err
	}
	if err := c.takeWill(cp); err != nil {
		return nil, err
	}
	expiry := c.negotiate(pk, &props)

	se, present, err := s.attach(c, c.sessionKey(id), cp.Clean, expiry)
	if err != nil {
		code := byte(0x88)
		if errors.Is(err, ErrServerBusy) || errors.Is(err, ErrQuotaExceeded) {
			code = 0x97
		}
		return nil, c.refuse(code, err)
	}
	s.state.saveSession(se, nil)
	c.connacking.Store(true)
	if err := c.connack(0, present, &props); err != nil {
		return se, err // attached but never served: serve detaches it
	}
	c.nc.SetReadDeadline(time.Time{})
	c.deadlineSet, c.readDeadline = 0, 0
	c.sess.Store(se)
	c.wstate.Store(writerIdle)
	c.signal() // work that arrived before CONNACK
	s.stats.clients.Add(1)
	if cb := s.cfg.ConnState; cb != nil {
		cb(c.client, StateConnected, nil)
	}
	return se, nil
}

// readConnect reads the first packet, which must be a valid CONNECT, and
// sets c.version.
func (c *conn) readConnect() (*packets.Packet, error) {
	fh, body, err := c.readPacket()
	if err != nil {
		return nil, err
	}
	if fh.Type != packets.Connect {
		return nil, &ProtocolError{Code: 0x82, Packet: packetName(fh.Type), Err: errors.New("first packet is not CONNECT")}
	}
	pk := &packets.Packet{FixedHeader: fh}
	derr := decode(fh.Type, func() error { return pk.ConnectDecode(body) })
	c.version = pk.ProtocolVersion
	name := string(pk.Connect.ProtocolName)
	switch {
	case derr == nil && name != "MQTT" && name != "MQIsdp":
		// Not MQTT at all: close without a word [MQTT-3.1.2-1].
		return nil, &ProtocolError{Code: 0x82, Packet: "CONNECT", Err: packets.ErrProtocolViolationProtocolName}
	case pk.ProtocolVersion != 3 && pk.ProtocolVersion != 4 && pk.ProtocolVersion != 5,
		derr == nil && (name == "MQIsdp") != (pk.ProtocolVersion == 3):
		return nil, c.refuse(0x84, fmt.Errorf("protocol %q level %d: %w", name, pk.ProtocolVersion, packets.ErrProtocolViolationProtocolVersion))
	case derr != nil:
		return nil, c.malformed(0x81, derr)
	}
	if code, err := checkConnect(pk, body); err != nil {
		return nil, c.malformed(code, err)
	}
	if c.version == 5 {
		// Known before negotiate, for a refusal's CONNACK too.
		c.maxOut = int(pk.Properties.MaximumPacketSize)
	}
	return pk, nil
}

// assignClientID makes an identifier for a client that sent none.
func assignClientID() string {
	var b [12]byte
	rand.Read(b[:])
	return "auto-" + hex.EncodeToString(b[:])
}

// authenticate checks the client's credentials and sets c.client.
func (c *conn) authenticate(id string, cp *packets.ConnectParams) error {
	s := c.srv
	info := ConnectInfo{ClientID: strings.Clone(cp.ClientIdentifier), Username: string(cp.Username), Password: slices.Clone(cp.Password),
		ProtocolVersion: c.version, RemoteAddr: c.nc.RemoteAddr()}
	if tc, ok := c.nc.(*tls.Conn); ok {
		st := tc.ConnectionState()
		info.TLS = &st
	}
	var token *Token
	anonymous := !cp.UsernameFlag && !cp.PasswordFlag
	switch {
	case anonymous && (s.cfg.AllowAnonymous || s.cfg.Authenticator == nil):
		if !s.cfg.AllowAnonymous {
			return c.refuse(0x87, errors.New("anonymous clients are not allowed"))
		}
	case s.cfg.Authenticator == nil:
		return c.refuse(0x86, ErrBadCredentials)
	default:
		ctx, cancel := context.WithTimeout(s.ctx, s.lim.connectTimeout)
		var err error
		token, err = s.cfg.Authenticator.Authenticate(ctx, info)
		cancel()
		if err != nil {
			code := byte(0x86)
			var re *RefuseError
			switch {
			case errors.As(err, &re) && re.Code >= 0x80:
				code = re.Code
			case errors.Is(err, broker.ErrNotAuthorized), anonymous:
				code = 0x87
			case errors.Is(err, ErrServerBusy):
				code = 0x88
			}
			return c.refuse(code, err)
		}
		if err := token.validate(); err != nil {
			return c.refuse(0x80, err)
		}
	}
	c.client = &Client{ID: id, Username: info.Username, Token: token, ProtocolVersion: c.version, RemoteAddr: info.RemoteAddr}
	return nil
}

// takeWill checks the will of the CONNECT and keeps it in c.will.
func (c *conn) takeWill(cp *packets.ConnectParams) error {
	if !cp.WillFlag {
		return nil
	}
	s := c.srv
	if !validTopicName(cp.WillTopic) {
		return c.refuse(0x90, fmt.Errorf("%w: will topic %q", broker.ErrBadTopic, cp.WillTopic))
	}
	if err := s.auth.Authorize(s.ctx, c.client, cp.WillTopic, true); err != nil {
		return c.refuse(0x87, err)
	}
	if strings.HasPrefix(cp.WillTopic, reservedPrefix) {
		return nil // accepted, and discarded like any publish there
	}
	wp := &cp.WillProperties
	w := &message{topic: c.inTopic(strings.Clone(cp.WillTopic)), payload: slices.Clone(cp.WillPayload),
		qos: cp.WillQos, retain: cp.WillRetain, created: time.Now()}
	w.props = propsFrom(wp)
	c.stamp(w)
	if wp.MessageExpiryInterval > 0 {
		w.expiry = w.created.Add(time.Duration(wp.MessageExpiryInterval) * time.Second)
	}
	c.will, c.willDelay = w, wp.WillDelayInterval
	return nil
}

// negotiate settles the session expiry, keep-alive, flow control, packet
// size and topic aliases with the client, filling the CONNACK properties
// that tell it so. It returns the session expiry interval in seconds.
func (c *conn) negotiate(pk *packets.Packet, props *packets.Properties) (expiry uint32) {
	s := c.srv
	cp := &pk.Connect
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
	c.limit = int32(s.lim.maxInflight)
	if c.version == 5 {
		if rm := int32(pk.Properties.ReceiveMaximum); rm > 0 && rm < c.limit {
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
	return expiry
}

// connack writes a CONNACK directly (the writer is not running yet).
func (c *conn) connack(code byte, present bool, props *packets.Properties) error {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ProtocolVersion: c.version,
		SessionPresent: present, ReasonCode: code}
	if c.version != 5 {
		pk.ProtocolVersion = 4
		pk.ReasonCode = v3Code(code)
		// MQTT 3.1's first CONNACK byte is reserved.
		pk.SessionPresent = present && c.version == 4
	} else if props != nil {
		pk.Properties = *props
	}
	var buf bytes.Buffer
	if err := pk.ConnackEncode(&buf); err != nil {
		return err
	}
	// A CONNACK must fit the client's Maximum Packet Size [MQTT-3.1.2-24]:
	// keep only the assigned client ID, then no property, else say nothing.
	for stage := 0; c.version == 5 && c.maxOut > 0 && buf.Len() > c.maxOut; stage++ {
		switch stage {
		case 0:
			pk.Properties = packets.Properties{AssignedClientID: pk.Properties.AssignedClientID}
		case 1:
			pk.Properties = packets.Properties{}
		default:
			return fmt.Errorf("%w: even a bare CONNACK (%d bytes) exceeds the client's maximum packet size %d",
				ErrPacketTooLarge, buf.Len(), c.maxOut)
		}
		buf.Reset()
		if err := pk.ConnackEncode(&buf); err != nil {
			return err
		}
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

// malformed ends the connection after a malformed CONNECT: MQTT 5 answers
// with a CONNACK reason ≥ 0x80 first, but MQTT 3.1.1 has no return code for
// it and requires closing without a CONNACK [MQTT-3.1.4-1].
func (c *conn) malformed(code byte, err error) error {
	if c.version == 5 {
		return c.refuse(code, err)
	}
	return &ProtocolError{Code: code, Packet: "CONNECT", Err: err}
}

// refuse answers the CONNECT with a failure code and returns the error
// that ends the connection.
func (c *conn) refuse(code byte, err error) error {
	c.connack(code, false, nil)
	return &ProtocolError{Code: code, Packet: "CONNECT", Err: err}
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

// handleDisconnect ends the read loop after a client's DISCONNECT, taking
// the session expiry an MQTT 5 client may set in it.
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
