package queclink

import (
	"encoding/hex"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Report mask bits of the binary +RSP/+EVT frames (the <+RSP Mask> and
// <+EVT Mask> of AT+GTHRM).
const (
	bitSpeed    = 1 << 0
	bitAzimuth  = 1 << 1
	bitAltitude = 1 << 2
	bitCell     = 1 << 3
	bitSendTime = 1 << 4
	bitCount    = 1 << 5
	bitName     = 1 << 6 // the unique id is the device name, not the IMEI
	bitLength   = 1 << 7
	bitDevType  = 1 << 8
	bitProtocol = 1 << 9
	bitFirmware = 1 << 10
	bitPower    = 1 << 12

	// The fields of bits 13 to 23 are not named by the documents at hand:
	// frames whose mask has bits 13–17 clear and 18–23 set (the default)
	// carry 17 bytes of them after the cell, kept as sent. Frames with
	// another choice are kept whole.
	knownMaskBits = 0x00FC0000
	unknownBits   = 0x003E000
)

// binReader reads big-endian fields from a frame, remembering whether it
// ran past the end.
type binReader struct {
	b   []byte
	off int
	bad bool
}

func (r *binReader) n(k int) []byte {
	if r.bad || r.off+k > len(r.b) {
		r.bad = true
		return make([]byte, k)
	}
	v := r.b[r.off : r.off+k]
	r.off += k
	return v
}

func (r *binReader) u8() uint64  { return uint64(r.n(1)[0]) }
func (r *binReader) u16() uint64 { b := r.n(2); return uint64(b[0])<<8 | uint64(b[1]) }
func (r *binReader) u32() uint64 {
	b := r.n(4)
	return uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
}

// time reads year (2 bytes), month, day, hour, minute, second.
func (r *binReader) time() (int64, bool) {
	y := r.u16()
	b := r.n(5)
	return tf.Unix(int(y), int(b[0]), int(b[1]), int(b[2]), int(b[3]), int(b[4]))
}

// hexDigits reads two bytes written as four hex digits that spell a
// decimal number (the binary MCC 0x0460 is 460).
func hexDigits(v uint64) (uint64, bool) {
	var n uint64
	for shift := 12; shift >= 0; shift -= 4 {
		d := v >> uint(shift) & 0xF
		if d > 9 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, v <= 0xFFFF
}

// decodeBinary decodes a binary frame.
func (s *Session) decodeBinary(frame []byte, r *protocol.Result) error {
	if len(frame) >= 2 && frame[1] == 0 {
		return s.decodeRecords(frame, r)
	}
	n, _ := binaryLength(frame)
	if n < minBinary {
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "binary frame with a length field shorter than its header")
	}
	if len(frame) < n {
		return protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "binary frame shorter than its length field")
	}
	lengthBad := len(frame) != n
	if lengthBad && !s.codec.Lenient {
		return protocol.Errorf(Name, 0, protocol.ErrChecksum, "binary frame longer than its length field")
	}
	frame = frame[:n]
	if frame[n-2] != '\r' || frame[n-1] != '\n' {
		return protocol.Errorf(Name, n-2, protocol.ErrMalformed, "binary frame without its 0D 0A tail")
	}
	first := len(r.Messages)
	var err error
	switch string(frame[:4]) {
	case "+RSP", "+BSP":
		err = s.binaryReport(frame, r, false)
	case "+EVT", "+BVT":
		err = s.binaryReport(frame, r, true)
	case "+HBD":
		s.binaryHeartbeat(frame, r)
	case "+ACK":
		s.binaryAck(frame, r)
	default: // +INF, +BNF, +CRD, +BRD
		s.binaryRaw(frame, r)
	}
	if frame[1] == 'B' {
		for i := first; i < len(r.Messages); i++ {
			r.Messages[i].Add(paramBuffered, protocol.Bool(true))
		}
	}
	if lengthBad {
		for i := first; i < len(r.Messages); i++ {
			r.Messages[i].Add(protocol.ParamLengthInvalid, protocol.Bool(true))
		}
	}
	return err
}

// uid reads the 8-byte unique id: the IMEI, each byte two of its digits
// as an integer and the last byte the 15th digit, or (bit name) the
// device name padded with zeros.
func (s *Session) uid(rd *binReader, name bool) {
	b := rd.n(8)
	if rd.bad {
		return
	}
	if name {
		end := len(b)
		for end > 0 && b[end-1] == 0 {
			end--
		}
		if end > 0 && tf.ValidIdent(b[:end]) && s.ident == "" {
			s.setIdent(b[:end])
		}
		return
	}
	var d [16]byte
	k := 0
	for i, c := range b {
		if i < 7 {
			if c > 99 {
				return
			}
			d[k], d[k+1] = '0'+c/10, '0'+c%10
			k += 2
		} else {
			if c > 9 {
				return
			}
			d[k] = '0' + c
			k++
		}
	}
	s.setIdent(d[:k])
}

// header reads what precedes the unique id: device type, protocol and
// firmware versions, as the mask announces them.
func (s *Session) binaryHeader(rd *binReader, mask uint64, devBit, protoBit, fwBit uint64) (dev, proto, fw uint64) {
	if mask&devBit != 0 {
		dev = rd.u8()
	}
	if mask&protoBit != 0 {
		proto = rd.u16()
	}
	if mask&fwBit != 0 {
		fw = rd.u16()
	}
	if mask&devBit != 0 && mask&protoBit != 0 && !rd.bad {
		// Six hex digits, upper case: as the text frames write it.
		const digits = "0123456789ABCDEF"
		var v [6]byte
		x := dev<<16 | proto
		for i := 5; i >= 0; i-- {
			v[i] = digits[x&0xF]
			x >>= 4
		}
		s.setVersion(v[:])
	}
	return
}

func upper(b []byte) {
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
}

// evtExtra is the number of bytes an +EVT message type adds before its
// fix count.
var evtExtra = map[byte]int{
	6: 2, 45: 7, 46: 7, 15: 3, 17: 4, 21: 5, 26: 12, 31: 2, 35: 1, 33: 1, 23: 1, 34: 3,
}

// binaryReport decodes +RSP/+BSP (evt false) and +EVT/+BVT:
//
//	header(4) type(1) mask(4) length(2) [device type(1)] [protocol(2)] [firmware(2)] unique id(8)
//	battery %(1) [external power mV(2)] [GEO: 2] motion state(1) satellites(1) (RSP: index(1) | EVT: type fields)
//	[LCB: phone] count(1) { accuracy(1) [speed(3)] [azimuth(2)] [altitude(2)] lon(4) lat(4) time(7)
//	[MCC(2) MNC(2) LAC(2) cell(2) reserved(1)] }×count  17 bytes  [send time(7)] [count(2)] checksum(2) 0D 0A
func (s *Session) binaryReport(frame []byte, r *protocol.Result, evt bool) error {
	typ := frame[4]
	mask := uint64(frame[5])<<24 | uint64(frame[6])<<16 | uint64(frame[7])<<8 | uint64(frame[8])
	name := "RSP"
	if evt {
		name = "EVT"
	}
	if mask&bitLength == 0 || mask&unknownBits != 0 || mask&knownMaskBits != knownMaskBits {
		s.binaryRaw(frame, r)
		return nil
	}
	rd := &binReader{b: frame, off: 11}
	_, _, fw := s.binaryHeader(rd, mask, bitDevType, bitProtocol, bitFirmware)
	s.uid(rd, mask&bitName != 0)
	battery := rd.u8()
	var power uint64
	hasPower := mask&bitPower != 0
	if hasPower {
		power = rd.u16()
	}
	if !evt && typ == 8 {
		rd.n(2)
	}
	motion := rd.u8()
	sats := rd.u8()
	if evt {
		extra, ok := evtExtra[typ]
		if !ok {
			// Unknown event: what remains must be one fix and the tail.
			extra = len(frame) - rd.off - 1 - s.fixSize(mask) - s.tailSize(mask)
			if extra < 0 {
				s.binaryRaw(frame, r)
				return nil
			}
		}
		rd.n(extra)
	} else {
		rd.u8() // index
		if typ == 3 {
			// The caller's phone number, BCD up to an F nibble.
			rd.u8()
			for k := 0; k < 16 && !rd.bad; k++ {
				c := rd.u8()
				if c&0x0F == 0x0F || c&0xF0 == 0xF0 {
					break
				}
			}
		}
	}
	count := int(rd.u8())
	if rd.bad || count > 64 {
		return protocol.Errorf(Name, rd.off, protocol.ErrTruncated, "binary report shorter than its layout")
	}
	first := len(r.Messages)
	for k := 0; k < count; k++ {
		m := s.begin(r)
		s.binaryFix(m, rd, mask)
		if k == count-1 {
			m.Add(paramBattery, protocol.Int(int64(battery)))
			if hasPower {
				m.Add(paramPower, protocol.Float(float64(power)/1000))
			}
			motionState(m, motion)
			m.Add(paramSats, protocol.Int(int64(sats)))
		}
	}
	tail := rd.n(17)
	var send int64
	var hasSend bool
	if mask&bitSendTime != 0 {
		send, hasSend = rd.time()
	}
	var seq uint64
	if mask&bitCount != 0 {
		seq = rd.u16()
	}
	rd.n(2) // checksum
	if rd.bad || rd.off+2 != len(frame) {
		for len(r.Messages) > first {
			r.Messages = r.Messages[:len(r.Messages)-1]
		}
		return protocol.Errorf(Name, rd.off, protocol.ErrMalformed, "binary report does not fit its length and mask")
	}
	for i := first; i < len(r.Messages); i++ {
		m := &r.Messages[i]
		if !m.Has(protocol.ParamTimestamp) && hasSend {
			m.Add(protocol.ParamTimestamp, protocol.Float(float64(send)))
		}
		if i == len(r.Messages)-1 {
			s.hexbuf = hex.AppendEncode(s.hexbuf[:0], tail)
			m.Add(paramTail, protocol.String(string(s.hexbuf)))
			if hasSend {
				m.Add(paramSendTime, protocol.Float(float64(send)))
			}
		}
		if mask&bitCount != 0 {
			m.Add(paramSeqnum, protocol.Int(int64(seq)))
		}
		if mask&bitFirmware != 0 {
			if s.firmware == "" || fw != s.firmwareOf {
				s.firmware, s.firmwareOf = strconv.FormatUint(fw, 16), fw
			}
			m.Add(paramFirmware, protocol.String(s.firmware))
		}
		if s.version != "" {
			m.Add(paramVersion, protocol.String(s.version))
			if s.model != "" {
				m.Add(paramModel, protocol.String(s.model))
			}
		}
		m.Add("custom.message.type.enum", protocol.Int(int64(typ)))
		m.Add(paramType, protocol.String(name))
	}
	if s.codec.SACK && mask&bitCount != 0 {
		r.Reply = append(r.Reply, "+SACK:"...)
		r.Reply = appendHex4(r.Reply, seq)
		r.Reply = append(r.Reply, '$')
	}
	return nil
}

func (s *Session) fixSize(mask uint64) int {
	n := 1 + 4 + 4 + 7
	if mask&bitSpeed != 0 {
		n += 3
	}
	if mask&bitAzimuth != 0 {
		n += 2
	}
	if mask&bitAltitude != 0 {
		n += 2
	}
	if mask&bitCell != 0 {
		n += 9
	}
	return n
}

func (s *Session) tailSize(mask uint64) int {
	n := 17 + 2 + 2
	if mask&bitSendTime != 0 {
		n += 7
	}
	if mask&bitCount != 0 {
		n += 2
	}
	return n
}

// binaryFix decodes one fix of a binary report. Speed is three bytes: two
// of whole km/h and one of tenths.
func (s *Session) binaryFix(m *protocol.Message, rd *binReader, mask uint64) {
	acc := rd.u8()
	var speed float64
	if mask&bitSpeed != 0 {
		whole := rd.u16()
		speed = float64(whole) + float64(rd.u8())/10
	}
	var az, alt uint64
	if mask&bitAzimuth != 0 {
		az = rd.u16()
	}
	if mask&bitAltitude != 0 {
		alt = rd.u16()
	}
	lon := float64(int32(uint32(rd.u32()))) / 1e6
	lat := float64(int32(uint32(rd.u32()))) / 1e6
	t, okT := rd.time()
	if rd.bad {
		return
	}
	if okT {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(t)))
	}
	if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
		if mask&bitSpeed != 0 {
			m.Add(protocol.ParamSpeed, protocol.Float(speed))
		}
		if mask&bitAzimuth != 0 && az <= 360 {
			m.Add(protocol.ParamDirection, protocol.Float(float64(az)))
		}
		if mask&bitAltitude != 0 {
			m.Add(protocol.ParamAltitude, protocol.Float(float64(int16(uint16(alt)))))
		}
	}
	m.Add(protocol.ParamValid, protocol.Bool(acc > 0))
	if acc > 0 {
		m.Add(protocol.ParamHDOP, protocol.Float(float64(acc)))
	}
	if mask&bitCell != 0 {
		mcc, ok1 := hexDigits(rd.u16())
		mnc, ok2 := hexDigits(rd.u16())
		lac := rd.u16()
		cid := rd.u16()
		rd.u8() // reserved
		if ok1 && ok2 && mcc != 0 && !rd.bad {
			m.Add(paramMCC, protocol.Int(int64(mcc)))
			m.Add(paramMNC, protocol.Int(int64(mnc)))
			m.Add(paramLAC, protocol.Int(int64(lac)))
			m.Add(paramCellID, protocol.Int(int64(cid)))
		}
	}
}

