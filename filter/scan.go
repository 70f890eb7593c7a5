package filter

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// This file is a small JSON scanner that finds members of an object without
// unmarshalling it. It never allocates unless a string holds escapes, and it
// never panics or loops on malformed input: a malformed document simply has
// fewer members.

// bytesString views b as a string without copying. The caller must not let
// the string outlive b or see b change.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func skipSpace(d string, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the closing quote of the string that
// starts at d[i] == '"', and whether it held a backslash; -1 if unterminated.
func skipString(d string, i int) (int, bool) {
	e, esc := scanString(d, i+1)
	if e < 0 {
		return -1, esc
	}
	return e + 1, esc
}

// skipValue returns the index after the JSON value starting at d[i], or -1.
// Containers are skipped by counting brackets; strings inside are honoured.
func skipValue(d string, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		j, _ := skipString(d, i)
		return j
	case '{', '[':
		return skipContainer(d, i)
	}
	j := i
	for j < len(d) && !scalarEnd[d[j]] {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

// skipContainer skips the object or array at d[i], jumping eight bytes at a
// time to the next quote or bracket.
func skipContainer(d string, i int) int {
	depth := 0
	for i < len(d) {
		for i+8 <= len(d) {
			w := load64(d, i)
			m := hasByte(w, '"') | hasByte(w, '{') | hasByte(w, '}') | hasByte(w, '[') | hasByte(w, ']')
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
			break
		}
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case '"':
			e, _ := scanString(d, i+1)
			if e < 0 {
				return -1
			}
			i = e + 1
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
			if depth <= 0 {
				return i
			}
		default:
			i++
		}
	}
	return -1
}

// load64 reads d[i:i+8] as a little-endian word; the caller guarantees
// i+8 <= len(d), so no bounds check is spent here.
func load64(d string, i int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(d)), i))[:])
}

// member is one object member found by forEachMember.
type objIter struct {
	d string
	i int
}

// newObjIter starts iterating the members of the object in d; ok is false
// when d is not an object.
func newObjIter(d string) (objIter, bool) {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '{' {
		return objIter{}, false
	}
	return objIter{d: d, i: i + 1}, true
}

// next returns the next member: its raw key (without quotes, escapes kept),
// whether the key has escapes, and the raw value. ok is false at the end or
// on malformed input.
func (it *objIter) next() (key string, keyEsc bool, val string, ok bool) {
	d := it.d
	i := skipSpace(d, it.i)
	if i < len(d) && d[i] == ',' {
		i = skipSpace(d, i+1)
	}
	if i >= len(d) || d[i] != '"' {
		it.i = len(d)
		return "", false, "", false
	}
	j, esc := skipString(d, i)
	if j < 0 {
		it.i = len(d)
		return "", false, "", false
	}
	key = d[i+1 : j-1]
	i = skipSpace(d, j)
	if i >= len(d) || d[i] != ':' {
		it.i = len(d)
		return "", false, "", false
	}
	i = skipSpace(d, i+1)
	e := skipValue(d, i)
	if e < 0 {
		it.i = len(d)
		return "", false, "", false
	}
	it.i = e
	return key, esc, d[i:e], true
}

// arrIter iterates the elements of a JSON array.
type arrIter struct {
	d     string
	i     int
	first bool
}

func newArrIter(d string) (arrIter, bool) {
	i := skipSpace(d, 0)
	if i >= len(d) || d[i] != '[' {
		return arrIter{}, false
	}
	return arrIter{d: d, i: i + 1, first: true}, true
}

func (it *arrIter) next() (string, bool) {
	d := it.d
	i := skipSpace(d, it.i)
	if i < len(d) && d[i] == ',' && !it.first {
		i = skipSpace(d, i+1)
	}
	it.first = false
	if i >= len(d) || d[i] == ']' {
		it.i = len(d)
		return "", false
	}
	e := skipValue(d, i)
	if e < 0 {
		it.i = len(d)
		return "", false
	}
	it.i = e
	return d[i:e], true
}

// keyEquals compares a raw JSON key with a name; escaped keys are decoded.
func keyEquals(raw string, esc bool, name string) bool {
	if !esc {
		return raw == name
	}
	return unquote(raw) == name
}

