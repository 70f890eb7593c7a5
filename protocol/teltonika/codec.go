package teltonika

import (
	"encoding/binary"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the protocol's name in errors and configuration.
const Name = "teltonika"

// Codec IDs.
const (
	codecGH    = 0x07 // GH3000
	codec8     = 0x08
	codec8E    = 0x8E
	codec16    = 0x10
	codec12    = 0x0C
	codec13    = 0x0D
	codec14    = 0x0E
	codec15    = 0x0F
	imeiDigits = 15
	keepAlive  = 0xFF // the byte FMB devices send to keep a TCP link open
)

// Codec is the Teltonika protocol: the TCP IMEI handshake, Codec 8, 8
// Extended and 16 AVL data over TCP and UDP, and Codec 12, 13, 14 and 15
// GPRS messages. The zero value is ready to use; a Codec is safe for
// concurrent use.
type Codec struct {
	// MaxFrameSize bounds one frame; 0 means [protocol.DefaultMaxFrameSize]
	// (64 KiB). Teltonika documents 1280 bytes as the largest AVL packet of
	// current devices, but camera file transfers use larger frames.
	MaxFrameSize int
	// Lenient keeps the messages of frames whose CRC or length field is
	// wrong, marking them with [protocol.ParamChecksumInvalid] or
	// [protocol.ParamLengthInvalid]; otherwise such frames are
	// [protocol.ErrChecksum] errors.
	Lenient bool
	// Family is the AVL ID numbering IO elements are named by: the FMB
	// firmware lists by default, [FamilyFMX6] for FMB64x/FMC64x/FMC650/
	// FMM64x/FMM650 devices, [FamilyBoth] for a mix of the two.
	Family Family
}

// Name returns "teltonika".
func (c *Codec) Name() string { return Name }

// NewSession starts a connection (TCP) or a remote address (UDP).
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t, idx: indexFor(c.Family)}
}

func (c *Codec) maxFrame() int { return protocol.FrameLimit(c.MaxFrameSize) }

// Split cuts a TCP stream into IMEI packets (00 0F + 15 digits) and AVL or
// GPRS packets (four zero bytes, u32 length, body, u32 CRC), and skips the
// 0xFF keep-alive bytes FMB devices send between packets.
//
// A packet whose length field disagrees with its content is still cut where
// its content ends, so that decoding can report it (or, in lenient mode, keep
// it) instead of swallowing the start of the next packet: when the length
// field does not frame a plausible AVL body, Split walks the records to find
// the body's real end.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) > 0 && data[0] == keepAlive {
		// FMB devices ping an idle TCP link with one 0xFF byte: it is
		// consumed here and never reaches a session (no message, no reply).
		n := 1
		for n < len(data) && data[n] == keepAlive {
			n++
		}
		return n, nil, nil
	}
	if len(data) < 2 {
		return 0, nil, nil
	}
	if n := int(binary.BigEndian.Uint16(data)); n != 0 {
		if n != imeiDigits {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "neither an IMEI packet (length "+strconv.Itoa(n)+") nor an AVL packet")
		}
		if len(data) < 2+n {
			return 0, nil, nil
		}
		return 2 + n, data[:2+n], nil
	}
	if len(data) < 8 {
		return 0, nil, nil
	}
	if data[2] != 0 || data[3] != 0 {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "bad preamble")
	}
	l := uint64(binary.BigEndian.Uint32(data[4:]))
	max := uint64(c.maxFrame())
	if l+12 > max {
		return 0, nil, protocol.Errorf(Name, 4, protocol.ErrFrameTooLarge, "length field "+strconv.FormatUint(l, 10))
	}
	size := int(l) + 12
	if len(data) >= size && plausibleBody(data[8:size-4]) {
		return size, data[:size], nil
	}
	// The length field does not frame a plausible body (or not yet): walk
	// the records, if the codec is one we can walk.
	if len(data) > 8 {
		end, ok, more := walkBody(data[8:])
		if ok && end+12 > int(max) {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "records run past the maximum frame size")
		}
		switch {
		case ok && end+12 <= len(data):
			return end + 12, data[:end+12], nil
		case ok && atEOF && end+8 <= len(data):
			// The stream ends inside the CRC: hand over what there is, so
			// that decoding reports a length error (or keeps it, lenient).
			return len(data), data, nil
		case (ok || more) && !(atEOF && len(data) >= size):
			if len(data) > int(max) {
				return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no complete packet")
			}
			return 0, nil, nil
		}
	}
	if len(data) >= size {
		return size, data[:size], nil
	}
	return 0, nil, nil
}

// plausibleBody reports whether body (codec id .. N2) looks whole: a known
// codec whose first and last counts agree.
func plausibleBody(body []byte) bool {
	if len(body) < 3 {
		return false
	}
	switch body[0] {
	case codecGH, codec8, codec8E, codec16, codec12, codec13, codec14, codec15:
		return body[1] == body[len(body)-1]
	}
	return true // unknown codecs: trust the length field, decoding reports them
}

// walkBody finds the end of an AVL body (codec id .. N2) from its records.
// ok is false when the body cannot be walked (not an AVL codec, malformed);
// more is true when the data ends before the body does.
func walkBody(b []byte) (end int, ok, more bool) {
	if len(b) < 2 {
		return 0, false, true
	}
	if b[0] == codecGH {
		off := 2
		for range int(b[1]) {
			n, err := walkGH(b, off)
			if err != errNone {
				return 0, false, true
			}
			off = n
		}
		if off >= len(b) {
			return 0, false, true
		}
		return off + 1, true, false
	}
	l, known := layoutOf(b[0])
	if !known {
		return 0, false, false
	}
	end, ok, more = walkWith(b, l)
	if !ok && !more && b[0] == codec8 {
		if e, ok2, _ := walkWith(b, layout8X16); ok2 {
			return e, true, false
		}
	}
	return end, ok, more
}

func walkWith(b []byte, l layout) (end int, ok, more bool) {
	off := 2
	for range int(b[1]) {
		n, err := walkRecord(b, off, l)
		if err != errNone {
			return 0, false, err == errShort
		}
		off = n
	}
	if off >= len(b) {
		return 0, false, true
	}
	return off + 1, true, false
}

// What the channel and the decode tool rely on.
var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
