package wialonips

import (
	"bytes"
	"strconv"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// cursor walks the ';'-separated fields of a record in place.
type cursor struct{ b []byte }

func (c *cursor) next() []byte {
	i := bytes.IndexByte(c.b, ';')
	if i < 0 {
		f := c.b
		c.b = nil
		return f
	}
	f := c.b[:i]
	c.b = c.b[i+1:]
	return f
}

// record fills m from a record in the SD layout (10 fields) or the D layout
// (16 fields), CRC16 already removed, and returns the spec's reply code:
// codeOK, or the code of the first field that is wrong.
func (s *Session) record(m *protocol.Message, body []byte, extended bool) string {
	c := cursor{b: body}
	if s.ident != "" {
		m.Add(protocol.ParamIdent, protocol.String(s.ident))
	}
	date, tm := c.next(), c.next()
	ts, present, ok := parseTimestamp(date, tm)
	if !ok {
		return codeTime
	}
	if present {
		m.Add(protocol.ParamTimestamp, protocol.Float(ts))
	}
	lat1, lat2, lon1, lon2 := c.next(), c.next(), c.next(), c.next()
	lat, latOK, ok1 := parseCoord(lat1, lat2, true)
	lon, lonOK, ok2 := parseCoord(lon1, lon2, false)
	if !ok1 || !ok2 || latOK != lonOK {
		return codeCoords
	}
	if latOK {
		m.Add(protocol.ParamLatitude, protocol.Float(lat))
		m.Add(protocol.ParamLongitude, protocol.Float(lon))
	}
	if !optDecimal(m, protocol.ParamSpeed, c.next()) ||
		!optDecimal(m, protocol.ParamDirection, c.next()) ||
		!optDecimal(m, protocol.ParamAltitude, c.next()) {
		return codeMotion
	}
	if !optCount(m, protocol.ParamSatellites, c.next()) {
		return codeSats
	}
	if !extended {
		return codeOK
	}
	if !optDecimal(m, protocol.ParamHDOP, c.next()) {
		return codeSats
	}
	if !optCount(m, "din", c.next()) || !optCount(m, "dout", c.next()) {
		return codeIO
	}
	if !s.adc(m, c.next()) {
		return codeADC
	}
	if ib := c.next(); !isNA(ib) {
		m.Add("ibutton.code", protocol.String(tf.Text(ib)))
	}
	if !s.params(m, c.next()) {
		return codeParams
	}
	return codeOK
}

// optDecimal sets a number unless the field is NA; false for a bad number.
func optDecimal(m *protocol.Message, name string, f []byte) bool {
	if isNA(f) {
		return true
	}
	v, ok := tf.DecimalComma(f)
	if ok {
		m.Add(name, protocol.Float(v))
	}
	return ok
}

// optCount sets a non-negative integer (satellites, input bitmasks) unless
// the field is NA. A whole number written with a fraction ("7.0") is taken.
func optCount(m *protocol.Message, name string, f []byte) bool {
	if isNA(f) {
		return true
	}
	if u, ok := tf.Uint(f); ok {
		m.Add(name, protocol.Uint(u))
		return true
	}
	v, ok := tf.DecimalComma(f)
	if !ok || v < 0 || v != float64(int64(v)) {
		return false
	}
	m.Add(name, protocol.Int(int64(v)))
	return true
}

// adc reads the analog inputs, "14.77,0.02,3.6", into ain#1, ain#2, …
// An NA in the list skips an input but keeps the numbering.
func (s *Session) adc(m *protocol.Message, f []byte) bool {
	if isNA(f) {
		return true
	}
	for i := 1; ; i++ {
		item, rest, more := bytes.Cut(f, []byte{','})
		if !isNA(item) {
			v, ok := tf.DecimalComma(item)
			if !ok || m.Len() >= maxParams {
				return false
			}
			m.Add(s.ainName(i), protocol.Float(v))
		}
		if !more {
			return true
		}
		f = rest
	}
}

func (s *Session) ainName(i int) string {
	if i < len(s.ain) {
		return s.ain[i]
	}
	if i < 64 {
		for len(s.ain) <= i {
			s.ain = append(s.ain, "ain#"+strconv.Itoa(len(s.ain)))
		}
		return s.ain[i]
	}
	return "ain#" + strconv.Itoa(i)
}

// params reads "name:type:value" parameters separated by commas. A piece
// without its own "name:type:" continues the previous double or string
// value: "fuel:2:45,8" is a decimal comma and "note:3:a,b" a string with a
// comma in it.
func (s *Session) params(m *protocol.Message, b []byte) bool {
	if isNA(b) {
		return true
	}
	start := m.Len()
	var (
		name, typ  []byte
		vStart     int
		vEnd       int
		pending    bool
		pos        int
		endOfField bool
	)
	for !endOfField {
		end := bytes.IndexByte(b[pos:], ',')
		if end < 0 {
			end = len(b)
			endOfField = true
		} else {
			end += pos
		}
		item := b[pos:end]
		if n, t, ok := cutParam(item); ok {
			if pending && !s.setParam(m, start, name, typ[0], b[vStart:vEnd]) {
				return false
			}
			name, typ, pending = n, t, true
			vStart, vEnd = pos+len(n)+len(t)+2, end
		} else if len(item) > 0 {
			if !pending || typ[0] == '1' {
				return false
			}
			vEnd = end
		}
		pos = end + 1
	}
	return !pending || s.setParam(m, start, name, typ[0], b[vStart:vEnd])
}

// cutParam recognises the start of a parameter: "name:T:" with T one of
// the three types.
func cutParam(item []byte) (name, typ []byte, ok bool) {
	i := bytes.IndexByte(item, ':')
	if i < 0 || len(item) < i+3 || item[i+2] != ':' || item[i+1] < '1' || item[i+1] > '3' {
		return nil, nil, false
	}
	return item[:i], item[i+1 : i+2], true
}

// setParam registers one parameter. A value that does not fit its type is
// not registered, as the spec says; a bad name fails the whole field.
func (s *Session) setParam(m *protocol.Message, start int, rawName []byte, typ byte, val []byte) bool {
	if m.Len() >= maxParams {
		return false
	}
	d, ok := s.paramName(rawName)
	if !ok {
		return false
	}
	name := d.name
	var v protocol.Value
	switch typ {
	case '1':
		if i, ok := tf.Int(val); ok {
			v = protocol.Int(i)
		} else if u, ok := tf.Uint(val); ok {
			v = protocol.Uint(u)
		} else if f, ok := tf.DecimalComma(val); ok {
			// Some devices send fractions in integer parameters: keep the
			// number rather than lose it.
			v = protocol.Float(f)
		} else {
			return true
		}
	case '2':
		f, ok := tf.DecimalComma(val)
		if !ok {
			return true
		}
		v = protocol.Float(f)
	default:
		v = protocol.String(tf.Text(val))
	}
	if d.asBool {
		f, ok := v.Float()
		if !ok {
			return true
		}
		v = protocol.Bool(f != 0)
	}
	// A name may already be set by a field of the packet (HDOP, the ADC
	// list): the parameter replaces it, as Set does.
	if d.field {
		m.Set(name, v)
		return true
	}
	// Otherwise only parameters from this field can share a name (a device
	// that repeats one, or sends two aliases such as gsm and gsm_lvl): the
	// last value wins, as Set gives.
	ps := m.Params()
	for i := start; i < len(ps); i++ {
		if ps[i].Name == name {
			m.Set(name, v)
			return true
		}
	}
	m.Add(name, v)
	return true
}

func validParamName(b []byte) bool {
	if len(b) == 0 || len(b) > maxParamName || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// paramName maps a device's parameter name to its definition: a catalogue
// name for the parameters of knownParams and indexedParams, "custom.<name>"
// for the rest. Definitions are remembered per session so that a steady
// stream of packets costs one map lookup a parameter and allocates no name
// again. ok is false for a name that is empty, too long or not printable
// UTF-8.
func (s *Session) paramName(raw []byte) (d paramDef, ok bool) {
	if d, ok := s.names[string(raw)]; ok {
		return d, true // validated when it was cached
	}
	if d, ok = knownParams[string(raw)]; !ok {
		if !validParamName(raw) {
			return paramDef{}, false
		}
		if d, ok = indexedParam(raw); !ok {
			d = paramDef{name: "custom." + string(raw)}
		}
	}
	if len(s.names) < maxNameCache {
		if s.names == nil {
			s.names = make(map[string]paramDef)
		}
		s.names[string(raw)] = d
	}
	return d, true
}
