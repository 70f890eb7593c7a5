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
	dst = append(dst, version)
	dst = binary.AppendUvarint(dst, uint64(len(ps)))
	for _, p := range ps {
		dst = binary.AppendUvarint(dst, uint64(len(p.Name)))
		dst = append(dst, p.Name...)
		v := p.Value
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
	}
	return dst
}

// maxNames bounds the intern table: parameter names repeat, values do not.
const maxNames = 4096

// Decoder decodes messages, sharing parameter-name strings between them. It
// is not safe for concurrent use; the zero Decoder is ready.
type Decoder struct {
	names   map[string]string
	prev    []string // names of the previous message by position
	scratch protocol.Message
}

// Decode decodes data into a new message whose storage does not alias data.
func (d *Decoder) Decode(data []byte) (protocol.Message, error) {
	if err := d.decodeInto(&d.scratch, data); err != nil {
		return protocol.Message{}, err
	}
	// Clone allocates the parameter slice at its exact size, once.
	m := d.scratch.Clone()
	d.scratch.Reset()
	return m, nil
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

func (d *Decoder) decodeInto(m *protocol.Message, data []byte) error {
	m.Reset()
	if len(data) == 0 {
		return ErrTruncated
	}
	if data[0] != version {
		return ErrBad
	}
	var all string // one allocation backs every string value of the message
	pos := 1
	n, w := binary.Uvarint(data[pos:])
	if w <= 0 {
		return ErrTruncated
	}
	pos += w
	if n > uint64(len(data)) { // every parameter takes at least two bytes
		return ErrBad
	}
	bytesOf := func() (int, int, error) {
		l, w := binary.Uvarint(data[pos:])
		if w <= 0 {
			return 0, 0, ErrTruncated
		}
		start := pos + w
		if l > uint64(len(data)-start) {
			return 0, 0, ErrTruncated
		}
		pos = start + int(l)
		return start, pos, nil
	}
	for i := range int(n) {
		s, e, err := bytesOf()
		if err != nil {
			return err
		}
		if s == e {
			return ErrBad
		}
		// Consecutive messages usually carry the same names in the same
		// order: compare with the previous one before the map lookup.
		var name string
		if i < len(d.prev) && d.prev[i] == string(data[s:e]) {
			name = d.prev[i]
		} else {
			name = d.name(data[s:e])
			if i < len(d.prev) {
				d.prev[i] = name
			} else if i == len(d.prev) && i < maxNames {
				d.prev = append(d.prev, name)
			}
		}
		if pos >= len(data) {
			return ErrTruncated
		}
		k := protocol.Kind(data[pos])
		pos++
		var v protocol.Value
		switch k {
		case protocol.KindNull:
		case protocol.KindBool:
			if pos >= len(data) {
				return ErrTruncated
			}
			if data[pos] > 1 {
				return ErrBad
			}
			v = protocol.Bool(data[pos] == 1)
			pos++
		case protocol.KindInt:
			i, w := binary.Varint(data[pos:])
			if w <= 0 {
				return ErrTruncated
			}
			pos += w
			v = protocol.Int(i)
		case protocol.KindUint:
			u, w := binary.Uvarint(data[pos:])
			if w <= 0 {
				return ErrTruncated
			}
			pos += w
			v = protocol.Uint(u)
		case protocol.KindFloat:
			if len(data)-pos < 8 {
				return ErrTruncated
			}
			v = protocol.Float(math.Float64frombits(binary.LittleEndian.Uint64(data[pos:])))
			pos += 8
		case protocol.KindString, protocol.KindJSON:
			s, e, err := bytesOf()
			if err != nil {
				return err
			}
			if all == "" {
				all = string(data)
			}
			if k == protocol.KindString {
				v = protocol.String(all[s:e])
			} else {
				v = protocol.RawJSON(all[s:e])
			}
		default:
			return ErrBad
		}
		// Names are distinct in what Append wrote; Add skips Set's search.
		m.Add(name, v)
	}
	if pos != len(data) {
		return ErrBad
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
