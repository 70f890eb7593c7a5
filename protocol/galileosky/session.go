package galileosky

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Session is one TCP connection or one UDP remote address. It remembers the
// IMEI and terminal identifier of the head packet, which later packets do
// not repeat. It is not safe for concurrent use.
type Session struct {
	codec      *Codec
	transport  protocol.Transport
	ident      string
	terminalID uint16
	hasID      bool
}

// IMEI returns the device's IMEI once its head packet arrived, or "".
func (s *Session) IMEI() string { return s.ident }

// Decode decodes one packet: over TCP as [Codec.Split] cut it, over UDP one
// datagram.
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	if len(b) < 3 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "packet of "+strconv.Itoa(len(b))+" bytes")
	}
	if b[0] == hdrMain && isIridium(b) {
		return s.decodeIridium(b, r)
	}
	switch b[0] {
	case hdrMain, hdrGarmin, hdrPhoto, hdrCompressed:
	default:
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "unknown packet header 0x"+hex2(b[0]))
	}
	field := binary.LittleEndian.Uint16(b[1:])
	n := int(field & 0x7FFF)
	if len(b) != 3+n+2 {
		return protocol.Errorf(Name, 1, protocol.ErrTruncated, "length field "+strconv.Itoa(n)+", packet holds "+strconv.Itoa(len(b)-5))
	}
	crc := binary.LittleEndian.Uint16(b[len(b)-2:])
	badCRC := crc16.Modbus.Checksum(b[:len(b)-2]) != crc
	if badCRC && !s.codec.Lenient {
		return protocol.Errorf(Name, len(b)-2, protocol.ErrChecksum, "CRC-16/MODBUS "+strconv.FormatUint(uint64(crc), 16)+", computed "+strconv.FormatUint(uint64(crc16.Modbus.Checksum(b[:len(b)-2])), 16))
	}
	body := b[3 : 3+n]
	first := len(r.Messages)
	var err error
	switch b[0] {
	case hdrMain:
		err = s.decodeTags(body, 3, field&0x8000 != 0, r)
		r.Reply = appendConfirm(r.Reply[:0], hdrConfirm, crc)
	case hdrCompressed:
		err = s.decodeCompressed(body, field&0x8000 != 0, r)
		r.Reply = appendConfirm(r.Reply[:0], hdrConfirm, crc)
	case hdrPhoto:
		s.decodePhoto(body, r)
		r.Reply = appendConfirm(r.Reply[:0], hdrPhoto, crc)
	case hdrGarmin: // Garmin FMI data needs no confirmation
		m := s.begin(r, 3)
		m.Add(paramGarmin, protocol.String(hexLower(body)))
	}
	if err != nil {
		return err
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	if badCRC {
		for i := first; i < len(r.Messages); i++ {
			r.Messages[i].Set(protocol.ParamChecksumInvalid, protocol.Bool(true))
		}
	}
	return nil
}

// appendConfirm appends the server's confirmation: a header and the
// received packet's checksum, little-endian.
func appendConfirm(dst []byte, header byte, crc uint16) []byte {
	return append(dst, header, byte(crc), byte(crc>>8))
}

// begin starts a message with the session's ident, when known.
func (s *Session) begin(r *protocol.Result, n int) *protocol.Message {
	return r.NewMessageFor(s.ident, n)
}

// record is the state of the record being decoded from a run of tags.
type record struct {
	m       *protocol.Message
	last    int // the last tag, to see where the next record starts
	cmdID   uint32
	hasCmd  bool
	archive bool
	content bool // a tag other than the IMEI was met
}

// decodeTags decodes the tags of a head or main packet (or of an Iridium
// payload). Tags come in ascending order within a record; a tag not above
// the one before it starts the next record, and each record is one message.
// An unknown tag (its length is not known) ends decoding: the rest is kept
// in custom.tags.tail, hex.
func (s *Session) decodeTags(b []byte, base int, archive bool, r *protocol.Result) error {
	var rec record
	rec.last = -1
	rec.archive = archive
	for off := 0; off < len(b); {
		t := b[off]
		v, size, ok := tagValue(b[off:])
		if !ok {
			if tagLen[t] != 0 {
				return protocol.Errorf(Name, base+off, protocol.ErrTruncated, "tag 0x"+hex2(t)+" runs past the packet")
			}
			if rec.m == nil {
				rec.m = s.begin(r, 4)
			}
			rec.content = true
			rec.m.Add(paramTagsTail, protocol.String(hexLower(b[off:])))
			break
		}
		if int(t) <= rec.last {
			s.endRecord(&rec, r)
		}
		rec.last = int(t)
		off += size
		if rec.m == nil {
			rec.m = s.begin(r, 40)
		}
		m := rec.m
		if t != 0x03 {
			rec.content = true
		}
		switch t {
		case 0x03:
			imei := trimText(v)
			if s.ident != imei {
				s.ident = imei
			}
			if !m.Has(protocol.ParamIdent) && s.ident != "" {
				m.Set(protocol.ParamIdent, protocol.String(s.ident))
			}
		case 0x04:
			s.terminalID, s.hasID = binary.LittleEndian.Uint16(v), true
			addTag(m, t, v)
		case 0x30:
			addCoordinates(m, v)
		case 0xE0:
			rec.cmdID, rec.hasCmd = binary.LittleEndian.Uint32(v), true
			m.Add(paramCommandID, protocol.Int(int64(rec.cmdID)))
		case 0xE1:
			txt := text(v)
			m.Add(protocol.ParamCommandResponse, protocol.String(txt))
			r.Responses = append(r.Responses, protocol.CommandResponse{ID: rec.cmdID, HasID: rec.hasCmd, Text: txt})
		default:
			addTag(m, t, v)
		}
	}
	s.endRecord(&rec, r)
	return nil
}

