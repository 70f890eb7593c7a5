package teltonika

import (
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// ioKind says how the raw big-endian bytes of an IO element become a value.
type ioKind uint8

const (
	ioUnsigned ioKind = iota // unsigned integer (the default for unknown ids)
	ioSigned                 // two's-complement integer of the element's width
	ioBool                   // 0 false, anything else true
	ioHex                    // bytes as lowercase hex text (identifiers)
)

// ioElement is one row of the IO table: the flespi name of an AVL ID whose
// meaning is the same across Teltonika's FM/FMB/FMC/FMM families, and how
// to read it. div scales the integer: the value is raw/div (div 0 or 1: the
// raw integer).
type ioElement struct {
	id   uint16
	name string
	kind ioKind
	div  float64
}

// ioTable is the one place where AVL IDs get names, signedness and scale.
// Sources: the Teltonika wiki "FMB… Teltonika Data Sending Parameters ID"
// pages (FMB0/1/9 families, firmware 03.2x) cross-checked with the "FM36
// AVL ID" page for the older FM family. An ID is named only where those
// agree on its meaning and unit; everything else is kept as
// custom.param.<id> with its raw value, as flespi does for an unregistered
// device type. Notes on IDs left out on purpose:
//
//   - 4: digital input 4 on FM36, pulse counter of DIN1 on FMB.
//   - 6, 10: analog input 2 on FMB (6) and FM36 (10); 10 is the SD card
//     status on FMB.
//   - 69 (GNSS status), 24 (GNSS speed), 80 (data mode), 200 (sleep mode):
//     the FMB640 list numbers and ranges differ.
//   - 66 is 0.001 V on every list but FMB930's, which says 0.01 V; we follow
//     the majority and the FM36 list (mV).
//
// Signed elements without a common name keep their custom.param name but are
// read as two's complement: the accelerometer axes (17-19, mG) and the Dallas
// temperatures (72-75, 0.1 °C raw), so that -222 is not 65314 (traccar#4993).
var ioTable = [...]ioElement{
	{id: 1, name: "din#1", kind: ioBool},
	{id: 2, name: "din#2", kind: ioBool},
	{id: 3, name: "din#3", kind: ioBool},
	{id: 9, name: "ain#1", div: 1000},                         // mV → V
	{id: 16, name: "vehicle.mileage", div: 1000},              // total odometer, m → km
	{id: 17, name: "custom.param.17", kind: ioSigned},         // axis X, mG
	{id: 18, name: "custom.param.18", kind: ioSigned},         // axis Y, mG
	{id: 19, name: "custom.param.19", kind: ioSigned},         // axis Z, mG
	{id: 21, name: "gsm.signal.level"},                        // 0-5 as the device reports
	{id: 66, name: "external.powersource.voltage", div: 1000}, // mV → V
	{id: 67, name: "battery.voltage", div: 1000},              // mV → V
	{id: 68, name: "battery.current", div: 1000},              // mA → A
	{id: 72, name: "custom.param.72", kind: ioSigned},         // Dallas temperature 1, 0.1 °C
	{id: 73, name: "custom.param.73", kind: ioSigned},         // Dallas temperature 2
	{id: 74, name: "custom.param.74", kind: ioSigned},         // Dallas temperature 3
	{id: 75, name: "custom.param.75", kind: ioSigned},         // Dallas temperature 4
	{id: 78, name: "ibutton.code", kind: ioHex},               // iButton id, 8 bytes
	{id: 113, name: "battery.level"},                          // %
	{id: 179, name: "dout#1", kind: ioBool},                   // digital output 1
	{id: 180, name: "dout#2", kind: ioBool},                   // digital output 2
	{id: 181, name: "position.pdop", div: 10},                 // ×0.1
	{id: 182, name: "position.hdop", div: 10},                 // ×0.1
	{id: 205, name: "gsm.cellid"},                             // GSM cell id
	{id: 206, name: "gsm.lac"},                                // location area code
	{id: 239, name: "engine.ignition.status", kind: ioBool},   // ignition
	{id: 240, name: "movement.status", kind: ioBool},          // movement
}

// staticNames is how many custom.param names are built once for the
// package; rarer IDs above it are named per session (see nameCache).
const staticNames = 1024

// ioIndex holds, for each AVL ID below staticNames, its table row or a
// custom.param row. It is built once and never modified.
var ioIndex = buildIOIndex(customNames)

// customNames holds "custom.param.<id>" for every ID below staticNames,
// table or not (GH3000 records use it: their IDs mean something else).
var customNames = buildCustomNames()

func buildCustomNames() *[staticNames]string {
	var names [staticNames]string
	for i := range names {
		names[i] = "custom.param." + strconv.Itoa(i)
	}
	return &names
}

func buildIOIndex(names *[staticNames]string) *[staticNames]ioElement {
	var idx [staticNames]ioElement
	for i := range idx {
		idx[i] = ioElement{id: uint16(i), name: names[i]}
	}
	for _, e := range ioTable {
		idx[e.id] = e
	}
	return &idx
}

// maxCachedNames bounds a session's cache of names for AVL IDs at or above
// staticNames, so that a hostile device cycling through IDs costs at most
// this many strings.
const maxCachedNames = 256

// ioName returns the row for id, building and caching a custom.param name
// for large IDs.
func (s *Session) ioElement(id uint16) ioElement {
	if int(id) < staticNames {
		return ioIndex[id]
	}
	if name, ok := s.names[id]; ok {
		return ioElement{id: id, name: name}
	}
	name := "custom.param." + strconv.Itoa(int(id))
	if len(s.names) < maxCachedNames {
		if s.names == nil {
			s.names = make(map[uint16]string)
		}
		s.names[id] = name
	}
	return ioElement{id: id, name: name}
}

// ioValue reads one IO element of 1 to 8 bytes.
func ioValue(e ioElement, raw []byte) protocol.Value {
	var u uint64
	for _, c := range raw {
		u = u<<8 | uint64(c)
	}
	switch e.kind {
	case ioBool:
		return protocol.Bool(u != 0)
	case ioHex:
		return protocol.String(hexString(raw))
	case ioSigned:
		shift := 64 - 8*uint(len(raw))
		i := int64(u<<shift) >> shift
		if e.div > 1 {
			return protocol.Float(float64(i) / e.div)
		}
		return protocol.Int(i)
	}
	if e.div > 1 {
		return protocol.Float(float64(u) / e.div)
	}
	return protocol.Uint(u)
}

// ioSet tracks the AVL IDs below 256 already set on a record's message, so
// that each is added without a search and a repeated ID replaces the first
// value instead of repeating the name. Larger IDs (rare) use Message.Set.
type ioSet [4]uint64

func (s *ioSet) put(m *protocol.Message, id uint16, name string, v protocol.Value) {
	if id < 256 {
		if bit := uint64(1) << (id & 63); s[id>>6]&bit == 0 {
			s[id>>6] |= bit
			m.Add(name, v)
			return
		}
	}
	m.Set(name, v)
}

const hexDigits = "0123456789abcdef"

func hexString(b []byte) string {
	buf := make([]byte, 2*len(b))
	for i, c := range b {
		buf[2*i] = hexDigits[c>>4]
		buf[2*i+1] = hexDigits[c&0xF]
	}
	return string(buf)
}
