package protocol

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// Kind is the type of a [Value].
type Kind uint8

// The kinds of parameter values. Numbers keep their integer-ness so that a
// 64-bit counter or identifier survives a round trip through JSON exactly.
const (
	KindNull   Kind = iota // JSON null
	KindBool               // true or false
	KindInt                // a signed integer (int64)
	KindUint               // an unsigned integer above math.MaxInt64 fits here
	KindFloat              // a float64
	KindString             // a UTF-8 string; binary data is carried as lowercase hex
	KindJSON               // a JSON object or array, kept as compact raw text
)

var kindNames = [...]string{"null", "bool", "int", "uint", "float", "string", "json"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one parameter value. The zero Value is null. Values are small and
// are passed by value; making one never allocates except for the string a
// caller already owns.
type Value struct {
	kind Kind
	bits uint64 // bool, int64, uint64 or float64 bits
	str  string // string or raw JSON
}

// Null returns the null value.
func Null() Value { return Value{} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	v := Value{kind: KindBool}
	if b {
		v.bits = 1
	}
	return v
}

// Int returns an integer value.
func Int(i int64) Value { return Value{kind: KindInt, bits: uint64(i)} }

// Uint returns an unsigned integer value. Values that fit in an int64 are
// stored as [KindInt] so that equal numbers have equal kinds.
func Uint(u uint64) Value {
	if u <= math.MaxInt64 {
		return Value{kind: KindInt, bits: u}
	}
	return Value{kind: KindUint, bits: u}
}

// Float returns a floating-point value. NaN and infinities cannot be written
// as JSON and encode as null.
func Float(f float64) Value { return Value{kind: KindFloat, bits: math.Float64bits(f)} }

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, str: s} }

// RawJSON returns a value holding a JSON object or array. The text is taken
// as it is; [Message.UnmarshalJSON] compacts what it reads so that encoding
// stays deterministic.
func RawJSON(s string) Value { return Value{kind: KindJSON, str: s} }

// Kind reports the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// IsNumber reports whether v is an int, uint or float.
func (v Value) IsNumber() bool {
	return v.kind == KindInt || v.kind == KindUint || v.kind == KindFloat
}

// Bool returns v as a boolean; ok is false unless v is a bool.
func (v Value) Bool() (b, ok bool) { return v.bits != 0, v.kind == KindBool }

// Float returns v as a float64; ok is false unless v is a number.
func (v Value) Float() (float64, bool) {
	switch v.kind {
	case KindInt:
		return float64(int64(v.bits)), true
	case KindUint:
		return float64(v.bits), true
	case KindFloat:
		return math.Float64frombits(v.bits), true
	}
	return 0, false
}

// Int returns v as an int64; ok is false unless v is a number that is a whole
// number within int64's range.
func (v Value) Int() (int64, bool) {
	switch v.kind {
	case KindInt:
		return int64(v.bits), true
	case KindFloat:
		f := math.Float64frombits(v.bits)
		if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
			return int64(f), true
		}
	}
	return 0, false
}

// Uint returns v as a uint64; ok is false unless v is a non-negative whole
// number within uint64's range.
func (v Value) Uint() (uint64, bool) {
	switch v.kind {
	case KindInt:
		if int64(v.bits) >= 0 {
			return v.bits, true
		}
	case KindUint:
		return v.bits, true
	case KindFloat:
		f := math.Float64frombits(v.bits)
		if f == math.Trunc(f) && f >= 0 && f < math.MaxUint64 {
			return uint64(f), true
		}
	}
	return 0, false
}

// Str returns v as a string; ok is false unless v is a string.
func (v Value) Str() (string, bool) { return v.str, v.kind == KindString }

// JSON returns the raw JSON text of an object or array value; ok is false
// for other kinds.
func (v Value) JSON() (string, bool) { return v.str, v.kind == KindJSON }

// Equal reports whether v and w are the same value. Numbers compare by value
// across int, uint and float kinds.
func (v Value) Equal(w Value) bool {
	if v.IsNumber() && w.IsNumber() {
		if v.kind != KindFloat && w.kind != KindFloat {
			return v.kind == w.kind && v.bits == w.bits
		}
		a, _ := v.Float()
		b, _ := w.Float()
		return a == b
	}
	return v.kind == w.kind && v.bits == w.bits && v.str == w.str
}

// String formats v as its JSON text.
func (v Value) String() string { return string(v.AppendJSON(nil)) }

// AppendJSON appends v's JSON encoding to dst.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case KindBool:
		return strconv.AppendBool(dst, v.bits != 0)
	case KindInt:
		return strconv.AppendInt(dst, int64(v.bits), 10)
	case KindUint:
		return strconv.AppendUint(dst, v.bits, 10)
	case KindFloat:
		return AppendJSONFloat(dst, math.Float64frombits(v.bits))
	case KindString:
		return AppendJSONString(dst, v.str)
	case KindJSON:
		return append(dst, v.str...)
	}
	return append(dst, "null"...)
}

// appendFloat writes f the way ECMAScript (and encoding/json) does, so that
// output is stable and familiar; NaN and infinities become null.
func AppendJSONFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9 as ECMAScript does.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. HTML-significant characters are
// left alone (unlike encoding/json): messages are data, not markup.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c < 0x80 {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