// unquote decodes the body of a JSON string (without its quotes). Invalid
// escapes are kept as they are.
func unquote(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 32); err == nil {
					r1 := rune(r)
					i += 4
					if 0xd800 <= r1 && r1 < 0xdc00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
						if r2, err := strconv.ParseUint(s[i+3:i+7], 16, 32); err == nil && 0xdc00 <= r2 && r2 < 0xe000 {
							r1 = (r1-0xd800)<<10 | (rune(r2) - 0xdc00) + 0x10000
							i += 6
						}
					}
					b = utf8.AppendRune(b, r1)
					continue
				}
			}
			b = append(b, '\\', 'u')
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

// rawValue converts one raw JSON value into a Value. Strings without escapes
// alias raw. Malformed scalars are errors.
func rawValue(raw string) Value {
	var v Value
	setRawValue(&v, raw)
	return v
}

// setRawValue stores rawValue(raw) in *v field by field. The single pass
// fills its slots with it: a Value returned and then copied is written in
// small pieces and read back in 16-byte ones, which stalls store forwarding
// on every copy.
func setRawValue(v *Value, raw string) {
	v.code, v.pos, v.num, v.str = 0, 0, 0, ""
	if raw == "" {
		v.kind, v.code, v.str = KindError, errIndex, "malformed JSON"
		return
	}
	switch raw[0] {
	case '"':
		if len(raw) < 2 {
			break
		}
		body := raw[1 : len(raw)-1]
		v.kind, v.str = KindString, body
		for i := 0; i < len(body); i++ {
			if body[i] == '\\' {
				v.str = unquote(body)
				break
			}
		}
		return
	case '{', '[':
		v.kind, v.str = KindJSON, raw
		return
	case 't':
		if raw == "true" {
			v.kind, v.num = KindBool, 1
			return
		}
	case 'f':
		if raw == "false" {
			v.kind = KindBool
			return
		}
	case 'n':
		if raw == "null" {
			v.kind = KindNull
			return
		}
	default:
		if f, ok := parseShortDecimal(raw); ok {
			v.kind, v.num = KindNumber, f
			return
		}
		if f, err := strconv.ParseFloat(raw, 64); err == nil || isRangeErr(err) {
			v.kind, v.num = KindNumber, f
			return
		}
	}
	v.kind, v.code, v.str = KindError, errIndex, "malformed JSON"
}

// parseShortDecimal parses the common JSON number -?d+(.d+)? with at most
// 15 digits, the case strconv.ParseFloat also answers exactly with one
// division (both the digits and the power of ten are exact float64s, and
// IEEE division rounds correctly). ok is false for anything else.
func parseShortDecimal(s string) (float64, bool) {
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if s == "" || len(s) > 16 {
		return 0, false
	}
	var m uint64
	frac, digits, dot := 0, 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
		case c == '.' && dot < 0 && i > 0 && i < len(s)-1:
			dot = i
		default:
			return 0, false
		}
	}
	if digits > 15 {
		return 0, false
	}
	if dot >= 0 {
		frac = len(s) - dot - 1
	}
	f := float64(m) / pow10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// pow10 holds the powers of ten up to 10^15, all exact in a float64.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// lookupFlat finds the member named name (literally, dots included) of the
// object in d.
func lookupFlat(d, name string) (string, bool) {
	it, ok := newObjIter(d)
	if !ok {
		return "", false
	}
	for {
		k, esc, v, ok := it.next()
		if !ok {
			return "", false
		}
		if keyEquals(k, esc, name) {
			return v, true
		}
	}
}

// lookupPath resolves a dotted path in the object d. Members are tried in
// document order: one named by the whole path is the answer; one named by a
// prefix up to a dot, whose value is an object (or an array, indexed by the
// next segment), is searched for the rest. The first member that resolves
// wins. So "configuration.ident" reaches {"configuration":{"ident":…}} and
// "telemetry.position.speed" reaches {"telemetry":{"position.speed":…}}.
// Each byte is scanned at most once per dot in path.
func lookupPath(d, path string) (string, bool) {
	i := skipSpace(d, 0)
	if i < len(d) && d[i] == '[' {
		return lookupArrayPath(d, path)
	}
	it, ok := newObjIter(d)
	if !ok {
		return "", false
	}
	for {
		k, esc, v, ok := it.next()
		if !ok {
			return "", false
		}
		if esc {
			k = unquote(k)
		}
		if k == path {
			return v, true
		}
		if len(k) < len(path) && path[len(k)] == '.' && path[:len(k)] == k && (v[0] == '{' || v[0] == '[') {
			if r, ok := lookupPath(v, path[len(k)+1:]); ok {
				return r, true
			}
		}
	}
}

