package gt06

import (
	"fmt"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// Protocol numbers this codec decodes. Several numbers mean different
// things on different firmware; the decoders tell them apart by length.
const (
	typeLogin         = 0x01
	typeGPS           = 0x10
	typeLBS           = 0x11
	typeGPSLBS        = 0x12
	typeHeartbeat     = 0x13
	typeStringResp    = 0x15
	typeAlarm         = 0x16
	typeGPSLBSQuery   = 0x17
	typeLBSExt        = 0x18
	typeLBSStatus     = 0x19
	typeGPSPhone      = 0x1A
	typeGPSLBSExtend  = 0x1E
	typeStringResp2   = 0x21
	typeGPSLBS2       = 0x22
	typeHeartbeat2    = 0x23
	typeGPSLBS5       = 0x24
	typeGPSLBSDriver  = 0x25
	typeAlarm2        = 0x26
	typeAlarm3        = 0x27
	typeLBSMulti      = 0x28
	typeAddressReq    = 0x2A
	typeWiFi          = 0x2C
	typeGPSLBS4       = 0x2D
	typeLBSMulti2     = 0x2E
	typeGPSLBS7       = 0x31
	typeGPSLBSStatus4 = 0x32
	typeWiFi5         = 0x33
	typeX1GPS         = 0x34
	typeGPSLBS6       = 0x36
	typeGPSLBS3       = 0x37
	typeGPSLBS8       = 0x38
	typeIButton       = 0x61
	typeWiFiLBS       = 0x69
	typeModular       = 0x70
	typeCommand       = 0x80
	typeTimeRequest   = 0x8A
	typeInfo          = 0x94
	typeAlarmMedia    = 0x95
	typeAddressEN     = 0x97
	typeSerial        = 0x9B
	typeGPSLBS4G      = 0xA0
	typeLBS4G         = 0xA1
	typeGPSLBS4G2     = 0xA2
	typeFenceSingle   = 0xA3
	typeAlarm4G       = 0xA4
	typeLBSAlarm      = 0xA5
	typeDeviceStatus  = 0xF1
	typePeripheral    = 0xF2
)

// wantsAck reports whether the device waits for "78 78 05 <type> <serial>
// <crc> 0D 0A" after a packet of a known type. Location, LBS, Wi-Fi,
// information and command-response packets are not answered (the Concox
// documents say so, and devices do not resend them); status, alarm and
// vendor packets are, as are unknown types (a device that waits for an
// answer and gets none resends).
func wantsAck(t byte) bool {
	switch t {
	case typeGPS, typeLBS, typeGPSLBS, typeStringResp, typeGPSLBSQuery, typeLBSExt, typeGPSPhone,
		typeStringResp2, typeGPSLBS2, typeGPSLBS5, typeLBSMulti, typeWiFi, typeLBSMulti2, typeGPSLBS6,
		typeGPSLBS3, typeWiFiLBS, typeModular, typeInfo, typeGPSLBS4G, typeLBS4G, typeGPSLBS4G2,
		typeTimeRequest, typeAddressReq, typeCommand:
		return false
	}
	return true
}

// Session is the state of one GT06 connection: the ident learnt at login,
// the time zone the login reported, and the serial number of the commands
// it sends. It implements [protocol.Session] and [protocol.CommandEncoder].
type Session struct {
	codec    *Codec
	quirks   modelQuirks
	ident    string
	timezone string
	serial   uint16 // serial of the last command sent
}

// Ident returns the device's IMEI once the login packet was seen, or "".
func (s *Session) Ident() string { return s.ident }

// Timezone returns the time zone the login packet reported ("+08:00"), or
// "" when it carried none.
func (s *Session) Timezone() string { return s.timezone }

// frame is one checked frame, split into its fields.
type frame struct {
	marker    byte   // 0x78 or 0x79
	proto     byte   // protocol number
	content   []byte // information content
	serial    uint16
	hasSerial bool // false for frames too short to carry serial and CRC
	offset    int  // offset of content within the frame
	wifiCount int  // the Wi-Fi layout without serial and CRC: access points; -1 otherwise
}

// Decode decodes one frame. See the package documentation for what each
// packet type gives.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	if len(b) < 2 || (b[0] != short && b[0] != extended) || b[1] != b[0] {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "bad start marker")
	}
	hl := headerLen(b[0])
	n := len(b)
	if n < hl+2 {
		return protocol.Errorf(Name, n, protocol.ErrTruncated, "frame shorter than its header and stop marker")
	}
	if b[n-2] != '\r' || b[n-1] != '\n' {
		return protocol.Errorf(Name, n-2, protocol.ErrMalformed, "no stop marker 0D 0A")
	}
	body := n - hl - 2 // protocol number through CRC
	if body < 1 {
		return protocol.Errorf(Name, hl, protocol.ErrMalformed, "frame without a protocol number")
	}
	lengthBad := declaredLen(b) != body
	crcBad := true
	if body >= 5 {
		crcBad = crc16.X25.Checksum(b[2:n-4]) != be16(b[n-4:])
	}
	if (crcBad || lengthBad) && !s.codec.Lenient {
		switch {
		case lengthBad:
			return protocol.Errorf(Name, 2, protocol.ErrChecksum, fmt.Sprintf("length field %d, frame holds %d bytes", declaredLen(b), body))
		case body < 5:
			return protocol.Errorf(Name, hl, protocol.ErrChecksum, "frame too short to hold a serial number and CRC")
		default:
			return protocol.Errorf(Name, n-4, protocol.ErrChecksum, fmt.Sprintf("CRC-16/X-25 %04x, computed %04x", be16(b[n-4:]), crc16.X25.Checksum(b[2:n-4])))
		}
	}
	f := frame{marker: b[0], proto: b[hl], offset: hl + 1, wifiCount: -1}
	if lengthBad && b[0] == short && (f.proto == typeWiFiLBS || f.proto == typeGPSLBSQuery) && wifiLayoutFits(b[hl+1:n-2], int(b[2])) {
		// Lenient only (strict mode returned above): the Wi-Fi/LBS layout
		// some devices send, whose "length" byte counts access points and
		// which has no serial and no CRC.
		f.content = b[hl+1 : n-2]
		f.wifiCount = int(b[2])
		crcBad = true
	} else if body >= 5 {
		f.content = b[hl+1 : n-6]
		f.serial = be16(b[n-6:])
		f.hasSerial = true
	} else {
		f.content = b[hl+1 : n-2] // lenient: too short for serial and CRC, kept raw
	}
	first := len(r.Messages)
	if err := s.decodePacket(&f, r); err != nil {
		return err
	}
	if s.ident != "" {
		r.Ident = s.ident
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

func (s *Session) decodePacket(f *frame, r *protocol.Result) error {
	if f.wifiCount >= 0 {
		s.wifiLBS(f, r)
		return nil
	}
	if !f.hasSerial {
		s.raw(f, r)
		return nil
	}
	ok := true
	switch f.proto {
	case typeLogin:
		return s.login(f, r)
	case typeTimeRequest:
		s.timeReply(f, r)
		return nil
	case typeAddressReq:
		ok = s.addressRequest(f, r)
	case typeStringResp, typeStringResp2:
		ok = s.response(f, r)
	case typeLBS:
		ok = s.gpsLBS6(f, r) || s.lbs(f, r)
	case typeGPSLBS:
		ok = s.gpsLBS1(f, r)
	case typeGPSLBS2, typeGPSLBSDriver:
		ok = s.gpsLBS2(f, r)
	case typeGPSLBSQuery:
		ok = s.rfidLocation(f, r) || s.location(f, r)
	case typeGPS, typeGPSLBS3, typeGPSLBS4G, typeGPSLBS5, typeGPSLBS4G2, typeGPSLBS4, typeGPSLBS7,
		typeGPSPhone, typeGPSLBSExtend:
		ok = s.location(f, r)
	case typeGPSLBS6:
		ok = s.locationRFID(f, r) || s.status2(f, r) || s.location(f, r)
	case typeGPSLBS8:
		ok = s.gpsLBS8(f, r)
	case typeX1GPS:
		ok = s.x1GPS(f, r) || s.lbsMulti(f, r)
	case typeIButton:
		ok = s.iButton(f, r)
	case typeModular:
		ok = s.modular(f, r)
	case typeHeartbeat:
		ok = s.heartbeat(f, r)
	case typeHeartbeat2:
		ok = s.heartbeat2(f, r)
	case typeAlarm, typeAlarm2, typeAlarm3, typeAlarm4G:
		ok = s.alarm(f, r)
	case typeFenceSingle:
		ok = s.statusSteps(f, r) || s.alarm(f, r)
	case typeGPSLBSStatus4:
		ok = s.az735(f, r) || s.alarm(f, r)
	case typeWiFi5:
		ok = s.az735(f, r) || s.lbsMulti(f, r)
	case typeLBSStatus, typeLBSAlarm:
		ok = s.lbsStatus(f, r)
	case typeLBSExt, typeLBSMulti, typeLBSMulti2, typeWiFi, typeLBS4G:
		ok = s.lbsMulti(f, r)
	case typeInfo:
		ok = s.info(f, r)
	case typeAlarmMedia:
		ok = s.alarmMedia(f, r)
	case typeSerial:
		ok = s.serialData(f, r)
	case typeDeviceStatus, typePeripheral:
		ok = s.deviceStatus(f, r)
	default:
		ok = false
	}
	if !ok {
		// An unknown type, or a known one whose content does not fit its
		// layout: keep it whole rather than lose it.
		s.raw(f, r)
	}
	if wantsAck(f.proto) {
		r.Reply = AppendAck(r.Reply[:0], f.marker == extended, f.proto, f.serial)
	}
	return nil
}

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 0)
}

