package navtelecom

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc8"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// FLEX protocol and structure versions this codec speaks: 1.0, 2.0, 3.0.
const (
	flex10 = 0x0A
	flex20 = 0x14
	flex30 = 0x1E
	flexID = 0xB0 // the protocol code in "*>FLEX"
)

// Session is the state of one Navtelecom connection: the ident from the
// "*>S" handshake, the NTCB addresses, and the FLEX field set negotiated
// with "*>FLEX". It implements [protocol.Session], [protocol.Splitter]
// and [protocol.CommandEncoder].
type Session struct {
	codec    *Codec
	ident    string
	prefix   [4]byte // the NTCB prefix the device uses ("@NTC")
	deviceID uint32  // the device's NTCB address (its frames' sender id)
	serverID uint32  // ours, as the device addresses us (its frames' receiver id)
	addrSet  bool

	flexVersion byte       // negotiated FLEX protocol version, 0 before "*>FLEX"
	present     [255]uint8 // numbers (0-based) of the fields each record carries
	npresent    int
	recordSize  int // bytes of one record; 0 before "*>FLEX"
}

// Ident returns the IMEI from the handshake, or "".
func (s *Session) Ident() string { return s.ident }

// RecordSize returns the size of one FLEX record of the negotiated field
// set, or 0 before the negotiation.
func (s *Session) RecordSize() int { return s.recordSize }

// Split cuts the stream: NTCB frames by their header's length, the
// keep-alive byte 0x7F, and FLEX records by the negotiated record size.
func (s *Session) Split(data []byte, atEOF bool) (int, []byte, error) {
	return splitWith(data, protocol.FrameLimit(s.codec.MaxFrameSize), s)
}

func splitWith(data []byte, max int, s *Session) (int, []byte, error) {
	if len(data) == 0 {
		return 0, nil, nil
	}
	var n int
	switch data[0] {
	case keepAlive:
		return 1, data[:1], nil
	case '@':
		if len(data) < ntcbHeaderLen {
			return 0, nil, nil
		}
		n = ntcbHeaderLen + int(binary.LittleEndian.Uint16(data[12:]))
	case '~':
		if s == nil || s.recordSize == 0 {
			return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "FLEX record before the *>FLEX negotiation")
		}
		var ok bool
		var err error
		if n, ok, err = s.flexLen(data, max); err != nil || !ok {
			return 0, nil, err
		}
	default:
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame starts with neither '@', '~' nor 0x7F")
	}
	if n > max {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, fmt.Sprintf("frame of %d bytes", n))
	}
	if len(data) < n {
		return 0, nil, nil
	}
	return n, data[:n], nil
}

// flexLen returns the length of the FLEX frame at the start of data, or
// ok false when more bytes are needed to know it.
func (s *Session) flexLen(data []byte, max int) (int, bool, error) {
	if len(data) < 3 {
		return 0, false, nil
	}
	switch data[1] {
	case 'A': // count, records, CRC
		return 3 + int(data[2])*s.recordSize + 1, true, nil
	case 'T', 'X':
		if data[1] == 'T' { // event index, record, CRC
			return 2 + 4 + s.recordSize + 1, true, nil
		}
		if len(data) < 8 { // event index, length, extended record, CRC
			return 0, false, nil
		}
		return 8 + int(binary.LittleEndian.Uint16(data[6:])) + 1, true, nil
	case 'C': // record, CRC
		return 2 + s.recordSize + 1, true, nil
	case 'E': // count, length-prefixed extended records, CRC
		p := 3
		for range int(data[2]) {
			if p+2 > len(data) {
				if p+2 > max {
					return 0, false, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "~E frame beyond the frame size limit")
				}
				return 0, false, nil
			}
			p += 2 + int(binary.LittleEndian.Uint16(data[p:]))
		}
		return p + 1, true, nil
	}
	return 0, false, protocol.Errorf(Name, 1, protocol.ErrMalformed, fmt.Sprintf("unknown FLEX frame type %q", data[1]))
}

