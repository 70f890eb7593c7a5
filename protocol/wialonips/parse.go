package wialonips

import (
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol/crc16"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// isNA reports whether a field carries no data: "NA" or empty (devices in
// the wild send ";;" where the spec says NA).
func isNA(f []byte) bool {
	return len(f) == 0 || len(f) == 2 && f[0] == 'N' && f[1] == 'A'
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
	day, ok1 := tf.Digits2(date, 0)
	mon, ok2 := tf.Digits2(date, 2)
	yy, ok3 := tf.Digits2(date, 4)
	hh, mm, ss, ok4 := tf.HHMMSS(tm)
	if !(ok1 && ok2 && ok3 && ok4) {
		return 0, false, false
	}
	secs, ok := tf.Unix(2000+yy, mon, day, hh, mm, ss)
	if !ok {
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
	return float64(secs) + frac, true, true
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
	if vNA || hNA || len(hemi) != 1 {
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
	limit := 180.0
	if lat {
		limit = 90
	}
	deg, ok = tf.NMEAComma(v, limit)
	if !ok {
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
	v, ok := tf.Hex(b)
	return uint16(v), ok
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
