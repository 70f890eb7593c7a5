package suntech

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Bits of the universal protocol's header mask: which fields a report
// carries, in this order. Bit 0 stands for the header and device ID, which
// are always present.
const (
	hModel    = 1 << 1
	hFirmware = 1 << 2
	hMsgType  = 1 << 3
	hDate     = 1 << 4
	hTime     = 1 << 5
	hCellID   = 1 << 6
	hMCC      = 1 << 7
	hMNC      = 1 << 8
	hLAC      = 1 << 9
	hSignal   = 1 << 10
	hLat      = 1 << 11
	hLon      = 1 << 12
	hSpeed    = 1 << 13
	hCourse   = 1 << 14
	hSats     = 1 << 15
	hFix      = 1 << 16
	hInputs   = 1 << 17
	hOutputs  = 1 << 18
	hMode     = 1 << 19 // STT: MODE; ALT, EMG, EVT: ALERT_ID
	hReason   = 1 << 20 // STT: STT_RPT_TYPE; ALT: ALERT_MOD
	hNumber   = 1 << 21 // STT: MSG_NUM; ALT: ALERT_DATA
	hReserved = 1 << 22
	hAssign   = 1 << 23 // ASSIGN_MAP and the fields it selects
)

// bleMask is the fixed field set of a BLE report: model, firmware, date,
// time, latitude, longitude.
const bleMask = hModel | hFirmware | hDate | hTime | hLat | hLon

// decodeUniversal decodes a report of the universal protocol (ST4300,
// ST4340, ST4315, ST8300 and the other "universal" firmwares):
//
//	TYPE;DEV_ID;HDR_MASK;<fields the mask selects>[;ASSIGN_MAP;<assigned fields>]
func (s *Session) decodeUniversal(b []byte, f [][]byte, r *protocol.Result) error {
	typ := f[0]
	if len(f) < 2 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "no device ID")
	}
	if err := s.setIdent(f[1], fieldOffset(f, 1), r); err != nil {
		return err
	}
	switch string(typ) {
	case "ALV":
		return nil // keep-alive
	case "RES":
		s.answer(r, afterField(b, f, 1), nil)
		return nil
	}
	i := 2
	var mask uint64
	if string(typ) == "BLE" {
		mask = bleMask
	} else {
		if len(f) < 3 {
			return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "no header mask")
		}
		v, ok := textfield.Hex(f[2])
		if !ok {
			return protocol.Errorf(Name, fieldOffset(f, 2), protocol.ErrMalformed, "header mask is not hex")
		}
		mask = v
		i = 3
	}
	m := s.begin(r, 32)
	next := func(bit uint64) []byte {
		if mask&bit == 0 || i >= len(f) {
			return nil
		}
		i++
		return f[i-1]
	}
	model := next(hModel)
	sw := next(hFirmware)
	if v := next(hMsgType); v != nil {
		m.Add(paramBuffered, protocol.Bool(string(v) == "0"))
	}
	if mask&(hDate|hTime) == hDate|hTime && i+1 < len(f) {
		setDate(m, f[i], f[i+1])
		i += 2
	} else {
		next(hDate)
		next(hTime)
	}
	if string(typ) == "BSA" {
		// A beacon scan report: its latitude and longitude follow the time
		// whatever its mask says; the rest (the beacons seen) has no layout
		// in the documents we had and is kept as sent.
		if i+1 < len(f) && !addPosition(m, f[i], f[i+1]) {
			return protocol.Errorf(Name, fieldOffset(f, i), protocol.ErrMalformed, "latitude or longitude")
		}
		i += 2
		if i < len(f) {
			m.Add(paramReportTail, protocol.String(textfield.Text(afterField(b, f, i-1))))
		}
		addUint(m, paramModel, model)
		s.setFirmware(m, sw)
		m.Add(paramReportType, protocol.String("BSA"))
		return nil
	}
	addHex(m, paramCellID, next(hCellID))
	addUint(m, paramMCC, next(hMCC))
	addUint(m, paramMNC, next(hMNC))
	addHex(m, paramLAC, next(hLAC))
	addUint(m, paramSignal, next(hSignal))
	lat, lon := next(hLat), next(hLon)
	if lat != nil && lon != nil && !addPosition(m, lat, lon) {
		return protocol.Errorf(Name, fieldOffset(f, i-2), protocol.ErrMalformed, "latitude or longitude")
	}
	switch string(typ) {
	case "BLE":
		s.beacons(m, f[i:])
		addUint(m, paramModel, model)
		s.setFirmware(m, sw)
		m.Add(paramReportType, protocol.String("BLE"))
		return nil
	}
	addCourse(m, next(hSpeed), next(hCourse))
	addUint(m, protocol.ParamSatellites, next(hSats))
	if v := next(hFix); v != nil {
		m.Add(protocol.ParamValid, protocol.Bool(string(v) == "1"))
	}
	if v := next(hInputs); v != nil {
		addBitString(m, v, paramDin, true)
	}
	if v := next(hOutputs); v != nil {
		addBitString(m, v, paramDout, false)
	}
	switch string(typ) {
	case "UEX":
		off, err := s.serialData(m, b, fieldOffset(f, i))
		if err != nil {
			return err
		}
		rest := b[min(off, len(b)):]
		s.fields = textfield.Split(s.fields, rest, ';', maxFields)
		if len(rest) == 0 {
			s.fields = s.fields[:0]
		}
		f, i = s.fields, 0
		if mask&hReserved != 0 && i < len(f) {
			i++
		}
		s.universalTail(m, b[len(b)-len(rest):], f, i)
	case "STT":
		addUint(m, paramMode, next(hMode))
		addUint(m, paramReportKind, next(hReason))
		addUint(m, paramSeqnum, next(hNumber))
		s.assigned(m, b, f, i, mask)
	default: // ALT, EMG, EVT
		if v := next(hMode); v != nil {
			if id, ok := textfield.Uint(v); ok {
				m.Add(paramEvent, protocol.Uint(id))
				if string(typ) == "EMG" {
					emergencyFlags(m, id)
				} else {
					alertFlags(m, id)
				}
			}
		}
		if v := next(hReason); len(v) > 0 {
			addTextOrNumber(m, paramAlertMod, v)
		}
		if v := next(hNumber); len(v) > 0 {
			m.Add(paramAlertData, protocol.String(textfield.Text(v)))
		}
		s.assigned(m, b, f, i, mask)
	}
	addUint(m, paramModel, model)
	s.setFirmware(m, sw)
	m.Add(paramReportType, reportType(typ))
	return nil
}

