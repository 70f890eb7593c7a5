package ruptela

import (
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// IO elements. Ruptela's IO ID list gives each ID a name, size, type
// (unsigned, signed, string), multiplier and offset, unit and the raw
// values that mean "not available". IDs whose meaning has a common flespi
// name are decoded to it in its unit; every other ID is kept as
// custom.param.<id>, raw: a number (signed where the list says so) or, for
// the list's string and hex IDs, the bytes in hex. A value the list marks
// "not available" is kept raw under custom.param.<id> too, rather than
// turned into a wrong reading.

// ioKind is how a named IO element's value is turned into a parameter.
type ioKind uint8

const (
	ioNumber ioKind = iota // raw × mul + add (mul 0: the raw integer)
	ioBool                 // non-zero = true
	ioHex                  // the bytes, lowercase hex
	ioText                 // the decimal number as a string (operator codes)
)

type ioDef struct {
	name   string
	also   string // a second name the value sets (ignition is also DIN4)
	kind   ioKind
	signed bool
	mul    float64
	add    float64
	// errMin..errMax (raw) are "not available"; err2 is one more such value
	// (0 for none). errMax 0: no error range.
	errMin, errMax uint64
	err2           uint64
	shared         bool     // another ID sets the same name: replace, do not add
	weak           bool     // also is set only when no other ID sets that name
	others         []uint16 // IDs that set the same name (built at init)
}

// j1939 error ranges: a J1939 value's top byte 0xFE is an error, 0xFF "not
// available"; the IO list writes them as 254, 65024 to 65279, 4261412864 to
// 4278190079.
const (
	j1939Err1 = 0xFE
	j1939Err2 = 0xFE00
	j1939Err4 = 0xFE000000
)

// ioDefs are the IDs decoded by name, from Ruptela's IO ID list.
var ioDefs = map[uint16]ioDef{
	2:   {name: "din#1", kind: ioBool},
	3:   {name: "din#2", kind: ioBool},
	4:   {name: "din#3", kind: ioBool},
	5:   {name: "din#4", also: "engine.ignition.status", kind: ioBool, weak: true}, // Ignition (DIN4); 409 wins
	20:  {name: "ain#3", mul: 0.001, errMin: 65535, errMax: 65535},                 // mV → V
	21:  {name: "ain#4", mul: 0.001, errMin: 65535, errMax: 65535},
	22:  {name: "ain#1", mul: 0.001, errMin: 65535, errMax: 65535},
	23:  {name: "ain#2", mul: 0.001, errMin: 65535, errMax: 65535},
	27:  {name: "gsm.signal.level", errMin: 255, errMax: 255, err2: 100}, // 0–31
	29:  {name: "external.powersource.voltage", mul: 0.001, errMin: 65535, errMax: 65535},
	30:  {name: "battery.voltage", mul: 0.001, errMin: 65535, errMax: 65535},
	32:  {name: "device.temperature", signed: true}, // PCB temperature, °C
	34:  {name: "ibutton.code", kind: ioHex, errMin: 1<<64 - 1, errMax: 1<<64 - 1},
	65:  {name: "vehicle.mileage", mul: 0.001}, // virtual odometer, m → km
	74:  {name: "temperature#3", signed: true, mul: 0.1, errMin: 2000, errMax: 2004, err2: 850},
	78:  {name: "temperature#0", signed: true, mul: 0.1, errMin: 2000, errMax: 2004, err2: 850},
	79:  {name: "temperature#1", signed: true, mul: 0.1, errMin: 2000, errMax: 2004, err2: 850},
	80:  {name: "temperature#2", signed: true, mul: 0.1, errMin: 2000, errMax: 2004, err2: 850},
	94:  {name: "can.engine.rpm", mul: 0.25, shared: true}, // OBD RPM
	95:  {name: "can.vehicle.speed", shared: true},         // OBD speed, km/h
	96:  {name: "can.engine.coolant.temperature", mul: 1, add: -40, errMin: 255, errMax: 255, shared: true},
	98:  {name: "can.fuel.level", mul: 100.0 / 255, errMin: 255, errMax: 255, shared: true}, // OBD fuel level, %
	111: {name: "dout#3", kind: ioBool},
	112: {name: "dout#4", kind: ioBool},
	114: {name: "can.vehicle.mileage", mul: 0.005, errMin: j1939Err4, errMax: 0xFFFFFFFF, shared: true}, // 5 m → km
	115: {name: "can.engine.coolant.temperature", mul: 1, add: -40, errMin: j1939Err1, errMax: 0xFF, shared: true},
	150: {name: "gsm.operator.code", kind: ioText},
	170: {name: "battery.current", mul: 0.001, errMin: 65535, errMax: 65535}, // battery charge current, mA → A
	173: {name: "movement.status", kind: ioBool},
	197: {name: "can.engine.rpm", mul: 0.125, errMin: j1939Err2, errMax: 0xFFFF, shared: true},
	203: {name: "can.engine.motorhours", mul: 0.05, errMin: j1939Err4, errMax: 0xFFFFFFFF},
	205: {name: "can.fuel.volume", shared: true}, // litres
	207: {name: "can.fuel.level", mul: 0.4, errMin: j1939Err1, errMax: 0xFF, shared: true},
	208: {name: "can.fuel.consumed", mul: 0.5, errMin: j1939Err4, errMax: 0xFFFFFFFF},
	210: {name: "can.vehicle.speed", mul: 1.0 / 256, errMin: j1939Err2, errMax: 0xFFFF, shared: true}, // wheel-based speed
	405: {name: "dout#1", kind: ioBool},
	406: {name: "dout#2", kind: ioBool},
	409: {name: "engine.ignition.status", kind: ioBool, shared: true}, // custom ignition: the configured source
	410: {name: "towing.event.trigger", kind: ioBool},
	558: {name: "sos.event.trigger", kind: ioBool},                                           // panic
	645: {name: "can.vehicle.mileage", errMin: 0xFFFFFFFF, errMax: 0xFFFFFFFF, shared: true}, // OBD odometer, km
	851: {name: "gsm.lac", errMin: 65535, errMax: 65535},
	852: {name: "gsm.cellid", errMin: 0xFFFFFFFF, errMax: 0xFFFFFFFF},
	988: {name: "din#5", kind: ioBool},
	989: {name: "din#6", kind: ioBool},
}

// Fast lookup: ioIndex[id] is 1 + the position of the ID's definition in
// ioTable, for IDs below maxListed.
const maxListed = 2048

var (
	ioTable []ioDef
	ioIndex [maxListed]uint16
)

func init() {
	byName := map[string][]uint16{}
	for id, d := range ioDefs {
		byName[d.name] = append(byName[d.name], id)
		if d.also != "" {
			byName[d.also] = append(byName[d.also], id)
		}
	}
	for id, d := range ioDefs {
		for _, other := range byName[d.name] {
			if other != id {
				d.others = append(d.others, other)
			}
		}
		if d.also != "" {
			for _, other := range byName[d.also] {
				if other != id {
					d.others = append(d.others, other)
				}
			}
		}
		ioTable = append(ioTable, d)
		ioIndex[id] = uint16(len(ioTable))
	}
}

func lookupIO(id uint16) (*ioDef, bool) {
	if id < maxListed && ioIndex[id] != 0 {
		return &ioTable[ioIndex[id]-1], true
	}
	return nil, false
}

// IDs the IO list types as signed integers, and as strings or hex.
var (
	signedIDs = bitset(6, 26, 32, 33, 49, 50, 51, 56, 57, 58, 59, 60, 61, 62, 63, 64, 74, 75, 76, 78, 79, 80,
		144, 145, 146, 147, 148, 149, 184, 185, 186, 187, 212, 419, 509, 510, 511, 512, 513, 514, 520,
		584, 585, 586, 594, 600, 601, 602, 603, 604, 611, 612, 613, 640, 755, 756, 757, 840, 842, 843,
		844, 887, 888, 903, 904, 916, 917, 926, 927, 1000)
	stringIDs = bitset(34, 70, 71, 72, 73, 104, 105, 106, 123, 124, 125, 126, 127, 128, 129, 152, 153,
		154, 155, 156, 157, 158, 167, 168, 171, 172, 614, 615, 616, 617, 620, 621, 622, 623, 624, 625,
		626, 633, 634, 635, 636, 646, 647, 648, 649, 760, 761, 823, 824, 825, 939, 940, 941, 981, 982,
		983, 984, 1144, 1145, 1201, 1202, 1203, 1204, 1205, 1206, 1207, 1208, 1209, 1210, 1211, 1212,
		1213, 1214, 1215, 1216, 1217, 1218, 1219, 1220)
)

type idSet [maxListed / 64]uint64

func bitset(ids ...int) (s idSet) {
	for _, id := range ids {
		s[id/64] |= 1 << (id % 64)
	}
	return
}

func (s *idSet) has(id uint16) bool { return id < maxListed && s[id/64]&(1<<(id%64)) != 0 }

// seenIDs records the IO IDs met in one record, all 65,536 of them; reset
// clears only the words that were set, so a record costs in proportion to
// its elements.
type seenIDs struct {
	words [1024]uint64
	dirty []uint16
}

// testAndSet marks id and reports whether it was marked already.
func (s *seenIDs) testAndSet(id uint16) bool {
	w, b := id/64, uint64(1)<<(id%64)
	if s.words[w]&b != 0 {
		return true
	}
	if s.words[w] == 0 {
		s.dirty = append(s.dirty, w)
	}
	s.words[w] |= b
	return false
}

func (s *seenIDs) has(id uint16) bool { return s.words[id/64]&(1<<(id%64)) != 0 }

func (s *seenIDs) reset() {
	for _, w := range s.dirty {
		s.words[w] = 0
	}
	s.dirty = s.dirty[:0]
}

// customNames caches "custom.param.<id>" for the listed ID range.
var customNames = func() (t [maxListed]string) {
	for i := range t {
		t[i] = "custom.param." + strconv.Itoa(i)
	}
	return
}()

// signedOf sign-extends a raw value of size bytes.
func signedOf(v uint64, size int) int64 {
	shift := 64 - 8*uint(size)
	return int64(v<<shift) >> shift
}

// isError reports whether a raw value is one the list marks "not available".
func (d *ioDef) isError(v uint64) bool {
	return d.errMax != 0 && v >= d.errMin && v <= d.errMax || d.err2 != 0 && v == d.err2
}

// ioParam adds one IO element to m: raw is the value of size bytes b. A
// record that repeats an ID keeps the first value (the caller skips the
// others), so a message never repeats a name and a hostile packet costs
// linear time. Where two IDs give the same name (OBD and CAN engine
// speed), the later one replaces the earlier.
func (s *Session) ioParam(m *protocol.Message, id uint16, raw uint64, size int, b []byte) {
	if d, ok := lookupIO(id); ok && !d.isError(raw) {
		var pv protocol.Value
		switch d.kind {
		case ioBool:
			pv = protocol.Bool(raw != 0)
		case ioHex:
			pv = protocol.String(hexLower(b))
		case ioText:
			pv = protocol.String(strconv.FormatUint(raw, 10))
		default:
			switch {
			case d.mul != 0 && d.signed:
				pv = protocol.Float(round6(float64(signedOf(raw, size))*d.mul + d.add))
			case d.mul != 0:
				pv = protocol.Float(round6(float64(raw)*d.mul + d.add))
			case d.signed:
				pv = protocol.Int(signedOf(raw, size))
			default:
				pv = protocol.Uint(raw)
			}
		}
		shared := s.seenAny(d.others)
		switch {
		case d.weak: // DIN4: "also" (ignition) only when the custom ignition is absent
			m.Add(d.name, pv)
			if !shared {
				m.Add(d.also, pv)
			}
		default:
			put(m, d.name, pv, shared)
			if d.also != "" {
				put(m, d.also, pv, shared)
			}
		}
		return
	}
	name := s.customName(id)
	switch {
	case stringIDs.has(id):
		m.Add(name, protocol.String(hexLower(b)))
	case signedIDs.has(id):
		m.Add(name, protocol.Int(signedOf(raw, size)))
	default:
		m.Add(name, protocol.Uint(raw))
	}
}

func put(m *protocol.Message, name string, v protocol.Value, replace bool) {
	if replace {
		m.Set(name, v)
	} else {
		m.Add(name, v)
	}
}

// seenAny reports whether the record has met any of ids.
func (s *Session) seenAny(ids []uint16) bool {
	for _, id := range ids {
		if s.seen.has(id) {
			return true
		}
	}
	return false
}

// round6 drops the binary noise a multiplier leaves (0.1 × 235 =
// 23.500000000000004): the IO list's resolutions are coarser than 10⁻⁶.
func round6(f float64) float64 {
	if f < 0 {
		if r := -round6(-f); r != 0 {
			return r
		}
		return 0 // never −0
	}
	if f >= 1e12 {
		return f
	}
	return float64(int64(f*1e6+0.5)) / 1e6
}

func (s *Session) customName(id uint16) string {
	if id < maxListed {
		return customNames[id]
	}
	if name, ok := s.names[id]; ok {
		return name
	}
	if s.names == nil {
		s.names = make(map[uint16]string)
	}
	name := "custom.param." + strconv.Itoa(int(id))
	if len(s.names) < 4096 { // a hostile device cannot grow the cache forever
		s.names[id] = name
	}
	return name
}

const lowerHex = "0123456789abcdef"

func hexLower(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = lowerHex[c>>4], lowerHex[c&15]
	}
	return string(out)
}

func itoa(n int) string { return strconv.Itoa(n) }
