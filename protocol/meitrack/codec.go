package meitrack

import (
	"bytes"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the protocol's name in errors and configuration.
const Name = "meitrack"

// Codec is the Meitrack GPRS protocol. The zero value is ready to use; a
// Codec is safe for concurrent use: per-connection state lives in the
// [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds one frame, "$$" to "\r\n". 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB). The documents bound a text
	// command to 1,024 bytes; binary CCE, CCC and photo frames are larger.
	MaxFrameSize int
	// Lenient keeps frames whose checksum or length field is wrong, marking
	// their messages with [protocol.ParamChecksumInvalid] or
	// [protocol.ParamLengthInvalid]; otherwise such a frame is a
	// [protocol.ErrChecksum] error.
	Lenient bool
	// Model names the device model when the AAA analog inputs need a
	// model's scaling (see the package documentation, "Analog inputs"):
	// "MVT340" and "MVT380" (10-bit ADC), "MVT100", "MVT600", "MVT800",
	// "T1", "T3", "TC68", "TC68S" and "MT90" (12-bit ADC). "" scales only
	// what the frame itself says how to scale and keeps other readings raw.
	Model string
}

// Name returns "meitrack".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection (TCP) or one remote address
// (UDP). Over UDP each datagram is one frame.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t, adc: adcFamily(c.Model)}
}

// Frame limits. A text frame (every type but the binary ones) is looked for
// within maxText bytes: the documents bound a command to 1,024 bytes, and
// the bound keeps a hostile trickle of bytes from costing quadratic time.
const (
	maxText      = 4 << 10
	maxLenDigits = 6
)

// Split cuts a TCP stream into frames: "$$", the data identifier, the
// decimal length (counting from the first comma through "\r\n"), the
// content, "*", two hex digits of checksum and "\r\n".
//
// Binary frames (CCE, CCC, CFF and D00 photo packets, whose content may hold
// any byte) are cut by their length field. Text frames are cut at "*XX\r\n"
// whatever their length field says, so that a device that miscounts (some
// do) does not swallow the next frame; the session then reports the length
// (or, lenient, marks it). A text frame whose "\r\n" is missing ends at
// "*XX" followed by the next "$$" or by the end of the stream. Bytes that do
// not start with "$$" are a [protocol.ErrMalformed] error, which drops the
// connection.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, atEOF, protocol.FrameLimit(c.MaxFrameSize))
}

func split(data []byte, atEOF bool, max int) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	if data[0] != '$' || len(data) > 1 && data[1] != '$' {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame does not start with $$")
	}
	h, ok, err := parseHeader(data)
	if err != nil {
		return 0, nil, err
	}
	if !ok {
		return 0, nil, nil
	}
	end := h.comma + h.length
	if end > max {
		return 0, nil, protocol.Errorf(Name, 3, protocol.ErrFrameTooLarge, "length field exceeds the frame size limit")
	}
	typ, known := frameType(data[h.comma+1:])
	if !known {
		if len(data)-h.comma > 64 {
			return 0, nil, protocol.Errorf(Name, h.comma+1, protocol.ErrMalformed, "no IMEI and frame type")
		}
		if !atEOF {
			return 0, nil, nil
		}
	}
	if isBinary(typ) {
		if len(data) < end {
			return 0, nil, nil
		}
		return end, data[:end], nil
	}
	limit := min(len(data), max, maxText)
	for p := h.comma + 1; p < limit; p++ {
		i := bytes.IndexByte(data[p:limit], '*')
		if i < 0 {
			break
		}
		p += i
		n, more := textEnd(data, p, atEOF)
		if more {
			return 0, nil, nil
		}
		if n > 0 {
			if n > max {
				return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "frame longer than the size limit")
			}
			return n, data[:n], nil
		}
	}
	if len(data) >= min(max, maxText) {
		if max <= maxText {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no checksum within the frame size limit")
		}
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "text frame without a checksum within 4 KiB")
	}
	return 0, nil, nil
}

// textEnd looks at a '*' at p: when it is followed by two hex digits and
// "\r\n", by the start of the next frame, or by the end of the stream, it
// returns the frame's end. more reports that the bytes read so far cannot
// tell yet.
func textEnd(data []byte, p int, atEOF bool) (end int, more bool) {
	n := len(data)
	switch {
	case p+3 > n:
		if atEOF {
			return 0, false
		}
		for _, c := range data[p+1:] {
			if !isHex(c) {
				return 0, false
			}
		}
		return 0, true
	case !isHex(data[p+1]) || !isHex(data[p+2]):
		return 0, false
	case p+3 == n:
		if atEOF {
			return n, false
		}
		return 0, true
	}
	switch data[p+3] {
	case '\r':
		if p+4 == n {
			if atEOF {
				return n, false
			}
			return 0, true
		}
		if data[p+4] == '\n' {
			return p + 5, false
		}
		return p + 4, false
	case '\n':
		return p + 4, false
	case '$':
		if p+4 == n {
			if atEOF {
				return n, false // decoding reports the stray byte
			}
			return 0, true
		}
		if data[p+4] == '$' {
			return p + 3, false
		}
	}
	return 0, false
}

// header is the start of a frame: "$$", the data identifier, the length.
type header struct {
	flag   byte
	length int // the length field
	comma  int // index of the comma after the length
}

// parseHeader reads "$$", the flag and the decimal length up to the first
// comma. ok is false when data ends before the comma.
func parseHeader(data []byte) (h header, ok bool, err error) {
	if len(data) < 4 {
		return h, false, nil
	}
	h.flag = data[2]
	i := 3
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		h.length = h.length*10 + int(data[i]-'0')
		i++
		if i-3 > maxLenDigits {
			return h, false, protocol.Errorf(Name, 3, protocol.ErrMalformed, "length field too long")
		}
	}
	if i == len(data) {
		return h, false, nil
	}
	if data[i] != ',' || i == 3 {
		return h, false, protocol.Errorf(Name, i, protocol.ErrMalformed, "no decimal length before the first comma")
	}
	h.comma = i
	return h, true, nil
}

// frameType finds the frame type after the IMEI: "IMEI,TYPE,". known is
// false when data ends before it.
func frameType(b []byte) (typ []byte, known bool) {
	i := indexByte(b, ',', 32)
	if i < 0 {
		return nil, false
	}
	rest := b[i+1:]
	for j := 0; j < len(rest) && j < 8; j++ {
		if rest[j] == ',' || rest[j] == '*' {
			return rest[:j], true
		}
	}
	return nil, false
}

func indexByte(b []byte, c byte, limit int) int {
	for i := 0; i < len(b) && i < limit; i++ {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// isBinary reports frame types whose content is binary.
func isBinary(typ []byte) bool {
	if len(typ) != 3 {
		return false
	}
	switch string(typ) {
	case "CCE", "CCC", "CFF", "D00":
		return true
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
