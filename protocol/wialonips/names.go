package wialonips

import (
	"strconv"

	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// paramDef is how a parameter is registered.
type paramDef struct {
	name   string
	asBool bool // a number that is registered as true when non-zero
	field  bool // the name may already be set by a field of #D# (HDOP, ADC)
}

// knownParams maps the parameter names with one meaning to the catalogue's
// names. Sources: the spec itself (SOS, text, and the LBS names mcc, mnc,
// lac, cell_id), flespi's Wialon IPS channel ("field 'pwr_int'" and so on on
// its protocol page), Wialon's device pages (pwr_ext, pwr_int and adcN in
// volts) and the names devices in the field send (gsm, gsm_lvl, ign,
// odometer, temp). Values are kept as sent: the names say which unit the
// convention uses. Names are matched exactly: the spec says lowercase, and
// a device's "Battery" (4.03 in a capture) is not the level "battery" is.
// The table of doc.go lists the same rows.
var knownParams = map[string]paramDef{
	"SOS":           {name: "alarm.event.trigger", asBool: true},
	"text":          {name: "driver.message"},
	"mcc":           {name: "gsm.mcc"},
	"mnc":           {name: "gsm.mnc"},
	"lac":           {name: "gsm.lac"},
	"cell_id":       {name: "gsm.cellid"},
	"pwr_ext":       {name: "external.powersource.voltage"},
	"pwr_int":       {name: "battery.voltage"},
	"battery":       {name: "battery.level"},
	"bat":           {name: "battery.level"},
	"accelerometer": {name: "absolute.acceleration"},
	"accel_res":     {name: "absolute.deceleration"},
	"axis_weight":   {name: "can.axle.weight"},
	"cool_temp":     {name: "can.engine.coolant.temperature"},
	"engine_temp":   {name: "can.engine.temperature"},
	"fuel_volume":   {name: "can.fuel.volume"},
	"fuel_level":    {name: "fuel.level"},
	"gsm":           {name: "gsm.signal.level"},
	"gsm_lvl":       {name: "gsm.signal.level"},
	"odometer":      {name: "vehicle.mileage"},
	"mileage":       {name: "vehicle.mileage"},
	"ign":           {name: "engine.ignition.status", asBool: true},
	"ignition":      {name: "engine.ignition.status", asBool: true},
	"temp":          {name: "temperature#1"},
	"hdop":          {name: "position.hdop", field: true},
	"rpm":           {name: "engine.rpm"},
}

// indexedParams are the families a device numbers from 1: temp1,
// temp2, … and the spec's mcc1, lac1, … of several cells.
var indexedParams = [...]struct {
	prefix, name string
	field        bool // the ADC list of #D# sets ain#N too
}{
	{"temp", "temperature#", false},
	{"adc", "ain#", true},
	{"mcc", "gsm.mcc#", false},
	{"mnc", "gsm.mnc#", false},
	{"lac", "gsm.lac#", false},
	{"cell_id", "gsm.cellid#", false},
}

// maxIndex bounds the index of a numbered family (temp64 is a sensor,
// temp99999 is not).
const maxIndex = 64

// indexedParam returns the definition of a numbered parameter such as
// "temp3" (temperature#3); ok is false for other names.
func indexedParam(raw []byte) (d paramDef, ok bool) {
	for _, p := range indexedParams {
		if len(raw) <= len(p.prefix) || string(raw[:len(p.prefix)]) != p.prefix {
			continue
		}
		digits := raw[len(p.prefix):]
		if digits[0] == '0' || len(digits) > 2 {
			return paramDef{}, false
		}
		n, ok := tf.Uint(digits)
		if !ok || n == 0 || n > maxIndex {
			return paramDef{}, false
		}
		return paramDef{name: p.name + strconv.FormatUint(n, 10), field: p.field}, true
	}
	return paramDef{}, false
}
