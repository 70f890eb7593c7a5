package jt808

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// Terminal (uplink) message IDs.
const (
	msgTerminalResponse = 0x0001
	msgHeartbeat        = 0x0002
	msgLogout           = 0x0003
	msgTimeRequest      = 0x0004 // 2019
	msgRegister         = 0x0100
	msgAuth             = 0x0102
	msgParamsResponse   = 0x0104
	msgProperties       = 0x0107
	msgUpgradeResult    = 0x0108
	msgLocation         = 0x0200
	msgLocationAnswer   = 0x0201
	msgEvent            = 0x0301 // 2011/2013
	msgQuestionAnswer   = 0x0302
	msgInfoDemand       = 0x0303 // 2011/2013
	msgControlAnswer    = 0x0500
	msgAreaAnswer       = 0x0608 // 2019
	msgRecorderUpload   = 0x0700
	msgWaybill          = 0x0701
	msgDriver           = 0x0702
	msgBatch            = 0x0704
	msgCAN              = 0x0705
	msgMediaEvent       = 0x0800
	msgMediaData        = 0x0801
	msgMediaSearch      = 0x0802
	msgCameraAnswer     = 0x0805
	msgTransparent      = 0x0900
	msgCompressed       = 0x0901
	msgRSAKey           = 0x0A00

	// Jointech (JT701 locks) locations in their JT600 binary layout, with
	// a one-byte serial; not answered.
	msgJointech      = 0x5501
	msgJointechBlind = 0x5502
)

// Platform (downlink) message IDs.
const (
	msgPlatformResponse = 0x8001
	msgTimeAnswer       = 0x8004
	msgRegisterAnswer   = 0x8100
	msgSetParams        = 0x8103
	msgQueryParams      = 0x8104
	msgControl          = 0x8105
	msgQueryProperties  = 0x8107
	msgLocate           = 0x8201
	msgText             = 0x8300
	msgMediaAnswer      = 0x8800
)

// Results of the general responses.
const (
	resultOK      = 0
	resultFailure = 1
)

// maxPending is how many sent commands a session remembers to match the
// device's answers with.
const maxPending = 16

type pendingCommand struct {
	serial uint16
	id     uint32
	used   bool
}

// Session is the state of one JT/T 808 connection: the ident from the
// frames' phone number, the header edition the device speaks, and the
// serial numbers of the platform's messages. It implements
// [protocol.Session], [protocol.CommandEncoder] and [protocol.Refuser].
type Session struct {
	codec   *Codec
	ident   string
	phone   [10]byte
	nphone  int
	version int    // the 2019 protocol version byte; -1 for the 2011/2013 header
	serial  uint16 // serial of the last platform message sent
	buf     []byte // the unescaped frame

	pending [maxPending]pendingCommand
	next    int

	lastID, lastSerial uint16
}

// Ident returns the device's phone number (leading zeros dropped) once a
// frame was seen, or "".
func (s *Session) Ident() string { return s.ident }

// header is one checked frame, split into its parts.
type header struct {
	id       uint16
	props    uint16
	serial   uint16
	total    uint16 // sub-package count, 0 when the message is whole
	index    uint16
	body     []byte
	bodyOff  int // offset of the body within the unescaped frame, +1 for the leading 0x7E
	version  int
	phone    []byte
	fragment bool
}

