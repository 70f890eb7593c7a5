package filter

import (
	"math"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// Kind is the type of a [Value].
type Kind uint8

// The kinds of values an expression produces. Every number is a float64, as
// in flespi ("integers are limited to 53 bits").
const (
	KindNull   Kind = iota // null (a missing $parameter)
	KindBool               // true or false
	KindNumber             // a float64
	KindString             // a string
	KindJSON               // a JSON object or array, as raw text
	KindError              // an evaluation error; false in a boolean context
)

var kindNames = [...]string{"null", "boolean", "number", "string", "json", "error"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// errCode says why a value is an error. The reason text is built only when
// someone asks for it, so an error costs no allocation on the hot path.
type errCode uint8

const (
	errNone       errCode = iota
	errMissing            // str: parameter name
	errDivZero            //
	errType               // str: operation
	errUser               // error() called
	errArgs               // str: function name
	errIndex              // str: detail
	errFunc               // str: message from a custom function
	errNotBoolean         // str: what
	errBudget             // the step budget ran out
)

// Value is the result of an expression or a parameter's value. The zero
// Value is null. Values are small, passed by value, and never allocate
// except for strings the caller owns.
type Value struct {
	kind Kind
	code errCode
	pos  int32 // error: byte offset of the failing node
	num  float64
	str  string // string, raw JSON, or error detail
}

// Null returns the null value.
func Null() Value { return Value{} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, num: 1}
	}
	return Value{kind: KindBool}
}

// Number returns a number value.
func Number(f float64) Value { return Value{kind: KindNumber, num: f} }

// String returns a string value.
func String(s string) Value { return Value{kind: KindString, str: s} }

// JSON returns a value holding a raw JSON object or array. The text is not
// validated here; functions that look inside it treat bad JSON as an error.
func JSON(raw string) Value { return Value{kind: KindJSON, str: raw} }

// Errorf returns an error value with the given reason, for custom functions.
func Errorf(reason string) Value { return Value{kind: KindError, code: errFunc, str: reason} }

func errVal(code errCode, detail string, pos int32) Value {
	return Value{kind: KindError, code: code, str: detail, pos: pos}
}

// Kind reports the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// IsError reports whether v is an evaluation error.
func (v Value) IsError() bool { return v.kind == KindError }

// Float returns a number; ok is false for other kinds.
func (v Value) Float() (f float64, ok bool) { return v.num, v.kind == KindNumber }

// Bool returns a boolean; ok is false for other kinds.
func (v Value) Bool() (b, ok bool) { return v.num != 0, v.kind == KindBool }

// Str returns a string; ok is false for other kinds.
func (v Value) Str() (s string, ok bool) { return v.str, v.kind == KindString }

// Raw returns the raw JSON text of an object or array; ok is false for other
// kinds.
func (v Value) Raw() (s string, ok bool) { return v.str, v.kind == KindJSON }

// Truth is the value in a boolean context (filters, selectors, validators):
// a non-zero number or true is true; zero, false, null, strings, JSON and
// errors are false.
func (v Value) Truth() bool {
	return (v.kind == KindNumber || v.kind == KindBool) && v.num != 0 && !math.IsNaN(v.num)
}

// Err returns the evaluation error a value carries, or nil.
func (v Value) Err() error {
	if v.kind != KindError {
		return nil
	}
	e := &EvalError{Offset: int(v.pos), Reason: v.reason()}
	if v.code == errBudget {
		e.Err = ErrBudget
	}
	return e
}

func (v Value) reason() string {
	switch v.code {
	case errMissing:
		return "parameter '" + v.str + "' not found"
	case errDivZero:
		return "division by zero"
	case errType:
		return "incompatible types in " + v.str
	case errUser:
		return "error() called"
	case errArgs:
		return "bad arguments to " + v.str + "()"
	case errIndex:
		return v.str
	case errNotBoolean:
		return v.str
	case errBudget:
		return "evaluation over its step budget"
	}
	if v.str != "" {
		return v.str
	}
	return "error"
}

// Equal reports whether v and w are the same value (errors compare by
// reason, NaN equals NaN).
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case KindNull:
		return true
	case KindBool, KindNumber:
		return v.num == w.num || math.IsNaN(v.num) && math.IsNaN(w.num)
	case KindError:
		return v.reason() == w.reason()
	}
	return v.str == w.str
}

// String returns v as JSON text; an error reads {"error":"reason"}.
func (v Value) String() string { return string(v.AppendJSON(nil)) }

// AppendJSON appends v's JSON encoding to dst. NaN and infinities are null;
// an error is {"error":"reason"}.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.kind {
	case KindBool:
		return strconv.AppendBool(dst, v.num != 0)
	case KindNumber:
		return protocol.AppendJSONFloat(dst, v.num)
	case KindString:
		return protocol.AppendJSONString(dst, v.str)
	case KindJSON:
		return append(dst, v.str...)
	case KindError:
		dst = append(dst, `{"error":`...)
		dst = protocol.AppendJSONString(dst, v.reason())
		return append(dst, '}')
	}
	return append(dst, "null"...)
}
