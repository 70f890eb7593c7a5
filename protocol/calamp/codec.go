package calamp

import "github.com/gnssgate/gnssgate/protocol"

// Name is the protocol's name in errors and configuration.
const Name = "calamp"

// Codec is CalAmp's LM Direct protocol. The zero value is ready to use; a
// Codec is safe for concurrent use: per-address state lives in the
// [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds one datagram. 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB); LM Direct messages are at
	// most a UDP payload, usually well under 1 KiB.
	MaxFrameSize int
	// Lenient decodes messages whose inner length fields (user and
	// application message lengths, accumulator counts) run past the end of
	// the datagram, keeping what is there and marking the message
	// [protocol.ParamLengthInvalid]; otherwise such a datagram is a
	// [protocol.ErrChecksum] error. LM Direct has no checksum: UDP's own
	// covers the datagram.
	Lenient bool
}

// Name returns "calamp".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one remote address. LM Direct runs over
// UDP: each datagram is one message.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t}
}

// Split rejects a TCP stream: LM Direct is defined over UDP only and has no
// framing for a byte stream. It returns a [protocol.ErrUnsupported] error,
// which makes a channel drop the connection.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	return 0, nil, protocol.Errorf(Name, 0, protocol.ErrUnsupported, "LM Direct runs over UDP only")
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
	_ protocol.Refuser        = (*Session)(nil)
)
