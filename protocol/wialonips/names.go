package wialonips

// knownParam maps the parameters that flespi's Wialon IPS channel gives a
// common name (its protocol page, "field 'pwr_int'" and so on) and that the
// spec itself defines (SOS, text). asBool turns a number into a boolean.
// Every other parameter keeps its own name under "custom.", as flespi does.
func knownParam(raw []byte) (name string, asBool, ok bool) {
	switch string(raw) {
	case "SOS": // spec: type 1, 1 = alarm
		return "alarm.event.trigger", true, true
	case "text": // spec: type 3, a message for the driver chat
		return "driver.message", false, true
	case "pwr_int":
		return "battery.voltage", false, true
	case "pwr_ext":
		return "external.powersource.voltage", false, true
	case "battery":
		return "battery.level", false, true
	case "accelerometer":
		return "absolute.acceleration", false, true
	case "accel_res":
		return "absolute.deceleration", false, true
	case "axis_weight":
		return "can.axle.weight", false, true
	case "cool_temp":
		return "can.engine.coolant.temperature", false, true
	case "engine_temp":
		return "can.engine.temperature", false, true
	case "fuel_volume":
		return "can.fuel.volume", false, true
	}
	return "", false, false
}
