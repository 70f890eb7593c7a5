package suntech

import (
	"bytes"
	"encoding/binary"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Name is the protocol's name in errors and configuration.
const Name = "suntech"

// Codec is the Suntech protocol family. The zero value is ready to use; a
// Codec is safe for concurrent use: per-connection state lives in the
// [Session]s it makes.
type Codec struct {
	// MaxFrameSize bounds one frame. 0 means [protocol.DefaultMaxFrameSize]
	// (64 KiB). Reports are a few hundred bytes; a UEX report carries up
	// to 500 bytes of serial data and a crash report (CRR) part a few
	// kilobytes.
	MaxFrameSize int
	// Lenient keeps frames whose checksum (the 8-bit sum of UEX serial
	// data and of crash-report parts) or length field is wrong, marking
	// their messages with [protocol.ParamChecksumInvalid] or
	// [protocol.ParamLengthInvalid]; otherwise such a frame is a
	// [protocol.ErrChecksum] error.
	Lenient bool
	// AckEmergency answers every legacy emergency report (EMG) received
	// over TCP with the AckEmerg command ("ST300CMD;<id>;02;AckEmerg"),
	// which stops the device repeating it. By default emergencies are not
	// acknowledged: the device keeps reporting until it has sent the
	// configured number of reports or an operator sends AckEmerg.
	AckEmergency bool
}

// Name returns "suntech".
func (c *Codec) Name() string { return Name }

// NewSession starts the state of one connection (TCP) or one remote address
// (UDP). Over UDP each datagram is one frame.
func (c *Codec) NewSession(t protocol.Transport) protocol.Session {
	return &Session{codec: c, transport: t}
}

// Frame starts.
const (
	zipSTX = 0x02 // legacy "zip" reports: STX, u16 length, content, ETX
	zipETX = 0x03
)

// Split cuts a TCP stream into frames:
//
//   - text reports end with '\r' (0x0D), as the manuals state; a '\r'
//     followed by '\n' is part of the report (serial data carries CRLF)
//     and a '\n' alone, which some devices send after the '\r', is skipped;
//   - legacy zip reports start with STX (0x02) and a 16-bit length of the
//     content, which ETX (0x03) follows;
//   - universal binary reports start with their type (0x80 and above) and a
//     16-bit length of what follows it;
//   - a crash report ("CRR;…") carries binary data after its decimal
//     length field, then ";" two hex digits of checksum and '\r'.
//
// A frame longer than the size limit is a [protocol.ErrFrameTooLarge] error.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	return split(data, atEOF, protocol.FrameLimit(c.MaxFrameSize))
}

func split(data []byte, atEOF bool, max int) (int, []byte, error) {
	// Line ends left between frames (a '\n' after the '\r', blank lines).
	skip := 0
	for skip < len(data) && (data[skip] == '\n' || data[skip] == '\r') {
		skip++
	}
	if skip > 0 {
		return skip, nil, nil
	}
	if len(data) == 0 {
		return 0, nil, nil
	}
	switch b := data[0]; {
	case b == zipSTX, b >= 0x80:
		if len(data) < 3 {
			return 0, nil, nil
		}
		n := 3 + int(binary.BigEndian.Uint16(data[1:]))
		if b == zipSTX {
			n++ // ETX
		}
		if n > max {
			return 0, nil, protocol.Errorf(Name, 1, protocol.ErrFrameTooLarge, "length field exceeds the frame size limit")
		}
		if len(data) < n {
			return 0, nil, nil
		}
		return n, data[:n], nil
	}
	if bytes.HasPrefix(data, []byte("CRR;")) {
		if n, ok, err := crashFrameLen(data, max); err != nil {
			return 0, nil, err
		} else if ok {
			if len(data) < n {
				return 0, nil, nil
			}
			return n, data[:n], nil
		}
	}
	// A report ends at its '\r' ('\n' and "\r\n" end it too). A UEX
	// report's serial data may hold any byte: its length field tells where
	// the data ends, and the report ends at the first '\r' after it.
	from := 0
	if isUEX(data) {
		end, more := uexDataEnd(data[:min(len(data), max)], atEOF)
		if more {
			if len(data) >= max {
				return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "UEX data exceeds the frame size limit")
			}
			return 0, nil, nil
		}
		from = end
	}
	limit := min(len(data), max)
	if from < limit {
		seg := data[from:limit]
		if i := bytes.IndexByte(seg, '\r'); i >= 0 {
			seg = seg[:i]
		}
		if j := bytes.IndexByte(seg, '\n'); j >= 0 {
			seg = seg[:j]
		}
		if end := from + len(seg); end < limit {
			return end + 1, data[:end], nil
		}
	}
	if len(data) >= max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "no '\\r' within the frame size limit")
	}
	if atEOF {
		if n := len(data); n > 0 && (data[n-1] == '\n' || data[n-1] == '\r') {
			return n, bytes.TrimRight(data, "\r\n"), nil
		}
	}
	return 0, nil, nil // more data, or at EOF a report cut short: truncated
}

