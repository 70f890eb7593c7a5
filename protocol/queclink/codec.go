package queclink

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's name, as [Codec.Name] returns it.
const Name = "queclink"

// Codec is the Queclink @Track protocol (GL, GV, GMT, GB and CV series):
// text reports "+RESP:GTxxx,…$", their buffered "+BUFF:" form, command
// acknowledgements "+ACK:GTxxx,…$" and heartbeats, and the binary "+RSP",
// "+EVT", "+INF", "+HBD", "+ACK" frames and the record-based binary frames
// of later models. The zero value is ready to use; a Codec is safe for
// concurrent use and never modified by its sessions.
type Codec struct {
	// MaxFrameSize bounds one frame. 0 means [protocol.DefaultMaxFrameSize]
	// (64 KiB).
	MaxFrameSize int
	// Lenient keeps a binary datagram longer than its length field says
	// (decoded up to that length, marked "frame.length.invalid") instead
	// of refusing it. Text frames carry no checksum, and the two-byte
	// checksum of binary frames is not verified (the documents available
	// do not give its algorithm).
	Lenient bool
	// SACK answers every report with the server acknowledgement
	// "+SACK:<count number>$", as a device whose <SACK Enable> is set
	// (AT+GTSRI, AT+GTQSS) waits for. Heartbeats are always answered
	// "+SACK:GTHBD,<protocol version>,<count number>$".
	SACK bool
	// Password is the device password named commands carry
	// ("AT+GTRTO=<password>,…"). "" uses the factory default of the model
	// the protocol version names, in lower case ("gv300", "gl300").
	Password string
}

// Name returns "queclink".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one TCP connection or one UDP peer.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t, fields: make([][]byte, 0, 64)}
}

// Split cuts a TCP stream into frames: a text frame from '+' to '$'
// inclusive, or a binary frame by the length field its header carries. CR,
// LF, spaces and NUL bytes between frames are skipped. At the end of the
// stream an unterminated text frame is a frame. Any other byte where a
// frame should start is [protocol.ErrMalformed]; a frame longer than the
// limit is [protocol.ErrFrameTooLarge].
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, atEOF, protocol.FrameLimit(c.MaxFrameSize))
}

func isGap(c byte) bool { return c == '\r' || c == '\n' || c == ' ' || c == 0 || c == '\t' }

func split(data []byte, atEOF bool, max int) (int, []byte, error) {
	i := 0
	for i < len(data) && isGap(data[i]) {
		i++
	}
	if i > 0 {
		return i, nil, nil
	}
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] != '+' {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "a frame starts with '+'")
	}
	bin, known := binaryLength(data)
	if !known {
		if atEOF {
			return len(data), data, nil // too short to tell; decoding reports it
		}
		return 0, nil, nil
	}
	if bin >= 0 {
		if bin < minBinary {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "binary frame with a length field shorter than its header")
		}
		if bin > max {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "binary frame longer than the frame size limit")
		}
		if len(data) < bin {
			if atEOF {
				return len(data), data, nil
			}
			return 0, nil, nil
		}
		return bin, data[:bin], nil
	}
	end := bytes.IndexByte(data[:min(len(data), max)], '$')
	if end < 0 {
		if len(data) >= max {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no '$' within the frame size limit")
		}
		if atEOF {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
	return end + 1, data[:end+1], nil
}

// minBinary is the shortest binary frame: a heartbeat.
const minBinary = 8

// binaryLength tells a binary frame from a text one by its header and
// reads its length field: n ≥ 0 for a binary frame, -1 for text. known is
// false while too few bytes have arrived to tell.
func binaryLength(b []byte) (n int, known bool) {
	if len(b) >= 2 && b[1] == 0 {
		// The record-based binary frames of later models: '+', a zero
		// identifier, a two-byte length.
		if len(b) < 4 {
			return 0, false
		}
		return int(b[2])<<8 | int(b[3]), true
	}
	if len(b) < 5 {
		return 0, false
	}
	u8 := func(off int) (int, bool) {
		if len(b) <= off {
			return 0, false
		}
		return int(b[off]), true
	}
	u16 := func(off int) (int, bool) {
		if len(b) <= off+1 {
			return 0, false
		}
		return int(b[off])<<8 | int(b[off+1]), true
	}
	switch string(b[:4]) {
	case "+ACK":
		if b[4] == ':' {
			return -1, true
		}
		return u8(6)
	case "+INF", "+BNF":
		return u16(7)
	case "+HBD":
		return u8(5)
	case "+CRD", "+BRD":
		return u16(6)
	case "+RSP", "+BSP", "+EVT", "+BVT":
		return u16(9)
	}
	return -1, true
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
