package osmand

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"unsafe"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textfield"
	"github.com/tidwall/gjson"
)

// The JSON body is read in one pass that validates it as it goes (the
// grammar gjson.Valid accepts) and decodes the locations it meets, rather
// than validating first and then walking each nested object again: a
// Traccar Client body costs one scan instead of four.

// DecodeJSON decodes the JSON body of Traccar Client 8+ (the
// background-geolocation form): {"device_id": …, "location": {…}} or a
// batch with "location": [{…}, …], one message per location. The body is
// copied once; the strings messages keep point into the copy. On an error
// r holds no message from the body.
func (c *Codec) DecodeJSON(body []byte, r *protocol.Result) error {
	d := jsonDecoder{c: c, r: r, first: len(r.Messages), s: string(body)}
	i := jsonSpace(d.s, 0)
	ok := false
	if i < len(d.s) {
		if d.s[i] == '{' {
			i, ok = d.object(i, d.top)
		} else {
			_, i, ok = d.value(i)
		}
		if ok {
			i = jsonSpace(d.s, i)
			ok = i == len(d.s)
		}
	}
	var err error
	var ident string
	switch {
	case !ok:
		err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "body is not JSON")
	case d.id.kind != jString && d.id.kind != jNumber:
		err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "no device_id")
	default:
		if ident = d.id.String(); !validIdent(ident) {
			err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "device_id is not a device identifier")
		} else if d.locKind != jObject && d.locKind != jArray {
			err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "no location object")
		} else {
			err = d.err
		}
	}
	if err != nil {
		d.dropLocations()
		return err
	}
	for k := 0; k < d.nlocs; k++ {
		l := d.loc(k)
		d.finish(&r.Messages[l.msg], *l, ident)
	}
	r.Ident = ident
	return nil
}

// JSON value kinds (0: absent).
const (
	jNull byte = iota + 1
	jFalse
	jTrue
	jNumber
	jString
	jObject
	jArray
)

// jv is one JSON value of the body.
type jv struct {
	kind byte
	at   int    // offset of the value in the body
	raw  string // the value as written (a string with its quotes)
	str  string // a string's text, unescaped
}

// num is a number's value, as strconv.ParseFloat reads it (±Inf when out
// of range); plain decimals are read in place.
func (v jv) num() float64 {
	if f, ok := textfield.Decimal(unsafe.Slice(unsafe.StringData(v.raw), len(v.raw))); ok {
		if f == 0 && v.raw[0] == '-' {
			return math.Copysign(0, -1) // as strconv reads "-0"
		}
		return f
	}
	f, _ := strconv.ParseFloat(v.raw, 64)
	return f
}

// String is the value as text, as gjson.Result.String gives it: a
// string's text, a whole number as written and other numbers formatted,
// "true"/"false", "" for null, objects and arrays as written.
func (v jv) String() string {
	switch v.kind {
	case jFalse:
		return "false"
	case jTrue:
		return "true"
	case jNumber:
		i := 0
		if v.raw[0] == '-' {
			i++
		}
		for ; i < len(v.raw); i++ {
			if v.raw[i] < '0' || v.raw[i] > '9' {
				return strconv.FormatFloat(v.num(), 'f', -1, 64)
			}
		}
		return v.raw
	case jString:
		return v.str
	case jObject, jArray:
		return v.raw
	}
	return ""
}

// location is what a location leaves for the end of the body: its
// message, its extras and whether it has an "alarm" key.
type location struct {
	msg    int
	extras jv
	alarm  bool
}

type jsonDecoder struct {
	c       *Codec
	r       *protocol.Result
	s       string // the body
	first   int    // r's first message from this body
	id      jv     // the last "device_id"
	locKind byte   // the kind of the last "location"
	err     error  // the first error in the locations: decoding stops, validation goes on
	// The locations read: the first few in place (a slice into the
	// decoder would move it to the heap), more in a slice.
	nlocs int
	locs  [4]location
	more  []location
}

func (d *jsonDecoder) loc(k int) *location {
	if k < len(d.locs) {
		return &d.locs[k]
	}
	return &d.more[k-len(d.locs)]
}

func (d *jsonDecoder) addLocation(l location) {
	if d.nlocs < len(d.locs) {
		d.locs[d.nlocs] = l
	} else {
		d.more = append(d.more, l)
	}
	d.nlocs++
}

// dropLocations removes the messages made so far (a later "location" key
// replaces an earlier one, as the last of a repeated key wins; an error
// leaves none).
func (d *jsonDecoder) dropLocations() {
	for i := d.first; i < len(d.r.Messages); i++ {
		d.r.Messages[i].Reset()
	}
	d.r.Messages = d.r.Messages[:d.first]
	d.nlocs, d.more = 0, d.more[:0]
	d.err = nil
}