// endRecord closes the record being decoded.
func (s *Session) endRecord(rec *record, r *protocol.Result) {
	if rec.m != nil {
		if rec.archive {
			rec.m.Add(paramArchive, protocol.Bool(true))
		}
		if !rec.content && len(r.Messages) > 0 {
			// A record that held only the IMEI: no message of its own.
			r.Messages = r.Messages[:len(r.Messages)-1]
		}
	}
	rec.m, rec.last, rec.hasCmd, rec.cmdID, rec.content = nil, -1, false, 0, false
}

// addCoordinates decodes tag 0x30: satellites (low nibble), coordinate
// correctness (high nibble: 0 valid, 2 from cellular base stations, other
// values invalid), latitude and longitude (i32, ×10⁻⁶).
func addCoordinates(m *protocol.Message, v []byte) {
	lat := int32(binary.LittleEndian.Uint32(v[1:]))
	lon := int32(binary.LittleEndian.Uint32(v[5:]))
	if lat >= -90_000_000 && lat <= 90_000_000 && lon >= -180_000_000 && lon <= 180_000_000 {
		m.Add(protocol.ParamLatitude, protocol.Float(float64(lat)/1e6))
		m.Add(protocol.ParamLongitude, protocol.Float(float64(lon)/1e6))
	}
	m.Add(protocol.ParamSatellites, protocol.Int(int64(v[0]&0x0F)))
	m.Add(protocol.ParamValid, protocol.Bool(v[0]>>4 == 0))
	if src := v[0] >> 4; src != 0 {
		m.Add(paramCoordSource, protocol.Int(int64(src)))
	}
}