// Decode decodes one frame. See the package documentation for what each
// message gives and what is answered.
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	if len(frame) > 0 && frame[0] == textBeg {
		return s.decodeText(frame, r)
	}
	n := len(frame)
	if n < 2 || frame[0] != flag || frame[n-1] != flag {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "frame not delimited by 0x7E")
	}
	escBad := false
	inner := frame[1 : n-1]
	var b []byte
	var sum byte
	if bytes.IndexByte(inner, escape) < 0 && bytes.IndexByte(inner, flag) < 0 {
		b, sum = inner, xorBytes(inner) // nothing escaped: decode in place
	} else {
		if cap(s.buf) < n {
			s.buf = make([]byte, 0, max(n, 256))
		}
		b = s.buf[:n]
		k := 0
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			if c == escape && i+1 < len(inner) && (inner[i+1] == 0x01 || inner[i+1] == 0x02) {
				i++
				c = 0x7C + inner[i] // 7D 01 → 7D, 7D 02 → 7E
			} else if c == escape || c == flag {
				escBad = true
			}
			b[k] = c
			k++
		}
		b = b[:k]
		sum = xorBytes(b)
	}
	if len(b) < 13 {
		return protocol.Errorf(Name, n, protocol.ErrTruncated, "frame shorter than a message header and check code")
	}
	var h header
	h.id = be16(b)
	h.props = be16(b[2:])
	hl := 12
	h.version = -1
	if h.props&0x4000 != 0 { // 2019: version byte, BCD[10] phone
		hl = 17
		if len(b) < hl+1 {
			return protocol.Errorf(Name, n, protocol.ErrTruncated, "frame shorter than a 2019 message header")
		}
		h.version = int(b[4])
		h.phone = b[5:15]
	} else {
		h.phone = b[4:10]
	}
	if h.version < 0 && (h.id == msgJointech || h.id == msgJointechBlind) {
		// Jointech's location messages have a one-byte serial.
		hl = 11
		h.serial = uint16(b[10])
	} else {
		h.serial = be16(b[hl-2:])
	}
	if h.props&0x2000 != 0 {
		if len(b) < hl+5 {
			return protocol.Errorf(Name, n, protocol.ErrTruncated, "frame shorter than a sub-packaged message header")
		}
		h.total, h.index = be16(b[hl:]), be16(b[hl+2:])
		h.fragment = true
		hl += 4
	}
	h.body = b[hl : len(b)-1]
	h.bodyOff = hl + 1
	sum ^= b[len(b)-1] // the XOR of everything before the check code
	crcBad := sum != b[len(b)-1] || escBad
	lengthBad := int(h.props&0x3FF) != len(h.body)
	if !s.codec.Lenient {
		switch {
		case escBad:
			return protocol.Errorf(Name, 1, protocol.ErrMalformed, "0x7D not followed by 01 or 02, or a bare 0x7E")
		case crcBad:
			return protocol.Errorf(Name, n-2, protocol.ErrChecksum, fmt.Sprintf("check code %02x, computed %02x", b[len(b)-1], sum))
		case lengthBad:
			return protocol.Errorf(Name, 3, protocol.ErrChecksum, fmt.Sprintf("body length field %d, body holds %d bytes", h.props&0x3FF, len(h.body)))
		}
	}
	s.setIdent(h.phone)
	s.version = h.version
	s.lastID, s.lastSerial = h.id, h.serial
	r.Ident = s.ident

	first := len(r.Messages)
	if err := s.decodeMessage(&h, r); err != nil {
		return err
	}
	for i := first; i < len(r.Messages); i++ {
		m := &r.Messages[i]
		if crcBad {
			m.SetBool(protocol.ParamChecksumInvalid, true)
		}
		if lengthBad {
			m.SetBool(protocol.ParamLengthInvalid, true)
		}
	}
	return nil
}

// setIdent takes the ident from the header's phone number (BCD, leading
// zeros dropped); a number that is not BCD is kept in hex. The string is
// made once per connection, not per frame.
func (s *Session) setIdent(phone []byte) {
	if s.ident != "" && s.nphone == len(phone) && bytes.Equal(s.phone[:s.nphone], phone) {
		return
	}
	s.nphone = copy(s.phone[:], phone)
	var digits [20]byte
	bcd := true
	for i, v := range phone {
		hi, lo := v>>4, v&0x0F
		if hi > 9 || lo > 9 {
			bcd = false
		}
		digits[2*i], digits[2*i+1] = hexDigit(hi), hexDigit(lo)
	}
	id := digits[:2*len(phone)]
	if !bcd && len(phone) == 6 {
		// Devices that put their IMEI in the phone field send it as a
		// 48-bit number without its Luhn check digit.
		v := uint64(phone[0])<<40 | uint64(phone[1])<<32 | uint64(be32(phone[2:]))
		s.ident = strconv.FormatUint(v, 10) + string('0'+luhn(v))
		return
	}
	if bcd {
		for len(id) > 1 && id[0] == '0' {
			id = id[1:]
		}
	}
	s.ident = string(id)
}

