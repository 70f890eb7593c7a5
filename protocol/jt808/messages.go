package jt808

import (
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// batch decodes 0x0704: item count, type (0 regular, 1 blind-area
// re-upload), then per item a length and a location body. Each item is a
// message; a re-upload marks them "message.buffered.status".
func (s *Session) batch(h *header, r *protocol.Result) {
	b := h.body
	if len(b) < 3 {
		s.raw(h, r)
		return
	}
	count, kind := int(be16(b)), b[2]
	p := 3
	for i := 0; i < count && p+2 <= len(b); i++ {
		n := int(be16(b[p:]))
		p += 2
		if p+n > len(b) {
			break
		}
		m := s.begin(r)
		if !decodeLocation(m, b[p:p+n], s.loc()) {
			m.Add(paramRaw, protocol.String(binfield.HexString(b[p:p+n])))
		}
		if kind == 1 {
			m.Add(paramBuffered, protocol.Bool(true))
		}
		s.end(m, h)
		p += n
	}
	if p < len(b) {
		m := s.raw(h, r)
		m.Set(paramRaw, protocol.String(binfield.HexString(b[p:])))
	}
}

// paramsResponse decodes 0x0104, the answer to a parameter query: reply
// serial, count, then parameters (DWORD id, length, value). The answer is
// a message and a [protocol.CommandResponse] whose text lists
// "id=value" pairs, id in hex, separated by ";".
func (s *Session) paramsResponse(h *header, r *protocol.Result) {
	b := h.body
	if len(b) < 3 {
		s.raw(h, r)
		return
	}
	seq := be16(b)
	var out []byte
	p := 3
	for p+5 <= len(b) {
		id, n := be32(b[p:]), int(b[p+4])
		p += 5
		if p+n > len(b) {
			break
		}
		v := b[p : p+n]
		p += n
		if len(out) > 0 {
			out = append(out, ';')
		}
		out = strconv.AppendUint(out, uint64(id), 16)
		out = append(out, '=')
		switch n {
		case 1:
			out = strconv.AppendUint(out, uint64(v[0]), 10)
		case 2:
			out = strconv.AppendUint(out, uint64(be16(v)), 10)
		case 4:
			out = strconv.AppendUint(out, uint64(be32(v)), 10)
		default:
			out = append(out, text(v)...)
		}
	}
	txt := string(out)
	m := s.begin(r)
	m.Add(paramReplySeq, protocol.Int(int64(seq)))
	m.Add(paramResponse, protocol.String(txt))
	s.end(m, h)
	s.answer(r, seq, txt, nil)
}

// properties decodes 0x0107, the terminal's properties: type, manufacturer,
// model, terminal id, ICCID, hardware and firmware versions, GNSS and
// communication capabilities. The 2019 edition widens the model and
// terminal id to 30 bytes.
func (s *Session) properties(h *header, r *protocol.Result) {
	b := h.body
	model, tid := 20, 7
	if h.version >= 0 {
		model, tid = 30, 30
	}
	fixed := 2 + 5 + model + tid + 10
	if len(b) < fixed {
		s.raw(h, r)
		return
	}
	m := s.begin(r)
	m.Add(paramTerminalType, protocol.Int(int64(be16(b))))
	p := 2
	if v := text(b[p : p+5]); v != "" {
		m.Add(paramManufacturer, protocol.String(v))
	}
	p += 5
	if v := text(b[p : p+model]); v != "" {
		m.Add(paramModel, protocol.String(v))
	}
	p += model
	if v := text(b[p : p+tid]); v != "" {
		m.Add(paramTerminalID, protocol.String(v))
	}
	p += tid
	m.Add(paramICCID, protocol.String(binfield.HexString(b[p:p+10])))
	p += 10
	for _, name := range [2]string{paramHardware, paramFirmware} {
		if p >= len(b) || p+1+int(b[p]) > len(b) {
			break
		}
		if v := text(b[p+1 : p+1+int(b[p])]); v != "" {
			m.Add(name, protocol.String(v))
		}
		p += 1 + int(b[p])
	}
	if p+2 <= len(b) {
		m.Add(paramGNSSProps, protocol.Int(int64(b[p])))
		m.Add(paramCommProps, protocol.Int(int64(b[p+1])))
		p += 2
	}
	if p < len(b) {
		m.Add(paramTail, protocol.String(binfield.HexString(b[p:])))
	}
	s.end(m, h)
}

// driver decodes 0x0702 (2013/2019): status (1 card inserted, 2 removed),
// time, and for an inserted card the read result, then on success the
// driver's name, qualification certificate code, issuing agency, validity
// (BCD YYYYMMDD) and, in 2019, the ID card number. The 2011 edition's body
// (name, ID card, certificate, agency, with no status) is kept raw.
func (s *Session) driver(h *header, r *protocol.Result) {
	b := h.body
	if len(b) < 7 || (b[0] != 1 && b[0] != 2) {
		s.raw(h, r)
		return
	}
	m := s.begin(r)
	if ts, ok := bcdTime(b[1:7], s.loc()); ok {
		m.Add(protocol.ParamTimestamp, protocol.Float(ts))
	}
	m.Add(paramCardStatus, protocol.Int(int64(b[0])))
	p := 7
	if b[0] == 1 && p < len(b) {
		res := b[p]
		m.Add(paramCardResult, protocol.Int(int64(res)))
		p++
		if res == 0 {
			p = driverCard(m, b, p, h.version >= 0)
		}
	}
	if p < len(b) {
		m.Add(paramTail, protocol.String(binfield.HexString(b[p:])))
	}
	s.end(m, h)
}

func driverCard(m *protocol.Message, b []byte, p int, v2019 bool) int {
	if p >= len(b) || p+1+int(b[p]) > len(b) {
		return p
	}
	if v := text(b[p+1 : p+1+int(b[p])]); v != "" {
		m.Add(paramDriverName, protocol.String(v))
	}
	p += 1 + int(b[p])
	if p+20 > len(b) {
		return p
	}
	if v := text(b[p : p+20]); v != "" {
		m.Add(paramDriverCert, protocol.String(v))
	}
	p += 20
	if p >= len(b) || p+1+int(b[p]) > len(b) {
		return p
	}
	if v := text(b[p+1 : p+1+int(b[p])]); v != "" {
		m.Add(paramCertAgency, protocol.String(v))
	}
	p += 1 + int(b[p])
	if p+4 > len(b) {
		return p
	}
	m.Add(paramCertValidity, protocol.String(binfield.HexString(b[p:p+4])))
	p += 4
	if v2019 && p+20 <= len(b) {
		if v := text(b[p : p+20]); v != "" {
			m.Add(paramDriverIDCard, protocol.String(v))
		}
		p += 20
	}
	return p
}

// can decodes 0x0705: frame count, receive time of the first frame
// (BCD hhmmss + milliseconds), then per frame a 4-byte CAN id (bit 31
// channel, bit 30 frame type, bit 29 raw/averaged, bits 0-28 the id) and 8
// data bytes, kept as "custom.can.frames" [{"id","data"}].
func (s *Session) can(h *header, r *protocol.Result) {
	b := h.body
	if len(b) < 7 {
		s.raw(h, r)
		return
	}
	m := s.begin(r)
	m.Add(paramCANTime, protocol.String(binfield.HexString(b[2:7])))
	count := int(be16(b))
	out := []byte{'['}
	p := 7
	for i := 0; i < count && p+12 <= len(b); i++ {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"id":`...)
		out = strconv.AppendUint(out, uint64(be32(b[p:])), 10)
		out = append(out, `,"data":"`...)
		out = append(out, binfield.HexString(b[p+4:p+12])...)
		out = append(out, `"}`...)
		p += 12
	}
	out = append(out, ']')
	m.Add(paramCANFrames, protocol.RawJSON(string(out)))
	if p < len(b) {
		m.Add(paramTail, protocol.String(binfield.HexString(b[p:])))
	}
	s.end(m, h)
}

// mediaData decodes 0x0801: media id, type, format, event, channel, the
// location when the media was taken, then the data (its size is kept, not
// the data). A whole message is answered 0x8800 (id, no packets to
// resend); the first packet of a split one 0x8001.
func (s *Session) mediaData(h *header, r *protocol.Result) {
	b := h.body
	if len(b) < 8 {
		s.raw(h, r)
		s.generalResponse(r, h, resultOK)
		return
	}
	m := s.begin(r)
	id := be32(b)
	if len(b) >= 8+locationLen {
		decodeLocation(m, b[8:8+locationLen], s.loc())
	}
	media(m, b)
	if len(b) >= 8+locationLen {
		m.Add(paramMediaSize, protocol.Int(int64(len(b)-8-locationLen)))
	}
	if h.fragment {
		m.Add(paramPacket, protocol.String(strconv.Itoa(int(h.index))+"/"+strconv.Itoa(int(h.total))))
	}
	s.end(m, h)
	if h.fragment {
		s.generalResponse(r, h, resultOK)
		return
	}
	body := [5]byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id), 0}
	r.Reply = s.appendFrame(r.Reply[:0], msgMediaAnswer, h, body[:])
}

