// Package textfield reads the fields of comma-separated tracker protocols
// (H02, Coban, TK103, Queclink @Track, …) in place, without allocating:
// numbers, hex, NMEA coordinates, dates and times, and field splitting.
// Every function takes the field's bytes as they came off the wire and
// reports whether they were well formed; none of them panics on any input.
package textfield

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Split cuts b at every sep into dst[:0] and returns it; dst's storage is
// reused, so a session that keeps one slice splits without allocating. At
// most max fields are made (the last one holds the rest of b): a hostile
// frame of separators costs no more than max fields.
func Split(dst [][]byte, b []byte, sep byte, max int) [][]byte {
	dst = dst[:0]
	start, i := 0, 0
	// Eight bytes at a time: t has 0x80 in each byte equal to sep (exactly:
	// no carry crosses bytes), and each is a field's end.
	const lo7 = 0x7F7F7F7F7F7F7F7F
	pat := uint64(sep) * 0x0101010101010101
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:]) ^ pat
		t := ^((x&lo7 + lo7) | x | lo7)
		for t != 0 {
			if len(dst) >= max-1 {
				return append(dst, b[start:len(b):len(b)])
			}
			j := i + bits.TrailingZeros64(t)>>3
			dst = append(dst, b[start:j:j])
			start = j + 1
			t &= t - 1
		}
	}
	for ; i < len(b); i++ {
		if b[i] != sep {
			continue
		}
		if len(dst) >= max-1 {
			break
		}
		dst = append(dst, b[start:i:i])
		start = i + 1
	}
	return append(dst, b[start:len(b):len(b)])
}

// Join is the inverse of [Split]: the fields with sep between them, in a
// new slice (nil for no fields).
func Join(f [][]byte, sep byte) []byte {
	if len(f) == 0 {
		return nil
	}
	var b []byte
	for i, x := range f {
		if i > 0 {
			b = append(b, sep)
		}
		b = append(b, x...)
	}
	return b
}