// top handles a key of the top-level object.
func (d *jsonDecoder) top(key string, i int) (int, bool) {
	switch key {
	case "device_id":
		v, next, ok := d.value(i)
		d.id = v
		return next, ok
	case "location":
		d.dropLocations()
		i = jsonSpace(d.s, i)
		if i < len(d.s) {
			switch d.s[i] {
			case '{':
				d.locKind = jObject
				return d.location(i)
			case '[':
				d.locKind = jArray
				return d.array(i, func(_, i int) (int, bool) {
					if d.err == nil {
						if i = jsonSpace(d.s, i); i < len(d.s) && d.s[i] == '{' {
							return d.location(i)
						}
						d.err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "a location is not an object")
					}
					_, next, ok := d.value(i)
					return next, ok
				})
			}
		}
		v, next, ok := d.value(i)
		d.locKind = v.kind
		return next, ok
	}
	_, next, ok := d.value(i)
	return next, ok
}

// The slots of a location's message, in message order: they are reserved
// (Null) when the location starts, filled in place, and the empty ones
// dropped at the end.
const (
	slotIdent = iota
	slotTimestamp
	slotLatitude
	slotLongitude
	slotValid
	slotSpeed
	slotDirection
	slotAltitude
	slotAccuracy
	slotMoving
	slotOdometer
	slotBatteryLevel
	slotCharging
	slotEvent
	slotActivity
	slotMock
	slotAlarm
	slotSOS
	numSlots
)

// jsonNames are the slots' parameter names.
var jsonNames = [numSlots]string{
	slotIdent: protocol.ParamIdent, slotTimestamp: protocol.ParamTimestamp,
	slotLatitude: protocol.ParamLatitude, slotLongitude: protocol.ParamLongitude, slotValid: protocol.ParamValid,
	slotSpeed: protocol.ParamSpeed, slotDirection: protocol.ParamDirection, slotAltitude: protocol.ParamAltitude,
	slotAccuracy: paramAccuracy, slotMoving: paramMoving, slotOdometer: paramOdometer,
	slotBatteryLevel: paramBatteryLevel, slotCharging: paramCharging, slotEvent: paramEvent,
	slotActivity: paramActivity, slotMock: paramMock, slotAlarm: paramAlarm, slotSOS: paramSOS,
}

// location decodes the location object at i into a new message. After the
// first error it only validates.
func (d *jsonDecoder) location(i int) (int, bool) {
	loc := location{msg: len(d.r.Messages)}
	m := d.r.NewMessage()
	m.Grow(24)
	for _, name := range jsonNames {
		m.Add(name, protocol.Null())
	}
	slot := m.Params()[:numSlots] // a new message: the slots are its first parameters
	next, ok := d.object(i, func(key string, i int) (int, bool) {
		if d.err != nil {
			_, next, ok := d.value(i)
			return next, ok
		}
		switch key {
		case "coords":
			if i = jsonSpace(d.s, i); i < len(d.s) && d.s[i] == '{' {
				return d.coords(slot, i)
			}
		case "battery":
			if i = jsonSpace(d.s, i); i < len(d.s) && d.s[i] == '{' {
				return d.object(i, func(key string, i int) (int, bool) {
					v, next, ok := d.value(i)
					switch {
					case key == "level" && v.kind == jNumber:
						if f := v.num(); f >= 0 {
							slot[slotBatteryLevel].Value = protocol.Float(math.Round(f*1000) / 10) // 0–1
						}
					case key == "is_charging" && (v.kind == jTrue || v.kind == jFalse):
						slot[slotCharging].Value = protocol.Bool(v.kind == jTrue)
					}
					return next, ok
				})
			}
		case "activity":
			if i = jsonSpace(d.s, i); i < len(d.s) && d.s[i] == '{' {
				found := false // the first "type" counts, as gjson's Get finds it
				return d.object(i, func(key string, i int) (int, bool) {
					v, next, ok := d.value(i)
					if key == "type" && !found {
						found = true
						if v.kind == jString {
							slot[slotActivity].Value = protocol.String(strings.ToValidUTF8(v.str, "\uFFFD"))
						}
					}
					return next, ok
				})
			}
		}
		v, next, ok := d.value(i)
		if !ok {
			return next, false
		}
		switch key {
		case "timestamp":
			t, ok := parseTime(v.String())
			if !ok && !d.c.Lenient {
				d.err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "location timestamp is not an ISO 8601 time")
			} else if ok {
				slot[slotTimestamp].Value = t
			}
		case "is_moving":
			if v.kind == jTrue || v.kind == jFalse {
				slot[slotMoving].Value = protocol.Bool(v.kind == jTrue)
			}
		case "odometer":
			if v.kind == jNumber {
				if f := v.num(); f >= 0 {
					slot[slotOdometer].Value = protocol.Float(f / 1000) // m
				}
			}
		case "event":
			if v.kind == jString {
				slot[slotEvent].Value = protocol.String(strings.ToValidUTF8(v.str, "\uFFFD"))
			}
		case "mock":
			if v.kind == jTrue || v.kind == jFalse {
				slot[slotMock].Value = protocol.Bool(v.kind == jTrue)
			}
		case "alarm":
			loc.alarm = true
			if v.kind == jString {
				slot[slotAlarm].Value = protocol.String(strings.ToValidUTF8(v.str, "\uFFFD"))
				if strings.EqualFold(v.str, "sos") {
					slot[slotSOS].Value = protocol.Bool(true)
				}
			}
		case "extras":
			loc.extras = v
		}
		return next, true
	})
	d.addLocation(loc)
	return next, ok
}

