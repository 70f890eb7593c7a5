package wialonretranslator

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
)

// Name is the codec's name, as [Codec.Name] returns it.
const Name = "wialon-retranslator"

// Ack is the byte a receiver answers to every packet it accepted.
const Ack byte = 0x11

// headerMin is the smallest packet body: a one-byte controller id and its
// NUL, time and flags.
const headerMin = 2 + 4 + 4

// maxBlocks bounds the blocks of one packet (Wialon IPS registers 200
// parameters; this leaves room and keeps a hostile packet cheap).
const maxBlocks = 1024

// maxNameLen bounds a block name: the longest "custom." name must still
// be a parameter name.
const maxNameLen = protocol.MaxNameLen - len("custom.")

// Codec is the Wialon Retranslator 1.0 protocol. The zero value is ready to
// use; a Codec is safe for concurrent use.
type Codec struct {
	// MaxFrameSize bounds one packet, its size field included; 0 means
	// [protocol.DefaultMaxFrameSize] (64 KiB). A larger size field is a
	// [protocol.ErrFrameTooLarge] error from Split.
	MaxFrameSize int
}

// Name returns "wialon-retranslator".
func (c *Codec) Name() string { return Name }

// NewSession starts a connection. The protocol keeps no state between
// packets (each names its unit), so a session only remembers the last
// unit seen, in Result.Ident.
func (c *Codec) NewSession(protocol.Transport) protocol.Session {
	return &Session{limit: protocol.FrameLimit(c.MaxFrameSize)}
}

// Split cuts a TCP stream into packets: the little-endian u32 size, then
// that many bytes.
func (c *Codec) Split(data []byte, atEOF bool) (int, []byte, error) {
	if len(data) < 4 {
		return 0, nil, nil
	}
	n := uint64(binary.LittleEndian.Uint32(data))
	if n+4 > uint64(protocol.FrameLimit(c.MaxFrameSize)) {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "packet size "+strconv.FormatUint(n, 10))
	}
	if n < headerMin {
		return 0, nil, protocol.Errorf(Name, 0, protocol.ErrMalformed, "packet size "+strconv.FormatUint(n, 10)+" is below the header's")
	}
	if uint64(len(data)) < n+4 {
		return 0, nil, nil
	}
	return int(n) + 4, data[:n+4], nil
}

// Session decodes the packets of one connection. It is not safe for
// concurrent use.
type Session struct {
	limit int
	// The strings of names and unit ids seen on this connection, so that
	// a steady stream of packets does not allocate them again. Bounded:
	// a connection that sends more distinct ones allocates the rest.
	names  map[string]paramInfo
	idents map[string]string
}

// paramInfo is a block's parameter name, as paramName makes it.
type paramInfo struct {
	param  string
	isBool bool
}

const maxCached = 1024

