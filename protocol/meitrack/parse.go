package meitrack

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// pow10 holds the exact powers of ten a decimal field can need.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal reads "-12.345678" without allocating. The result is the
// correctly rounded value (an exact integer divided by an exact power of
// ten), the same as strconv.ParseFloat gives.
func parseDecimal(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	var mant uint64
	i := 0
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	intDigits, frac := i, 0
	if i < len(b) {
		if b[i] != '.' || i == 0 {
			return 0, false
		}
		for i++; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				return 0, false
			}
			mant = mant*10 + uint64(d)
		}
		frac = len(b) - intDigits - 1
	}
	if intDigits == 0 {
		return 0, false
	}
	if intDigits+frac > 15 {
		return slowDecimal(b, neg) // more digits than a float64 holds exactly
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg && mant != 0 { // "-0.000000" is 0, not −0
		v = -v
	}
	return v, true
}

func slowDecimal(b []byte, neg bool) (float64, bool) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, false
	}
	if neg && v != 0 {
		v = -v
	}
	return v, true
}

// parseUint reads a decimal unsigned integer of at most 18 digits.
func parseUint(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// parseTime reads yymmddHHMMSS (UTC, 20yy) as Unix seconds.
func parseTime(b []byte) (int64, bool) {
	if len(b) != 12 {
		return 0, false
	}
	var d [6]int
	for i := range d {
		hi, lo := b[2*i], b[2*i+1]
		if hi < '0' || hi > '9' || lo < '0' || lo > '9' {
			return 0, false
		}
		d[i] = int(hi-'0')*10 + int(lo-'0')
	}
	if d[1] < 1 || d[1] > 12 || d[2] < 1 || d[2] > 31 || d[3] > 23 || d[4] > 59 || d[5] > 60 {
		return 0, false
	}
	return daysFromCivil(2000+d[0], d[1], d[2])*86400 + int64(d[3]*3600+d[4]*60+d[5]), true
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm), cheaper than time.Date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}

// epoch2000 is 2000-01-01T00:00:00Z, the origin of binary report times.
var epoch2000 = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

func itoa(n int) string { return strconv.Itoa(n) }

// toValidUTF8 copies device text into a string, replacing bytes that are
// not UTF-8.
func toValidUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

const lowerHex = "0123456789abcdef"

// hexLower renders bytes as lowercase hex.
func hexLower(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = lowerHex[c>>4], lowerHex[c&15]
	}
	return string(out)
}

// hexLowerText lowercases hex digits written as text.
func hexLowerText(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}
