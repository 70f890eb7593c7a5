package teltonika

import (
	"encoding/binary"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// Family selects which of Teltonika's two AVL ID numberings a codec names
// IO elements by. The zero value, [FamilyFMB], fits nearly every Teltonika
// tracker in the field.
type Family uint8

const (
	// FamilyFMB is the numbering of the FMB firmware lists: FMB0xx, FMB1xx,
	// FMB2xx, FMB9xx, FMC and FMM 0xx/1xx/2xx/8xx/9xx, FMT100, FMP100,
	// FMU1xx, MSP500 and the like. The default.
	FamilyFMB Family = iota
	// FamilyFMX6 is the numbering of the "professional" FMB64x, FMC64x,
	// FMC650, FMM64x and FMM650 lists, where many IDs mean something else
	// (30 is the CAN vehicle speed there, the number of DTCs on FMB).
	FamilyFMX6
	// FamilyBoth names only the IDs that mean the same on both numberings,
	// for a channel whose devices are of both kinds; the others stay
	// custom.param.<id>.
	FamilyBoth
)

func (f Family) String() string {
	switch f {
	case FamilyFMB:
		return "fmb"
	case FamilyFMX6:
		return "fmx6"
	case FamilyBoth:
		return "both"
	}
	return "Family(" + strconv.Itoa(int(f)) + ")"
}

// ioKind says how the raw big-endian bytes of an IO element become a value.
type ioKind uint8

const (
	ioUnsigned ioKind = iota // unsigned integer (every ID without a row)
	ioSigned                 // two's-complement integer of the element's width
	ioBool                   // 0 false, anything else true
	ioHex                    // bytes as lowercase hex text (identifiers)
	ioText                   // ASCII text (VIN, barcode)
	ioOperator               // GSM operator: MCC and MNC digits sent as a number, kept as text ("24602")
)

// family marks which numbering a table row belongs to.
type family uint8

const (
	famFMB  family             = 1 << iota // the FMB firmware lists
	famFMX6                                // the FMX6 lists
	famAll  = famFMB | famFMX6             // both, with the same meaning
)

// scale divides a raw integer into the catalogue's unit.
type scale uint8

const (
	scaleNone scale = iota
	scaleDiv10
	scaleDiv100
	scaleDiv1000
	scaleDiv60
)

var divisors = [...]float64{scaleNone: 1, scaleDiv10: 10, scaleDiv100: 100, scaleDiv1000: 1000, scaleDiv60: 60}

// ioRow is one row of [ioTable].
type ioRow struct {
	id    uint16
	fam   family
	kind  ioKind
	scale scale
	name  string // "" keeps custom.param.<id>
}

// ioEntry is what decoding needs to know of one AVL ID.
type ioEntry struct {
	name   string
	kind   ioKind
	scale  scale
	custom bool // name is custom.param.<id>
	fast   fast // how group converts it inline, for values under 8 bytes
}

// fast is the conversion of the common kinds, done inline.
type fast uint8

const (
	fastNone   fast = iota // not inline: value does it
	fastInt                // the raw number
	fastBool               // non-zero is true
	fastDiv                // unsigned, divided by its scale
	fastSigned             // two's complement, divided by its scale if it has one
)

func fastOf(k ioKind, sc scale) fast {
	switch {
	case k == ioUnsigned && sc == scaleNone:
		return fastInt
	case k == ioUnsigned:
		return fastDiv
	case k == ioBool:
		return fastBool
	case k == ioSigned:
		return fastSigned
	}
	return fastNone
}

// indexed is how many AVL IDs are looked up directly; the few larger ones
// with a row (EYE sensors, 108xx) are searched, and names of other large
// IDs are cached per session (see Session.highEntry).
const indexed = 1536

// ioIndex is one family's view of the table, built once on first use.
type ioIndex struct {
	low  [indexed]ioEntry
	high []highEntry // sorted by id
}

type highEntry struct {
	id uint16
	e  ioEntry
}

var (
	customNames = sync.OnceValue(func() *[indexed]string {
		var names [indexed]string
		for i := range names {
			names[i] = "custom.param." + strconv.Itoa(i)
		}
		return &names
	})
	indexes = [...]func() *ioIndex{
		FamilyFMB:  sync.OnceValue(func() *ioIndex { return buildIndex(FamilyFMB) }),
		FamilyFMX6: sync.OnceValue(func() *ioIndex { return buildIndex(FamilyFMX6) }),
		FamilyBoth: sync.OnceValue(func() *ioIndex { return buildIndex(FamilyBoth) }),
	}
)

// indexFor returns f's index; an unknown Family is treated as FamilyFMB.
func indexFor(f Family) *ioIndex {
	if int(f) >= len(indexes) {
		f = FamilyFMB
	}
	return indexes[f]()
}

// rowsFor returns the rows that apply to f.
func rowsFor(f Family) []ioRow {
	var rows []ioRow
	conflict := make(map[uint16]bool, len(ioConflicts))
	for _, id := range ioConflicts {
		conflict[id] = true
	}
	for _, r := range ioTable {
		switch f {
		case FamilyFMB:
			if r.fam&famFMB == 0 {
				continue
			}
		case FamilyFMX6:
			if r.fam&famFMX6 == 0 {
				continue
			}
		case FamilyBoth:
			if conflict[r.id] && r.fam != famAll {
				continue
			}
		}
		rows = append(rows, r)
	}
	return rows
}

func buildIndex(f Family) *ioIndex {
	names := customNames()
	idx := new(ioIndex)
	for i := range idx.low {
		idx.low[i] = ioEntry{name: names[i], custom: true, fast: fastInt}
	}
	for _, r := range rowsFor(f) {
		e := ioEntry{name: r.name, kind: r.kind, scale: r.scale, fast: fastOf(r.kind, r.scale)}
		if e.name == "" {
			e.name, e.custom = "custom.param."+strconv.Itoa(int(r.id)), true
			if int(r.id) < indexed {
				e.name = names[r.id]
			}
		}
		if int(r.id) < indexed {
			idx.low[r.id] = e
		} else {
			idx.high = append(idx.high, highEntry{r.id, e})
		}
	}
	return idx
}

// maxCachedNames bounds a session's cache of names for AVL IDs at or above
// indexed, so that a hostile device cycling through IDs costs at most this
// many strings.
const maxCachedNames = 256

// highEntry returns the entry of an ID at or above indexed.
func (s *Session) highEntry(id uint16) *ioEntry {
	high := s.idx.high
	lo, hi := 0, len(high)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if high[mid].id < id {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(high) && high[lo].id == id {
		return &high[lo].e
	}
	if e, ok := s.names[id]; ok {
		return e
	}
	e := &ioEntry{name: "custom.param." + strconv.Itoa(int(id)), custom: true, fast: fastInt}
	if len(s.names) < maxCachedNames {
		if s.names == nil {
			s.names = make(map[uint16]*ioEntry)
		}
		s.names[id] = e
	}
	return e
}

// entry returns the table entry of id.
func (s *Session) entry(id uint16) *ioEntry {
	if id < indexed {
		return &s.idx.low[id]
	}
	return s.highEntry(id)
}

// value converts the integer u read from an element of w bytes (1 to 8).
func (s *Session) value(e *ioEntry, u uint64, w int) protocol.Value {
	switch e.kind {
	case ioUnsigned:
		if e.scale != scaleNone {
			return protocol.Float(float64(u) / divisors[e.scale])
		}
		return protocol.Uint(u)
	case ioSigned:
		shift := 64 - 8*uint(w)
		i := int64(u<<shift) >> shift
		if e.scale != scaleNone {
			return protocol.Float(float64(i) / divisors[e.scale])
		}
		return protocol.Int(i)
	case ioBool:
		return protocol.Bool(u != 0)
	case ioHex:
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], u)
		return protocol.String(binfield.HexString(b[8-w:]))
	case ioText:
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], u)
		return protocol.String(asciiText(b[8-w:]))
	case ioOperator:
		return protocol.String(s.operator(u))
	}
	return protocol.Uint(u)
}

