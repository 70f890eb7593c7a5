package protocol

import (
	"iter"
	"slices"
	"strings"
)

// Param is one named parameter of a [Message].
type Param struct {
	Name  string
	Value Value
}

// Message is one telemetry message: an ordered set of flat parameters named
// as flespi names them ("timestamp", "ident", "position.latitude", …; see
// [Catalogue]). Order is the order in which parameters were first set and is
// kept through JSON, so encoding is deterministic.
//
// The zero Message is empty and ready to use. A Message is not safe for
// concurrent mutation; concurrent reads are safe.
type Message struct {
	params []Param
}

// Len returns the number of parameters.
func (m *Message) Len() int { return len(m.params) }

// Params returns the parameters in order. The slice aliases the message's
// storage: it is valid until the message is next modified and must not be
// modified by the caller.
func (m *Message) Params() []Param { return m.params }

// All iterates over the parameters in order.
func (m *Message) All() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		for _, p := range m.params {
			if !yield(p.Name, p.Value) {
				return
			}
		}
	}
}

// Reset removes every parameter and keeps the storage for reuse.
func (m *Message) Reset() {
	clear(m.params) // drop string references so they can be collected
	m.params = m.params[:0]
}

// Clone returns a deep copy whose storage is independent of m.
func (m *Message) Clone() Message {
	return Message{params: append([]Param(nil), m.params...)}
}

func (m *Message) index(name string) int {
	for i := range m.params {
		if m.params[i].Name == name {
			return i
		}
	}
	return -1
}

// Set sets the named parameter, replacing an existing value in place or
// appending a new parameter.
func (m *Message) Set(name string, v Value) {
	if i := m.index(name); i >= 0 {
		m.params[i].Value = v
		return
	}
	m.params = append(m.params, Param{Name: name, Value: v})
}

// Add appends a parameter without looking for an existing one of the same
// name. It is the fast path for decoders that set each name once: [Set]
// searches the message first, a cost that grows with every parameter.
// Adding a name the message already has makes its JSON repeat a key; use
// Set unless the names are known to be distinct.
func (m *Message) Add(name string, v Value) {
	if n := len(m.params); n < cap(m.params) {
		// Fill the slot in place: append would build the Param on the
		// stack and copy it, a cost decoders pay per parameter.
		m.params = m.params[:n+1]
		p := &m.params[n]
		p.Name, p.Value = name, v
		return
	}
	m.params = append(m.params, Param{Name: name, Value: v})
}

// Grow makes room for n more parameters, so that the next n calls to Add or
// Set do not allocate. A decoder that knows the parameter count allocates a
// message's storage once, at its size.
func (m *Message) Grow(n int) {
	if m.params == nil && n > 0 {
		m.params = make([]Param, 0, n) // the common case: a fresh message decoded at its size
		return
	}
	m.params = slices.Grow(m.params, n)
}

// SetFloat sets a float parameter.
func (m *Message) SetFloat(name string, f float64) { m.Set(name, Float(f)) }

// SetInt sets an integer parameter.
func (m *Message) SetInt(name string, i int64) { m.Set(name, Int(i)) }

// SetUint sets an unsigned integer parameter.
func (m *Message) SetUint(name string, u uint64) { m.Set(name, Uint(u)) }

// SetBool sets a boolean parameter.
func (m *Message) SetBool(name string, b bool) { m.Set(name, Bool(b)) }

// SetString sets a string parameter.
func (m *Message) SetString(name, s string) { m.Set(name, String(s)) }

// Delete removes the named parameter, keeping the order of the others. It
// reports whether the parameter was present.
func (m *Message) Delete(name string) bool {
	i := m.index(name)
	if i < 0 {
		return false
	}
	copy(m.params[i:], m.params[i+1:])
	m.params[len(m.params)-1] = Param{}
	m.params = m.params[:len(m.params)-1]
	return true
}

// Retain keeps the parameters for which keep returns true, in order, and
// removes the others without allocating.
func (m *Message) Retain(keep func(p *Param) bool) {
	n := 0
	for i := range m.params {
		if keep(&m.params[i]) {
			m.params[n] = m.params[i]
			n++
		}
	}
	clear(m.params[n:])
	m.params = m.params[:n]
}

// Lookup returns the named parameter's value.
func (m *Message) Lookup(name string) (Value, bool) {
	if i := m.index(name); i >= 0 {
		return m.params[i].Value, true
	}
	return Value{}, false
}

// Has reports whether the named parameter is present.
func (m *Message) Has(name string) bool { return m.index(name) >= 0 }

// Float returns a numeric parameter as float64; ok is false when it is
// missing or not a number.
func (m *Message) Float(name string) (f float64, ok bool) {
	v, _ := m.Lookup(name)
	return v.Float()
}

// Int returns a whole-number parameter as int64; ok is false when it is
// missing or not a whole number.
func (m *Message) Int(name string) (i int64, ok bool) {
	v, _ := m.Lookup(name)
	return v.Int()
}

// Bool returns a boolean parameter; ok is false when it is missing or not a
// boolean.
func (m *Message) Bool(name string) (b, ok bool) {
	v, _ := m.Lookup(name)
	return v.Bool()
}

// Str returns a string parameter; ok is false when it is missing or not a
// string.
func (m *Message) Str(name string) (s string, ok bool) {
	v, _ := m.Lookup(name)
	return v.Str()
}

// Ident returns the device identifier ("ident"), or "" when absent.
func (m *Message) Ident() string {
	s, _ := m.Str(ParamIdent)
	return s
}

// Timestamp returns the device time ("timestamp") in Unix seconds with a
// fractional part; ok is false when it is absent.
func (m *Message) Timestamp() (float64, bool) { return m.Float(ParamTimestamp) }

// Equal reports whether m and o hold the same parameters in the same order
// with equal values.
func (m *Message) Equal(o *Message) bool {
	if len(m.params) != len(o.params) {
		return false
	}
	for i := range m.params {
		if m.params[i].Name != o.params[i].Name || !m.params[i].Value.Equal(o.params[i].Value) {
			return false
		}
	}
	return true
}

// String returns the message's JSON encoding.
func (m *Message) String() string { return string(m.AppendJSON(nil)) }

// AppendJSON appends the message's JSON object encoding to dst. It allocates
// nothing beyond growing dst.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i, p := range m.params {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, p.Name)
		dst = append(dst, ':')
		dst = p.Value.AppendJSON(dst)
	}
	return append(dst, '}')
}

// MarshalJSON implements json.Marshaler.
func (m Message) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// validName reports whether name can be a parameter name: non-empty, printable
// and without the characters that MQTT topics and flespi reserve.
func validName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