// luhn returns the Luhn check digit of v's decimal digits.
func luhn(v uint64) byte {
	sum, double := 0, true
	for ; v > 0; v /= 10 {
		d := int(v % 10)
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte((10 - sum%10) % 10)
}

func hexDigit(v byte) byte { return "0123456789abcdef"[v&0x0F] }

// xorBytes is the XOR of b's bytes, eight at a time.
func xorBytes(b []byte) byte {
	var x uint64
	for len(b) >= 8 {
		x ^= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	x ^= x >> 32
	x ^= x >> 16
	x ^= x >> 8
	r := byte(x)
	for _, c := range b {
		r ^= c
	}
	return r
}

func (s *Session) decodeMessage(h *header, r *protocol.Result) error {
	if h.id == msgJointech || h.id == msgJointechBlind {
		s.jointech(h, r)
		return nil
	}
	if enc := h.props >> 10 & 7; enc != 0 {
		// RSA-encrypted body: the platform holds no key, keep it whole.
		m := s.raw(h, r)
		m.Add(paramEncrypted, protocol.Int(int64(enc)))
		s.generalResponse(r, h, resultOK)
		return nil
	}
	if h.fragment && h.index != 1 {
		// A continuation of a split message: kept raw, and acknowledged
		// so that the device goes on with the next one.
		s.raw(h, r)
		s.generalResponse(r, h, resultOK)
		return nil
	}
	body := h.body
	switch h.id {
	case msgTerminalResponse:
		s.terminalResponse(h, r)
		return nil
	case msgHeartbeat, msgLogout:
		if len(body) > 0 {
			s.raw(h, r)
		}
	case msgTimeRequest:
		s.timeAnswer(h, r)
		return nil
	case msgRegister:
		return s.register(h, r)
	case msgAuth:
		return s.auth(h, r)
	case msgLocation:
		m := s.begin(r)
		ok := decodeLocation(m, body, s.loc())
		s.end(m, h)
		if !ok {
			m.Reset()
			r.Messages = r.Messages[:len(r.Messages)-1]
			s.raw(h, r)
		}
	case msgLocationAnswer, msgControlAnswer:
		if len(body) < 2 {
			s.raw(h, r)
			break
		}
		m := s.begin(r)
		ok := decodeLocation(m, body[2:], s.loc())
		m.Add(paramReplySeq, protocol.Int(int64(be16(body))))
		s.end(m, h)
		if !ok {
			m.Reset()
			r.Messages = r.Messages[:len(r.Messages)-1]
			s.raw(h, r)
		}
		s.answer(r, be16(body), "location", nil)
	case msgBatch:
		s.batch(h, r)
	case msgParamsResponse:
		s.paramsResponse(h, r)
	case msgProperties:
		s.properties(h, r)
	case msgDriver:
		s.driver(h, r)
	case msgCAN:
		s.can(h, r)
	case msgMediaData:
		s.mediaData(h, r)
		return nil
	default:
		if !s.simple(h, r) {
			s.raw(h, r)
		}
	}
	s.generalResponse(r, h, resultOK)
	return nil
}

// loc is the time zone of the device's BCD times.
func (s *Session) loc() *time.Location {
	if s.codec.Location != nil {
		return s.codec.Location
	}
	return beijing
}

var beijing = time.FixedZone("UTC+8", 8*3600)

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 32)
}

// end closes a message with the serial number and message ID.
func (s *Session) end(m *protocol.Message, h *header) {
	m.Add(paramSeqnum, protocol.Int(int64(h.serial)))
	m.Add(paramMessageID, protocol.Int(int64(h.id)))
}

// raw keeps a message undecoded: its body in hex.
func (s *Session) raw(h *header, r *protocol.Result) *protocol.Message {
	m := s.begin(r)
	if len(h.body) > 0 {
		m.Add(paramRaw, protocol.String(binfield.HexString(h.body)))
	}
	if h.fragment {
		m.Add(paramPacket, protocol.String(strconv.Itoa(int(h.index))+"/"+strconv.Itoa(int(h.total))))
	}
	s.end(m, h)
	return m
}

// register answers 0x0100 with 0x8100 (result 0 and the authentication
// code) and keeps what the device tells about itself. The body's layout
// depends on the edition: 2011 has an 8-byte model and a 7-byte terminal
// id, 2013 a 20-byte model, 2019 (header flag) an 11-byte manufacturer and
// 30-byte model and terminal id.
func (s *Session) register(h *header, r *protocol.Result) error {
	b := h.body
	manuf, model, tid := 5, 20, 7
	switch {
	case h.version >= 0:
		manuf, model, tid = 11, 30, 30
	case len(b) < 37:
		model = 8
	}
	fixed := 4 + manuf + model + tid + 1
	m := s.begin(r)
	if len(b) >= fixed {
		m.Add(paramProvince, protocol.Int(int64(be16(b))))
		m.Add(paramCity, protocol.Int(int64(be16(b[2:]))))
		p := 4
		if v := text(b[p : p+manuf]); v != "" {
			m.Add(paramManufacturer, protocol.String(v))
		}
		p += manuf
		if v := text(b[p : p+model]); v != "" {
			m.Add(paramModel, protocol.String(v))
		}
		p += model
		if v := text(b[p : p+tid]); v != "" {
			m.Add(paramTerminalID, protocol.String(v))
		}
		p += tid
		m.Add(paramPlateColour, protocol.Int(int64(b[p])))
		p++
		plate(m, b[p:])
	} else if len(b) > 0 {
		m.Add(paramRaw, protocol.String(binfield.HexString(b)))
	}
	if h.version >= 0 {
		m.Add(paramProtoVersion, protocol.Int(int64(h.version)))
	}
	s.end(m, h)
	code := s.ident
	if s.codec.AuthCode != nil {
		code = s.codec.AuthCode(s.ident)
	}
	var body [3 + 64]byte
	body[0], body[1], body[2] = byte(h.serial>>8), byte(h.serial), resultOK
	n := 3 + copy(body[3:], code)
	r.Reply = s.appendFrame(r.Reply[:0], msgRegisterAnswer, h, body[:n])
	return nil
}