// addBitString reads an input or output state: a string of '0'/'1', the
// last character bit 0 (input 1, or the ignition for inputs). Other forms
// are read as a decimal number.
func addBitString(m *protocol.Message, v []byte, name string, ignition bool) {
	var n uint64
	ok := len(v) > 0 && len(v) <= 32
	for _, c := range v {
		if c != '0' && c != '1' {
			ok = false
			break
		}
		n = n<<1 | uint64(c-'0')
	}
	if !ok {
		var good bool
		if n, good = textfield.Uint(v); !good {
			return
		}
	}
	if ignition {
		m.Add(paramIgnition, protocol.Bool(n&1 != 0))
	}
	m.Add(name, protocol.Uint(n))
}

// assigned reads the reserved field, the assign map and its fields
// (custom.assign#N for assign bit N-1), and keeps whatever follows as
// custom.report.tail.
func (s *Session) assigned(m *protocol.Message, b []byte, f [][]byte, i int, mask uint64) {
	if mask&hReserved != 0 && i < len(f) {
		i++
	}
	if mask&hAssign != 0 && i < len(f) {
		am, ok := textfield.Hex(f[i])
		if ok {
			i++
			for bit := 0; bit < 32 && i < len(f); bit++ {
				if am&(1<<bit) == 0 {
					continue
				}
				if len(f[i]) > 0 {
					addTextOrNumber(m, assignName(bit+1), f[i])
				}
				i++
			}
		}
	}
	s.universalTail(m, b, f, i)
}

func (s *Session) universalTail(m *protocol.Message, b []byte, f [][]byte, i int) {
	if i < len(f) {
		if rest := afterField(b, f, i-1); len(rest) > 0 {
			m.Add(paramReportTail, protocol.String(textfield.Text(rest)))
		}
	}
}

// assignNames are custom.assign#1 … #32.
var assignNames = [32]string{
	"custom.assign#1",
	"custom.assign#2",
	"custom.assign#3",
	"custom.assign#4",
	"custom.assign#5",
	"custom.assign#6",
	"custom.assign#7",
	"custom.assign#8",
	"custom.assign#9",
	"custom.assign#10",
	"custom.assign#11",
	"custom.assign#12",
	"custom.assign#13",
	"custom.assign#14",
	"custom.assign#15",
	"custom.assign#16",
	"custom.assign#17",
	"custom.assign#18",
	"custom.assign#19",
	"custom.assign#20",
	"custom.assign#21",
	"custom.assign#22",
	"custom.assign#23",
	"custom.assign#24",
	"custom.assign#25",
	"custom.assign#26",
	"custom.assign#27",
	"custom.assign#28",
	"custom.assign#29",
	"custom.assign#30",
	"custom.assign#31",
	"custom.assign#32",
}