// coords reads latitude, longitude, accuracy (m), speed (m/s; negative:
// unknown), heading (degrees; negative: unknown) and altitude (m) from the
// object at i.
func (d *jsonDecoder) coords(slot []protocol.Param, i int) (int, bool) {
	var lat, lon jv
	next, ok := d.object(i, func(key string, i int) (int, bool) {
		v, next, ok := d.value(i)
		if v.kind != jNumber {
			if key == "latitude" || key == "longitude" {
				lat = jv{} // not a number: refused below
			}
			return next, ok
		}
		switch key {
		case "latitude":
			lat = v
		case "longitude":
			lon = v
		case "speed":
			if f := v.num(); f >= 0 {
				slot[slotSpeed].Value = protocol.Float(f * 3.6)
			}
		case "heading":
			if f := v.num(); f >= 0 && f <= 360 {
				slot[slotDirection].Value = protocol.Float(f)
			}
		case "altitude":
			slot[slotAltitude].Value = protocol.Float(v.num())
		case "accuracy":
			if f := v.num(); f >= 0 {
				slot[slotAccuracy].Value = protocol.Float(f)
			}
		}
		return next, ok
	})
	if !ok {
		return next, false
	}
	var la, lo float64
	if lat.kind == jNumber && lon.kind == jNumber {
		la, lo = lat.num(), lon.num()
	}
	if lat.kind != jNumber || lon.kind != jNumber || la < -90 || la > 90 || lo < -180 || lo > 180 {
		if !d.c.Lenient {
			d.err = protocol.Errorf(Name, 0, protocol.ErrMalformed, "coords without a latitude and longitude")
		}
		return next, true
	}
	slot[slotLatitude].Value = protocol.Float(la)
	slot[slotLongitude].Value = protocol.Float(lo)
	slot[slotValid].Value = protocol.Bool(true)
	return next, true
}

// finish completes a location's message once the body is read: the
// ident, the empty slots dropped, then every extras entry as
// custom.<name> (an array's entries named by their index, as gjson's
// ForEach names them).
func (d *jsonDecoder) finish(m *protocol.Message, l location, ident string) {
	m.Params()[slotIdent].Value = protocol.String(ident)
	m.Retain(func(p *protocol.Param) bool { return !p.Value.IsNull() })
	add := func(key string, v jv) {
		if key == "alarm" && l.alarm || !validKey(key) {
			return
		}
		name := "custom." + key
		if m.Has(name) {
			return
		}
		switch v.kind {
		case jNumber:
			if i, e := strconv.ParseInt(v.raw, 10, 64); e == nil {
				m.Add(name, protocol.Int(i))
			} else {
				m.Add(name, protocol.Float(v.num()))
			}
		case jTrue, jFalse:
			m.Add(name, protocol.Bool(v.kind == jTrue))
		case jString:
			m.Add(name, protocol.String(strings.ToValidUTF8(v.str, "\uFFFD")))
		case jObject, jArray:
			m.Add(name, protocol.RawJSON(compactJSON(v.raw)))
		}
	}
	each := func(key string, i int) (int, bool) {
		v, next, ok := d.value(i)
		add(key, v)
		return next, ok
	}
	switch l.extras.kind {
	case jObject:
		d.object(l.extras.at, each)
	case jArray:
		d.array(l.extras.at, func(n, i int) (int, bool) { return each(strconv.Itoa(n), i) })
	}
}

