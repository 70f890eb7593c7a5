package wialonips

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// isNA reports whether a field carries no data: "NA" or empty (devices in
// the wild send ";;" where the spec says NA).
func isNA(f []byte) bool {
	return len(f) == 0 || len(f) == 2 && f[0] == 'N' && f[1] == 'A'
}

// parseUint parses unsigned decimal digits.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// parseInt parses an optionally signed decimal integer that fits int64.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	u, ok := parseUint(b)
	if !ok {
		return 0, false
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// parseDecimal parses a plain decimal number, [+-]digits[(.|,)digits],
// accepting the decimal comma some devices send ("79,8"). Exponents, hex,
// NaN and infinities are rejected: they are not Wialon IPS numbers.
//
// Up to 15 significant digits the value is computed exactly as
// mantissa/10^k (both exact in a float64, so the division rounds
// correctly); longer numbers go through strconv.
func parseDecimal(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 64 {
		return 0, false
	}
	i := 0
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		i = 1
	}
	var mant uint64
	digits, frac, point := 0, 0, -1
	for j := i; j < len(b); j++ {
		c := b[j]
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 || c != '0' {
				digits++
			}
			if digits <= 19 {
				mant = mant*10 + uint64(c-'0')
			}
			if point >= 0 {
				frac++
			}
		case (c == '.' || c == ',') && point < 0:
			point = j
		default:
			return 0, false
		}
	}
	if point == i && len(b) == i+1 || point < 0 && len(b) == i {
		return 0, false // no digits at all
	}
	var f float64
	if digits <= 15 && frac < len(pow10) {
		f = float64(mant) / pow10[frac]
	} else {
		var buf [64]byte
		n := copy(buf[:], b)
		if point >= 0 {
			buf[point] = '.'
		}
		v, err := strconv.ParseFloat(string(buf[:n]), 64)
		if err != nil {
			return 0, false
		}
		f = v
	}
	if neg {
		f = -f
	}
	if f == 0 {
		f = 0 // no negative zero: "-0.0" is 0
	}
	return f, true
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

func digits2(b []byte) (int, bool) {
	if b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
}

// parseTimestamp turns DDMMYY and HHMMSS (UTC; a fraction of a second is
// allowed, as Wialon IPS 2.1 sends) into Unix seconds. present is false when
// both are NA: the server's time then applies. ok is false for an invalid
// date or time, or when only one of the two is NA.
func parseTimestamp(date, tm []byte) (ts float64, present, ok bool) {
	dNA, tNA := isNA(date), isNA(tm)
	if dNA && tNA {
		return 0, false, true
	}
	if dNA || tNA || len(date) != 6 || len(tm) < 6 {
		return 0, false, false
	}
	day, ok1 := digits2(date[0:2])
	mon, ok2 := digits2(date[2:4])
	yy, ok3 := digits2(date[4:6])
	hh, ok4 := digits2(tm[0:2])
	mm, ok5 := digits2(tm[2:4])
	ss, ok6 := digits2(tm[4:6])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return 0, false, false
	}
	year := 2000 + yy
	if mon < 1 || mon > 12 || day < 1 || day > daysIn(year, mon) || hh > 23 || mm > 59 || ss > 59 {
		return 0, false, false
	}
	var frac float64
	if len(tm) > 6 {
		if tm[6] != '.' && tm[6] != ',' || len(tm) == 7 || len(tm) > 16 {
			return 0, false, false
		}
		var n uint64
		scale := 1.0
		for _, c := range tm[7:] {
			if c < '0' || c > '9' {
				return 0, false, false
			}
			n = n*10 + uint64(c-'0')
			scale *= 10
		}
		frac = float64(n) / scale
	}
	days := daysFromCivil(year, mon, day)
	return float64(days*86400+int64(hh*3600+mm*60+ss)) + frac, true, true
}

func daysIn(year, mon int) int {
	switch mon {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// parseCoord converts an NMEA coordinate, DDMM.MMMM with N/S or DDDMM.MMMM
// with E/W, to signed degrees. present is false when both fields are NA.
// Degrees are whatever precedes the two integer digits of the minutes, so
// devices that drop the leading zero ("3644.67;E") still read right.
// Minutes of 60 or more (a capture has "5364.0167;N") are taken as written,
// degrees + minutes/60, rather than losing the record.
func parseCoord(v, hemi []byte, lat bool) (deg float64, present, ok bool) {
	vNA, hNA := isNA(v), isNA(hemi)
	if vNA && hNA {
		return 0, false, true
	}
	if vNA || hNA || len(hemi) != 1 || len(v) > 40 {
		return 0, false, false
	}
	neg := false
	switch hemi[0] {
	case 'N', 'n', 'E', 'e':
		if (hemi[0]|0x20 == 'n') != lat {
			return 0, false, false
		}
	case 'S', 's', 'W', 'w':
		if (hemi[0]|0x20 == 's') != lat {
			return 0, false, false
		}
		neg = true
	default:
		return 0, false, false
	}
	ip := len(v)
	for i, c := range v {
		if c == '.' || c == ',' {
			ip = i
			break
		}
	}
	var whole uint64
	minText := v
	if ip > 2 {
		w, ok := parseUint(v[:ip-2])
		if !ok {
			return 0, false, false
		}
		whole, minText = w, v[ip-2:]
	}
	mins, ok := parseDecimal(minText)
	if !ok || mins >= 100 || minText[0] == '-' || minText[0] == '+' {
		return 0, false, false
	}
	limit := 180.0
	if lat {
		limit = 90
	}
	deg = float64(whole) + mins/60
	if deg > limit {
		return 0, false, false
	}
	if neg && deg != 0 {
		deg = -deg
	}
	return deg, true, true
}

// parseCRC reads a CRC16 written as 1 to 4 hex digits (devices drop leading
// zeros: "8A7"), optionally with a "0x" prefix.
func parseCRC(b []byte) (uint16, bool) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
	}
	if len(b) == 0 || len(b) > 4 {
		return 0, false
	}
	var v uint16
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(c)
	}
	return v, true
}

// crcMatches checks a CRC field against the covered text.
func crcMatches(covered, field []byte) bool {
	want, ok := parseCRC(field)
	return ok && crc16.ARC.Checksum(covered) == want
}

// appendCRC writes a CRC16 as four upper-case hex digits.
func appendCRC(dst []byte, crc uint16) []byte {
	const hex = "0123456789ABCDEF"
	return append(dst, hex[crc>>12], hex[crc>>8&0xF], hex[crc>>4&0xF], hex[crc&0xF])
}

// text returns b as a string the message may keep, with invalid UTF-8
// replaced so that the message survives a JSON round trip.
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	s := make([]rune, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		s = append(s, r)
		b = b[n:]
	}
	return string(s)
}

// validIdent applies flespi's rule for idents: printable, without '#', '+'
// or '/'.
func validIdent(b []byte) bool {
	if len(b) == 0 || len(b) > 128 || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f || c == '#' || c == '+' || c == '/' {
			return false
		}
	}
	return true
}