// operator returns the text of a GSM operator code. The operator rarely
// changes: its text is kept to spare an allocation per record.
func (s *Session) operator(u uint64) string {
	if u != s.opCode || s.opText == "" {
		s.opCode, s.opText = u, strconv.FormatUint(u, 10)
	}
	return s.opText
}

// valueBytes converts a variable-length (Codec 8 Extended NX) element: a
// number when the table names the ID with a numeric kind and it fits in 8
// bytes, text for text kinds, lowercase hex otherwise.
func (s *Session) valueBytes(e *ioEntry, raw []byte) protocol.Value {
	switch {
	case e.kind == ioText:
		return protocol.String(asciiText(raw))
	case e.kind == ioHex || e.custom || len(raw) == 0 || len(raw) > 8:
		return protocol.String(binfield.HexString(raw))
	}
	var u uint64
	for _, c := range raw {
		u = u<<8 | uint64(c)
	}
	return s.value(e, u, len(raw))
}

// ioSet tracks the AVL IDs below indexed already set on a record's message,
// so that each is added without a search and a repeated ID replaces the
// first value instead of repeating the name. Larger IDs (rare) use
// Message.Set.
type ioSet [indexed / 64]uint64

// first reports whether id has not been seen yet on this record, and marks
// it seen.
func (s *ioSet) first(id uint16) bool {
	if id >= indexed {
		return false
	}
	bit := uint64(1) << (id & 63)
	if s[id>>6]&bit != 0 {
		return false
	}
	s[id>>6] |= bit
	return true
}

// asciiText returns ASCII bytes as text without the NUL or space padding
// fixed-size fields carry; bytes that are not UTF-8 become U+FFFD so the
// message survives a JSON round trip.
func asciiText(b []byte) string {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && b[0] == 0 {
		b = b[1:]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
