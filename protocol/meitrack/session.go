package meitrack

import (
	"bytes"
	"encoding/binary"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// Session is one TCP connection or one UDP remote address. It remembers the
// device's IMEI and the commands sent and not yet answered. It is not safe
// for concurrent use.
type Session struct {
	codec     *Codec
	transport protocol.Transport
	adc       adcScale
	ident     string

	// Commands in flight, by data identifier (0x41 'A' … 0x7A 'z'): the
	// device answers with the identifier of the command.
	pending  [flagCount]pendingCommand
	nextFlag byte
}

type pendingCommand struct {
	id   uint32
	typ  [3]byte
	used bool
}

// Data identifiers the documents allow: 0x41 to 0x7A.
const (
	flagFirst = 0x41
	flagLast  = 0x7A
	flagCount = flagLast - flagFirst + 1
)

// IMEI returns the device's IMEI once a frame has carried it, or "".
func (s *Session) IMEI() string { return s.ident }

// frame is one checked frame.
type frame struct {
	flag    byte
	imei    []byte
	typ     []byte
	body    []byte // after "TYPE,", before '*'
	bodyOff int    // offset of body in the frame
	badSum  bool
	badLen  bool
}

// Decode decodes one frame: over TCP as [Codec.Split] cut it, over UDP one
// datagram.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	f, err := s.check(b)
	if err != nil {
		return err
	}
	if !validIMEI(f.imei) {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "IMEI is not 5 to 20 digits")
	}
	if s.ident != string(f.imei) { // the comparison does not allocate
		s.ident = string(f.imei)
	}
	r.Ident = s.ident
	first := len(r.Messages)
	switch string(f.typ) {
	case "AAA", "AFF":
		err = s.decodeAAA(&f, r)
	case "CCE", "CFF":
		err = s.decodeCCE(&f, r)
	case "CCC":
		err = s.decodeCCC(&f, r)
	case "AAC":
		// A keep-alive the device expects echoed: "@@<flag><len>,IMEI,AAC,…".
		r.Reply = AppendFrame(r.Reply[:0], '@', f.flag, s.ident, f.typ, f.body)
	case "D00":
		s.decodePhoto(&f, r)
	default:
		s.decodeAnswer(&f, r)
	}
	if err != nil {
		return err
	}
	for i := first; i < len(r.Messages); i++ {
		m := &r.Messages[i]
		if f.badSum {
			m.Set(protocol.ParamChecksumInvalid, protocol.Bool(true))
		}
		if f.badLen {
			m.Set(protocol.ParamLengthInvalid, protocol.Bool(true))
		}
	}
	return nil
}

// check verifies the frame's header, length and checksum and splits it.
func (s *Session) check(b []byte) (frame, error) {
	var f frame
	if len(b) < 2 || b[0] != '$' || b[1] != '$' {
		return f, protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame does not start with $$")
	}
	h, ok, err := parseHeader(b)
	if err != nil {
		return f, err
	}
	if !ok {
		return f, protocol.Errorf(Name, len(b), protocol.ErrTruncated, "frame ends inside its header")
	}
	f.flag = h.flag
	// The checksum: "*XX" before "\r\n" (which captures sometimes lack).
	n := len(b)
	crlf := 0
	if n >= 2 && b[n-2] == '\r' && b[n-1] == '\n' {
		crlf = 2
	} else if n >= 1 && (b[n-1] == '\r' || b[n-1] == '\n') {
		crlf = 1
	}
	star := n - crlf - 3
	if star <= h.comma || b[star] != '*' || !isHex(b[star+1]) || !isHex(b[star+2]) {
		return f, protocol.Errorf(Name, n, protocol.ErrTruncated, "frame does not end with *XX checksum")
	}
	sum := byteSum(b[:star+1])
	want := hexVal(b[star+1])<<4 | hexVal(b[star+2])
	f.badSum = sum != want
	actual := n - h.comma
	f.badLen = actual != h.length && actual+2-crlf != h.length
	if !s.codec.Lenient {
		switch {
		case f.badSum:
			return f, protocol.Errorf(Name, star+1, protocol.ErrChecksum, "checksum "+string(b[star+1:star+3])+", computed "+hex2(sum))
		case f.badLen:
			return f, protocol.Errorf(Name, 3, protocol.ErrChecksum, "length field "+strconv.Itoa(h.length)+", frame holds "+strconv.Itoa(actual))
		}
	}
	content := b[h.comma+1 : star]
	i := bytes.IndexByte(content, ',')
	if i < 0 {
		return f, protocol.Errorf(Name, h.comma+1, protocol.ErrMalformed, "no comma after the IMEI")
	}
	f.imei = content[:i]
	rest := content[i+1:]
	j := bytes.IndexByte(rest, ',')
	if j < 0 {
		f.typ, f.body = rest, nil
		f.bodyOff = star
	} else {
		f.typ, f.body = rest[:j], rest[j+1:]
		f.bodyOff = h.comma + 1 + i + 1 + j + 1
	}
	if len(f.typ) == 0 {
		return f, protocol.Errorf(Name, h.comma+2+i, protocol.ErrMalformed, "empty frame type")
	}
	return f, nil
}

