package teltonika

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
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

// decodeRecord decodes the record at b[off:] into a new message of r.
func (s *Session) decodeRecord(b []byte, off int, l layout, r *protocol.Result) (int, error) {
	fixed := recordHeader + l.idSize + l.cntSize
	if l.genType {
		fixed++
	}
	if off+fixed > len(b) {
		return 0, shortRecord(off)
	}
	m := r.NewMessage()
	// The names set here are distinct, and distinct from every IO name, so
	// they are added without a search.
	if s.ident != "" {
		m.Add(protocol.ParamIdent, protocol.String(s.ident))
	}
	ms := binary.BigEndian.Uint64(b[off:])
	m.Add(protocol.ParamTimestamp, protocol.Float(float64(ms)/1000))
	prio := b[off+8]
	g := b[off+9:]
	lon := int32(binary.BigEndian.Uint32(g))
	lat := int32(binary.BigEndian.Uint32(g[4:]))
	sats := g[12]
	m.Add(protocol.ParamLatitude, protocol.Float(float64(lat)/1e7))
	m.Add(protocol.ParamLongitude, protocol.Float(float64(lon)/1e7))
	m.Add(protocol.ParamAltitude, protocol.Int(int64(int16(binary.BigEndian.Uint16(g[8:])))))
	m.Add(protocol.ParamDirection, protocol.Int(int64(binary.BigEndian.Uint16(g[10:]))))
	m.Add(protocol.ParamSpeed, protocol.Int(int64(binary.BigEndian.Uint16(g[13:]))))
	m.Add(protocol.ParamSatellites, protocol.Int(int64(sats)))
	m.Add(protocol.ParamValid, protocol.Bool(sats > 0 && math.Abs(float64(lat)) <= 90e7 && math.Abs(float64(lon)) <= 180e7))
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
		if n*(l.idSize+w) > len(b)-off {
			return 0, shortRecord(off)
		}
		for range n {
			e := s.ioElement(uint16(l.uint(b, off, l.idSize)))
			if v := b[off+l.idSize : off+l.idSize+w]; w <= 8 {
				seen.put(m, e.id, e.name, ioValue(e, v))
			} else {
				seen.put(m, e.id, e.name, protocol.String(hexString(v)))
			}
			off += l.idSize + w
		}
	}
	if l.nx {
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
			e := s.ioElement(id)
			// A variable-length element is a number only when the table
			// names it and it fits; otherwise its bytes are kept as hex.
			if size >= 1 && size <= 8 && e.kind != ioHex && !strings.HasPrefix(e.name, "custom.") {
				seen.put(m, id, e.name, ioValue(e, b[off:off+size]))
			} else {
				seen.put(m, id, e.name, protocol.String(hexString(b[off:off+size])))
			}
			off += size
		}
	}
	return off, nil
}
