package teltonika

import (
	"encoding/binary"
	"strconv"
	"unsafe"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// Names of the parameters a record sets besides its IO elements.
const (
	ParamPriority = "event.priority.enum" // 0 low, 1 high, 2 panic
	ParamEvent    = "event.enum"          // the AVL ID that triggered the record, 0 for none
	// ParamGeneration is Codec 16's generation type: 0 on exit, 1 on
	// entrance, 2 on both, 3 reserved, 4 hysteresis, 5 on change,
	// 6 eventual, 7 periodical.
	ParamGeneration = "event.generation.enum"
)

// layout is what differs between the AVL codecs.
type layout struct {
	idSize  int  // AVL ID width: 1 (Codec 8) or 2
	cntSize int  // element count width: 1 or 2 (Codec 8E)
	genType bool // Codec 16: a generation type byte after the event ID
	nx      bool // Codec 8E: variable-length elements after the 8-byte group
	x16     bool // a group of 16-byte elements after the 8-byte group
}

var (
	widths   = []int{1, 2, 4, 8}
	widths16 = []int{1, 2, 4, 8, 16}
)

func (l layout) widths() []int {
	if l.x16 {
		return widths16
	}
	return widths
}

var (
	layout8  = layout{idSize: 1, cntSize: 1}
	layout8E = layout{idSize: 2, cntSize: 2, nx: true}
	layout16 = layout{idSize: 2, cntSize: 1, genType: true}
	// layout8X16 is Codec 8 with a fifth group of 16-byte elements after
	// the 8-byte group, as some FM63xx/FMB630-family firmware sends it
	// (traccar's "extended" option; its captures show it). The codec id does
	// not say so: it is tried when the standard layout does not fit.
	layout8X16 = layout{idSize: 1, cntSize: 1, x16: true}
)

func layoutOf(codec byte) (layout, bool) {
	switch codec {
	case codec8:
		return layout8, true
	case codec8E:
		return layout8E, true
	case codec16:
		return layout16, true
	}
	return layout{}, false
}

// fault is a parse failure without allocation; it becomes a DecodeError at
// the top.
type fault uint8

const (
	errNone  fault = iota
	errShort       // the body ends inside a record
)

// recordHeader is the fixed part of a record: timestamp, priority, GPS.
const recordHeader = 8 + 1 + 15

func (l layout) uint(b []byte, off, size int) int {
	if size == 1 {
		return int(b[off])
	}
	return int(binary.BigEndian.Uint16(b[off:]))
}

// id reads the AVL ID at off.
func (l layout) id(b []byte, off int) uint16 {
	if l.idSize == 1 {
		return uint16(b[off])
	}
	return binary.BigEndian.Uint16(b[off:])
}

// walkRecord returns the offset just past the record at off.
func walkRecord(b []byte, off int, l layout) (int, fault) {
	off += recordHeader + l.idSize
	if l.genType {
		off++
	}
	off += l.cntSize // total count
	if off > len(b) {
		return 0, errShort
	}
	for _, w := range l.widths() {
		if off+l.cntSize > len(b) {
			return 0, errShort
		}
		n := l.uint(b, off, l.cntSize)
		off += l.cntSize + n*(l.idSize+w)
		if off > len(b) {
			return 0, errShort
		}
	}
	if l.nx {
		if off+2 > len(b) {
			return 0, errShort
		}
		n := int(binary.BigEndian.Uint16(b[off:]))
		off += 2
		for range n {
			if off+4 > len(b) {
				return 0, errShort
			}
			off += 4 + int(binary.BigEndian.Uint16(b[off+2:]))
			if off > len(b) {
				return 0, errShort
			}
		}
	}
	return off, errNone
}

// decodeAVL decodes an AVL body (codec id .. N2) into messages and returns
// the number of records. base is the body's offset in the frame, for errors.
func (s *Session) decodeAVL(body []byte, base int, r *protocol.Result) (int, error) {
	if body[0] == codecGH && len(body) >= 3 {
		return s.decodeGHBody(body, base, r)
	}
	l, ok := layoutOf(body[0])
	if !ok {
		return 0, protocol.Errorf(Name, base, protocol.ErrUnsupported, "codec 0x"+strconv.FormatUint(uint64(body[0]), 16))
	}
	if len(body) < 3 {
		return 0, protocol.Errorf(Name, base, protocol.ErrTruncated, "no records")
	}
	n1, n2 := int(body[1]), int(body[len(body)-1])
	if n1 != n2 {
		return 0, protocol.Errorf(Name, base+len(body)-1, protocol.ErrMalformed, "record counts differ: "+strconv.Itoa(n1)+" and "+strconv.Itoa(n2))
	}
	first := len(r.Messages)
	err := s.decodeRecords(body, base, l, r)
	if err != nil && body[0] == codec8 {
		r.Messages = r.Messages[:first]
		if s.decodeRecords(body, base, layout8X16, r) == nil {
			return n1, nil
		}
		r.Messages = r.Messages[:first]
	}
	if err != nil {
		return 0, err
	}
	return n1, nil
}

func (s *Session) decodeGHBody(body []byte, base int, r *protocol.Result) (int, error) {
	n1, n2 := int(body[1]), int(body[len(body)-1])
	if n1 != n2 {
		return 0, protocol.Errorf(Name, base+len(body)-1, protocol.ErrMalformed, "record counts differ: "+strconv.Itoa(n1)+" and "+strconv.Itoa(n2))
	}
	b := body[:len(body)-1]
	off := 2
	for range n1 {
		next, err := s.decodeGH(b, off, r)
		if err != nil {
			return 0, offsetError(err, base)
		}
		off = next
	}
	if off != len(b) {
		return 0, protocol.Errorf(Name, base+off, protocol.ErrMalformed, strconv.Itoa(len(b)-off)+" bytes after the records")
	}
	return n1, nil
}

func (s *Session) decodeRecords(body []byte, base int, l layout, r *protocol.Result) error {
	b := body[:len(body)-1] // records only, so that reads stop before N2
	off := 2
	for range int(body[1]) {
		next, err := s.decodeRecord(b, off, l, r)
		if err != nil {
			return offsetError(err, base)
		}
		off = next
	}
	if off != len(b) {
		return protocol.Errorf(Name, base+off, protocol.ErrMalformed, strconv.Itoa(len(b)-off)+" bytes after the records")
	}
	return nil
}

func offsetError(err error, base int) error {
	if de, ok := err.(*protocol.DecodeError); ok {
		de.Offset += base
	}
	return err
}

func shortRecord(off int) error {
	return protocol.Errorf(Name, off, protocol.ErrMalformed, "record overruns the packet")
}

// decodeRecord decodes the record at b[off:] into a new message of r. It is
// the hot path of the codec: names and conversions come from the session's
// index, and parameters are appended without a search.
func (s *Session) decodeRecord(b []byte, off int, l layout, r *protocol.Result) (int, error) {
	fixed := recordHeader + l.idSize + l.cntSize
	if l.genType {
		fixed++
	}
	if off+fixed > len(b) {
		return 0, shortRecord(off)
	}
	// Room for the header and the elements the record says it has (bounded
	// by what the bytes left can hold: an element takes at least 2 bytes).
	// The names set here are distinct, and distinct from every IO name, so
	// they are added without a search.
	total := l.uint(b, off+fixed-l.cntSize, l.cntSize)
	m := r.NewMessageFor(s.ident, 13+min(total, (len(b)-off-fixed)>>1))
	ms := binary.BigEndian.Uint64(b[off:])
	m.Add(protocol.ParamTimestamp, protocol.Float(float64(ms)/1000))
	prio := b[off+8]
	g := b[off+9 : off+recordHeader]
	lon := int32(binary.BigEndian.Uint32(g))
	lat := int32(binary.BigEndian.Uint32(g[4:]))
	sats := g[12]
	m.Add(protocol.ParamLatitude, protocol.Float(float64(lat)/1e7))
	m.Add(protocol.ParamLongitude, protocol.Float(float64(lon)/1e7))
	m.Add(protocol.ParamAltitude, protocol.Int(int64(int16(binary.BigEndian.Uint16(g[8:])))))
	m.Add(protocol.ParamDirection, protocol.Int(int64(binary.BigEndian.Uint16(g[10:]))))
	m.Add(protocol.ParamSpeed, protocol.Int(int64(binary.BigEndian.Uint16(g[13:]))))
	m.Add(protocol.ParamSatellites, protocol.Int(int64(sats)))
	m.Add(protocol.ParamValid, protocol.Bool(sats > 0 && lat >= -90e7 && lat <= 90e7 && lon >= -180e7 && lon <= 180e7))
	m.Add(ParamPriority, protocol.Int(int64(prio)))
	off += recordHeader
	m.Add(ParamEvent, protocol.Int(int64(l.uint(b, off, l.idSize))))
	off += l.idSize
	if l.genType {
		m.Add(ParamGeneration, protocol.Int(int64(b[off])))
		off++
	}
	off += l.cntSize // the total count is implied by the groups
	var seen ioSet
	for _, w := range l.widths() {
		if off+l.cntSize > len(b) {
			return 0, shortRecord(off)
		}
		n := l.uint(b, off, l.cntSize)
		off += l.cntSize
		step := l.idSize + w
		if n*step > len(b)-off {
			return 0, shortRecord(off)
		}
		end := off + n*step
		g := b[off:end]
		off = end
		switch {
		case w >= 8:
			s.wideGroup(m, &seen, g, l.idSize, w)
		case l.idSize == 1 && w == 1:
			group[uint8, uint8](s, m, &seen, g)
		case l.idSize == 1 && w == 2:
			group[uint8, uint16](s, m, &seen, g)
		case l.idSize == 1:
			group[uint8, uint32](s, m, &seen, g)
		case w == 1:
			group[uint16, uint8](s, m, &seen, g)
		case w == 2:
			group[uint16, uint16](s, m, &seen, g)
		default:
			group[uint16, uint32](s, m, &seen, g)
		}
	}
	if l.nx {
		return s.nxGroup(m, &seen, b, off)
	}
	return off, nil
}

// wideGroup adds the elements of the 8-byte group (numbers) or of the
// 16-byte group some FM63xx firmware sends (hex).
func (s *Session) wideGroup(m *protocol.Message, seen *ioSet, g []byte, idSize, w int) {
	for step := idSize + w; len(g) >= step; g = g[step:] {
		id := uint16(g[0])
		if idSize == 2 {
			id = binary.BigEndian.Uint16(g)
		}
		if w == 8 {
			s.addIO(m, seen, id, binary.BigEndian.Uint64(g[idSize:]), 8)
		} else {
			put(m, seen, id, s.entry(id).name, protocol.String(binfield.HexString(g[idSize:step])))
		}
	}
}

// nxGroup adds Codec 8 Extended's variable-length elements at b[off:] and
// returns the offset past them.
func (s *Session) nxGroup(m *protocol.Message, seen *ioSet, b []byte, off int) (int, error) {
	if off+2 > len(b) {
		return 0, shortRecord(off)
	}
	n := int(binary.BigEndian.Uint16(b[off:]))
	off += 2
	for range n {
		if off+4 > len(b) {
			return 0, shortRecord(off)
		}
		id := binary.BigEndian.Uint16(b[off:])
		size := int(binary.BigEndian.Uint16(b[off+2:]))
		off += 4
		if size > len(b)-off {
			return 0, shortRecord(off)
		}
		e := s.entry(id)
		put(m, seen, id, e.name, s.valueBytes(e, b[off:off+size]))
		off += size
	}
	return off, nil
}

// idWidth and valueWidth are the sizes of an element's AVL ID (Codec 8: 1
// byte, 8E and 16: 2) and value (1, 2 or 4 bytes): group is instantiated
// once per combination, so that its loop reads constant widths.
type (
	idWidth    interface{ ~uint8 | ~uint16 }
	valueWidth interface{ ~uint8 | ~uint16 | ~uint32 }
)

// group adds the fixed-width elements in g: each an AVL ID of ID's size and
// a value of W's size. The common conversions (a raw number, a boolean, a
// scaled unsigned or a two's-complement number) of an ID below indexed seen
// once on the record are done here, inline; the rest (text, hex, the
// operator code, large and repeated IDs) goes through addIO.
func group[ID idWidth, W valueWidth](s *Session, m *protocol.Message, seen *ioSet, g []byte) {
	var id0 ID
	var w0 W
	idSize, w := int(unsafe.Sizeof(id0)), int(unsafe.Sizeof(w0))
	step := idSize + w
	low := &s.idx.low
	for i := 0; i <= len(g)-step; i += step {
		_ = g[i+step-1] // one bounds check for the element's bytes
		id := uint16(g[i])
		if idSize == 2 {
			id = id<<8 | uint16(g[i+1])
		}
		var u uint64
		switch p := i + idSize; w {
		case 1:
			u = uint64(g[p])
		case 2:
			u = uint64(g[p])<<8 | uint64(g[p+1])
		default:
			u = uint64(g[p])<<24 | uint64(g[p+1])<<16 | uint64(g[p+2])<<8 | uint64(g[p+3])
		}
		if id < indexed {
			word, bit := &seen[id>>6], uint64(1)<<(id&63)
			if e := &low[id]; e.fast != fastNone && *word&bit == 0 {
				*word |= bit
				var v protocol.Value
				switch e.fast {
				case fastInt:
					v = protocol.Int(int64(u))
				case fastBool:
					v = protocol.Bool(u != 0)
				case fastDiv:
					v = protocol.Float(float64(u) / divisors[e.scale])
				default: // fastSigned
					shift := 64 - 8*uint(w)
					n := int64(u<<shift) >> shift
					if e.scale == scaleNone {
						v = protocol.Int(n)
					} else {
						v = protocol.Float(float64(n) / divisors[e.scale])
					}
				}
				m.Add(e.name, v)
				continue
			}
		}
		s.addIO(m, seen, id, u, w)
	}
}

// addIO adds an element that needs a conversion, a search for a repeated
// ID, or the lookup of a large ID.
func (s *Session) addIO(m *protocol.Message, seen *ioSet, id uint16, u uint64, w int) {
	e := s.entry(id)
	put(m, seen, id, e.name, s.value(e, u, w))
}

// put adds or, for a repeated ID, replaces a parameter.
func put(m *protocol.Message, seen *ioSet, id uint16, name string, v protocol.Value) {
	if seen.first(id) {
		m.Add(name, v)
	} else {
		m.Set(name, v)
	}
}