func assignName(n int) string { return assignNames[n-1] }

// beacons reads a BLE report's tag list: a count, then per tag the RSSI,
// its minimum and maximum, the tag ID, the sample count, major and minor,
// into custom.ble.beacons as JSON.
func (s *Session) beacons(m *protocol.Message, f [][]byte) {
	if len(f) == 0 {
		return
	}
	n, ok := textfield.Uint(f[0])
	if !ok || n == 0 || uint64(len(f)-1) < n*7 {
		return
	}
	js := []byte{'['}
	for k := uint64(0); k < n; k++ {
		t := f[1+k*7 : 8+k*7]
		if k > 0 {
			js = append(js, ',')
		}
		js = append(js, `{"id":`...)
		js = protocol.AppendJSONString(js, textfield.Text(t[3]))
		for j, name := range [...]string{"rssi", "rssi_min", "rssi_max", "", "samples", "major", "minor"} {
			if name == "" {
				continue
			}
			v, ok := textfield.Int(t[j])
			if !ok {
				continue
			}
			js = append(js, `,"`...)
			js = append(js, name...)
			js = append(js, `":`...)
			js = strconv.AppendInt(js, v, 10)
		}
		js = append(js, '}')
	}
	js = append(js, ']')
	m.Add(paramBeacons, protocol.RawJSON(string(js)))
}

