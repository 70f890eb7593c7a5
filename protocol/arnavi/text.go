package arnavi

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// text decodes a "$AV,<type>,<id>,…*XX" sentence, XX the XOR of the bytes
// between '$' and '*'. Position sentences (types V1 … V9) become a message
// with the fix; others (V3DI device information, V3GSMINFO, V6SD, …) a
// message with their fields, the IMEI and ICCID taken out where present.
// Text sentences are not answered.
func (s *Session) text(b []byte, r *protocol.Result) error {
	star := bytes.LastIndexByte(b, '*')
	if star < 0 || star+3 != len(b) {
		return protocol.Errorf(Name, len(b), protocol.ErrTruncated, "sentence without *XX")
	}
	want, err := strconv.ParseUint(string(b[star+1:]), 16, 8)
	if err != nil {
		return protocol.Errorf(Name, star+1, protocol.ErrMalformed, "checksum is not two hex digits")
	}
	// One pass checks the bytes, computes the XOR and splits the fields
	// (at most cap(s.fields) of them: the rest of a longer sentence is
	// dropped).
	body := b[1:star]
	f := s.fields[:0]
	var sum byte
	start := 0
	for i, c := range body {
		if c < 0x20 || c >= 0x7F {
			return protocol.Errorf(Name, 1, protocol.ErrMalformed, "sentence with a non-printable byte")
		}
		sum ^= c
		if c == ',' && len(f) < cap(s.fields) {
			f = append(f, body[start:i])
			start = i + 1
		}
	}
	if len(body) > 0 && len(f) < cap(s.fields) {
		f = append(f, body[start:])
	}
	bad := byte(want) != sum
	if bad && !s.codec.Lenient {
		return protocol.Errorf(Name, star+1, protocol.ErrChecksum, fmt.Sprintf("sentence checksum %02x, computed %02x", want, sum))
	}
	if len(f) < 3 || string(f[0]) != "AV" || len(f[1]) < 2 || f[1][0] != 'V' {
		return protocol.Errorf(Name, 1, protocol.ErrMalformed, "not an $AV sentence")
	}
	if id := f[2]; len(id) > 0 && len(id) <= 20 && digits(id) && string(id) != s.ident {
		s.ident = string(id)
	}
	m := s.begin(r, 24)
	m.Add(paramSentence, protocol.String(sentenceType(f[1])))
	if !digits(f[1][1:]) || !s.fix(m, f) {
		for _, v := range f[3:] {
			switch {
			case len(v) == 15 && digits(v):
				m.Set("device.imei", protocol.String(string(v)))
			case (len(v) == 19 || len(v) == 20) && digits(v):
				m.Set("gsm.sim.iccid", protocol.String(string(v)))
			}
		}
		m.Add(paramFields, protocol.String(string(bytes.Join(f[2:], []byte(",")))))
	}
	if bad {
		m.SetBool(protocol.ParamChecksumInvalid, true)
	}
	return nil
}

