package galileosky

import (
	"encoding/binary"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the protocol's name in errors and configuration.
const Name = "galileosky"

// Codec is the Galileosky protocol. The zero value is ready to use; a Codec
// is safe for concurrent use: per-connection state lives in the [Session]s
// it makes.
type Codec struct {
	// MaxFrameSize bounds one packet. 0 means [protocol.DefaultMaxFrameSize]
	// (64 KiB); the documents bound a packet to 1,000 bytes, and the length
	// field to 32,767.
	MaxFrameSize int
	// Lenient keeps packets whose checksum is wrong, marking their messages
	// with [protocol.ParamChecksumInvalid]; otherwise such a packet is a
	// [protocol.ErrChecksum] error.
	Lenient bool
	// Now is the clock that dates compressed packets, whose time counts
	// seconds from the start of the current year (UTC). nil means
	// time.Now.
	Now func() time.Time
}

// Name returns "galileosky".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection (TCP) or one remote address
// (UDP, where each datagram is one packet).
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t}
}

// Packet headers.
const (
	hdrMain       = 0x01 // head and main packets, command answers; Iridium SBD too
	hdrConfirm    = 0x02 // the server's confirmation
	hdrGarmin     = 0x06 // Garmin FMI data
	hdrPhoto      = 0x07 // a picture part
	hdrCompressed = 0x08 // compressed main packet
)

// Split cuts a TCP stream into packets: a header byte, a little-endian u16
// length (bit 15: the device has archived data left to send), that many
// bytes and a CRC-16/MODBUS. An Iridium SBD message (header 0x01, a
// big-endian length, then the MO header element 01 00 1C) is cut by its own
// length. Any other header byte is a [protocol.ErrMalformed] error, which
// drops the connection.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	switch data[0] {
	case hdrMain, hdrGarmin, hdrPhoto, hdrCompressed:
	default:
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "unknown packet header 0x"+hex2(data[0]))
	}
	if len(data) < 3 {
		return 0, nil, nil
	}
	size := 3 + int(binary.LittleEndian.Uint16(data[1:])&0x7FFF) + 2
	if data[0] == hdrMain {
		if len(data) < 6 {
			return 0, nil, nil
		}
		if isIridium(data) {
			size = 3 + int(binary.BigEndian.Uint16(data[1:]))
		}
	}
	if size > protocol.FrameLimit(c.MaxFrameSize) {
		return 0, nil, protocol.Errorf(Name, 1, protocol.ErrFrameTooLarge, "length field exceeds the frame size limit")
	}
	if len(data) < size {
		return 0, nil, nil
	}
	return size, data[:size], nil
}

// isIridium reports whether a 0x01 packet is an Iridium SBD message: its
// first information element is the MO header (IEI 0x01, 28 bytes).
func isIridium(b []byte) bool {
	return len(b) >= 6 && b[3] == 0x01 && b[4] == 0x00 && b[5] == 0x1C
}

const upperHex = "0123456789ABCDEF"

func hex2(b byte) string { return string([]byte{upperHex[b>>4], upperHex[b&15]}) }

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