// uexDataEnd finds the serial data of a UEX report: the "LEN;DATA;XX"
// that follows the I/O field (legacy) or the output state (universal),
// both strings of six or more '0'/'1'. It returns the offset after the
// checksum field, or more when the data runs past the bytes received. A
// report whose length field does not lead to a checksum field gives 0: it
// ends at its first '\r', and decoding reports the length.
func uexDataEnd(b []byte, atEOF bool) (end int, more bool) {
	prevBits := false
	for p := 0; p < len(b); {
		q := bytes.IndexByte(b[p:], ';')
		if q < 0 {
			return 0, false
		}
		field := b[p : p+q]
		next := p + q + 1
		if prevBits && len(field) > 0 && len(field) <= 5 {
			if n, ok := textfield.Uint(field); ok {
				de := next + int(n)
				switch {
				case de+3 > len(b):
					return 0, !atEOF // the data runs on past what has come
				case b[de] == ';' && isHexDigit(b[de+1]) && isHexDigit(b[de+2]) &&
					(de+3 == len(b) || b[de+3] == ';' || b[de+3] == '\r' || b[de+3] == '\n'):
					return de + 3, false
				}
			}
		}
		if bytes.IndexAny(field, "\r\n") >= 0 {
			return 0, false // the report ended before any serial data
		}
		prevBits = len(field) >= 6 && isBits(field)
		p = next
	}
	return 0, false
}

func isBits(b []byte) bool {
	for _, c := range b {
		if c != '0' && c != '1' {
			return false
		}
	}
	return true
}

// isUEX reports whether a text report's header names a UEX report
// ("ST300UEX;", "UEX;").
func isUEX(data []byte) bool {
	i := bytes.IndexByte(data[:min(len(data), 16)], ';')
	return i >= 3 && string(data[i-3:i]) == "UEX"
}

// crashFrameLen reads the header of a crash report part,
// "CRR;<id>;<part>;<parts>;<length>;", and returns the frame's length:
// the header, length bytes of data, ";XX" and '\r'. ok is false while the
// header is incomplete.
func crashFrameLen(data []byte, max int) (n int, ok bool, err error) {
	semis := 0
	for i := 0; i < len(data) && i < 64; i++ {
		if data[i] != ';' {
			continue
		}
		semis++
		if semis < 5 {
			continue
		}
		start := bytes.LastIndexByte(data[:i], ';') + 1
		length, good := textfield.Uint(data[start:i])
		if !good || length > uint64(max) {
			return 0, false, protocol.Errorf(Name, start, protocol.ErrMalformed, "crash report length field")
		}
		n = i + 1 + int(length) + 4
		if n > max {
			return 0, false, protocol.Errorf(Name, start, protocol.ErrFrameTooLarge, "crash report part exceeds the frame size limit")
		}
		return n, true, nil
	}
	if len(data) >= 64 {
		return 0, false, protocol.Errorf(Name, 0, protocol.ErrMalformed, "crash report header longer than 64 bytes")
	}
	return 0, false, nil
}

var (
	_ protocol.Codec          = (*Codec)(nil)
	_ protocol.Session        = (*Session)(nil)
	_ protocol.CommandEncoder = (*Session)(nil)
)
