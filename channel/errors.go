package channel

import (
	"errors"
	"fmt"
)

// Sentinel errors.
var (
	// ErrServerClosed is returned by Serve, ServePacket and Send after
	// Shutdown or Close.
	ErrServerClosed = errors.New("channel: server closed")
	// ErrNoHandler: a Server, HTTP or MQTT channel was started without a
	// Handler (or a Server without a Codec).
	ErrNoHandler = errors.New("channel: no handler or codec configured")
	// ErrConnClosed: the connection closed before a command sent on it was
	// answered, or a command was sent on a closed connection.
	ErrConnClosed = errors.New("channel: connection closed")
	// ErrCommandExpired: a command's time to live passed before the device
	// answered (or, for a device that never connected, before it was sent).
	ErrCommandExpired = errors.New("channel: command expired")
	// ErrQueueFull: too many commands are queued for one ident.
	ErrQueueFull = errors.New("channel: command queue full")
	// ErrPending: Call.Result was asked before the call completed.
	ErrPending = errors.New("channel: command pending")
	// ErrCanceled: the command was canceled by its caller.
	ErrCanceled = errors.New("channel: command canceled")
	// ErrNoIdent: a device sent messages before identifying itself (no
	// login, and no ident in the frame). They are neither stored nor
	// acknowledged: the TCP connection is closed after the protocol's
	// refusal ([protocol.Refuser]), the UDP datagram is dropped.
	ErrNoIdent = errors.New("channel: messages without ident refused")
	// ErrLoginTimeout: a connection did not identify itself within
	// [Server].LoginTimeout and was closed.
	ErrLoginTimeout = errors.New("channel: no login within the login timeout")
	// ErrBadMessage: a JSON message given to the HTTP or MQTT channel breaks
	// the channel's rules (no ident, bad timestamp, not JSON, ...).
	ErrBadMessage = errors.New("channel: bad message")
)

// PanicError reports a panic recovered in a codec or a handler. The
// connection it happened on is closed; the server goes on.
type PanicError struct {
	Value any    // what was passed to panic
	Frame []byte // the bytes the codec was decoding, when the panic was in the codec
	Stack []byte
}

func (e *PanicError) Error() string {
	if e.Frame != nil {
		return fmt.Sprintf("channel: codec panic: %v", e.Value)
	}
	return fmt.Sprintf("channel: handler panic: %v", e.Value)
}

// MessageError is a bad message in a JSON batch given to the HTTP or MQTT
// channel: Index is its position in the batch (0 for a lone object).
type MessageError struct {
	Index int
	Err   error
}

func (e *MessageError) Error() string { return fmt.Sprintf("message %d: %v", e.Index, e.Err) }

// Unwrap returns the cause, which wraps [ErrBadMessage].
func (e *MessageError) Unwrap() error { return e.Err }
