package protocol

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// MaxNameLen bounds a parameter name read from JSON.
const MaxNameLen = 1024

// UnmarshalJSON implements json.Unmarshaler. It replaces m's parameters with
// the members of a JSON object, in document order. Integers that fit int64 or
// uint64 stay integers; objects and arrays are kept as compact raw JSON. A
// repeated key keeps its first position and its last value.
func (m *Message) UnmarshalJSON(data []byte) error {
	m.Reset()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%w: message must be a JSON object", ErrMalformed)
	}
	var raw json.RawMessage
	for dec.More() {
		tok, err = dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		name, _ := tok.(string)
		if !validName(name) {
			return fmt.Errorf("%w: bad parameter name %q", ErrMalformed, name)
		}
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%w: parameter %q: %v", ErrMalformed, name, err)
		}
		v, err := ParseValueJSON(raw)
		if err != nil {
			return fmt.Errorf("parameter %q: %w", name, err)
		}
		m.Set(name, v)
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the message object", ErrMalformed)
	}
	return nil
}

// ParseValueJSON converts one JSON value to a [Value].
func ParseValueJSON(raw []byte) (Value, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return Value{}, fmt.Errorf("%w: empty JSON value", ErrMalformed)
	}
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return Null(), nil
		}
	case 't':
		if string(raw) == "true" {
			return Bool(true), nil
		}
	case 'f':
		if string(raw) == "false" {
			return Bool(false), nil
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return Value{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return String(s), nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return Value{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return RawJSON(b.String()), nil
	default:
		return parseNumber(string(raw))
	}
	return Value{}, fmt.Errorf("%w: bad JSON value %.20q", ErrMalformed, raw)
}

func parseNumber(s string) (Value, error) {
	if !json.Valid([]byte(s)) {
		return Value{}, fmt.Errorf("%w: bad JSON number %.20q", ErrMalformed, s)
	}
	isInt := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			isInt = false
			break
		}
	}
	if isInt {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return Int(i), nil
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return Uint(u), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return Value{}, fmt.Errorf("%w: number %.20q out of range", ErrMalformed, s)
	}
	return Float(f), nil
}

// MarshalMessages encodes messages as a JSON array, deterministically.
func MarshalMessages(msgs []Message) []byte {
	dst := []byte{'['}
	for i := range msgs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = msgs[i].AppendJSON(dst)
	}
	return append(dst, ']')
}

// UnmarshalMessages decodes a JSON array of message objects, or one object.
func UnmarshalMessages(data []byte) ([]Message, error) {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var m Message
		if err := m.UnmarshalJSON(data); err != nil {
			return nil, err
		}
		return []Message{m}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, fmt.Errorf("%w: want a JSON array of messages or one object: %v", ErrMalformed, err)
	}
	msgs := make([]Message, len(raws))
	for i, raw := range raws {
		if err := msgs[i].UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
	}
	return msgs, nil
}