// Trim removes the spaces (and tabs) devices put around fields
// ("0,0 #", ",  db,").
func Trim(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// Uint parses unsigned decimal digits: any number that fits a uint64.
func Uint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for i, c := range b {
		d := uint64(c - '0')
		if d > 9 {
			return 0, false
		}
		// 19 digits always fit; only a 20th can overflow.
		if i == 19 && n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// Int parses an optionally signed decimal integer that fits an int64.
func Int(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	u, ok := Uint(b)
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

// Hex parses hexadecimal digits, either case, at most 16 of them.
func Hex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		d, ok := hexDigit(c)
		if !ok {
			return 0, false
		}
		n = n<<4 | uint64(d)
	}
	return n, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// IsDigits reports whether b is one or more decimal digits.
func IsDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IsHex reports whether b is one or more hex digits.
func IsHex(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if _, ok := hexDigit(c); !ok {
			return false
		}
	}
	return true
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// Decimal parses a plain decimal number, [+-]digits[.digits] (".5" and "5."
// too). Exponents, hex, NaN and infinities are rejected. Up to 15 digits
// the value is mantissa/10^k, both exact in a float64, so the result is
// correctly rounded; longer numbers go through strconv.
func Decimal(b []byte) (float64, bool) { return decimal(b, false) }

// DecimalComma is [Decimal] that also takes a decimal comma ("79,8"), as
// devices of protocols whose fields are not separated by commas send.
func DecimalComma(b []byte) (float64, bool) { return decimal(b, true) }

func decimal(b []byte, comma bool) (float64, bool) {
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
	nd, point := 0, -1 // digits read; digits before the point, -1 before one
	for ; i < len(b); i++ {
		c := b[i]
		if d := c - '0'; d <= 9 {
			mant = mant*10 + uint64(d) // wraps past 19 digits: then strconv decides
			nd++
			continue
		}
		if (c == '.' || comma && c == ',') && point < 0 {
			point = nd
			continue
		}
		return 0, false
	}
	if nd == 0 {
		return 0, false
	}
	frac := 0
	if point >= 0 {
		frac = nd - point
	}
	var f float64
	if nd <= 15 {
		f = float64(mant) / pow10[frac]
	} else {
		start := 0
		if b[0] == '-' || b[0] == '+' {
			start = 1
		}
		num := b[start:]
		if comma && point >= 0 {
			var buf [64]byte
			num = buf[:copy(buf[:], num)]
			if i := bytes.IndexByte(num, ','); i >= 0 {
				num[i] = '.'
			}
		}
		v, err := strconv.ParseFloat(string(num), 64)
		if err != nil || math.IsInf(v, 0) {
			return 0, false
		}
		f = v
	}
	if neg && f != 0 {
		f = -f
	}
	return f, true
}

// Digits2 reads two decimal digits at b[i:i+2].
func Digits2(b []byte, i int) (int, bool) {
	if i < 0 || i+2 > len(b) {
		return 0, false
	}
	c0, c1 := b[i], b[i+1]
	if c0 < '0' || c0 > '9' || c1 < '0' || c1 > '9' {
		return 0, false
	}
	return int(c0-'0')*10 + int(c1-'0'), true
}

// DaysIn returns the number of days of a month.
func DaysIn(year, mon int) int {
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
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// Unix returns the Unix time of a UTC date and time, and false when a
// field is out of range (month 13, 31 February, hour 24, …). Second 60 is
// refused too: trackers do not send leap seconds.
func Unix(year, mon, day, hour, min, sec int) (int64, bool) {
	if mon < 1 || mon > 12 || day < 1 || day > DaysIn(year, mon) ||
		hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59 {
		return 0, false
	}
	return daysFromCivil(year, mon, day)*86400 + int64(hour*3600+min*60+sec), true
}

// Civil returns the UTC date of a Unix time (the inverse of Unix's date).
func Civil(t int64) (year, mon, day int) {
	z := t / 86400
	if t%86400 < 0 {
		z--
	}
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// HHMMSS reads "hhmmss" (more characters, such as ".000", are ignored by
// the caller's choice: only the first six are read) as seconds of the day.
func HHMMSS(b []byte) (h, m, s int, ok bool) {
	if len(b) < 6 {
		return 0, 0, 0, false
	}
	h, ok1 := Digits2(b, 0)
	m, ok2 := Digits2(b, 2)
	s, ok3 := Digits2(b, 4)
	return h, m, s, ok1 && ok2 && ok3
}

// Fraction reads the fractional seconds after "hhmmss" in ".sss" form;
// 0 when there are none or they are malformed.
func Fraction(b []byte) float64 {
	if len(b) < 8 || b[6] != '.' || len(b) > 16 {
		return 0
	}
	var n uint64
	for _, c := range b[7:] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + uint64(c-'0')
	}
	return float64(n) / pow10[len(b)-7]
}

// NMEA converts an NMEA coordinate, [D]DDMM.MMMM, to degrees (unsigned).
// Degrees are whatever precedes the two integer digits of the minutes, so
// devices that drop a leading zero ("954.9490") read right. Minutes of 60
// or more (captures have "5562.0287") are taken as written, degrees +
// minutes/60, rather than losing the record. limit is 90 for latitudes and
// 180 for longitudes; a value beyond it is refused.
func NMEA(v []byte, limit float64) (float64, bool) { return nmea(v, limit, false) }

// NMEAComma is [NMEA] that also takes a decimal comma ("5354,4926"), as
// Wialon IPS devices send.
func NMEAComma(v []byte, limit float64) (float64, bool) { return nmea(v, limit, true) }

func nmea(v []byte, limit float64, comma bool) (float64, bool) {
	if len(v) == 0 || len(v) > 40 {
		return 0, false
	}
	ip := bytes.IndexByte(v, '.')
	if comma {
		if i := bytes.IndexByte(v, ','); i >= 0 && (ip < 0 || i < ip) {
			ip = i
		}
	}
	if ip < 0 {
		ip = len(v)
	}
	var whole uint64
	minText := v
	if ip > 2 {
		w, ok := Uint(v[:ip-2])
		if !ok {
			return 0, false
		}
		whole, minText = w, v[ip-2:]
	}
	if minText[0] == '-' || minText[0] == '+' {
		return 0, false
	}
	mins, ok := decimal(minText, comma)
	if !ok || mins >= 100 {
		return 0, false
	}
	deg := float64(whole) + mins/60
	if deg > limit {
		return 0, false
	}
	return deg, true
}

// Text returns b as a string a message may keep, with invalid UTF-8
// replaced, so that the message survives a JSON round trip unchanged.
func Text(b []byte) string {
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

// ValidIdent applies flespi's rule for idents: printable ASCII without
// '#', '+' or '/', at most 64 characters.
func ValidIdent(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if c <= 0x20 || c >= 0x7f || c == '#' || c == '+' || c == '/' || c == ',' {
			return false
		}
	}
	return true
}

// Intern returns b as a string, reusing s when it already holds the same
// bytes: a session that keeps its device's ident converts it once.
func Intern(s string, b []byte) string {
	if s == string(b) {
		return s
	}
	return string(b)
}

// AppendUint appends n in decimal, zero-padded to width digits.
func AppendUint(dst []byte, n uint64, width int) []byte {
	var b [20]byte
	i := len(b)
	for n > 0 || i == len(b) {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	for len(b)-i < width && i > 0 {
		i--
		b[i] = '0'
	}
	return append(dst, b[i:]...)
}