// binaryHeartbeat answers +HBD: header(4) mask(1) length(1) [device
// type(1)] [protocol(2)] [firmware(2)] [unique id(8)] [send time(7)]
// [count(2)] checksum(2) 0D 0A, with "+SACK:GTHBD,<version>,<count>$".
func (s *Session) binaryHeartbeat(frame []byte, r *protocol.Result) {
	mask := uint64(frame[4])
	rd := &binReader{b: frame, off: 6}
	s.binaryHeader(rd, mask, 1<<1, 1<<2, 1<<3)
	if mask&(1<<7) != 0 {
		s.uid(rd, mask&(1<<4) != 0)
	}
	if mask&(1<<5) != 0 {
		rd.time()
	}
	var count uint64
	if mask&(1<<6) != 0 {
		count = rd.u16()
	}
	r.Reply = append(r.Reply, "+SACK:GTHBD,"...)
	r.Reply = append(r.Reply, s.version...)
	r.Reply = append(r.Reply, ',')
	r.Reply = appendHex4(r.Reply, count)
	r.Reply = append(r.Reply, '$')
}

// binaryAck decodes a binary command acknowledgement: header(4) type(1)
// mask(1) length(1) [device type(1)] [protocol(2)] [firmware(2)] unique
// id(8) serial(2) [send time(7)] [count(2)] checksum(2) 0D 0A.
func (s *Session) binaryAck(frame []byte, r *protocol.Result) {
	typ := frame[4]
	mask := uint64(frame[5])
	rd := &binReader{b: frame, off: 7}
	s.binaryHeader(rd, mask, 1<<1, 1<<2, 1<<3)
	s.uid(rd, mask&(1<<4) != 0)
	serial := rd.u16()
	var send int64
	var hasSend bool
	if mask&(1<<5) != 0 {
		send, hasSend = rd.time()
	}
	if rd.bad {
		s.binaryRaw(frame, r)
		return
	}
	m := s.begin(r)
	if hasSend {
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(send)))
	}
	txt := "ACK type " + strconv.Itoa(int(typ))
	m.Add(paramResponse, protocol.String(txt))
	m.Add(paramSerial, protocol.String(string(appendHex4(nil, serial))))
	m.Add(paramType, protocol.String("ACK"))
	r.Responses = append(r.Responses, protocol.CommandResponse{ID: uint32(serial), HasID: true, Text: txt, Timestamp: float64(send)})
}

