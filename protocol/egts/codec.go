package egts

import "github.com/gnssgate/gnssgate/protocol"

// Name is the codec's protocol name.
const Name = "egts"

// Transport layer constants.
const (
	protocolVersion = 0x01
	headerShort     = 11 // without the routing fields
	headerRouted    = 16 // with PRA, RCA, TTL
)

// Codec is the EGTS protocol (GOST R 54619-2011 / GOST 33472-2015, Order
// No. 285 of the Russian Ministry of Transport). The zero value is ready to
// use and it is safe for concurrent use: per-connection state lives in the
// [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds a packet, header to body CRC. 0 means
	// [protocol.DefaultMaxFrameSize] (an EGTS packet is at most 65,535 +
	// 16 + 2 bytes).
	MaxFrameSize int
	// Lenient keeps packets whose header CRC-8 or body CRC-16 is wrong and
	// marks their messages with [protocol.ParamChecksumInvalid]. Otherwise
	// such a packet is a [protocol.ErrChecksum] error.
	Lenient bool
}

// Name returns "egts".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection (EGTS runs over TCP; a UDP
// datagram is decoded as one packet).
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c}
}

// Split cuts a TCP stream into packets: the header's length (HL) and frame
// data length (FDL) give the packet's size, plus the 2-byte body CRC when
// FDL is not 0. A first byte other than the protocol version 0x01, or a
// header length other than 11 or 16, is a [protocol.ErrMalformed] error
// (the stream cannot be resynchronised); a packet longer than MaxFrameSize
// is [protocol.ErrFrameTooLarge].
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] != protocolVersion {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "protocol version is not 1")
	}
	if len(data) < 10 {
		return 0, nil, nil
	}
	hl := int(data[3])
	if hl != headerShort && hl != headerRouted {
		return 0, nil, protocol.Errorf(Name, 3, protocol.ErrMalformed, "header length is neither 11 nor 16")
	}
	n := hl + frameDataLen(data)
	if frameDataLen(data) > 0 {
		n += 2
	}
	if n > protocol.FrameLimit(c.MaxFrameSize) {
		return 0, nil, protocol.Errorf(Name, 5, protocol.ErrFrameTooLarge, "frame data length exceeds the frame size limit")
	}
	if len(data) < n {
		return 0, nil, nil
	}
	return n, data[:n], nil
}

func frameDataLen(h []byte) int { return int(h[5]) | int(h[6])<<8 }

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
	_ protocol.Refuser        = (*Session)(nil)
)
