package suntech

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Legacy zip report headers (ST300/ST310U manuals, "Zip" sections).
const (
	zipSTT = 0x10
	zipEMG = 0x11
	zipEVT = 0x12
	zipALT = 0x13
	zipALV = 0x14
	zipACK = 0x15
	zipUEX = 0x16
)

// decodeZip decodes a legacy report in its "zip" form: STX, a 16-bit
// length of what lies between it and ETX, then
//
//	HDR(1) DEV_ID(5, BCD) MODEL(1) SW_VER(2) DATE_TIME(6) CELL(3) LAT(4) LON(4)
//	SPD(3) CRS(3) SATT_FIX(1) DIST(4) PWR_VOLT(2) I/O(1) <type fields>
//	[H_METER(4) BCK_VOLT(2) MSG_TYPE(1)] ETX
//
// Latitude and longitude are an integer byte and six BCD digits of
// fraction, with their signs in SATT_FIX (bit 6, bit 5; bit 7 the fix,
// bits 0–4 the satellites); speed and course an integer u16 and two BCD
// digits; voltages an integer byte and two BCD digits. The type fields:
// STT MODE(1) MSG_NUM(2); EMG EMG_ID(1); EVT EVT_ID(1); ALT ALERT_ID(1);
// UEX LEN(2) DATA CHK_SUM(1).
func (s *Session) decodeZip(b []byte, r *protocol.Result) error {
	if len(b) < 4 || b[len(b)-1] != zipETX || 4+int(binary.BigEndian.Uint16(b[1:])) != len(b) {
		if len(b) >= 3 && 4+int(binary.BigEndian.Uint16(b[1:])) > len(b) {
			return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "zip report shorter than its length field")
		}
		return protocol.Errorf(Name, len(b)-1, protocol.ErrMalformed, "zip report does not end with ETX after its length")
	}
	p := b[3 : len(b)-1]
	if len(p) < 6 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "zip report header")
	}
	hdr := p[0]
	var id [10]byte
	if !bcd(id[:], p[1:6]) {
		return protocol.Errorf(Name, 4, protocol.ErrMalformed, "device ID is not BCD")
	}
	// The manuals' device IDs are 9 digits, padded with a 0 nibble.
	if err := s.setIdent(id[:9], 4, r); err != nil {
		return err
	}
	switch hdr {
	case zipALV, zipACK:
		return nil
	case zipSTT, zipEMG, zipEVT, zipALT, zipUEX:
	default:
		return protocol.Errorf(Name, 3, protocol.ErrUnsupported, "zip report header 0x"+hex2(hdr))
	}
	const fixed = 6 + 1 + 2 + 6 + 3 + 4 + 4 + 3 + 3 + 1 + 4 + 2 + 1
	if len(p) < fixed {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "zip report fields")
	}
	m := s.begin(r, 32)
	t := p[9:15]
	if ts, ok := textfield.Unix(2000+int(t[0]), int(t[1]), int(t[2]), int(t[3]), int(t[4]), int(t[5])); ok {
		m.Add(protocol.ParamTimestamp, protocol.Int(ts))
	}
	cell := p[15:18]
	satFix := p[32]
	lat, ok1 := bcdDegrees(p[18:22])
	lon, ok2 := bcdDegrees(p[22:26])
	if !ok1 || !ok2 || lat > 90 || lon > 180 {
		return protocol.Errorf(Name, 21, protocol.ErrMalformed, "latitude or longitude")
	}
	if satFix&0x40 != 0 {
		lat = -lat
	}
	if satFix&0x20 != 0 {
		lon = -lon
	}
	m.Add(protocol.ParamLatitude, protocol.Float(lat))
	m.Add(protocol.ParamLongitude, protocol.Float(lon))
	if v, ok := intBCD(p[26:29]); ok {
		m.Add(protocol.ParamSpeed, protocol.Float(v))
	}
	if v, ok := intBCD(p[29:32]); ok && v <= 360 {
		m.Add(protocol.ParamDirection, protocol.Float(v))
	}
	m.Add(protocol.ParamSatellites, protocol.Uint(uint64(satFix&0x1f)))
	m.Add(protocol.ParamValid, protocol.Bool(satFix&0x80 != 0))
	m.Add(paramMileage, protocol.Float(float64(binary.BigEndian.Uint32(p[33:37]))/1000))
	if v, ok := intBCD(p[37:39]); ok {
		m.Add(paramPower, protocol.Float(v))
	}
	io := p[39]
	m.Add(paramIgnition, protocol.Bool(io&1 != 0))
	m.Add(paramDin, protocol.Uint(uint64(io>>1&7)))
	m.Add(paramDout, protocol.Uint(uint64(io>>4&3)))
	m.Add(paramLAC, protocol.Uint(uint64(binary.BigEndian.Uint16(cell))))
	rest := p[40:]
	typ := "STT"
	switch hdr {
	case zipSTT:
		if len(rest) < 3 {
			return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "zip status fields")
		}
		m.Add(paramMode, protocol.Uint(uint64(rest[0])))
		m.Add(paramSeqnum, protocol.Uint(uint64(binary.BigEndian.Uint16(rest[1:]))))
		rest = rest[3:]
	case zipEMG, zipEVT, zipALT:
		if len(rest) < 1 {
			return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "zip event ID")
		}
		id := uint64(rest[0])
		m.Add(paramEvent, protocol.Uint(id))
		switch hdr {
		case zipEMG:
			typ = "EMG"
			emergencyFlags(m, id)
		case zipEVT:
			typ = "EVT"
		default:
			typ = "ALT"
			alertFlags(m, id)
		}
		rest = rest[1:]
	case zipUEX:
		typ = "UEX"
		if len(rest) < 2 || len(rest) < 3+int(binary.BigEndian.Uint16(rest)) {
			return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "zip serial data")
		}
		n := int(binary.BigEndian.Uint16(rest))
		data := rest[2 : 2+n]
		var sum byte
		for _, c := range data {
			sum += c
		}
		if sum != rest[2+n] {
			if !s.codec.Lenient {
				return protocol.Errorf(Name, 3+40+2+n, protocol.ErrChecksum, "UEX checksum "+hex2(rest[2+n])+", computed "+hex2(sum))
			}
			m.Add(protocol.ParamChecksumInvalid, protocol.Bool(true))
		}
		addSerial(m, data)
		rest = rest[3+n:]
	}
	if len(rest) == 7 { // H_METER, BCK_VOLT, MSG_TYPE (HBM_STT=1)
		m.Add(paramMotorHours, protocol.Float(float64(binary.BigEndian.Uint32(rest))/60))
		if v, ok := intBCD(rest[4:6]); ok {
			m.Add(paramBattery, protocol.Float(v))
		}
		m.Add(paramBuffered, protocol.Bool(rest[6] == 0))
	} else if len(rest) > 0 {
		m.Add(paramReportTail, protocol.String(hex.EncodeToString(rest)))
	}
	m.Add(paramModel, protocol.Uint(uint64(p[6])))
	var fw [5]byte
	s.setFirmware(m, textfield.AppendUint(fw[:0], uint64(binary.BigEndian.Uint16(p[7:9])), 3))
	m.Add(paramReportType, protocol.String(typ))
	if s.transport == protocol.UDP {
		r.Reply = append(r.Reply[:0], zipACK)
		r.Reply = append(r.Reply, p[1:6]...)
	} else if hdr == zipEMG && s.codec.AckEmergency && s.prefix != "" {
		r.Reply = appendLegacyCommand(r.Reply[:0], []byte(s.prefix), "CMD", s.ident, "AckEmerg")
	}
	return nil
}

// bcdDegrees reads an integer byte and six BCD digits of fraction.
func bcdDegrees(b []byte) (float64, bool) {
	f, ok := bcdValue(b[1:])
	return float64(b[0]) + float64(f)/1e6, ok
}

// intBCD reads an integer (all bytes but the last, big-endian) and two BCD
// digits of hundredths (the last byte).
func intBCD(b []byte) (float64, bool) {
	var n uint64
	for _, c := range b[:len(b)-1] {
		n = n<<8 | uint64(c)
	}
	f, ok := bcdValue(b[len(b)-1:])
	return float64(n) + float64(f)/100, ok
}

func bcdValue(b []byte) (uint64, bool) {
	var n uint64
	for _, c := range b {
		hi, lo := c>>4, c&15
		if hi > 9 || lo > 9 {
			return 0, false
		}
		n = n*100 + uint64(hi)*10 + uint64(lo)
	}
	return n, true
}