// end adds the serial number and packet type that close every message.
func end(m *protocol.Message, f *frame) {
	if f.hasSerial {
		m.Add(paramSeqnum, protocol.Int(int64(f.serial)))
	}
	m.Add(paramPacketType, protocol.Int(int64(f.proto)))
}

// raw keeps a packet undecoded: its type and content in hex.
func (s *Session) raw(f *frame, r *protocol.Result) {
	m := s.begin(r)
	if len(f.content) > 0 {
		m.SetString(paramPacketRaw, binfield.HexString(f.content))
	}
	end(m, f)
}

// login: terminal id (8 bytes BCD, the IMEI with a leading 0), then on newer
// firmware a type identification (2 bytes) and a time zone/language word.
func (s *Session) login(f *frame, r *protocol.Result) error {
	c := f.content
	if len(c) < 8 {
		return protocol.Errorf(Name, f.offset, protocol.ErrTruncated, "login packet shorter than its terminal id")
	}
	var digits [16]byte
	for i, v := range c[:8] {
		hi, lo := v>>4, v&0x0F
		if hi > 9 || lo > 9 {
			return protocol.Errorf(Name, f.offset+i, protocol.ErrMalformed, "terminal id is not BCD")
		}
		digits[2*i], digits[2*i+1] = '0'+hi, '0'+lo
	}
	id := digits[:]
	if id[0] == '0' {
		id = id[1:]
	}
	if string(id) != s.ident {
		s.ident = string(id)
	}
	r.Ident = s.ident
	m := s.begin(r)
	rest := c[8:]
	if len(rest) >= 2 {
		m.SetInt(paramDeviceType, int64(be16(rest)))
		rest = rest[2:]
	}
	if len(rest) >= 2 {
		s.timezone = timezone(be16(rest))
		m.SetString(paramTimezone, s.timezone)
		rest = rest[2:]
	}
	tail(m, rest)
	end(m, f)
	r.Reply = AppendAck(r.Reply[:0], f.marker == extended, f.proto, f.serial)
	return nil
}