// Decode decodes one frame. See the package documentation.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	if len(b) == 0 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "empty frame")
	}
	first := len(r.Messages)
	var bad bool
	var err error
	switch b[0] {
	case keepAlive:
		if len(b) != 1 {
			return protocol.Errorf(Name, 1, protocol.ErrMalformed, "bytes after the keep-alive")
		}
	case '@':
		bad, err = s.ntcb(b, r)
	case '~':
		bad, err = s.flex(b, r)
	default:
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame starts with neither '@', '~' nor 0x7F")
	}
	if err != nil {
		return err
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	for i := first; i < len(r.Messages); i++ {
		if bad {
			r.Messages[i].SetBool(protocol.ParamChecksumInvalid, true)
		}
	}
	return nil
}

// ntcb decodes an NTCB frame: the header's two XOR checksums, then the
// payload: "*>S:<IMEI>" (handshake, answered "*<S"), "*>FLEX…"
// (negotiation, answered "*<FLEX" with the versions accepted), "*>T" and
// "*>A" (NTCB binary telemetry, kept raw and answered "*<T" with the
// record index or "*<A" with the count), "*@…" (an answer to a command).
func (s *Session) ntcb(b []byte, r *protocol.Result) (bool, error) {
	if len(b) < ntcbHeaderLen {
		return false, protocol.Errorf(Name, len(b), protocol.ErrTruncated, "frame shorter than the NTCB header")
	}
	n := int(binary.LittleEndian.Uint16(b[12:]))
	if len(b) != ntcbHeaderLen+n {
		return false, protocol.Errorf(Name, 12, protocol.ErrTruncated, fmt.Sprintf("NTCB data length %d, frame holds %d", n, len(b)-ntcbHeaderLen))
	}
	data := b[ntcbHeaderLen:]
	hx, dx := xor(b[:15]), xor(data)
	bad := hx != b[15] || dx != b[14]
	if bad && !s.codec.Lenient {
		return false, protocol.Errorf(Name, 14, protocol.ErrChecksum, fmt.Sprintf("NTCB checksums data %02x header %02x, computed %02x %02x", b[14], b[15], dx, hx))
	}
	copy(s.prefix[:], b[:4])
	s.serverID = binary.LittleEndian.Uint32(b[4:])
	s.deviceID = binary.LittleEndian.Uint32(b[8:])
	s.addrSet = true
	switch {
	case n == 0:
		// an empty NTCB frame: a keep-alive
	case bytes.HasPrefix(data, []byte("*>S")):
		id := data[3:]
		if len(id) > 0 && id[0] == ':' {
			id = id[1:]
		}
		if len(id) == 0 || len(id) > 32 || !printable(id) {
			return bad, protocol.Errorf(Name, ntcbHeaderLen+3, protocol.ErrMalformed, "handshake without a printable ident")
		}
		if string(id) != s.ident {
			s.ident = string(id)
		}
		r.Reply = s.appendNTCB(r.Reply[:0], []byte("*<S"))
	case bytes.HasPrefix(data, []byte("*>FLEX")):
		return bad, s.negotiate(data[6:], r)
	case bytes.HasPrefix(data, []byte("*>T")) && len(data) >= 8:
		p := 3
		if data[p] == 0 { // a two-byte format code
			p++
		}
		if p+5 > len(data) {
			return bad, protocol.Errorf(Name, ntcbHeaderLen+p, protocol.ErrTruncated, "*>T without a record index")
		}
		s.ntcbRecords(r, data[3:], 1)
		reply := append([]byte("*<T"), data[p+1:p+5]...)
		r.Reply = s.appendNTCB(r.Reply[:0], reply)
	case bytes.HasPrefix(data, []byte("*>A")) && len(data) >= 4:
		s.ntcbRecords(r, data[4:], int(data[3]))
		r.Reply = s.appendNTCB(r.Reply[:0], []byte{'*', '<', 'A', data[3]})
	case bytes.HasPrefix(data, []byte("*@")):
		txt := strings.ToValidUTF8(strings.TrimRight(string(data[2:]), "\x00\r\n"), "\uFFFD")
		m := s.begin(r)
		m.Add(protocol.ParamCommandResponse, protocol.String(txt))
		r.Responses = append(r.Responses, protocol.CommandResponse{Text: txt})
	default:
		s.rawNTCB(r, data)
	}
	return bad, nil
}