func media(m *protocol.Message, b []byte) {
	m.Add(paramMediaID, protocol.Int(int64(be32(b))))
	m.Add(paramMediaType, protocol.Int(int64(b[4])))
	m.Add(paramMediaFormat, protocol.Int(int64(b[5])))
	m.Add(paramMediaEvent, protocol.Int(int64(b[6])))
	m.Add(paramMediaChannel, protocol.Int(int64(b[7])))
}

// simple decodes the short fixed-layout messages; false means the message
// is unknown or too short, and is kept raw.
func (s *Session) simple(h *header, r *protocol.Result) bool {
	b := h.body
	switch h.id {
	case msgUpgradeResult: // type (0 terminal, 12 IC card reader, 52 GNSS), result
		if len(b) < 2 {
			return false
		}
		m := s.begin(r)
		m.Add(paramUpgradeType, protocol.Int(int64(b[0])))
		m.Add(paramResult, protocol.Int(int64(b[1])))
		s.end(m, h)
	case msgEvent:
		if len(b) < 1 {
			return false
		}
		m := s.begin(r)
		m.Add(paramEventID, protocol.Int(int64(b[0])))
		s.end(m, h)
	case msgQuestionAnswer: // reply serial, answer id
		if len(b) < 3 {
			return false
		}
		m := s.begin(r)
		m.Add(paramReplySeq, protocol.Int(int64(be16(b))))
		m.Add(paramAnswerID, protocol.Int(int64(b[2])))
		m.Add(paramResponse, protocol.String(strconv.Itoa(int(b[2]))))
		s.end(m, h)
		s.answer(r, be16(b), strconv.Itoa(int(b[2])), nil)
	case msgInfoDemand: // info type, 1 subscribe / 0 cancel
		if len(b) < 2 {
			return false
		}
		m := s.begin(r)
		m.Add(paramInfoType, protocol.Int(int64(b[0])))
		m.Add(paramInfoOn, protocol.Bool(b[1] == 1))
		s.end(m, h)
	case msgRecorderUpload: // reply serial, command word, GB/T 19056 data block
		if len(b) < 3 {
			return false
		}
		m := s.begin(r)
		m.Add(paramReplySeq, protocol.Int(int64(be16(b))))
		m.Add(paramRecorderCmd, protocol.Int(int64(b[2])))
		if len(b) > 3 {
			m.Add(paramRecorderData, protocol.String(binfield.HexString(b[3:])))
		}
		s.end(m, h)
		s.answer(r, be16(b), "", b[2:])
	case msgWaybill: // length, content
		if len(b) < 4 {
			return false
		}
		n := int(be32(b))
		if n > len(b)-4 {
			n = len(b) - 4
		}
		m := s.begin(r)
		m.Add(paramWaybill, protocol.String(text(b[4:4+n])))
		s.end(m, h)
	case msgMediaEvent:
		if len(b) < 8 {
			return false
		}
		m := s.begin(r)
		media(m, b)
		s.end(m, h)
	case msgMediaSearch, msgCameraAnswer, msgAreaAnswer: // reply serial, then data
		if len(b) < 2 {
			return false
		}
		m := s.begin(r)
		m.Add(paramReplySeq, protocol.Int(int64(be16(b))))
		if len(b) > 2 {
			m.Add(paramRaw, protocol.String(binfield.HexString(b[2:])))
		}
		s.end(m, h)
		s.answer(r, be16(b), "", b[2:])
	case msgTransparent: // type, content
		if len(b) < 1 {
			return false
		}
		m := s.begin(r)
		m.Add(paramTransparent, protocol.Int(int64(b[0])))
		if printable(b[1:]) {
			m.Add(paramTransText, protocol.String(string(b[1:])))
		} else {
			m.Add(paramTransHex, protocol.String(binfield.HexString(b[1:])))
		}
		s.end(m, h)
	default:
		return false
	}
	return true
}

// printable reports whether b is text: printable ASCII, tab, CR, LF.
func printable(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c >= 0x7F) && c != '\r' && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}