// timezone formats the login's time zone word: bits 15-4 are the offset in
// hours times 100 (800 = 8:00, 545 = 5:45), bit 3 is set west of Greenwich.
func timezone(w uint16) string {
	v := int(w >> 4)
	sign := byte('+')
	if w&0x08 != 0 {
		sign = '-'
	}
	h, m := v/100, v%100
	b := []byte{sign, '0' + byte(h/10%10), '0' + byte(h%10), ':', '0' + byte(m/10%10), '0' + byte(m%10)}
	return string(b)
}

// timeReply answers a time request (0x8A) with the server's UTC date and
// time: YY MM DD hh mm ss.
func (s *Session) timeReply(f *frame, r *protocol.Result) {
	now := time.Now
	if s.codec.Now != nil {
		now = s.codec.Now
	}
	t := now().UTC()
	var payload [6]byte
	payload[0] = byte(t.Year() % 100)
	payload[1] = byte(t.Month())
	payload[2] = byte(t.Day())
	payload[3] = byte(t.Hour())
	payload[4] = byte(t.Minute())
	payload[5] = byte(t.Second())
	r.Reply = appendPacket(r.Reply[:0], f.marker == extended, f.proto, payload[:], nil, f.serial)
}

// AppendAck appends the acknowledgement of a packet: "78 78 05 <type>
// <serial> <crc> 0D 0A", or its "79 79 00 05" form when extended is set.
func AppendAck(dst []byte, extended bool, proto byte, serial uint16) []byte {
	return appendPacket(dst, extended, proto, nil, nil, serial)
}