// negotiate takes the FLEX field set a device announces: protocol code
// 0xB0, protocol version, structure version, the number of fields the
// bitfield covers, the bitfield (most significant bit of the first byte
// is field 1). It answers "*<FLEX", 0xB0 and the versions accepted: the
// device's own when this codec knows them (1.0, 2.0, 3.0), else 3.0.
func (s *Session) negotiate(d []byte, r *protocol.Result) error {
	if len(d) < 4 || d[0] != flexID {
		return protocol.Errorf(Name, ntcbHeaderLen+6, protocol.ErrMalformed, "*>FLEX without protocol code 0xB0")
	}
	pv, sv, nbits := d[1], d[2], int(d[3])
	if len(d) < 4+(nbits+7)/8 {
		return protocol.Errorf(Name, ntcbHeaderLen+10, protocol.ErrTruncated, "*>FLEX bitfield shorter than its field count")
	}
	bits := d[4 : 4+(nbits+7)/8]
	s.npresent, s.recordSize = 0, 0
	for i := range nbits {
		if bits[i/8]&(0x80>>(i%8)) != 0 {
			s.present[s.npresent] = uint8(i)
			s.npresent++
			s.recordSize += int(fieldSizes[i])
		}
	}
	if s.recordSize == 0 {
		s.recordSize, s.npresent = 0, 0
		return protocol.Errorf(Name, ntcbHeaderLen+10, protocol.ErrMalformed, "*>FLEX announces no field")
	}
	if !known(pv) || !known(sv) {
		pv, sv = flex30, flex30
	}
	s.flexVersion = pv
	r.Reply = s.appendNTCB(r.Reply[:0], []byte{'*', '<', 'F', 'L', 'E', 'X', flexID, pv, sv})
	return nil
}

func known(v byte) bool { return v == flex10 || v == flex20 || v == flex30 }

// flex decodes a FLEX frame: its CRC-8 (the EGTS CRC, CRC-8/NRSC-5, over
// everything before it), then its records, one message each, and answers
// with the type, the count or event index, and a CRC-8.
func (s *Session) flex(b []byte, r *protocol.Result) (bool, error) {
	if len(b) < 4 {
		return false, protocol.Errorf(Name, len(b), protocol.ErrTruncated, "FLEX frame shorter than its header and CRC")
	}
	sum := crc8.NRSC5.Checksum(b[:len(b)-1])
	bad := sum != b[len(b)-1]
	if bad && !s.codec.Lenient {
		return false, protocol.Errorf(Name, len(b)-1, protocol.ErrChecksum, fmt.Sprintf("FLEX CRC-8 %02x, computed %02x", b[len(b)-1], sum))
	}
	body := b[2 : len(b)-1]
	var reply [7]byte
	reply[0], reply[1] = '~', b[1]
	rn := 2
	switch b[1] {
	case 'A':
		count := int(body[0])
		if len(body) != 1+count*s.recordSize {
			return bad, protocol.Errorf(Name, 2, protocol.ErrTruncated, "~A frame does not hold its records")
		}
		for i := range count {
			s.flexRecord(r, 'A', body[1+i*s.recordSize:1+(i+1)*s.recordSize])
		}
		reply[2] = body[0]
		rn = 3
	case 'T':
		if len(body) != 4+s.recordSize {
			return bad, protocol.Errorf(Name, 2, protocol.ErrTruncated, "~T frame does not hold its record")
		}
		s.flexRecord(r, 'T', body[4:])
		copy(reply[2:], body[:4])
		rn = 6
	case 'C':
		if len(body) != s.recordSize {
			return bad, protocol.Errorf(Name, 2, protocol.ErrTruncated, "~C frame does not hold its record")
		}
		s.flexRecord(r, 'C', body)
	case 'E':
		p := 1
		for range int(body[0]) {
			if p+2 > len(body) || p+2+int(binary.LittleEndian.Uint16(body[p:])) > len(body) {
				return bad, protocol.Errorf(Name, 2+p, protocol.ErrTruncated, "~E record runs past the frame")
			}
			n := int(binary.LittleEndian.Uint16(body[p:]))
			s.extended(r, 'E', body[p+2:p+2+n])
			p += 2 + n
		}
		reply[2] = body[0]
		rn = 3
	case 'X':
		if len(body) < 6 {
			return bad, protocol.Errorf(Name, 2, protocol.ErrTruncated, "~X frame shorter than its header")
		}
		s.extended(r, 'X', body[6:])
		copy(reply[2:], body[:4])
		rn = 6
	default:
		return bad, protocol.Errorf(Name, 1, protocol.ErrMalformed, fmt.Sprintf("unknown FLEX frame type %q", b[1]))
	}
	r.Reply = append(r.Reply[:0], reply[:rn]...)
	r.Reply = append(r.Reply, crc8.NRSC5.Checksum(reply[:rn]))
	return bad, nil
}