// plate keeps the licence plate: as text when it is ASCII, else its GBK
// bytes in hex (the province character of Chinese plates is GBK).
func plate(m *protocol.Message, b []byte) {
	b = bytes.TrimRight(b, "\x00 ")
	if len(b) == 0 {
		return
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x7F {
			m.Add(paramPlateHex, protocol.String(binfield.HexString(b)))
			return
		}
	}
	m.Add(paramPlate, protocol.String(string(b)))
}

// auth answers 0x0102. In 2011/2013 the body is the code; in 2019 it is a
// length-prefixed code, the IMEI (15) and the software version (20).
func (s *Session) auth(h *header, r *protocol.Result) error {
	b := h.body
	code := b
	var imei, sw []byte
	if h.version >= 0 && len(b) >= 1 && len(b) >= 1+int(b[0]) {
		code = b[1 : 1+int(b[0])]
		rest := b[1+int(b[0]):]
		if len(rest) >= 15 {
			imei, rest = rest[:15], rest[15:]
		}
		if len(rest) >= 20 {
			sw = rest[:20]
		}
	}
	result := byte(resultOK)
	if s.codec.Authenticate != nil && !s.codec.Authenticate(s.ident, string(code)) {
		result = resultFailure
		r.Close = true
	}
	if v := text(imei); v != "" {
		m := s.begin(r)
		m.Add(paramIMEI, protocol.String(v))
		if v := text(sw); v != "" {
			m.Add(paramFirmware, protocol.String(v))
		}
		s.end(m, h)
	}
	s.generalResponse(r, h, result)
	return nil
}

// terminalResponse is the device's general answer (0x0001) to a platform
// message: a [protocol.CommandResponse] for a command this session sent,
// and always a message, so that an answer nobody waits for is kept.
func (s *Session) terminalResponse(h *header, r *protocol.Result) {
	b := h.body
	if len(b) < 5 {
		s.raw(h, r)
		return
	}
	seq, id, res := be16(b), be16(b[2:]), b[4]
	txt := resultText(res)
	m := s.begin(r)
	m.Add(paramReplySeq, protocol.Int(int64(seq)))
	m.Add(paramReplyID, protocol.Int(int64(id)))
	m.Add(paramResult, protocol.Int(int64(res)))
	m.Add(paramResponse, protocol.String(txt))
	s.end(m, h)
	s.answer(r, seq, txt, nil)
}

func resultText(res byte) string {
	switch res {
	case 0:
		return "success"
	case 1:
		return "failure"
	case 2:
		return "message error"
	case 3:
		return "not supported"
	case 4:
		return "alarm confirmed"
	}
	return "result " + strconv.Itoa(int(res))
}

// answer adds the [protocol.CommandResponse] for the platform message the
// device answers by its serial number.
func (s *Session) answer(r *protocol.Result, seq uint16, txt string, data []byte) {
	resp := protocol.CommandResponse{Text: txt}
	if len(data) > 0 {
		resp.Data = bytes.Clone(data)
	}
	for i := range s.pending {
		p := &s.pending[i]
		if p.used && p.serial == seq {
			resp.ID, resp.HasID = p.id, true
			p.used = false
			r.Responses = append(r.Responses, resp)
			return
		}
	}
}

// timeAnswer answers the 2019 time request (0x0004) with 0x8004: the UTC
// time as BCD YYMMDDhhmmss.
func (s *Session) timeAnswer(h *header, r *protocol.Result) {
	now := time.Now
	if s.codec.Now != nil {
		now = s.codec.Now
	}
	t := now().UTC()
	var body [6]byte
	for i, v := range [6]int{t.Year() % 100, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()} {
		body[i] = byte(v/10<<4 | v%10)
	}
	r.Reply = s.appendFrame(r.Reply[:0], msgTimeAnswer, h, body[:])
}