// lookupArrayPath indexes an array by the path's first segment.
func lookupArrayPath(d, path string) (string, bool) {
	seg, rest, more := cut(path, '.')
	n, err := strconv.Atoi(seg)
	if err != nil || n < 0 {
		return "", false
	}
	it, _ := newArrIter(d)
	for i := 0; ; i++ {
		v, ok := it.next()
		if !ok {
			return "", false
		}
		if i == n {
			if !more {
				return v, true
			}
			return lookupPath(v, rest)
		}
	}
}

func cut(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// EachPath calls fn with each value that path reaches in the JSON object
// obj, in document order, until fn returns false. Path resolution is that of
// [Expr.EvalObject] (members are tried in document order; one named by the
// whole remaining path, or by a prefix up to a dot whose value resolves the
// rest; the first that resolves wins), except that an array met on the way
// fans out to each element, and an array at the end yields each element:
// "groups.id" reaches every group's id. A number segment still indexes an
// array ("groups.0.id").
//
// Values are only valid during the call: strings may alias obj. EachPath
// reports whether path reached anything; it never allocates unless a key or
// string holds escapes.
func EachPath(obj []byte, path string, fn func(Value) bool) bool {
	found, _ := eachPath(bytesString(obj), path, 0, fn)
	return found
}

// eachPath reports whether path reached a value, and whether to go on
// (false when fn asked to stop).
func eachPath(d, path string, depth int, fn func(Value) bool) (found, cont bool) {
	if depth > 32 {
		return false, true
	}
	i := skipSpace(d, 0)
	if i >= len(d) {
		return false, true
	}
	switch d[i] {
	case '[':
		it, _ := newArrIter(d)
		seg, rest, more := cut(path, '.')
		if n, err := strconv.Atoi(seg); err == nil && n >= 0 {
			for j := 0; ; j++ {
				v, ok := it.next()
				if !ok {
					return false, true
				}
				if j == n {
					if !more {
						return true, fn(rawValue(v))
					}
					return eachPath(v, rest, depth+1, fn)
				}
			}
		}
		for {
			v, ok := it.next()
			if !ok {
				return found, true
			}
			f, c := eachPath(v, path, depth+1, fn)
			found = found || f
			if !c {
				return found, false
			}
		}
	case '{':
		it, _ := newObjIter(d)
		for {
			k, esc, v, ok := it.next()
			if !ok {
				return false, true
			}
			if esc {
				k = unquote(k)
			}
			if k == path {
				if j := skipSpace(v, 0); j < len(v) && v[j] == '[' {
					ait, _ := newArrIter(v)
					for {
						e, ok := ait.next()
						if !ok {
							return true, true
						}
						if !fn(rawValue(e)) {
							return true, false
						}
					}
				}
				return true, fn(rawValue(v))
			}
			if len(k) < len(path) && path[len(k)] == '.' && path[:len(k)] == k && (v[0] == '{' || v[0] == '[') {
				if f, c := eachPath(v, path[len(k)+1:], depth+1, fn); f || !c {
					return f, c
				}
			}
		}
	}
	return false, true
}

// scalarEnd marks the bytes that end a number or literal in JSON.
var scalarEnd = func() (t [256]bool) {
	for _, c := range ",}] \t\r\n" {
		t[c] = true
	}
	for c := range 0x20 {
		t[c] = true
	}
	return t
}()

// scanString finds the closing quote of the string whose body starts at
// d[i]; it returns its index (or -1) and whether the body has escapes. It
// reads eight bytes at a time (SWAR): typical keys and values are 5-30 bytes,
// too short for IndexByte's call overhead to pay off.
func scanString(d string, i int) (int, bool) {
	esc := false
	for {
		for i+8 <= len(d) {
			m := hasByte(load64(d, i), '"') | hasByte(load64(d, i), '\\')
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
			break
		}
		for i < len(d) && d[i] != '"' && d[i] != '\\' {
			i++
		}
		if i >= len(d) {
			return -1, esc
		}
		if d[i] == '"' {
			return i, esc
		}
		esc = true
		i += 2 // skip the escaped byte
	}
}

// hasByte has the high bit set in each byte of x equal to c, exact for the
// lowest such byte (higher ones may be false positives, never used).
func hasByte(x uint64, c byte) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	y := x ^ (lo * uint64(c))
	return (y - lo) &^ y & hi
}
