package gt06

import (
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/gnssgate/gnssgate/protocol"
)

const gpsLen = 18 // date-time 6, satellites 1, latitude 4, longitude 4, speed 1, course/status 2

// location decodes the GPS packets: 0x10 is the GPS block alone; 0x12,
// 0x17, 0x24, 0x36 and 0x37 add a 2G cell (MCC, MNC, LAC, cell id); 0x22
// adds to that the ACC state, the data upload mode and the re-upload flag;
// 0xA0 is 0x22 with a 4G cell (4-byte LAC, 8-byte cell id); 0xA2 starts with
// the GPS block and a 4G cell. What follows the known part is kept in hex.
func (s *Session) location(f *frame, r *protocol.Result) bool {
	c := f.content
	min := gpsLen
	switch f.proto {
	case typeGPS:
	case typeGPSLBS4G, typeGPSLBS4G2:
		min += 2 + 1 + 4 + 8
	default:
		min += 2 + 1 + 2 + 3
	}
	if len(c) < min || !fixInRange(c[7:]) {
		// Too short, or coordinates no GPS block can hold: another
		// layout under the same number, kept raw.
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	rest := c[gpsLen:]
	switch f.proto {
	case typeGPS:
	case typeGPSLBS4G, typeGPSLBS4G2:
		rest = putCell(m, rest, true)
	default:
		rest = putCell(m, rest, false)
	}
	if f.proto == typeGPSLBS2 || f.proto == typeGPSLBS4G {
		rest = putUploadInfo(m, rest)
	}
	tail(m, rest)
	end(m, f)
	return true
}

// modular (0x70, "79 79" only) is a list of modules: type (2 bytes), length
// (2 bytes), data. Module 0x0033 is a GPS fix: Unix time (4), satellites
// (1), altitude in metres (2, signed), latitude (4), longitude (4), speed
// (1), course/status (2), coded as in the GPS block. Module 0x002C is the
// Unix time of the packet. A second GPS module and other modules are kept in hex as
// "custom.module.<type>" (type in 4 hex digits).
func (s *Session) modular(f *frame, r *protocol.Result) bool {
	c := f.content
	m := s.begin(r)
	hasTime, hasFix := false, false
	for len(c) >= 4 {
		typ, n := be16(c), int(be16(c[2:]))
		if len(c) < 4+n {
			break
		}
		data := c[4 : 4+n]
		c = c[4+n:]
		switch {
		case typ == 0x0033 && n >= 18 && !hasFix:
			hasFix = true
			m.SetInt(protocol.ParamTimestamp, int64(be32(data)))
			hasTime = true
			m.SetInt(protocol.ParamAltitude, int64(int16(be16(data[5:]))))
			putFix(m, data[7:], data[4])
		case typ == 0x002C && n == 4:
			if !hasTime {
				m.SetInt(protocol.ParamTimestamp, int64(be32(data)))
			}
		default:
			m.SetString(moduleParam(typ), hexString(data))
		}
	}
	tail(m, c)
	end(m, f)
	return true
}

func moduleParam(typ uint16) string {
	b := []byte("custom.module.0000")
	n := len(b)
	for i := 0; i < 4; i++ {
		b[n-1-i] = hexDigits[typ>>(4*i)&0x0F]
	}
	return string(b)
}

// putUploadInfo decodes what 0x22 and 0xA0 carry after the cell, as far as
// present: ACC (0 low, 1 high), data upload mode, real-time (0) or
// re-uploaded (1) position.
func putUploadInfo(m *protocol.Message, b []byte) []byte {
	if len(b) >= 1 {
		m.SetBool(paramIgnition, b[0] != 0)
	}
	if len(b) >= 2 {
		m.SetInt(paramUploadMode, int64(b[1]))
	}
	if len(b) >= 3 {
		m.SetBool(paramBuffered, b[2] == 1)
	}
	if len(b) <= 3 {
		return nil
	}
	return b[3:]
}

// fixInRange reports whether the latitude and longitude at the start of b
// are within ±90 and ±180 degrees.
func fixInRange(b []byte) bool {
	return be32(b) <= 90*1800000 && be32(b[4:]) <= 180*1800000
}

// putGPS decodes the 18-byte GPS block at the start of b.
func putGPS(m *protocol.Message, b []byte) {
	if ts, ok := dateTime(b); ok {
		m.Add(protocol.ParamTimestamp, protocol.Int(ts))
	}
	putFix(m, b[7:], b[6])
}

// putFix decodes latitude (4), longitude (4), speed (1) and course/status
// (2) at the start of b, and the satellites nibble of the GPS info byte. It
// adds without searching (Message.Add): callers put one fix in a message,
// before any parameter it sets.
func putFix(m *protocol.Message, b []byte, info byte) {
	lat := float64(be32(b)) / 1800000
	lon := float64(be32(b[4:])) / 1800000
	cs := be16(b[9:])
	// Bit 10 set: north; bit 11 set: west. Zero stays +0: JSON has no -0
	// that reads back as itself.
	if cs&0x0400 == 0 && lat != 0 {
		lat = -lat
	}
	if cs&0x0800 != 0 && lon != 0 {
		lon = -lon
	}
	if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
	}
	m.Add(protocol.ParamSpeed, protocol.Int(int64(b[8])))
	if course := cs & 0x03FF; course <= 360 {
		m.Add(protocol.ParamDirection, protocol.Int(int64(course)))
	}
	m.Add(protocol.ParamSatellites, protocol.Int(int64(info&0x0F)))
	m.Add(protocol.ParamValid, protocol.Bool(cs&0x1000 != 0))
	m.Add(paramRealtime, protocol.Bool(cs&0x2000 != 0))
}

