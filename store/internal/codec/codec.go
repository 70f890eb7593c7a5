// Package codec is the compact binary form in which durable engines keep a
// protocol.Message. It is faster to decode than JSON (a consumer reads
// millions of records a second) and keeps every value exactly: kinds, 64-bit
// integers, float bits.
//
// Layout: version byte 1, uvarint parameter count, then per parameter a
// uvarint name length, the name, a kind byte and the value: nothing (null),
// one byte (bool), zig-zag varint (int), uvarint (uint), 8 bytes little
// endian (float), uvarint length and bytes (string, raw JSON).
package codec

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

const version = 1

// Errors returned by Decode.
var (
	ErrTruncated = errors.New("codec: truncated")
	ErrBad       = errors.New("codec: malformed")
)

// Append appends m's encoding to dst.
func Append(dst []byte, m *protocol.Message) []byte {
	ps := m.Params()
	dst = AppendHeader(dst, len(ps))
	for _, p := range ps {
		dst = AppendParam(dst, p.Name, p.Value)
	}
	return dst
}

// AppendHeader begins the encoding of a message of n parameters, which n
// calls of AppendParam complete: the form for a caller whose parameters
// are not in a protocol.Message.
func AppendHeader(dst []byte, n int) []byte {
	dst = append(dst, version)
	return binary.AppendUvarint(dst, uint64(n))
}

// AppendParam appends one parameter's encoding (see AppendHeader).
func AppendParam(dst []byte, name string, v protocol.Value) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(name)))
	dst = append(dst, name...)
	k := v.Kind()
	dst = append(dst, byte(k))
	switch k {
	case protocol.KindBool:
		b, _ := v.Bool()
		if b {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	case protocol.KindInt:
		i, _ := v.Int()
		dst = binary.AppendVarint(dst, i)
	case protocol.KindUint:
		u, _ := v.Uint()
		dst = binary.AppendUvarint(dst, u)
	case protocol.KindFloat:
		f, _ := v.Float()
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
	case protocol.KindString:
		s, _ := v.Str()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	case protocol.KindJSON:
		s, _ := v.JSON()
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	}
	return dst
}

// maxNames bounds the intern table: parameter names repeat, values do not.
const maxNames = 4096

// maxShared bounds the string values a Decoder remembers for sharing: short
// ones (idents, addresses, states) repeat from message to message; a long
// one is rarely worth pinning.
const maxShared = 128

// Decoder decodes messages, sharing parameter-name strings between them, and
// string values with the previous message it decoded when they are equal
// (the same device's ident, peer address, …). It is not safe for concurrent
// use; the zero Decoder is ready.
type Decoder struct {
	names map[string]string
	prev  []string // names of the previous message by position
	vals  []string // short string values of the previous message by position
}

// Decode decodes data into a new message whose storage does not alias data.
// It allocates at most twice: the parameters, at their exact count, and one
// string holding the string values not shared with the previous message.
func (d *Decoder) Decode(data []byte) (protocol.Message, error) {
	var m protocol.Message
	if err := d.DecodeInto(&m, data); err != nil {
		return protocol.Message{}, err
	}
	return m, nil
}

// DecodeInto replaces m's parameters with those decoded from data, reusing
// m's storage: decoding into a message that held as many parameters before
// allocates nothing but one string for the string values not shared with
// the previous message decoded. The result does not alias data. On error m
// holds an unspecified prefix of the parameters.
func (d *Decoder) DecodeInto(m *protocol.Message, data []byte) error {
	// Two passes: the first validates and sizes the string values that need
	// copying, so that one allocation holds them all (and only them); the
	// second builds the parameters straight into the message. Parsing twice
	// costs less than copying parameters around, which GC write barriers
	// make dear.
	n, total, err := d.scan(data)
	if err != nil {
		return err
	}
	m.Reset()
	m.Grow(n)
	var all strings.Builder
	all.Grow(total)
	return d.build(m, data, n, &all)
}

func (d *Decoder) name(b []byte) string {
	if s, ok := d.names[string(b)]; ok {
		return s
	}
	s := string(b)
	if d.names == nil {
		d.names = make(map[string]string)
	}
	if len(d.names) < maxNames {
		d.names[s] = s
	}
	return s
}

// uvarint is binary.Uvarint with the one-byte case inline: lengths and small
// numbers are almost always below 128.
func uvarint(b []byte) (uint64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return uint64(b[0]), 1
	}
	return binary.Uvarint(b)
}

// shared returns the previous message's string value at position i if it
// equals b.
func (d *Decoder) shared(i int, b []byte) (string, bool) {
	if i < len(d.vals) && len(b) > 0 && d.vals[i] == string(b) {
		return d.vals[i], true
	}
	return "", false
}