// decodeBinary decodes a universal report in its binary ("zip") form: the
// type (0x81 status, 0x82 alert, …), a 16-bit length, the device ID in 5
// BCD bytes, a 24-bit header mask, then the fields it selects in binary:
// model (1), firmware (3 bytes a.b.c), message type (1), date and time (6:
// YY MM DD hh mm ss), cell ID (4), MCC (2), MNC (2), LAC (2), signal (1),
// latitude and longitude (4 each, sign and magnitude, millionths of a
// degree), speed (2, hundredths of km/h), course (2, hundredths of a
// degree), satellites (1), fix (1), inputs (1), outputs (1), then MODE or
// ALERT_ID (1), STT_RPT_TYPE or ALERT_MOD (1), and MSG_NUM (2) or
// ALERT_DATA (a length byte and that many bytes). Bytes after those are
// kept in hex as custom.report.tail.
func (s *Session) decodeBinary(b []byte, r *protocol.Result) error {
	if len(b) < 3 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "binary report header")
	}
	if n := 3 + int(binary.BigEndian.Uint16(b[1:])); n != len(b) {
		if n > len(b) {
			return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "binary report shorter than its length field")
		}
		return protocol.Errorf(Name, 1, protocol.ErrMalformed, "binary report longer than its length field")
	}
	if len(b) < 11 {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "binary report header")
	}
	typ := b[0]
	var id [10]byte
	if !bcd(id[:], b[3:8]) {
		return protocol.Errorf(Name, 3, protocol.ErrMalformed, "device ID is not BCD")
	}
	if err := s.setIdent(id[:], 3, r); err != nil {
		return err
	}
	s.universal = true
	mask := uint32(b[8])<<16 | uint32(b[9])<<8 | uint32(b[10])
	p := b[11:]
	short := false
	take := func(bit uint32, n int) []byte {
		if mask&bit == 0 || short {
			return nil
		}
		if len(p) < n {
			short = true
			return nil
		}
		v := p[:n]
		p = p[n:]
		return v
	}
	m := s.begin(r, 32)
	model := take(hModel, 1)
	fw := take(hFirmware, 3)
	if v := take(hMsgType, 1); v != nil {
		m.Add(paramBuffered, protocol.Bool(v[0] == 0))
	}
	if mask&(hDate|hTime) == hDate|hTime {
		if v := take(hDate, 6); v != nil {
			if t, ok := textfield.Unix(2000+int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]), int(v[5])); ok {
				m.Add(protocol.ParamTimestamp, protocol.Int(t))
			}
		}
	}
	if v := take(hCellID, 4); v != nil {
		m.Add(paramCellID, protocol.Uint(uint64(binary.BigEndian.Uint32(v))))
	}
	if v := take(hMCC, 2); v != nil {
		m.Add(paramMCC, protocol.Uint(uint64(binary.BigEndian.Uint16(v))))
	}
	if v := take(hMNC, 2); v != nil {
		m.Add(paramMNC, protocol.Uint(uint64(binary.BigEndian.Uint16(v))))
	}
	if v := take(hLAC, 2); v != nil {
		m.Add(paramLAC, protocol.Uint(uint64(binary.BigEndian.Uint16(v))))
	}
	if v := take(hSignal, 1); v != nil {
		m.Add(paramSignal, protocol.Uint(uint64(v[0])))
	}
	lat, lon := take(hLat, 4), take(hLon, 4)
	if lat != nil && lon != nil {
		la, lo := signMagnitude(lat)/1e6, signMagnitude(lon)/1e6
		if la < -90 || la > 90 || lo < -180 || lo > 180 {
			return protocol.Errorf(Name, 0, protocol.ErrMalformed, "latitude or longitude out of range")
		}
		m.Add(protocol.ParamLatitude, protocol.Float(la))
		m.Add(protocol.ParamLongitude, protocol.Float(lo))
	}
	if v := take(hSpeed, 2); v != nil {
		m.Add(protocol.ParamSpeed, protocol.Float(float64(binary.BigEndian.Uint16(v))/100))
	}
	if v := take(hCourse, 2); v != nil {
		if c := float64(binary.BigEndian.Uint16(v)) / 100; c <= 360 {
			m.Add(protocol.ParamDirection, protocol.Float(c))
		}
	}
	if v := take(hSats, 1); v != nil {
		m.Add(protocol.ParamSatellites, protocol.Uint(uint64(v[0])))
	}
	if v := take(hFix, 1); v != nil {
		m.Add(protocol.ParamValid, protocol.Bool(v[0] != 0))
	}
	if v := take(hInputs, 1); v != nil {
		m.Add(paramIgnition, protocol.Bool(v[0]&1 != 0))
		m.Add(paramDin, protocol.Uint(uint64(v[0])))
	}
	if v := take(hOutputs, 1); v != nil {
		m.Add(paramDout, protocol.Uint(uint64(v[0])))
	}
	alert := typ != 0x81
	if v := take(hMode, 1); v != nil {
		if alert {
			m.Add(paramEvent, protocol.Uint(uint64(v[0])))
			alertFlags(m, uint64(v[0]))
		} else {
			m.Add(paramMode, protocol.Uint(uint64(v[0])))
		}
	}
	if v := take(hReason, 1); v != nil {
		if alert {
			m.Add(paramAlertMod, protocol.Uint(uint64(v[0])))
		} else {
			m.Add(paramReportKind, protocol.Uint(uint64(v[0])))
		}
	}
	if alert {
		if v := take(hNumber, 1); v != nil {
			if d := take(hNumber, int(v[0])); d != nil && len(d) > 0 {
				m.Add(paramAlertData, protocol.String(hex.EncodeToString(d)))
				if len(d) == 8 {
					m.Add(paramIButton, protocol.String(hex.EncodeToString(d))) // alert 59/60: iButton
				}
			}
		}
	} else if v := take(hNumber, 2); v != nil {
		m.Add(paramSeqnum, protocol.Uint(uint64(binary.BigEndian.Uint16(v))))
	}
	if short {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "binary report ends inside the fields its mask selects")
	}
	if len(p) > 0 {
		m.Add(paramReportTail, protocol.String(hex.EncodeToString(p)))
	}
	if model != nil {
		m.Add(paramModel, protocol.Uint(uint64(model[0])))
	}
	if fw != nil {
		var v [11]byte
		t := strconv.AppendUint(v[:0], uint64(fw[0]), 10)
		t = append(t, '.')
		t = strconv.AppendUint(t, uint64(fw[1]), 10)
		t = append(t, '.')
		t = strconv.AppendUint(t, uint64(fw[2]), 10)
		s.setFirmware(m, t)
	}
	switch typ {
	case 0x81:
		m.Add(paramReportType, protocol.String("STT"))
	case 0x82:
		m.Add(paramReportType, protocol.String("ALT"))
	default:
		m.Add(paramReportType, protocol.String("0x"+hex2(typ)))
	}
	return nil
}

// signMagnitude reads a 32-bit sign-and-magnitude integer.
func signMagnitude(b []byte) float64 {
	v := binary.BigEndian.Uint32(b)
	if v&0x80000000 != 0 {
		return -float64(v & 0x7fffffff)
	}
	return float64(v)
}

// bcd writes the decimal digits of packed BCD bytes to dst (two a byte).
func bcd(dst, src []byte) bool {
	for i, c := range src {
		hi, lo := c>>4, c&15
		if hi > 9 || lo > 9 {
			return false
		}
		dst[2*i], dst[2*i+1] = '0'+hi, '0'+lo
	}
	return true
}

const upperHex = "0123456789ABCDEF"

func hex2(b byte) string { return string([]byte{upperHex[b>>4], upperHex[b&15]}) }

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
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

func hexByte(a, b byte) byte { return hexVal(a)<<4 | hexVal(b) }