// jsonSpace skips JSON whitespace from i.
func jsonSpace(s string, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// value reads and validates the value at i (after whitespace): objects
// and arrays are validated and kept as written.
func (d *jsonDecoder) value(i int) (jv, int, bool) {
	s := d.s
	i = jsonSpace(s, i)
	if i >= len(s) {
		return jv{}, i, false
	}
	v := jv{at: i}
	var ok bool
	switch c := s[i]; {
	case c == '{':
		v.kind = jObject
		i, ok = d.object(i, nil)
	case c == '[':
		v.kind = jArray
		i, ok = d.array(i, nil)
	case c == '"':
		v.kind = jString
		v.str, i, ok = jsonString(s, i)
	case c == '-' || c >= '0' && c <= '9':
		v.kind = jNumber
		i, ok = jsonNumber(s, i)
	case c == 't':
		v.kind = jTrue
		i, ok = jsonLiteral(s, i, "true")
	case c == 'f':
		v.kind = jFalse
		i, ok = jsonLiteral(s, i, "false")
	case c == 'n':
		v.kind = jNull
		i, ok = jsonLiteral(s, i, "null")
	}
	if !ok {
		return jv{}, i, false
	}
	v.raw = s[v.at:i]
	return v, i, true
}

// object walks the object at i (s[i] == '{'), calling field, when not
// nil, with each key and the offset of its value; field returns the offset
// after the value. It returns the offset after the object.
func (d *jsonDecoder) object(i int, field func(key string, i int) (int, bool)) (int, bool) {
	s := d.s
	i = jsonSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return i, false
		}
		// A key is most often plain: read it here, the rest by jsonString.
		var key string
		var ok bool
		j := plainRun(s, i+1)
		if j < len(s) && s[j] == '"' {
			key, i = s[i+1:j], j+1
		} else {
			if key, i, ok = jsonString(s, i); !ok {
				return i, false
			}
		}
		if i < len(s) && s[i] != ':' {
			i = jsonSpace(s, i)
		}
		if i >= len(s) || s[i] != ':' {
			return i, false
		}
		if field != nil {
			i, ok = field(key, i+1)
		} else {
			_, i, ok = d.value(i + 1)
		}
		if !ok {
			return i, false
		}
		i = jsonSpace(s, i)
		if i >= len(s) {
			return i, false
		}
		switch s[i] {
		case '}':
			return i + 1, true
		case ',':
			i = jsonSpace(s, i+1)
		default:
			return i, false
		}
	}
}

// array walks the array at i (s[i] == '['), calling elem, when not nil,
// with each element's index and offset.
func (d *jsonDecoder) array(i int, elem func(n, i int) (int, bool)) (int, bool) {
	s := d.s
	i = jsonSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1, true
	}
	for n := 0; ; n++ {
		var ok bool
		if elem != nil {
			i, ok = elem(n, i)
		} else {
			_, i, ok = d.value(i)
		}
		if !ok {
			return i, false
		}
		i = jsonSpace(s, i)
		if i >= len(s) {
			return i, false
		}
		switch s[i] {
		case ']':
			return i + 1, true
		case ',':
			i++
		default:
			return i, false
		}
	}
}

// jsonString reads the string at i (s[i] == '"'): its text and the offset
// after it. Control characters are refused, escapes checked; a string
// with escapes is unescaped by gjson, as before.
func jsonString(s string, i int) (string, int, bool) {
	start := i
	esc := false
	for i++; i < len(s); i++ {
		i = plainRun(s, i)
		if i >= len(s) {
			break
		}
		switch c := s[i]; {
		case c < ' ':
			return "", i, false
		case c == '\\':
			esc = true
			i++
			if i >= len(s) {
				return "", i, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for range 4 {
					i++
					if i >= len(s) || !isHex(s[i]) {
						return "", i, false
					}
				}
			default:
				return "", i, false
			}
		case c == '"':
			if esc {
				return gjson.Parse(s[start : i+1]).Str, i + 1, true
			}
			return s[start+1 : i], i + 1, true
		}
	}
	return "", i, false
}

// plainRun returns the offset of the first byte from i that a string
// does not hold as it is (a quote, a backslash, a control character), or
// len(s). It tests eight bytes at a time: the lowest byte the test flags
// is always a true match (a borrow only carries upwards).
func plainRun(s string, i int) int {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:])
		q, bs := x^(ones*'"'), x^(ones*'\\')
		if m := ((x-ones*' ')&^x | (q-ones)&^q | (bs-ones)&^bs) & highs; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
		i += 8
	}
	for i < len(s) && plain[s[i]] {
		i++
	}
	return i
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain marks the bytes a string holds as they are: not a quote, a
// backslash or a control character.
var plain = func() (t [256]bool) {
	for c := ' '; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// jsonNumber reads the number at i: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber(s string, i int) (int, bool) {
	if s[i] == '-' {
		i++
	}
	if i >= len(s) || s[i] < '0' || s[i] > '9' {
		return i, false
	}
	if s[i] == '0' {
		i++
	} else {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return i, false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return i, false
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	return i, true
}

func jsonLiteral(s string, i int, lit string) (int, bool) {
	if strings.HasPrefix(s[i:], lit) {
		return i + len(lit), true
	}
	return i, false
}
