package embedded

import (
	"errors"
	"fmt"
)

// Sentinel errors of the embedded broker. Closed-server and authorization
// failures use the shared sentinels of package broker (broker.ErrClosed,
// broker.ErrNotAuthorized, broker.ErrBadTopic).
var (
	// ErrBadCredentials: the Authenticator did not accept the client's
	// username or password (CONNACK 0x86 / 3.1.1 return code 4).
	ErrBadCredentials = errors.New("embedded: bad username or password")
	// ErrServerBusy: a connection or session limit was reached.
	ErrServerBusy = errors.New("embedded: server busy")
	// ErrQuotaExceeded: a CONNECT would create more sessions in its
	// namespace than its Token.MaxSessions allows (CONNACK 0x97).
	ErrQuotaExceeded = errors.New("embedded: session quota exceeded")
	// ErrQueueFull: a session's queue reached MaxQueuedBytes and the message
	// was dropped for that session.
	ErrQueueFull = errors.New("embedded: session queue full")
	// ErrPacketTooLarge: a packet exceeded MaxPacketSize.
	ErrPacketTooLarge = errors.New("embedded: packet too large")
)

var errTextFrame = errors.New("embedded: WebSocket text frame; MQTT needs binary frames")

// ProtocolError reports a client that broke the MQTT protocol. The
// connection is closed (after a DISCONNECT with Code for MQTT 5 clients).
type ProtocolError struct {
	Code   byte   // MQTT 5 reason code sent in DISCONNECT or CONNACK
	Packet string // packet type, e.g. "PUBLISH"
	Err    error
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("embedded: %s: reason 0x%02x: %v", e.Packet, e.Code, e.Err)
}

func (e *ProtocolError) Unwrap() error { return e.Err }