// generalResponse sets the reply to the platform general response 0x8001.
func (s *Session) generalResponse(r *protocol.Result, h *header, result byte) {
	body := [5]byte{byte(h.serial >> 8), byte(h.serial), byte(h.id >> 8), byte(h.id), result}
	r.Reply = s.appendFrame(r.Reply[:0], msgPlatformResponse, h, body[:])
}

// Refusal is the platform general response with result 1 (failure) to the
// last message the device sent, or nil before any.
func (s *Session) Refusal() []byte {
	if s.nphone == 0 {
		return nil
	}
	h := header{id: s.lastID, serial: s.lastSerial, phone: s.phone[:s.nphone], version: s.version}
	body := [5]byte{byte(h.serial >> 8), byte(h.serial), byte(h.id >> 8), byte(h.id), resultFailure}
	return s.appendFrame(nil, msgPlatformResponse, &h, body[:])
}

// appendFrame appends a platform message to dst, addressed like h (its
// phone number and header edition), with the session's next serial.
func (s *Session) appendFrame(dst []byte, id uint16, h *header, body []byte) []byte {
	s.serial++
	return AppendFrame(dst, id, h.version, h.phone, s.serial, body)
}

// AppendFrame appends a whole frame to dst: 0x7E, header (message ID, body
// properties with the body length, for version ≥ 0 the 2019 version flag
// and byte, the BCD phone number, the serial), body, XOR check code,
// 0x7E, escaped. A body longer than the 1023 bytes the length field holds
// is cut.
func AppendFrame(dst []byte, id uint16, version int, phone []byte, serial uint16, body []byte) []byte {
	if len(body) > 0x3FF {
		body = body[:0x3FF]
	}
	props := uint16(len(body))
	var head [17]byte
	head[0], head[1] = byte(id>>8), byte(id)
	n := 4
	if version >= 0 {
		props |= 0x4000
		head[4] = byte(version)
		n = 5
	}
	head[2], head[3] = byte(props>>8), byte(props)
	n += copy(head[n:], phone)
	head[n], head[n+1] = byte(serial>>8), byte(serial)
	n += 2
	dst = append(dst, flag)
	sum := byte(0)
	dst, sum = appendEscaped(dst, head[:n], sum)
	dst, sum = appendEscaped(dst, body, sum)
	dst, _ = appendEscaped(dst, []byte{sum}, 0)
	return append(dst, flag)
}

func appendEscaped(dst, b []byte, sum byte) ([]byte, byte) {
	for _, c := range b {
		sum ^= c
		switch c {
		case flag:
			dst = append(dst, escape, 0x02)
		case escape:
			dst = append(dst, escape, 0x01)
		default:
			dst = append(dst, c)
		}
	}
	return dst, sum
}

// decodeText decodes the parenthesised text frames some JT/T 808 devices
// (Jointech locks) send on the same connection: "(id,1,001,TYPE,…)". The
// text is kept as the device's answer; a time request ("BASE,2,TIME") is
// answered with the same frame, TIME replaced by the UTC time
// yyyyMMddHHmmss.
func (s *Session) decodeText(frame []byte, r *protocol.Result) error {
	if len(frame) < 2 || frame[len(frame)-1] != textEnd {
		return protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "text frame without ')'")
	}
	inner := frame[1 : len(frame)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x7F {
			return protocol.Errorf(Name, 1, protocol.ErrMalformed, "text frame with a non-printable byte")
		}
	}
	id, _, _ := bytes.Cut(inner, []byte(","))
	if s.ident == "" && len(id) > 0 && len(id) <= 20 && isDigits(id) {
		id = bytes.TrimLeft(id, "0")
		if len(id) == 0 {
			id = []byte("0")
		}
		s.ident = string(id)
	}
	r.Ident = s.ident
	if bytes.Contains(inner, []byte("BASE,2,")) && bytes.HasSuffix(inner, []byte(",TIME")) {
		now := time.Now
		if s.codec.Now != nil {
			now = s.codec.Now
		}
		r.Reply = append(r.Reply[:0], frame[:len(frame)-len("TIME)")]...)
		r.Reply = now().UTC().AppendFormat(r.Reply, "20060102150405")
		r.Reply = append(r.Reply, textEnd)
		return nil
	}
	m := s.begin(r)
	m.Add(paramResponse, protocol.String(string(frame)))
	return nil
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