// appendPacket frames a packet: marker, length, protocol number, content
// (a then b), serial, CRC-16/X-25 over length through serial, stop marker.
func appendPacket(dst []byte, ext bool, proto byte, a, b []byte, serial uint16) []byte {
	start := len(dst)
	n := 1 + len(a) + len(b) + 4
	if ext {
		dst = append(dst, extended, extended, byte(n>>8), byte(n))
	} else {
		dst = append(dst, short, short, byte(n))
	}
	dst = append(dst, proto)
	dst = append(dst, a...)
	dst = append(dst, b...)
	dst = append(dst, byte(serial>>8), byte(serial))
	crc := crc16.X25.Checksum(dst[start+2:])
	return append(dst, byte(crc>>8), byte(crc), '\r', '\n')
}

// EncodeCommand appends a server command to dst. Command.Name "" (the only
// kind) is the text command 0x80: the server flag carries Command.ID, which
// the device echoes in its answer (0x15 or 0x21), so the answer's
// [protocol.CommandResponse] has the same ID. Command.Text is the command,
// e.g. "WHERE#"; when it is empty, Command.Data is sent instead.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if c.Name != "" {
		return dst, fmt.Errorf("%w: gt06 command %q (only the text command, Name \"\", exists)", protocol.ErrUnsupported, c.Name)
	}
	text := []byte(c.Text)
	if len(text) == 0 {
		text = c.Data
	}
	if len(text) > maxCommandText {
		return dst, fmt.Errorf("%w: gt06 command text is %d bytes, at most %d fit", protocol.ErrUnsupported, len(text), maxCommandText)
	}
	s.serial++
	return AppendCommand(dst, c.ID, text, s.codec.CommandLanguage, s.serial), nil
}

// maxCommandText is what the one-byte command length (server flag + text)
// allows.
const maxCommandText = 255 - 4

// AppendCommand appends a 0x80 text command: command length (4 + len(text)),
// server flag, text, the language word when language is not 0, serial. A
// command too long for a "78 78" frame is framed "79 79". Text longer than
// 251 bytes is cut, as the one-byte command length cannot say more.
func AppendCommand(dst []byte, flag uint32, text []byte, language uint16, serial uint16) []byte {
	if len(text) > maxCommandText {
		text = text[:maxCommandText]
	}
	var head [5]byte
	head[0] = byte(4 + len(text))
	head[1], head[2], head[3], head[4] = byte(flag>>24), byte(flag>>16), byte(flag>>8), byte(flag)
	var lang []byte
	if language != 0 {
		lang = []byte{byte(language >> 8), byte(language)}
	}
	body := append(head[:], text...)
	n := 1 + len(body) + len(lang) + 4
	return appendPacket(dst, n > 0xFF, typeCommand, body, lang, serial)
}