// dateTime reads YY MM DD hh mm ss (UTC) as Unix seconds; ok is false for a
// date that cannot be one (devices without a fix send zeros).
func dateTime(b []byte) (int64, bool) {
	y, mo, d, h, mi, s := int64(b[0])+2000, int64(b[1]), int64(b[2]), int64(b[3]), int64(b[4]), int64(b[5])
	if b[0] > 99 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	// Days from the civil date (proleptic Gregorian), years from March.
	if mo <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	doy := (153*((mo+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := era*146097 + doe - 719468
	return days*86400 + h*3600 + mi*60 + s, true
}

// putCell decodes a serving cell: MCC (2 bytes; bit 15 set means a 2-byte
// MNC follows), MNC, LAC (2 bytes, 4 in 4G packets), cell id (3 bytes, 8 in
// 4G packets). It returns the bytes after it, or b unchanged when b is too
// short.
func putCell(m *protocol.Message, b []byte, fourG bool) []byte {
	if len(b) < 2 {
		return b
	}
	mcc := be16(b)
	mncLen, lacLen, cidLen := 1, 2, 3
	if mcc&0x8000 != 0 {
		mcc &= 0x7FFF
		mncLen = 2
	}
	if fourG {
		lacLen, cidLen = 4, 8
	}
	need := 2 + mncLen + lacLen + cidLen
	if len(b) < need {
		return b
	}
	p := b[2:]
	mnc, p := beN(p, mncLen), p[mncLen:]
	lac, p := beN(p, lacLen), p[lacLen:]
	cid := beN(p, cidLen)
	if mcc != 0 || lac != 0 || cid != 0 { // one cell a message: no search needed
		m.Add(paramMCC, protocol.Int(int64(mcc)))
		m.Add(paramMNC, protocol.Int(int64(mnc)))
		m.Add(paramLAC, protocol.Uint(lac))
		m.Add(paramCellID, protocol.Uint(cid))
	}
	return b[need:]
}

// putTerminalInfo decodes the terminal information byte: bit 0 defence
// armed, bit 1 ACC high, bit 2 charging, bits 3-5 alarm (1 shock, 2 power
// cut, 3 low battery, 4 SOS), bit 6 GPS tracking on, bit 7 oil and
// electricity disconnected.
func putTerminalInfo(m *protocol.Message, t byte) {
	m.SetBool(paramIgnition, t&0x02 != 0)
	m.SetBool(paramCharging, t&0x04 != 0)
	m.SetBool(paramGNSS, t&0x40 != 0)
	m.SetBool(paramDefense, t&0x01 != 0)
	m.SetBool(paramFuelCut, t&0x80 != 0)
	code := (t >> 3) & 0x07
	if code == 0 {
		return
	}
	m.SetInt(paramStatusAlrm, int64(code))
	m.SetBool(paramAlarm, true)
	switch code {
	case 1:
		m.SetBool(paramShock, true)
	case 2:
		m.SetBool(paramPowerOK, false)
	case 3:
		m.SetBool(paramBatteryLow, true)
	case 4:
		m.SetBool(paramSOS, true)
	}
}

// putAlarm decodes an alarm code (the first byte of "alarm/language").
func putAlarm(m *protocol.Message, code byte) {
	if code == 0 {
		return
	}
	m.SetBool(paramAlarm, true)
	m.SetInt(paramEvent, int64(code))
	switch code {
	case 0x01:
		m.SetBool(paramSOS, true)
	case 0x02:
		m.SetBool(paramPowerOK, false)
	case 0x03:
		m.SetBool(paramShock, true)
	case 0x04:
		m.SetBool(paramGeofenceIn, true)
	case 0x05:
		m.SetBool(paramGeofenceIn, false)
	case 0x06:
		m.SetBool(paramOverspeed, true)
	case 0xF0: // "quick acceleration", GT06 document example
		m.SetBool(paramHarshAccel, true)
	}
}

// putStatus decodes terminal info, voltage level, GSM signal level and, when
// present, alarm/language. It returns the bytes after them.
func putStatus(m *protocol.Message, b []byte) []byte {
	putTerminalInfo(m, b[0])
	m.SetInt(paramVoltLvl, int64(b[1]))
	m.SetInt(paramSignal, int64(b[2]))
	if len(b) < 5 {
		return b[3:]
	}
	putAlarm(m, b[3])
	return b[5:]
}

// heartbeat (0x13): terminal info, voltage level, GSM signal, alarm/language.
func (s *Session) heartbeat(f *frame, r *protocol.Result) bool {
	if len(f.content) < 3 {
		return false
	}
	m := s.begin(r)
	tail(m, putStatus(m, f.content))
	end(m, f)
	return true
}

// alarm (0x16, 0x26, 0x27, 0xA4): GPS block, LBS length, cell, status,
// alarm/language; 0x27 and 0xA4 add a geofence number. One 0x16 variant has
// no LBS length byte: its content is exactly 31 bytes.
func (s *Session) alarm(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < gpsLen+5 {
		return false
	}
	rest := c[gpsLen:]
	hasLBSLen := !(f.proto == typeAlarm && len(rest) == 8+5)
	// Check the whole layout fits before writing anything.
	need := 5
	cell := rest
	if hasLBSLen {
		if rest[0] != 0 {
			cell = rest[1:]
			need += 1 + cellLen(cell, f.proto == typeAlarm4G)
		} else {
			need++
			cell = nil
		}
	} else {
		need += cellLen(cell, false)
	}
	if need < 0 || len(rest) < need {
		return false
	}
	m := s.begin(r)
	putGPS(m, c)
	if cell != nil {
		rest = putCell(m, cell, f.proto == typeAlarm4G)
	} else {
		rest = rest[1:]
	}
	rest = putStatus(m, rest)
	if (f.proto == typeAlarm3 || f.proto == typeAlarm4G) && len(rest) > 0 {
		if rest[0] != 0xFF {
			m.SetInt(paramGeofenceID, int64(rest[0]))
		}
		rest = rest[1:]
	}
	tail(m, rest)
	end(m, f)
	return true
}

// cellLen returns the length of the cell at the start of b, or -1000 when b
// is too short to tell.
func cellLen(b []byte, fourG bool) int {
	if len(b) < 2 {
		return -1000
	}
	n := 2 + 1 + 2 + 3
	if fourG {
		n = 2 + 1 + 4 + 8
	}
	if b[0]&0x80 != 0 {
		n++
	}
	return n
}

// lbs (0x11, the GT03 "LBS information package"): date-time and a 2G cell.
func (s *Session) lbs(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 6 {
		return false
	}
	if n := cellLen(c[6:], false); n < 0 || len(c) < 6+n {
		return false
	}
	m := s.begin(r)
	if ts, ok := dateTime(c); ok {
		m.SetInt(protocol.ParamTimestamp, ts)
	}
	tail(m, putCell(m, c[6:], false))
	end(m, f)
	return true
}

// lbsStatus (0x19): a cell and the status bytes; some devices put the
// date-time first.
func (s *Session) lbsStatus(f *frame, r *protocol.Result) bool {
	c := f.content
	var ts int64
	hasTime := false
	if len(c) != 8+5 && len(c) >= 6+8 {
		ts, hasTime = dateTime(c)
		c = c[6:]
	}
	n := cellLen(c, false)
	if n < 0 || len(c) < n {
		return false
	}
	m := s.begin(r)
	if hasTime {
		m.SetInt(protocol.ParamTimestamp, ts)
	}
	rest := putCell(m, c, false)
	if len(rest) >= 5 {
		rest = putStatus(m, rest)
	}
	tail(m, rest)
	end(m, f)
	return true
}

// lbsMulti (0x18, 0x28, 0x2E, 0x2C): date-time, MCC, MNC, the serving cell
// and six neighbours (LAC 2, cell id 3, signal 1 each), timing advance; 0x2C
// then lists Wi-Fi access points (count, then MAC 6 and signal 1 each), the
// others end with the language word.
func (s *Session) lbsMulti(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 6+2 {
		return false
	}
	mcc := be16(c[6:])
	mncLen := 1
	if mcc&0x8000 != 0 {
		mcc &= 0x7FFF
		mncLen = 2
	}
	const cells = 7
	need := 6 + 2 + mncLen + cells*6 + 1
	if len(c) < need {
		return false
	}
	mnc := beN(c[8:], mncLen)
	m := s.begin(r)
	if ts, ok := dateTime(c); ok {
		m.SetInt(protocol.ParamTimestamp, ts)
	}
	p := c[8+mncLen:]
	if lac, cid := uint64(be16(p)), beN(p[2:], 3); mcc != 0 || lac != 0 || cid != 0 {
		m.SetInt(paramMCC, int64(mcc))
		m.SetInt(paramMNC, int64(mnc))
		m.SetUint(paramLAC, lac)
		m.SetUint(paramCellID, cid)
	}
	js := []byte{'['}
	for i := 0; i < cells; i++ {
		e := p[i*6:]
		lac, cid := uint64(be16(e)), beN(e[2:], 3)
		if lac == 0 && cid == 0 {
			continue
		}
		js = appendCell(js, uint64(mcc), mnc, lac, cid, e[5])
	}
	if len(js) > 1 {
		m.Set(paramCells, protocol.RawJSON(string(append(js, ']'))))
	}
	rest := c[need:]
	if f.proto == typeWiFi && len(rest) >= 1 {
		n := int(rest[0])
		if len(rest) >= 1+7*n {
			if n > 0 {
				m.Set(paramWiFi, protocol.RawJSON(wifiJSON(rest[1:], n)))
			}
			rest = rest[1+7*n:]
		}
	} else if f.proto != typeWiFi && len(rest) >= 2 {
		rest = rest[2:] // language
	}
	tail(m, rest)
	end(m, f)
	return true
}

// wifiLayoutFits reports whether c is the Wi-Fi/LBS layout without serial
// and CRC: BCD date-time (6), n access points (MAC 6, signal 1), a cell
// count, MCC (2), MNC (1), cells (LAC 2, cell id 2, signal 1).
func wifiLayoutFits(c []byte, n int) bool {
	k := 6 + 7*n
	if len(c) < k+4 {
		return false
	}
	cells := int(c[k])
	return len(c) == k+4+5*cells
}

// wifiLBS decodes the layout wifiLayoutFits accepts (0x69 and a 0x17
// variant, found in captures; its "length" byte counts access points).
func (s *Session) wifiLBS(f *frame, r *protocol.Result) {
	c, n := f.content, f.wifiCount
	m := s.begin(r)
	if ts, ok := bcdDateTime(c); ok {
		m.SetInt(protocol.ParamTimestamp, ts)
	}
	if n > 0 {
		m.Set(paramWiFi, protocol.RawJSON(wifiJSON(c[6:], n)))
	}
	p := c[6+7*n:]
	cells, mcc, mnc := int(p[0]), uint64(be16(p[1:])), uint64(p[3])
	p = p[4:]
	js := []byte{'['}
	for i := 0; i < cells; i++ {
		e := p[i*5:]
		lac, cid := uint64(be16(e)), uint64(be16(e[2:]))
		if i == 0 {
			m.SetUint(paramMCC, mcc)
			m.SetUint(paramMNC, mnc)
			m.SetUint(paramLAC, lac)
			m.SetUint(paramCellID, cid)
		}
		js = appendCell(js, mcc, mnc, lac, cid, e[4])
	}
	if cells > 0 {
		m.Set(paramCells, protocol.RawJSON(string(append(js, ']'))))
	}
	m.SetInt(paramPacketType, int64(f.proto))
}

// bcdDateTime reads YY MM DD hh mm ss written in BCD.
func bcdDateTime(b []byte) (int64, bool) {
	var d [6]byte
	for i := range d {
		hi, lo := b[i]>>4, b[i]&0x0F
		if hi > 9 || lo > 9 {
			return 0, false
		}
		d[i] = hi*10 + lo
	}
	return dateTime(d[:])
}

// appendCell appends one gsm.cells entry, with a comma unless it is the
// first.
func appendCell(js []byte, mcc, mnc, lac, cid uint64, rssi byte) []byte {
	if len(js) > 1 {
		js = append(js, ',')
	}
	js = append(js, `{"mcc":`...)
	js = strconv.AppendUint(js, mcc, 10)
	js = append(js, `,"mnc":`...)
	js = strconv.AppendUint(js, mnc, 10)
	js = append(js, `,"lac":`...)
	js = strconv.AppendUint(js, lac, 10)
	js = append(js, `,"cellid":`...)
	js = strconv.AppendUint(js, cid, 10)
	js = append(js, `,"rssi":`...)
	js = strconv.AppendUint(js, uint64(rssi), 10)
	return append(js, '}')
}

// wifiJSON renders n access points (MAC 6, signal 1) as
// [{"mac":"00:18:01:eb:40:39","rssi":56}].
func wifiJSON(b []byte, n int) string {
	js := []byte{'['}
	for i := 0; i < n; i++ {
		e := b[i*7:]
		if i > 0 {
			js = append(js, ',')
		}
		js = append(js, `{"mac":"`...)
		for k := 0; k < 6; k++ {
			if k > 0 {
				js = append(js, ':')
			}
			js = append(js, hexDigits[e[k]>>4], hexDigits[e[k]&0x0F])
		}
		js = append(js, `","rssi":`...)
		js = strconv.AppendUint(js, uint64(e[6]), 10)
		js = append(js, '}')
	}
	return string(append(js, ']'))
}

// info (0x94) is "information transmission": a sub-type byte, then data.
// Known sub-types: 0x00 external voltage (2 bytes, 0.01 V), 0x04 terminal
// status text, 0x05 door status, 0x0A IMEI, IMSI and ICCID (BCD). Others are
// kept in hex.
func (s *Session) info(f *frame, r *protocol.Result) bool {
	c := f.content
	if len(c) < 1 {
		return false
	}
	sub, data := c[0], c[1:]
	m := s.begin(r)
	m.SetInt(paramInfoType, int64(sub))
	switch {
	case sub == 0x00 && len(data) >= 2:
		m.SetFloat(paramExtVoltage, float64(be16(data))/100)
		data = data[2:]
	case sub == 0x04:
		m.SetString(paramInfoText, text(data))
		data = nil
	case sub == 0x05 && len(data) >= 1:
		m.SetBool(paramDoor, data[0]&0x01 != 0)
		data = data[1:]
	case sub == 0x0A && len(data) >= 26:
		m.SetString(paramIMSI, strings.TrimPrefix(bcd(data[8:16]), "0"))
		m.SetString(paramICCID, bcd(data[16:26]))
		data = data[26:]
	default:
		if len(data) > 0 {
			m.SetString(paramInfoRaw, hexString(data))
		}
		data = nil
	}
	tail(m, data)
	end(m, f)
	return true
}

// response decodes a device's answer to a command: 0x15 (command length,
// server flag, text, language) and 0x21 (server flag, encoding: 1 ASCII, 2
// UTF-16, text). The answer goes to Result.Responses with the server flag as
// its ID. An answer that states a position ("Lat:N54.739332,Lon:E25.273270",
// the reply to WHERE#) also makes a message.
func (s *Session) response(f *frame, r *protocol.Result) bool {
	c := f.content
	var flag uint32
	var txt string
	if f.proto == typeStringResp {
		if len(c) < 5 {
			return false
		}
		flag = be32(c[1:])
		body := c[5:]
		if n := int(c[0]); n >= 4 && 1+n <= len(c) {
			body = c[5 : 1+n]
		} else if k := len(body); k >= 2 && body[k-2] == 0 && (body[k-1] == 1 || body[k-1] == 2) {
			body = body[:k-2] // the language word
		}
		txt = text(body)
	} else {
		if len(c) < 5 {
			return false
		}
		flag = be32(c)
		if c[4] == 2 {
			txt = utf16Text(c[5:])
		} else {
			txt = text(c[5:])
		}
	}
	r.Responses = append(r.Responses, protocol.CommandResponse{ID: flag, HasID: true, Text: txt})
	if lat, lon, ok := textPosition(txt); ok {
		m := s.begin(r)
		m.SetFloat(protocol.ParamLatitude, lat)
		m.SetFloat(protocol.ParamLongitude, lon)
		m.SetString(paramResponse, txt)
		end(m, f)
	}
	return true
}

// textPosition finds "Lat:N12.34" and "Lon:E56.78" in a command answer.
func textPosition(s string) (lat, lon float64, ok bool) {
	lat, ok1 := textCoord(s, "Lat:", 'N', 'S', 90)
	lon, ok2 := textCoord(s, "Lon:", 'E', 'W', 180)
	return lat, lon, ok1 && ok2
}

func textCoord(s, key string, pos, neg byte, limit float64) (float64, bool) {
	i := strings.Index(s, key)
	if i < 0 {
		return 0, false
	}
	s = s[i+len(key):]
	if s == "" || (s[0] != pos && s[0] != neg) {
		return 0, false
	}
	sign := 1.0
	if s[0] == neg {
		sign = -1
	}
	s = s[1:]
	j := 0
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
		j++
	}
	v, err := strconv.ParseFloat(s[:j], 64)
	if err != nil || v > limit {
		return 0, false
	}
	return sign * v, true
}

// tail keeps content bytes that follow a known layout, in hex.
func tail(m *protocol.Message, b []byte) {
	if len(b) > 0 {
		m.SetString(paramPacketTail, hexString(b))
	}
}

// text turns device text into a valid UTF-8 string without trailing NULs.
func text(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func utf16Text(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = be16(b[2*i:])
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}

// bcd renders BCD bytes as digits, dropping "F" padding.
func bcd(b []byte) string {
	return strings.TrimRight(hexString(b), "f")
}

const hexDigits = "0123456789abcdef"

func hexString(b []byte) string { return hex.EncodeToString(b) }

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// beN reads an n-byte big-endian unsigned integer (n ≤ 8).
func beN(b []byte, n int) uint64 {
	var v uint64
	for _, c := range b[:n] {
		v = v<<8 | uint64(c)
	}
	return v
}