// scan validates an encoded message and returns its parameter count and the
// total size of the string values that build will copy.
func (d *Decoder) scan(data []byte) (n, total int, err error) {
	if len(data) == 0 {
		return 0, 0, ErrTruncated
	}
	if data[0] != version {
		return 0, 0, ErrBad
	}
	pos := 1
	c, w := uvarint(data[pos:])
	if w <= 0 {
		return 0, 0, ErrTruncated
	}
	pos += w
	if c > uint64(len(data)) { // every parameter takes at least two bytes
		return 0, 0, ErrBad
	}
	n = int(c)
	for i := range n {
		l, w := uvarint(data[pos:])
		if w <= 0 {
			return 0, 0, ErrTruncated
		}
		pos += w
		if l == 0 {
			return 0, 0, ErrBad
		}
		if l >= uint64(len(data)-pos) { // the name and at least a kind byte
			return 0, 0, ErrTruncated
		}
		pos += int(l)
		k := protocol.Kind(data[pos])
		pos++
		switch k {
		case protocol.KindNull:
		case protocol.KindBool:
			if pos >= len(data) {
				return 0, 0, ErrTruncated
			}
			if data[pos] > 1 {
				return 0, 0, ErrBad
			}
			pos++
		case protocol.KindInt, protocol.KindUint:
			_, w := uvarint(data[pos:]) // same length as a zig-zag varint
			if w <= 0 {
				return 0, 0, ErrTruncated
			}
			pos += w
		case protocol.KindFloat:
			if len(data)-pos < 8 {
				return 0, 0, ErrTruncated
			}
			pos += 8
		case protocol.KindString, protocol.KindJSON:
			l, w := uvarint(data[pos:])
			if w <= 0 {
				return 0, 0, ErrTruncated
			}
			pos += w
			if l > uint64(len(data)-pos) {
				return 0, 0, ErrTruncated
			}
			b := data[pos : pos+int(l)]
			pos += int(l)
			if _, ok := d.shared(i, b); !ok {
				total += len(b)
			}
		default:
			return 0, 0, ErrBad
		}
	}
	if pos != len(data) {
		return 0, 0, ErrBad
	}
	return n, total, nil
}

// build adds the n parameters of data, which scan accepted, to m; string
// values not shared with the previous message are copied into all.
func (d *Decoder) build(m *protocol.Message, data []byte, n int, all *strings.Builder) error {
	pos := 1
	_, w := uvarint(data[pos:])
	pos += w
	for i := range n {
		l, w := uvarint(data[pos:])
		pos += w
		nb := data[pos : pos+int(l)]
		pos += int(l)
		// Consecutive messages usually carry the same names in the same
		// order: compare with the previous one before the map.
		var name string
		if i < len(d.prev) && d.prev[i] == string(nb) {
			name = d.prev[i]
		} else {
			name = d.name(nb)
			if i < len(d.prev) {
				d.prev[i] = name
			} else if i == len(d.prev) && i < maxNames {
				d.prev = append(d.prev, name)
			}
		}
		k := protocol.Kind(data[pos])
		pos++
		var v protocol.Value
		switch k {
		case protocol.KindNull:
		case protocol.KindBool:
			v = protocol.Bool(data[pos] == 1)
			pos++
		case protocol.KindInt:
			x, w := uvarint(data[pos:])
			pos += w
			v = protocol.Int(int64(x>>1) ^ -int64(x&1)) // zig-zag
		case protocol.KindUint:
			u, w := uvarint(data[pos:])
			pos += w
			v = protocol.Uint(u)
		case protocol.KindFloat:
			v = protocol.Float(math.Float64frombits(binary.LittleEndian.Uint64(data[pos:])))
			pos += 8
		case protocol.KindString, protocol.KindJSON:
			l, w := uvarint(data[pos:])
			pos += w
			b := data[pos : pos+int(l)]
			pos += int(l)
			s, ok := d.shared(i, b)
			if !ok {
				if len(b) > 0 {
					start := all.Len()
					all.Write(b)
					s = all.String()[start:]
				}
				if len(s) <= maxShared && i < maxNames {
					if i >= len(d.vals) {
						d.vals = append(d.vals, make([]string, i+1-len(d.vals))...)
					}
					d.vals[i] = s
				}
			}
			if k == protocol.KindString {
				v = protocol.String(s)
			} else {
				v = protocol.RawJSON(s)
			}
		default:
			return ErrBad // scan refused it already
		}
		// Names are distinct in what Append wrote; Add skips Set's search.
		m.Add(name, v)
	}
	return nil
}

// LogOverhead is what a log record costs beyond its encoded message: the key
// (a tag byte and the 8-byte sequence number) and the value header (append
// time and cumulative size, 8 bytes each). Every engine counts sizes this way
// so that a size cap means the same thing everywhere.
const LogOverhead = 1 + 8 + 16

// HistoryOverhead is what a history entry costs beyond its encoded message,
// ident excluded: tag, length byte, timestamp and a tie-breaking counter.
const HistoryOverhead = 1 + 1 + 8 + 8