// byteSum is the sum of b's bytes modulo 256, sixteen bytes at a time: the
// byte pairs of each 16-bit lane are added, then the four lanes are summed
// by one multiplication (at most 4,080, no lane overflows).
func byteSum(b []byte) byte {
	const lanes = 0x00FF00FF00FF00FF
	var s uint64
	for len(b) >= 16 {
		w, v := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
		s += ((w & lanes) + (w >> 8 & lanes) + (v & lanes) + (v >> 8 & lanes)) * 0x0001000100010001 >> 48
		b = b[16:]
	}
	if len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		s += ((w & lanes) + (w >> 8 & lanes)) * 0x0001000100010001 >> 48
		b = b[8:]
	}
	for _, c := range b {
		s += uint64(c)
	}
	return byte(s)
}

func validIMEI(b []byte) bool {
	if len(b) < 5 || len(b) > 20 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

const upperHex = "0123456789ABCDEF"

func hex2(b byte) string { return string([]byte{upperHex[b>>4], upperHex[b&15]}) }

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result, n int) *protocol.Message {
	m := r.NewMessage()
	m.Grow(n)
	m.Add(protocol.ParamIdent, protocol.String(s.ident))
	return m
}

// decodeAnswer handles every text frame that is not a report: the device's
// answer to a command ("F01,OK", "E91,FWV1.00,12345678", an error code). It
// becomes a message with command.response, so that an answer nobody waits
// for is kept, and a Result.Responses entry, with the command's ID when the
// answer carries the data identifier of a command this session sent.
func (s *Session) decodeAnswer(f *frame, r *protocol.Result) {
	text := textOf(f.typ, f.body)
	s.respond(f, r, text)
	m := s.begin(r, 4)
	m.Add(protocol.ParamCommandResponse, protocol.String(text))
	m.Add(paramFrameType, protocol.String(toValidUTF8(f.typ)))
}

// respond records an answer in Result.Responses, matched to the pending
// command that carried the same data identifier and type.
func (s *Session) respond(f *frame, r *protocol.Result, text string) {
	resp := protocol.CommandResponse{Text: text}
	if f.flag >= flagFirst && f.flag <= flagLast {
		p := &s.pending[f.flag-flagFirst]
		if p.used && answers(p.typ, f.typ) {
			resp.ID, resp.HasID = p.id, true
			p.used = false
		}
	}
	r.Responses = append(r.Responses, resp)
}

// answers reports whether a frame of type got answers a command of type
// sent: the same type, or an AAA report for a location query (A10).
func answers(sent [3]byte, got []byte) bool {
	if len(got) == 3 && got[0] == sent[0] && got[1] == sent[1] && got[2] == sent[2] {
		return true
	}
	return sent == [3]byte{'A', '1', '0'} && string(got) == "AAA"
}

// textOf joins the frame type and body as the device wrote them, printable
// and valid UTF-8.
func textOf(typ, body []byte) string {
	b := make([]byte, 0, len(typ)+1+len(body))
	b = append(b, typ...)
	if len(body) > 0 {
		b = append(b, ',')
		b = append(b, body...)
	}
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	return toValidUTF8(b)
}

// decodePhoto keeps one packet of a picture (D00: name, packet count,
// packet index, data) as a message.
func (s *Session) decodePhoto(f *frame, r *protocol.Result) {
	m := s.begin(r, 6)
	m.Add(paramFrameType, protocol.String("D00"))
	rest := f.body
	fields := [3][]byte{}
	for k := range fields {
		i := bytes.IndexByte(rest, ',')
		if i < 0 {
			fields[k], rest = rest, nil
			break
		}
		fields[k], rest = rest[:i], rest[i+1:]
	}
	if len(fields[0]) > 0 {
		m.Add(paramPhotoName, protocol.String(toValidUTF8(fields[0])))
	}
	if v, ok := parseUint(fields[1]); ok {
		m.Add(paramPhotoPackets, protocol.Uint(v))
	}
	if v, ok := parseUint(fields[2]); ok {
		m.Add(paramPhotoIndex, protocol.Uint(v))
	}
	if len(rest) > 0 {
		m.Add(paramPhotoData, protocol.String(hexLower(rest)))
	}
}
