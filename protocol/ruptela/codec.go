package ruptela

import (
	"encoding/binary"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Name is the protocol's name in errors and configuration.
const Name = "ruptela"

// Codec is the Ruptela protocol of the FM-Eco4, FM-Pro4, FM-Tco4, Plug4,
// Trace5, Eco5, Pro5, HCV5/LCV5 and other Ruptela devices. The zero value
// is ready to use; a Codec is safe for concurrent use: per-connection state
// lives in the [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds one packet, length field to CRC. 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB).
	MaxFrameSize int
	// Lenient keeps packets whose CRC or length field is wrong, marking
	// their messages with [protocol.ParamChecksumInvalid] or
	// [protocol.ParamLengthInvalid]; otherwise such a packet is a
	// [protocol.ErrChecksum] error. A lenient codec also frames a packet
	// whose length field is wrong by where its CRC matches.
	Lenient bool
}

// Name returns "ruptela".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection (TCP) or one remote address
// (UDP, where each datagram is one packet).
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t}
}

// minPacket is the shortest device packet: length, IMEI, command, CRC.
const minPacket = 2 + 8 + 1 + 2

// Split cuts a TCP stream into packets: a big-endian u16 length, that many
// bytes (IMEI, command, payload), and a CRC-16/KERMIT of them. A length
// field shorter than IMEI and command is a [protocol.ErrMalformed] error,
// which drops the connection; one beyond MaxFrameSize is
// [protocol.ErrFrameTooLarge].
//
// A lenient codec does not trust a length field whose packet fails its CRC:
// it ends the packet at the first place where the bytes so far match the
// CRC that follows them (some devices, and some captures, carry a wrong
// length), and falls back to the length field when there is none.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) < 2 {
		return 0, nil, nil
	}
	n := int(binary.BigEndian.Uint16(data))
	if n < minPacket-4 {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "length field "+itoa(n)+" is shorter than IMEI and command")
	}
	max := protocol.FrameLimit(c.MaxFrameSize)
	size := n + 4
	if size > max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "length field "+itoa(n))
	}
	if len(data) < size {
		return 0, nil, nil
	}
	if !c.Lenient || crcMatches(data[:size]) {
		return size, data[:size], nil
	}
	if end := crcEnd(data, min(len(data), max)); end > 0 {
		return end, data[:end], nil
	}
	if atEOF || len(data) >= max {
		return size, data[:size], nil // decoding reports the CRC
	}
	return 0, nil, nil
}

// crcMatches reports whether a packet's CRC matches its content.
func crcMatches(p []byte) bool {
	n := len(p)
	return crc16.Kermit.Checksum(p[2:n-2]) == binary.BigEndian.Uint16(p[n-2:])
}

// crcEnd finds the first packet end within data[:limit] where the CRC of the
// bytes after the length field matches the two bytes that follow, or 0.
func crcEnd(data []byte, limit int) int {
	t := crc16.Kermit
	crc := t.Update(t.Start(), data[2:minPacket-2])
	for p := minPacket - 2; p+2 <= limit; p++ {
		if t.Finish(crc) == binary.BigEndian.Uint16(data[p:]) {
			return p + 2
		}
		crc = t.Update(crc, data[p:p+1])
	}
	return 0
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
	_ protocol.Refuser        = (*Session)(nil)
)