// binaryRaw keeps a binary frame this codec does not lay out (information
// reports, crash data, masks with fields the documents at hand do not
// name): the device's ident when it can be read, and the frame in hex.
func (s *Session) binaryRaw(frame []byte, r *protocol.Result) {
	m := s.begin(r)
	m.Add(paramRaw, protocol.String(hex.EncodeToString(frame)))
	m.Add(paramType, protocol.String(tf.Text(frame[1:4])))
}

func appendHex4(dst []byte, v uint64) []byte {
	const digits = "0123456789ABCDEF"
	return append(dst, digits[v>>12&0xF], digits[v>>8&0xF], digits[v>>4&0xF], digits[v&0xF])
}

// decodeRecords decodes the record-based binary frames of later models:
//
//	'+' 0x00 length(2) flags(1) [frame count/number(2) when flags bit 7]
//	IMEI(8, BCD with a leading filler digit) device type(2) protocol(2) custom version(1)
//	reserved length(1) reserved…
//	records: length(1–2) generated time(4) count number(2) record id(1) event code(1)
//	         data items: id(1–2) length(1–2) data…
//	count number(2) check(1) tail(1)
//
// Lengths and ids of one or two bytes set bit 7 of the first for two. The
// GNSS item (0x52) is a fix: status (bits 2–3 = 10 valid), longitude and
// latitude (µdegrees), UTC time, speed (0.1 km/h), HDOP (0.1), course,
// altitude (0.1 m), satellites. Each record with a fix is a message; other
// items are kept in hex as custom.data.<id>.
func (s *Session) decodeRecords(frame []byte, r *protocol.Result) error {
	if len(frame) < 4 {
		return protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "binary frame shorter than its header")
	}
	n := int(frame[2])<<8 | int(frame[3])
	if len(frame) < n {
		return protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "binary frame shorter than its length field")
	}
	if n < 23 {
		return protocol.Errorf(Name, 2, protocol.ErrMalformed, "binary frame length shorter than its header")
	}
	frame = frame[:n]
	rd := &binReader{b: frame, off: 4}
	if rd.u8()&0x80 != 0 {
		rd.u16()
	}
	id := hex.EncodeToString(rd.n(8))
	if rd.bad {
		return protocol.Errorf(Name, rd.off, protocol.ErrTruncated, "binary frame shorter than its header")
	}
	if tf.IsDigits([]byte(id[1:])) {
		s.setIdent([]byte(id[1:]))
	}
	dev := rd.u16()
	proto := rd.u16()
	rd.u8()
	rd.n(int(rd.u8()))
	if rd.bad {
		return protocol.Errorf(Name, rd.off, protocol.ErrTruncated, "binary frame shorter than its header")
	}
	version := []byte(strconv.FormatUint(dev<<16|proto, 16))
	upper(version)
	s.setVersion(version)
	end := n - 4
	for rd.off < end && !rd.bad {
		start := rd.off
		recEnd := start + varLength(rd)
		if recEnd > end || recEnd <= start {
			return protocol.Errorf(Name, start, protocol.ErrMalformed, "record runs past the frame")
		}
		gen := rd.u32()
		seq := rd.u16()
		rd.u8() // record id
		event := rd.u8()
		m := s.begin(r)
		hasFix := false
		for rd.off < recEnd && !rd.bad {
			item := varLength(rd)
			l := varLength(rd)
			if rd.off+l > recEnd {
				return protocol.Errorf(Name, rd.off, protocol.ErrMalformed, "data item runs past its record")
			}
			data := rd.n(l)
			if item == 0x52 && l >= 22 {
				hasFix = true
				gnssItem(m, data)
			} else {
				m.Add("custom.data."+strconv.FormatUint(uint64(item), 16), protocol.String(hex.EncodeToString(data)))
			}
		}
		if !hasFix {
			m.Add(protocol.ParamTimestamp, protocol.Float(float64(gen)))
		}
		m.Add(paramSeqnum, protocol.Int(int64(seq)))
		m.Add("custom.generated.timestamp", protocol.Float(float64(gen)))
		m.Add("event.enum", protocol.Int(int64(event)))
		m.Add(paramVersion, protocol.String(s.version))
		m.Add(paramType, protocol.String("BINARY"))
		rd.off = recEnd
	}
	if rd.bad {
		return protocol.Errorf(Name, rd.off, protocol.ErrTruncated, "binary frame shorter than its records")
	}
	return nil
}

