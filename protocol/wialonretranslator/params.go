package wialonretranslator

import (
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// Block names the spec and Wialon give a meaning.
const (
	blockPosinfo = "posinfo"
	blockInputs  = "avl_inputs"
	blockOutputs = "avl_outputs"
	blockDriver  = "avl_driver"
)

// Header flags.
const (
	flagPosition = 0x1
	flagInputs   = 0x2
	flagOutputs  = 0x4
	flagAlarm    = 0x10
	flagDriver   = 0x20
)

// Data types of a block.
const (
	typeText   = 1
	typeBinary = 2
	typeInt32  = 3
	typeDouble = 4
	typeInt64  = 5
)

// kind is what a mapped parameter holds.
type kind uint8

const (
	kindNumber kind = iota // any number; sent as a double
	kindInt                // a whole number; sent as int32 (int64 when larger)
	kindBool               // a boolean; sent as int32 0 or 1
	kindText               // a string; sent as text
)

// mapping is one row of the table in the package documentation: a Wialon
// block and the flespi parameter it carries.
type mapping struct {
	block  string
	param  string
	kind   kind
	hidden bool   // the spec's security attribute: 1 for the avl_* blocks
	flag   uint32 // the header flag that announces the block
}

// table holds the named blocks; adcN ↔ ain#N and posinfo are handled in
// code. The renames past the spec's own blocks are those flespi's Wialon
// Retranslator channel documents (the same as its Wialon IPS channel).
var table = []mapping{
	{blockInputs, "din", kindInt, true, flagInputs},
	{blockOutputs, "dout", kindInt, true, flagOutputs},
	{blockDriver, "ibutton.code", kindText, true, flagDriver},
	{"pwr_ext", "external.powersource.voltage", kindNumber, false, 0},
	{"pwr_int", "battery.voltage", kindNumber, false, 0},
	{"battery", "battery.level", kindNumber, false, 0},
	{"gsm", "gsm.signal.level", kindInt, false, 0},
	{"ign", "engine.ignition.status", kindBool, false, 0},
	{"hdop", protocol.ParamHDOP, kindNumber, false, 0},
	{"accelerometer", "absolute.acceleration", kindNumber, false, 0},
	{"accel_res", "absolute.deceleration", kindNumber, false, 0},
	{"axis_weight", "can.axle.weight", kindNumber, false, 0},
	{"cool_temp", "can.engine.coolant.temperature", kindNumber, false, 0},
	{"engine_temp", "can.engine.temperature", kindNumber, false, 0},
	{"fuel_volume", "can.fuel.volume", kindNumber, false, 0},
}

const paramAlarm = "alarm.event.trigger"

// byBlock and byParam find a table row; a switch on strings compiles to
// a search by length and value, cheaper than walking the table.
func byBlock[T string | []byte](name T) *mapping {
	i := -1
	switch string(name) {
	case "avl_inputs":
		i = 0
	case "avl_outputs":
		i = 1
	case "avl_driver":
		i = 2
	case "pwr_ext":
		i = 3
	case "pwr_int":
		i = 4
	case "battery":
		i = 5
	case "gsm":
		i = 6
	case "ign":
		i = 7
	case "hdop":
		i = 8
	case "accelerometer":
		i = 9
	case "accel_res":
		i = 10
	case "axis_weight":
		i = 11
	case "cool_temp":
		i = 12
	case "engine_temp":
		i = 13
	case "fuel_volume":
		i = 14
	}
	if i < 0 {
		return nil
	}
	return &table[i]
}

func byParam(name string) *mapping {
	i := -1
	switch name {
	case "din":
		i = 0
	case "dout":
		i = 1
	case "ibutton.code":
		i = 2
	case "external.powersource.voltage":
		i = 3
	case "battery.voltage":
		i = 4
	case "battery.level":
		i = 5
	case "gsm.signal.level":
		i = 6
	case "engine.ignition.status":
		i = 7
	case protocol.ParamHDOP:
		i = 8
	case "absolute.acceleration":
		i = 9
	case "absolute.deceleration":
		i = 10
	case "can.axle.weight":
		i = 11
	case "can.engine.coolant.temperature":
		i = 12
	case "can.engine.temperature":
		i = 13
	case "can.fuel.volume":
		i = 14
	}
	if i < 0 {
		return nil
	}
	return &table[i]
}

// adcIndex returns N for a block "adcN" (N ≥ 1), or 0.
func adcIndex[T string | []byte](name T) int {
	if len(name) < 4 || string(name[:3]) != "adc" {
		return 0
	}
	return index(name[3:], true)
}

// ainIndex returns N for a parameter "ain#N" (N ≥ 1), or 0.
func ainIndex(name string) int {
	digits, ok := strings.CutPrefix(name, "ain#")
	return index(digits, ok)
}

func index[T string | []byte](digits T, ok bool) int {
	if !ok || len(digits) == 0 || len(digits) > 6 || digits[0] == '0' {
		return 0
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// isPosition reports the parameters that travel in posinfo.
func isPosition(name string) bool {
	switch name {
	case protocol.ParamLatitude, protocol.ParamLongitude, protocol.ParamAltitude,
		protocol.ParamSpeed, protocol.ParamDirection, protocol.ParamSatellites:
		return true
	}
	return false
}

// paramName is the flespi name of a block that is not in the table: a
// name with a dot, or one in the catalogue ("peer", "timezone"), is a
// flespi name already (what a gnssgate or flespi stream sends) and is
// kept; any other gets flespi's "custom." prefix, as the Wialon IPS
// channel does. "ident" and "timestamp" would shadow the header and are
// prefixed too. isBool reports a catalogue boolean.
func paramName(block []byte) (name string, isBool bool) {
	s := string(block)
	if s == protocol.ParamIdent || s == protocol.ParamTimestamp {
		return "custom." + s, false
	}
	k, known := catalogueKind(s)
	if known || strings.IndexByte(s, '.') >= 0 {
		return s, known && k == protocol.KindBool
	}
	return "custom." + s, false
}

// blockName is the reverse of paramName for parameters outside the table:
// "custom.X" goes out as X when paramName(X) gives "custom.X" back;
// every other name goes out as it is.
func blockName(param string) string {
	rest, ok := strings.CutPrefix(param, "custom.")
	if !ok || rest == "" || strings.IndexByte(rest, '.') >= 0 {
		return param
	}
	if byBlock(rest) != nil || adcIndex(rest) > 0 || rest == blockPosinfo {
		return param
	}
	if _, known := catalogueKind(rest); known || rest == protocol.ParamIdent || rest == protocol.ParamTimestamp {
		return param
	}
	return rest
}

// catalogue and families hold the catalogue's names and kinds
// (families, "ain#N", by their prefix "ain"): [protocol.LookupParam] with
// map lookups, for the decoder's hot path.
var catalogue, families = func() (map[string]protocol.Kind, map[string]protocol.Kind) {
	names, fams := make(map[string]protocol.Kind), make(map[string]protocol.Kind)
	for _, p := range protocol.Catalogue() {
		if prefix, ok := strings.CutSuffix(p.Name, "#N"); ok {
			fams[prefix] = p.Type
		}
		names[p.Name] = p.Type
	}
	return names, fams
}()

// catalogueKind is [protocol.LookupParam]'s answer: the kind of a
// catalogue name, and whether it is one.
func catalogueKind(name string) (protocol.Kind, bool) {
	if i := strings.LastIndexByte(name, '#'); i > 0 && allDigits(name[i+1:]) {
		k, ok := families[name[:i]]
		return k, ok
	}
	if rest, ok := strings.CutPrefix(name, "custom.param."); ok && allDigits(rest) {
		k, ok := catalogue["custom.param.N"]
		return k, ok
	}
	k, ok := catalogue[name]
	return k, ok
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
