package wialonips

import "strconv"

// paramDef is how a parameter with a common name is registered.
type paramDef struct {
	name   string
	asBool bool // a number that is registered as true when non-zero
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
	"SOS":           {"alarm.event.trigger", true},
	"text":          {"driver.message", false},
	"mcc":           {"gsm.mcc", false},
	"mnc":           {"gsm.mnc", false},
	"lac":           {"gsm.lac", false},
	"cell_id":       {"gsm.cellid", false},
	"pwr_ext":       {"external.powersource.voltage", false},
	"pwr_int":       {"battery.voltage", false},
	"battery":       {"battery.level", false},
	"bat":           {"battery.level", false},
	"accelerometer": {"absolute.acceleration", false},
	"accel_res":     {"absolute.deceleration", false},
	"axis_weight":   {"can.axle.weight", false},
	"cool_temp":     {"can.engine.coolant.temperature", false},
	"engine_temp":   {"can.engine.temperature", false},
	"fuel_volume":   {"can.fuel.volume", false},
	"fuel_level":    {"fuel.level", false},
	"gsm":           {"gsm.signal.level", false},
	"gsm_lvl":       {"gsm.signal.level", false},
	"odometer":      {"vehicle.mileage", false},
	"mileage":       {"vehicle.mileage", false},
	"ign":           {"engine.ignition.status", true},
	"ignition":      {"engine.ignition.status", true},
	"temp":          {"sensor.temperature", false},
	"hdop":          {"position.hdop", false},
	"rpm":           {"engine.rpm", false},
}

// indexedParams are the families a device numbers from 1: temp1,
// temp2, … and the spec's mcc1, lac1, … of several cells.
var indexedParams = [...]struct{ prefix, name string }{
	{"temp", "sensor.temperature#"},
	{"adc", "ain#"},
	{"mcc", "gsm.mcc#"},
	{"mnc", "gsm.mnc#"},
	{"lac", "gsm.lac#"},
	{"cell_id", "gsm.cellid#"},
}

// maxIndex bounds the index of a numbered family (temp64 is a sensor,
// temp99999 is not).
const maxIndex = 64

// indexedParam returns the catalogue name of a numbered parameter such as
// "temp3" (sensor.temperature#3); ok is false for other names.
func indexedParam(raw []byte) (name string, ok bool) {
	for _, p := range indexedParams {
		if len(raw) <= len(p.prefix) || string(raw[:len(p.prefix)]) != p.prefix {
			continue
		}
		digits := raw[len(p.prefix):]
		if digits[0] == '0' || len(digits) > 2 {
			return "", false
		}
		n, ok := parseUint(digits)
		if !ok || n == 0 || n > maxIndex {
			return "", false
		}
		return p.name + strconv.FormatUint(n, 10), true
	}
	return "", false
}