// varLength reads a length or id of one byte, or two when bit 7 of the
// first is set.
func varLength(rd *binReader) int {
	v := int(rd.u8())
	if v&0x80 != 0 {
		v = (v&0x7F)<<8 | int(rd.u8())
	}
	return v
}

// gnssItem decodes the GNSS data item (0x52).
func gnssItem(m *protocol.Message, d []byte) {
	rd := &binReader{b: d}
	status := rd.u8()
	lon := float64(int32(uint32(rd.u32()))) / 1e6
	lat := float64(int32(uint32(rd.u32()))) / 1e6
	t := rd.u32()
	speed := rd.u16()
	hdop := rd.u8()
	course := rd.u16()
	b := rd.n(3)
	alt := uint64(b[0])<<16 | uint64(b[1])<<8 | uint64(b[2])
	sats := rd.u8()
	m.Add(protocol.ParamTimestamp, protocol.Float(float64(t)))
	if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
		m.Add(protocol.ParamSpeed, protocol.Float(float64(speed)/10))
		if course <= 360 {
			m.Add(protocol.ParamDirection, protocol.Float(float64(course)))
		}
		m.Add(protocol.ParamAltitude, protocol.Float(float64(alt)/10))
	}
	m.Add(protocol.ParamValid, protocol.Bool(status>>2&3 == 2))
	m.Add(protocol.ParamHDOP, protocol.Float(float64(hdop)/10))
	m.Add(paramSats, protocol.Int(int64(sats)))
}