// decodeCompressed decodes a compressed main packet (header 0x08): records
// of a 10-byte minimal data set, a u8 count of tags, the tag numbers, then
// their values in that order.
func (s *Session) decodeCompressed(b []byte, archive bool, r *protocol.Result) error {
	now := time.Now
	if s.codec.Now != nil {
		now = s.codec.Now
	}
	year := time.Date(now().UTC().Year(), 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for off := 0; off < len(b); {
		if off+11 > len(b) {
			return protocol.Errorf(Name, 3+off, protocol.ErrTruncated, "minimal data set")
		}
		m := s.begin(r, 24)
		minimalDataSet(m, b[off:off+10], year)
		count := int(b[off+10])
		tags := off + 11
		vals := tags + count
		if vals > len(b) {
			return protocol.Errorf(Name, 3+tags, protocol.ErrTruncated, "tag list")
		}
		for _, t := range b[tags : tags+count] {
			n := int(tagLen[t])
			if n == 0 || n == variable { // no fixed length: the rest cannot be read
				m.Add(paramTagsTail, protocol.String(hexLower(b[vals:])))
				vals = len(b)
				break
			}
			if vals+n > len(b) {
				return protocol.Errorf(Name, 3+vals, protocol.ErrTruncated, "tag 0x"+hex2(t))
			}
			v := b[vals : vals+n]
			vals += n
			switch t {
			case 0x30:
				addCoordinates(m, v)
			case 0x03:
				s.ident = trimText(v)
			default:
				addTag(m, t, v)
			}
		}
		if archive {
			m.Add(paramArchive, protocol.Bool(true))
		}
		m.Add(paramCompressed, protocol.Bool(true))
		off = vals
	}
	return nil
}

// minimalDataSet decodes the 80-bit minimal data set of a compressed
// record, most significant bit first: a bit kept by the device, 25 bits of
// seconds since the start of the year, a bit set when the coordinates are
// not valid, 22 bits of longitude (360/2²² steps from −180), 21 bits of
// latitude (180/2²¹ steps from −90), and an alarm bit.
func minimalDataSet(m *protocol.Message, b []byte, year int64) {
	bits := binary.BigEndian.Uint64(b)     // the first 64 bits
	rest := binary.BigEndian.Uint16(b[8:]) // and the last 16
	get := func(pos, n uint) uint64 {      // pos counted from the first bit
		var v uint64
		for i := uint(0); i < n; i++ {
			p := pos + i
			var bit uint64
			if p < 64 {
				bit = bits >> (63 - p) & 1
			} else {
				bit = uint64(rest>>(79-p)) & 1
			}
			v = v<<1 | bit
		}
		return v
	}
	m.Add(protocol.ParamTimestamp, protocol.Int(year+int64(get(1, 25))))
	m.Add(protocol.ParamValid, protocol.Bool(get(26, 1) == 0))
	m.Add(protocol.ParamLongitude, protocol.Float(round6(360*float64(get(27, 22))/4194304-180)))
	m.Add(protocol.ParamLatitude, protocol.Float(round6(180*float64(get(49, 21))/2097152-90)))
	if get(70, 1) != 0 {
		m.Add(paramAlarm, protocol.Bool(true))
	}
}

func round6(f float64) float64 {
	if f < 0 {
		if r := -round6(-f); r != 0 {
			return r
		}
		return 0
	}
	return float64(int64(f*1e6+0.5)) / 1e6
}

// decodePhoto keeps a picture part (header 0x07): its number and bytes.
func (s *Session) decodePhoto(b []byte, r *protocol.Result) {
	m := s.begin(r, 4)
	if len(b) > 0 {
		m.Add(paramPhotoPart, protocol.Int(int64(b[0])))
	}
	if len(b) > 1 {
		m.Add(paramPhotoData, protocol.String(hexLower(b[1:])))
	} else {
		m.Add(paramPhotoEnd, protocol.Bool(true)) // an empty part ends the picture
	}
}

// decodeIridium decodes a Galileosky message relayed by the Iridium SBD
// gateway: information elements 0x01 (MO header: CDR reference, IMEI,
// session status, MOMSN, MTMSN, time), 0x03 (MO location: flags, latitude
// and longitude in degrees and thousandths of minutes, CEP radius) and 0x02
// (the payload: Galileosky tags). It is not confirmed: the gateway has
// already taken it.
func (s *Session) decodeIridium(b []byte, r *protocol.Result) error {
	n := int(binary.BigEndian.Uint16(b[1:]))
	if 3+n != len(b) {
		return protocol.Errorf(Name, 1, protocol.ErrTruncated, "Iridium length field "+strconv.Itoa(n)+", message holds "+strconv.Itoa(len(b)-3))
	}
	var payload []byte
	var ts int64
	var loc []byte
	for off := 3; off < len(b); {
		if off+3 > len(b) {
			return protocol.Errorf(Name, off, protocol.ErrTruncated, "Iridium element header")
		}
		iei := b[off]
		size := int(binary.BigEndian.Uint16(b[off+1:]))
		v := b[off+3:]
		if size > len(v) {
			return protocol.Errorf(Name, off, protocol.ErrTruncated, "Iridium element 0x"+hex2(iei))
		}
		v = v[:size]
		switch iei {
		case 0x01:
			if size < 28 {
				return protocol.Errorf(Name, off, protocol.ErrMalformed, "Iridium MO header of "+strconv.Itoa(size)+" bytes")
			}
			s.ident = trimText(v[4:19])
			ts = int64(binary.BigEndian.Uint32(v[24:]))
		case 0x02:
			payload = v
		case 0x03:
			loc = v
		}
		off += 3 + size
	}
	r.Ident = s.ident
	first := len(r.Messages)
	if payload != nil {
		if err := s.decodeTags(payload, 0, false, r); err != nil {
			return err
		}
	}
	if len(r.Messages) == first {
		s.begin(r, 8)
	}
	m := &r.Messages[first]
	if !m.Has(protocol.ParamTimestamp) && ts != 0 {
		m.Add(protocol.ParamTimestamp, protocol.Int(ts))
	}
	if len(loc) >= 11 {
		lat := float64(loc[1]) + float64(binary.BigEndian.Uint16(loc[2:]))/60000
		lon := float64(loc[4]) + float64(binary.BigEndian.Uint16(loc[5:]))/60000
		if loc[0]&2 != 0 {
			lat = -lat
		}
		if loc[0]&1 != 0 {
			lon = -lon
		}
		m.Add(paramIridiumLat, protocol.Float(round6(lat)))
		m.Add(paramIridiumLon, protocol.Float(round6(lon)))
		m.Add(paramIridiumCEP, protocol.Int(int64(binary.BigEndian.Uint32(loc[7:]))))
	}
	m.Add(paramIridium, protocol.Bool(true))
	return nil
}

// trimText turns device text into a string without NULs and spaces at its
// ends, valid UTF-8.
func trimText(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	return text(b)
}

func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