// Decode decodes one packet into one message and sets the reply to [Ack].
func (s *Session) Decode(frame []byte, r *protocol.Result) error {
	if len(frame) < 4 {
		return protocol.Errorf(Name, 0, protocol.ErrTruncated, "no size field")
	}
	n := uint64(binary.LittleEndian.Uint32(frame))
	switch {
	case n+4 > uint64(s.limit):
		return protocol.Errorf(Name, 0, protocol.ErrFrameTooLarge, "packet size "+strconv.FormatUint(n, 10))
	case n < headerMin:
		return protocol.Errorf(Name, 0, protocol.ErrMalformed, "packet size "+strconv.FormatUint(n, 10)+" is below the header's")
	case uint64(len(frame)-4) < n:
		return protocol.Errorf(Name, len(frame), protocol.ErrTruncated, "packet ends before its size")
	case uint64(len(frame)-4) > n:
		return protocol.Errorf(Name, 4+int(n), protocol.ErrMalformed, "bytes after the packet")
	}
	p := frame[:4+n]
	off := 4
	id, next, ok := cstring(p, off)
	if !ok {
		return protocol.Errorf(Name, off, protocol.ErrMalformed, "controller id without its terminating zero")
	}
	if len(id) == 0 || !printable(id) {
		return protocol.Errorf(Name, off, protocol.ErrMalformed, "controller id empty or not printable")
	}
	off = next
	if len(p)-off < 8 {
		return protocol.Errorf(Name, off, protocol.ErrTruncated, "no time and flags")
	}
	ts := binary.BigEndian.Uint32(p[off:])
	flags := binary.BigEndian.Uint32(p[off+4:])
	off += 8

	ident, ok := s.idents[string(id)]
	if !ok {
		ident = string(id)
		if s.idents == nil {
			s.idents = make(map[string]string)
		}
		if len(s.idents) < maxCached {
			s.idents[ident] = ident
		}
	}
	r.Ident = ident
	m := r.NewMessage()
	m.Grow(12)
	w := writer{m: m, s: s}
	w.set(protocol.ParamIdent, protocol.String(ident))
	w.set(protocol.ParamTimestamp, protocol.Int(int64(ts)))
	if flags&flagAlarm != 0 {
		w.set(paramAlarm, protocol.Bool(true))
	}
	for blocks := 0; off < len(p); blocks++ {
		if blocks == maxBlocks {
			return protocol.Errorf(Name, off, protocol.ErrMalformed, "more than "+strconv.Itoa(maxBlocks)+" blocks")
		}
		if len(p)-off < 6 {
			return protocol.Errorf(Name, off, protocol.ErrTruncated, "block header")
		}
		size := uint64(binary.BigEndian.Uint32(p[off+2:]))
		start := off + 6
		if size < 3 {
			return protocol.Errorf(Name, off+2, protocol.ErrMalformed, "block size "+strconv.FormatUint(size, 10))
		}
		if uint64(len(p)-start) < size {
			return protocol.Errorf(Name, off+2, protocol.ErrTruncated, "block ends after the packet")
		}
		block := p[start : start+int(size)]
		// block[0] is the security attribute (hidden or shown): how
		// Wialon displays the value, not what it means.
		dtype := block[1]
		name, vstart, ok := cstring(block, 2)
		if !ok || len(name) == 0 || len(name) > maxNameLen || !printable(name) {
			return protocol.Errorf(Name, start+2, protocol.ErrMalformed, "block name missing, unterminated, longer than "+strconv.Itoa(maxNameLen)+" bytes or not printable")
		}
		if dtype < typeText || dtype > typeInt64 {
			return protocol.Errorf(Name, start+1, protocol.ErrMalformed, "block data type "+strconv.Itoa(int(dtype)))
		}
		value := block[vstart:]
		if err := w.block(name, dtype, value, start+vstart); err != nil {
			return err
		}
		off = start + int(size)
	}
	r.Reply = append(r.Reply[:0], Ack)
	return nil
}

// writer sets a message's parameters. A packet rarely repeats a block,
// so it appends without looking for the name unless a cheap fingerprint
// of the names set so far says it may be there (Message.Set looks at
// every parameter: quadratic in their number).
type writer struct {
	m    *protocol.Message
	s    *Session
	seen uint64 // a bit per fingerprint of the names set
}

func (w *writer) set(name string, v protocol.Value) {
	bit := uint64(1) << ((uint(len(name)) ^ uint(name[len(name)-1])*7) & 63)
	if w.seen&bit == 0 {
		w.seen |= bit
		w.m.Add(name, v)
		return
	}
	w.m.Set(name, v)
}

// block adds one block's value.
func (w *writer) block(name []byte, dtype byte, value []byte, at int) error {
	if string(name) == blockPosinfo && dtype == typeBinary {
		return w.posinfo(value, at)
	}
	v, err := blockValue(dtype, value, at)
	if err != nil {
		return err
	}
	if mp := byBlock(name); mp != nil {
		if mv, ok := mapValue(mp.kind, v); ok {
			w.set(mp.param, mv)
			return nil
		}
	} else if n := adcIndex(name); n > 0 && v.IsNumber() {
		w.set(ainName(n), v)
		return nil
	}
	if v.IsNull() {
		return nil
	}
	nm, ok := w.s.names[string(name)]
	if !ok {
		nm.param, nm.isBool = paramName(name)
		if w.s.names == nil {
			w.s.names = make(map[string]paramInfo)
		}
		if len(w.s.names) < maxCached {
			w.s.names[string(name)] = nm
		}
	}
	param, isBool := nm.param, nm.isBool
	if i, ok := v.Int(); ok && v.Kind() == protocol.KindInt && isBool {
		v = protocol.Bool(i != 0)
	}
	w.set(param, v)
	return nil
}

// ainNames are the names of the first analog inputs, made once.
var ainNames = func() (names [33]string) {
	for i := 1; i < len(names); i++ {
		names[i] = "ain#" + strconv.Itoa(i)
	}
	return names
}()

func ainName(n int) string {
	if n < len(ainNames) {
		return ainNames[n]
	}
	return "ain#" + strconv.Itoa(n)
}