// flexRecord decodes one record of the negotiated field set.
func (s *Session) flexRecord(r *protocol.Result, kind byte, b []byte) {
	m := s.begin(r)
	m.Grow(s.npresent + 8)
	s.record(m, b)
	m.Add(paramPacketType, protocol.String(packetTypes[kind]))
}

// extended keeps a FLEX 2.0 extended record ("~E", "~X") whole, in hex.
func (s *Session) extended(r *protocol.Result, kind byte, b []byte) {
	m := s.begin(r)
	m.Add(paramExtended, protocol.String(binfield.HexString(b)))
	m.Add(paramPacketType, protocol.String(packetTypes[kind]))
}

// packetTypes names the FLEX frame types: A archive, T out of turn
// (alarm), C current state, E and X extended.
var packetTypes = [256]string{'A': "A", 'T': "T", 'C': "C", 'E': "E", 'X': "X"}

// ntcbRecords decodes count NTCB binary telemetry records; when one
// cannot be decoded, it and the rest are kept raw.
func (s *Session) ntcbRecords(r *protocol.Result, b []byte, count int) {
	rd := reader{b: b}
	for range count {
		start := rd.p
		m := s.begin(r)
		if !ntcbRecord(m, &rd) {
			m.Reset()
			if s.ident != "" {
				m.Add(protocol.ParamIdent, protocol.String(s.ident))
			}
			m.Add(paramNTCBRaw, protocol.String(binfield.HexString(b[start:])))
			return
		}
	}
	if rd.p < len(b) {
		s.rawNTCB(r, b[rd.p:])
	}
}

// rawNTCB keeps an NTCB payload this codec does not decode.
func (s *Session) rawNTCB(r *protocol.Result, data []byte) {
	m := s.begin(r)
	m.Add(paramNTCBRaw, protocol.String(binfield.HexString(data)))
}

func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 0)
}

// appendNTCB appends an NTCB frame to the device: the prefix it uses, its
// address as receiver, ours as sender, the data length, the data XOR, the
// header XOR, the data.
func (s *Session) appendNTCB(dst, data []byte) []byte {
	prefix := s.prefix
	if prefix == [4]byte{} {
		prefix = [4]byte{'@', 'N', 'T', 'C'}
	}
	return AppendNTCB(dst, prefix, s.deviceID, s.serverID, data)
}

// AppendNTCB appends an NTCB frame: prefix, receiver and sender ids, data
// length, data XOR, header XOR, data.
func AppendNTCB(dst []byte, prefix [4]byte, receiver, sender uint32, data []byte) []byte {
	start := len(dst)
	dst = append(dst, prefix[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, receiver)
	dst = binary.LittleEndian.AppendUint32(dst, sender)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(data)))
	dst = append(dst, xor(data))
	dst = append(dst, xor(dst[start:]))
	return append(dst, data...)
}

// EncodeCommand appends an NTCB command frame: "*!" followed by
// Command.Text (e.g. "SETOUT 1Y"), addressed to the device as its last
// frame gave its address. Command.Name must be "". The device answers
// with an "*@…" frame, which becomes a [protocol.CommandResponse] (NTCB
// carries no command id: the caller correlates in order).
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if c.Name != "" {
		return dst, fmt.Errorf("%w: navtelecom command %q (only the NTCB text command, Name \"\", exists)", protocol.ErrUnsupported, c.Name)
	}
	if len(c.Text) == 0 || len(c.Text) > 1000 {
		return dst, fmt.Errorf("%w: navtelecom command text of %d bytes", protocol.ErrMalformed, len(c.Text))
	}
	return s.appendNTCB(dst, append([]byte("*!"), c.Text...)), nil
}

func xor(b []byte) byte {
	var x byte
	for _, c := range b {
		x ^= c
	}
	return x
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7F {
			return false
		}
	}
	return true
}
