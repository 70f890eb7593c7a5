package suntech

import (
	"bytes"
	"encoding/hex"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// maxCrash bounds the crash data a session gathers across parts.
const maxCrash = 256 << 10

// decodeCrash decodes one part of a crash report:
//
//	CRR;<DEV_ID>;<part>;<parts>;<length>;<length bytes of data>;<checksum>\r
//
// The checksum is the 8-bit sum of the data in two hex digits. The parts
// are gathered in order; the last one gives a message with the whole
// record in hex (custom.crash.data) and, from its first six bytes (YY MM
// DD hh mm ss), the time of the crash. The record's inner layout (position
// and acceleration samples around the crash) is not decoded.
func (s *Session) decodeCrash(b []byte, r *protocol.Result) error {
	var f [5][]byte
	rest := b
	for k := range f {
		i := bytes.IndexByte(rest, ';')
		if i < 0 {
			return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "crash report header")
		}
		f[k], rest = rest[:i], rest[i+1:]
	}
	if err := s.setIdent(f[1], 4, r); err != nil {
		return err
	}
	part, ok1 := textfield.Uint(f[2])
	parts, ok2 := textfield.Uint(f[3])
	n, ok3 := textfield.Uint(f[4])
	if !ok1 || !ok2 || !ok3 || part == 0 || part > parts || parts > 1000 {
		return protocol.Errorf(Name, 4+len(f[1])+1, protocol.ErrMalformed, "crash report part numbers or length")
	}
	start := len(b) - len(rest)
	if uint64(len(rest)) < n+3 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "crash report shorter than its length field")
	}
	data := rest[:n]
	tail := bytes.TrimRight(rest[n:], "\r\n")
	if len(tail) != 3 || tail[0] != ';' || !isHexDigit(tail[1]) || !isHexDigit(tail[2]) {
		return protocol.Errorf(Name, start+int(n), protocol.ErrMalformed, "crash report does not end with ;XX after its data")
	}
	var sum byte
	for _, c := range data {
		sum += c
	}
	badSum := sum != hexByte(tail[1], tail[2])
	if badSum && !s.codec.Lenient {
		return protocol.Errorf(Name, start+int(n)+1, protocol.ErrChecksum, "crash report checksum "+string(tail[1:3])+", computed "+hex2(sum))
	}
	if part == 1 || int(part) != s.crashNext || int(parts) != s.crashParts {
		s.crash, s.crashParts = s.crash[:0], int(parts)
		if part != 1 {
			s.crashNext = 0 // a part out of order: wait for a new first part
			return nil
		}
	}
	if len(s.crash)+len(data) > maxCrash {
		s.crash, s.crashNext = s.crash[:0], 0
		return protocol.Errorf(Name, start, protocol.ErrFrameTooLarge, "crash report larger than "+strconv.Itoa(maxCrash)+" bytes")
	}
	s.crash = append(s.crash, data...)
	s.crashNext = int(part) + 1
	if part < parts {
		return nil
	}
	m := s.begin(r, 8)
	if c := s.crash; len(c) >= 6 {
		if t, ok := textfield.Unix(2000+int(c[0]), int(c[1]), int(c[2]), int(c[3]), int(c[4]), int(c[5])); ok {
			m.Add(protocol.ParamTimestamp, protocol.Int(t))
		}
	}
	m.Add(paramCrashData, protocol.String(hex.EncodeToString(s.crash)))
	m.Add(paramCrashPart, protocol.Uint(parts))
	m.Add(paramReportType, protocol.String("CRR"))
	if badSum {
		m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
	}
	s.crash, s.crashNext = s.crash[:0], 0
	return nil
}