// blockValue reads a value of a data type; a double that is not finite
// is null (JSON cannot carry it) and left out.
func blockValue(dtype byte, b []byte, at int) (protocol.Value, error) {
	switch dtype {
	case typeText:
		s, _, ok := cstring(b, 0)
		if !ok {
			s = b // the block's end ends the text too
		}
		if !utf8.Valid(s) {
			// Messages hold UTF-8; a text in another encoding keeps what
			// can be read.
			return protocol.String(strings.ToValidUTF8(string(s), "\uFFFD")), nil
		}
		return protocol.String(string(s)), nil
	case typeBinary:
		return protocol.String(hex.EncodeToString(b)), nil
	case typeInt32:
		if len(b) != 4 {
			return protocol.Value{}, protocol.Errorf(Name, at, protocol.ErrMalformed, "int value of "+strconv.Itoa(len(b))+" bytes")
		}
		return protocol.Int(int64(int32(binary.BigEndian.Uint32(b)))), nil
	case typeInt64:
		if len(b) != 8 {
			return protocol.Value{}, protocol.Errorf(Name, at, protocol.ErrMalformed, "long value of "+strconv.Itoa(len(b))+" bytes")
		}
		return protocol.Int(int64(binary.BigEndian.Uint64(b))), nil
	default: // typeDouble
		if len(b) != 8 {
			return protocol.Value{}, protocol.Errorf(Name, at, protocol.ErrMalformed, "double value of "+strconv.Itoa(len(b))+" bytes")
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return protocol.Value{}, nil
		}
		return protocol.Float(f), nil
	}
}

// mapValue converts a block's value to a mapped parameter's kind; ok is
// false when the value does not fit (the block is then kept under its own
// name).
func mapValue(k kind, v protocol.Value) (protocol.Value, bool) {
	switch k {
	case kindNumber:
		return v, v.IsNumber()
	case kindInt:
		_, ok := v.Int()
		return v, ok && v.Kind() == protocol.KindInt
	case kindBool:
		f, ok := v.Float()
		return protocol.Bool(f != 0), ok
	default: // kindText
		_, ok := v.Str()
		return v, ok
	}
}

// posinfoSize is lon, lat, altitude (doubles), speed, course (u16) and
// satellites (u8).
const posinfoSize = 8 + 8 + 8 + 2 + 2 + 1

// posinfo adds the position block. Bytes past its documented fields
// are ignored (a later Wialon may add fields); coordinates that are not
// finite numbers are left out.
func (w *writer) posinfo(b []byte, at int) error {
	if len(b) < posinfoSize {
		return protocol.Errorf(Name, at, protocol.ErrMalformed, "posinfo of "+strconv.Itoa(len(b))+" bytes, want "+strconv.Itoa(posinfoSize))
	}
	for i, name := range [3]string{protocol.ParamLongitude, protocol.ParamLatitude, protocol.ParamAltitude} {
		f := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		w.set(name, protocol.Float(f))
	}
	w.set(protocol.ParamSpeed, protocol.Int(int64(binary.BigEndian.Uint16(b[24:]))))
	w.set(protocol.ParamDirection, protocol.Int(int64(binary.BigEndian.Uint16(b[26:]))))
	w.set(protocol.ParamSatellites, protocol.Int(int64(b[28])))
	return nil
}

// cstring returns the bytes of b from off up to the next NUL, and the
// offset after it; ok is false when there is no NUL.
func cstring(b []byte, off int) (s []byte, next int, ok bool) {
	i := bytes.IndexByte(b[off:], 0)
	if i < 0 {
		return nil, 0, false
	}
	return b[off : off+i], off + i + 1, true
}

// printable accepts UTF-8 without control characters, the rule for
// parameter names ([protocol.Message]) and flespi idents. ASCII is
// checked eight bytes at a time.
func printable(b []byte) bool {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if !plainASCII(binary.LittleEndian.Uint64(b[i:])) {
			break
		}
	}
	return printableTail(b[i:])
}

// printableString is printable for a string.
func printableString(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if !plainASCII(x) {
			break
		}
	}
	return printableTail(s[i:])
}

// plainASCII reports that eight bytes are all in 0x20..0x7e. A false
// answer may be wrong; the byte-by-byte check decides.
func plainASCII(x uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	del := x ^ (0x7f * ones)
	return x&highs == 0 && (x-0x20*ones)&^x&highs == 0 && (del-ones)&^del&highs == 0
}

func printableTail[T string | []byte](b T) bool {
	ascii := true
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		ascii = ascii && c < 0x80
	}
	return ascii || utf8.ValidString(string(b))
}
