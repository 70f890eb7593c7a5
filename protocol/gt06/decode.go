package gt06

import (
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

const gpsLen = 18 // date-time 6, satellites 1, latitude 4, longitude 4, speed 1, course/status 2

func moduleParam(typ uint16) string {
	b := []byte("custom.module.0000")
	n := len(b)
	for i := 0; i < 4; i++ {
		b[n-1-i] = hexDigits[typ>>(4*i)&0x0F]
	}
	return string(b)
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
	if cs&0x4000 != 0 { // some firmware puts ACC in bit 15, flagged by bit 14
		m.Add(paramIgnition, protocol.Bool(cs&0x8000 != 0))
	}
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
		js = protocol.AppendGSMCell(js, mcc, mnc, lac, cid, int64(e[4]), true)
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
		m.SetString(paramPacketTail, binfield.HexString(b))
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
	return strings.TrimRight(binfield.HexString(b), "f")
}

const hexDigits = "0123456789abcdef"

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