// fix decodes a position sentence: id, index, power and battery (0.01 V),
// temperature, movement, ignition, inputs, input values, fix type,
// satellites, from V4 on altitude and one more value, then time hhmmss,
// latitude ddmm.mmmm[NS], longitude dddmm.mmmm[EW], speed (knots), course,
// date ddmmyy. It reports false when the fields do not fit.
func (s *Session) fix(m *protocol.Message, f [][]byte) bool {
	t := -1
	for i := 10; i+5 < len(f); i++ {
		if len(f[i]) == 6 && digits(f[i]) && isCoord(f[i+1], 'N', 'S') && isCoord(f[i+2], 'E', 'W') {
			t = i
			break
		}
	}
	if t < 0 {
		return false
	}
	version, _ := parseInt(f[1][1:])
	satIdx, fixIdx, altIdx := t-1, t-2, -1
	if version >= 4 {
		satIdx, fixIdx, altIdx = t-3, t-4, t-2
	}
	tm, dt := f[t], f[t+5]
	if len(dt) != 6 || !digits(dt) {
		return false
	}
	h, mi, sec := num2(tm[0:]), num2(tm[2:]), num2(tm[4:])
	d, mo, y := num2(dt[0:]), num2(dt[2:]), num2(dt[4:])
	if h > 23 || mi > 59 || sec > 60 || d < 1 || d > 31 || mo < 1 || mo > 12 {
		return false
	}
	// A receiver without a fix reports its epoch, 06.01.80: no time.
	if y < 80 {
		ts := time.Date(2000+y, time.Month(mo), d, h, mi, sec, 0, time.UTC).Unix()
		m.Add(protocol.ParamTimestamp, protocol.Int(ts))
	}
	lat, lon := coord(f[t+1]), coord(f[t+2])
	if lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		m.Add(protocol.ParamLatitude, protocol.Float(round(lat)))
		m.Add(protocol.ParamLongitude, protocol.Float(round(lon)))
	}
	if v, ok := parseFloat(f[t+3]); ok && v >= 0 {
		m.Add(protocol.ParamSpeed, protocol.Float(math.Round(v*knots*100)/100))
	}
	if v, ok := parseFloat(f[t+4]); ok && v >= 0 && v <= 360 {
		m.Add(protocol.ParamDirection, protocol.Float(v))
	}
	if altIdx > 0 && len(f[altIdx]) > 0 { // parsing "" would allocate its error
		if v, ok := parseFloat(f[altIdx]); ok {
			m.Add(protocol.ParamAltitude, protocol.Float(v))
		}
	}
	if len(f[satIdx]) > 0 {
		if v, ok := parseInt(f[satIdx]); ok && v >= 0 && v < 256 {
			m.Add(protocol.ParamSatellites, protocol.Int(int64(v)))
		}
	}
	m.Add(protocol.ParamValid, protocol.Bool(string(f[fixIdx]) == "1"))
	intField(m, paramIndex, f[3], 1)
	intField(m, "external.powersource.voltage", f[4], 0.01)
	intField(m, "battery.voltage", f[5], 0.01)
	m.Add("movement.status", protocol.Bool(string(f[7]) == "1"))
	m.Add("engine.ignition.status", protocol.Bool(string(f[8]) == "1"))
	intField(m, "din", f[9], 1)
	return true
}

// intField adds a whole-number field, scaled, when it parses.
func intField(m *protocol.Message, name string, v []byte, scale float64) {
	if len(v) == 0 {
		return
	}
	i, ok := parseInt(v)
	if !ok {
		return
	}
	if scale == 1 {
		m.Add(name, protocol.Int(i))
		return
	}
	m.Add(name, protocol.Float(math.Round(float64(i)*scale*1000)/1000))
}

// isCoord reports whether v looks like (d)ddmm.mmmm followed by one of the
// two hemisphere letters.
func isCoord(v []byte, pos, neg byte) bool {
	if len(v) < 7 || (v[len(v)-1] != pos && v[len(v)-1] != neg) {
		return false
	}
	dot := bytes.IndexByte(v, '.')
	return dot >= 4 && digits(v[:dot]) && digits(v[dot+1:len(v)-1])
}

// coord converts (d)ddmm.mmmm[NSEW] to signed degrees.
func coord(v []byte) float64 {
	hemi := v[len(v)-1]
	v = v[:len(v)-1]
	dot := bytes.IndexByte(v, '.')
	deg, _ := parseInt(v[:dot-2])
	min, _ := parseFloat(v[dot-2:])
	x := float64(deg) + min/60
	if (hemi == 'S' || hemi == 'W') && x != 0 {
		x = -x
	}
	return x
}

func num2(b []byte) int { return int(b[0]-'0')*10 + int(b[1]-'0') }

func digits(b []byte) bool {
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

// sentenceType returns the sentence type as a string, the position types
// without allocating.
func sentenceType(b []byte) string {
	switch string(b) {
	case "V1":
		return "V1"
	case "V2":
		return "V2"
	case "V3":
		return "V3"
	case "V4":
		return "V4"
	case "V5":
		return "V5"
	case "V6":
		return "V6"
	}
	return string(b)
}

// parseInt is strconv.ParseInt(v, 10, 64), the value included when it
// fails; up to 18 digits (no overflow) are read in place.
func parseInt(v []byte) (int64, bool) {
	if len(v) <= 18 {
		if i, ok := textfield.Int(v); ok {
			return i, true
		}
	}
	i, err := strconv.ParseInt(string(v), 10, 64)
	return i, err == nil
}

// parseFloat is strconv.ParseFloat(v, 64); plain decimals are read in
// place (textfield.Decimal rounds them as strconv does).
func parseFloat(v []byte) (float64, bool) {
	if f, ok := textfield.Decimal(v); ok {
		if f == 0 && v[0] == '-' {
			return math.Copysign(0, -1), true // as strconv reads "-0"
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return f, err == nil
}
