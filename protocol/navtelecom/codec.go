package navtelecom

import "github.com/gnssgate/gnssgate/protocol"

// Name is the codec's protocol name.
const Name = "navtelecom"

// ntcbHeaderLen is the NTCB header: prefix (4), receiver id (4), sender id
// (4), data length (2), data XOR (1), header XOR (1).
const ntcbHeaderLen = 16

// keepAlive is the one-byte FLEX keep-alive.
const keepAlive = 0x7F

// Codec is the Navtelecom protocol: NTCB frames (the "@NTC" header) and,
// after the "*>FLEX" negotiation, FLEX records. The zero value is ready to
// use and it is safe for concurrent use: per-connection state (the ident,
// the negotiated FLEX field set) lives in the [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds a frame. 0 means [protocol.DefaultMaxFrameSize].
	MaxFrameSize int
	// Lenient keeps frames whose XOR checksums (NTCB) or CRC-8 (FLEX) are
	// wrong and marks their messages with [protocol.ParamChecksumInvalid].
	// Otherwise such a frame is a [protocol.ErrChecksum] error.
	Lenient bool
}

// Name returns "navtelecom".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection. Navtelecom runs over TCP.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c}
}

// Split cuts NTCB frames and keep-alives. FLEX records ("~A", "~T", …)
// have a size that depends on the field set the connection negotiated, so
// only a [Session]'s Split (which [protocol.StreamDecoder] and the channel
// use) frames them; here they are a [protocol.ErrMalformed] error.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return splitWith(data, protocol.FrameLimit(c.MaxFrameSize), nil)
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.Splitter       = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
