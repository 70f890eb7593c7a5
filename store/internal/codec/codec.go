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
	names map[string]string
	prev  []string // names of the previous message by position
	spans [][2]int // string values of the message being decoded
}

// Decode decodes data into a new message whose storage does not alias data.
// It allocates twice: the parameters, at their exact count, and one string
// holding every string value.
func (d *Decoder) Decode(data []byte) (protocol.Message, error) {
	// Two passes: the first validates and locates the string values, so
	// that one allocation holds them all (and only them); the second builds
	// the parameters straight into the message. Parsing twice costs less
	// than copying parameters around, which GC write barriers make dear.
	d.spans = d.spans[:0]
	n, total, err := d.parse(nil, data, "")
	if err != nil {
		return protocol.Message{}, err
	}
	var all string
	if total > 0 {
		var b strings.Builder
		b.Grow(total)
		for _, sp := range d.spans {
			b.Write(data[sp[0]:sp[1]])
		}
		all = b.String()
	}
	var m protocol.Message
	m.Grow(n)
	if _, _, err := d.parse(&m, data, all); err != nil {
		return protocol.Message{}, err
	}
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

// parse walks an encoded message. With m nil it validates, returns the
// parameter count and the string values' total size, and records where they
// are in d.spans; with m set it adds the parameters, their string values cut
// from all in order.
func (d *Decoder) parse(m *protocol.Message, data []byte, all string) (int, int, error) {
	if len(data) == 0 {
		return 0, 0, ErrTruncated
	}
	if data[0] != version {
		return 0, 0, ErrBad
	}
	pos := 1
	n, w := binary.Uvarint(data[pos:])
	if w <= 0 {
		return 0, 0, ErrTruncated
	}
	pos += w
	if n > uint64(len(data)) { // every parameter takes at least two bytes
		return 0, 0, ErrBad
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
	total, off := 0, 0
	for i := range int(n) {
		s, e, err := bytesOf()
		if err != nil {
			return 0, 0, err
		}
		if s == e {
			return 0, 0, ErrBad
		}
		var name string
		if m != nil {
			// Consecutive messages usually carry the same names in the
			// same order: compare with the previous one before the map.
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
		}
		if pos >= len(data) {
			return 0, 0, ErrTruncated
		}
		k := protocol.Kind(data[pos])
		pos++
		var v protocol.Value
		switch k {
		case protocol.KindNull:
		case protocol.KindBool:
			if pos >= len(data) {
				return 0, 0, ErrTruncated
			}
			if data[pos] > 1 {
				return 0, 0, ErrBad
			}
			v = protocol.Bool(data[pos] == 1)
			pos++
		case protocol.KindInt:
			i, w := binary.Varint(data[pos:])
			if w <= 0 {
				return 0, 0, ErrTruncated
			}
			pos += w
			v = protocol.Int(i)
		case protocol.KindUint:
			u, w := binary.Uvarint(data[pos:])
			if w <= 0 {
				return 0, 0, ErrTruncated
			}
			pos += w
			v = protocol.Uint(u)
		case protocol.KindFloat:
			if len(data)-pos < 8 {
				return 0, 0, ErrTruncated
			}
			v = protocol.Float(math.Float64frombits(binary.LittleEndian.Uint64(data[pos:])))
			pos += 8
		case protocol.KindString, protocol.KindJSON:
			s, e, err := bytesOf()
			if err != nil {
				return 0, 0, err
			}
			total += e - s
			if m == nil {
				d.spans = append(d.spans, [2]int{s, e})
			}
			if m != nil {
				if off+e-s > len(all) {
					return 0, 0, ErrBad
				}
				str := all[off : off+e-s]
				off += e - s
				if k == protocol.KindString {
					v = protocol.String(str)
				} else {
					v = protocol.RawJSON(str)
				}
			}
		default:
			return 0, 0, ErrBad
		}
		if m != nil {
			// Names are distinct in what Append wrote; Add skips Set's
			// search.
			m.Add(name, v)
		}
	}
	if pos != len(data) {
		return 0, 0, ErrBad
	}
	return int(n), total, nil
}

// LogOverhead is what a log record costs beyond its encoded message: the key
// (a tag byte and the 8-byte sequence number) and the value header (append
// time and cumulative size, 8 bytes each). Every engine counts sizes this way
// so that a size cap means the same thing everywhere.
const LogOverhead = 1 + 8 + 16

// HistoryOverhead is what a history entry costs beyond its encoded message,
// ident excluded: tag, length byte, timestamp and a tie-breaking counter.
const HistoryOverhead = 1 + 1 + 8 + 8
