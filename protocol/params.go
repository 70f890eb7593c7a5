package protocol

import (
	"slices"
	"strconv"
	"strings"
)

// Names of the parameters that gnssgate itself reads or stamps. Codecs use
// these constants (or the [Catalogue]) so that one name means one thing in
// one unit across every protocol.
const (
	ParamIdent           = "ident"
	ParamTimestamp       = "timestamp"
	ParamServerTimestamp = "server.timestamp"
	ParamChannelID       = "channel.id"
	ParamProtocolID      = "protocol.id"
	ParamPeer            = "peer"

	// Stamped by a gateway that registers devices (flespi's names), and
	// the account (customer id) the device or channel belongs to.
	ParamDeviceID   = "device.id"
	ParamDeviceName = "device.name"
	ParamCID        = "cid"

	ParamLatitude   = "position.latitude"
	ParamLongitude  = "position.longitude"
	ParamAltitude   = "position.altitude"
	ParamSpeed      = "position.speed"
	ParamDirection  = "position.direction"
	ParamSatellites = "position.satellites"
	ParamValid      = "position.valid"
	ParamHDOP       = "position.hdop"

	// ParamCommandResponse carries a device's answer to a command as text.
	// A codec puts it in a message whenever the device answers, so that an
	// answer nobody waits for (a command sent by SMS or another server, an
	// answer the device sends on its own) is stored rather than lost.
	ParamCommandResponse = "command.response"

	// Lenient-mode marks: a frame whose checksum or length field was wrong,
	// accepted because the codec was asked to be lenient.
	ParamChecksumInvalid = "frame.checksum.invalid"
	ParamLengthInvalid   = "frame.length.invalid"
)

// ParamInfo describes one parameter name.
type ParamInfo struct {
	Name        string // "position.speed"; a trailing "#N" marks an indexed sensor family
	Type        Kind   // KindFloat for any number
	Unit        string // "km/h"; "" for unitless
	Description string
}

// The catalogue. Units follow flespi: km/h, km, volts, degrees, seconds.
var catalogue = []ParamInfo{
	{"ident", KindString, "", "device identifier (IMEI or the protocol's id)"},
	{"timestamp", KindFloat, "s", "device time, Unix seconds with fraction"},
	{"server.timestamp", KindFloat, "s", "time the gateway received the message"},
	{"channel.id", KindFloat, "", "channel that received the message"},
	{"protocol.id", KindFloat, "", "protocol of the channel"},
	{"peer", KindString, "", "remote address of the device"},
	{"device.id", KindFloat, "", "device registered for the ident"},
	{"cid", KindFloat, "", "account (customer id) of the device, or of the channel for an unregistered device"},
	{"device.name", KindString, "", "name of the registered device"},
	{"position.latitude", KindFloat, "degrees", "latitude, WGS-84, north positive"},
	{"position.longitude", KindFloat, "degrees", "longitude, WGS-84, east positive"},
	{"position.altitude", KindFloat, "m", "altitude above sea level"},
	{"position.speed", KindFloat, "km/h", "ground speed"},
	{"position.direction", KindFloat, "degrees", "course over ground, 0 = north, clockwise"},
	{"position.satellites", KindFloat, "", "satellites used in the fix"},
	{"position.valid", KindBool, "", "whether the fix is valid"},
	{"position.hdop", KindFloat, "", "horizontal dilution of precision"},
	{"position.pdop", KindFloat, "", "position dilution of precision"},
	{"position.accuracy", KindFloat, "m", "horizontal accuracy radius of the fix"},
	{"position.timestamp", KindFloat, "s", "time of the fix, when it differs from the message time"},
	{"event.enum", KindFloat, "", "protocol's event or alarm code"},
	{"event.priority.enum", KindFloat, "", "record priority (Teltonika: 0 low, 1 high, 2 panic)"},
	{"event.seqnum", KindFloat, "", "event sequence number"},
	{"event.generation.enum", KindFloat, "", "why the record was made (Teltonika codec 16: 0 on exit, 1 on entrance, 2 on both, 4 hysteresis, 5 on change, 6 eventual, 7 periodical)"},
	{"driver.message", KindString, "", "text message from the driver"},
	{"command.response", KindString, "", "the device's answer to a command, as text"},
	{"record.seqnum", KindFloat, "", "record or packet sequence number"},
	{"message.buffered.status", KindBool, "", "message was sent from the black box"},
	{"alarm.event.trigger", KindBool, "", "an alarm was raised"},
	{"sos.event.trigger", KindBool, "", "SOS / panic button pressed"},
	{"engine.ignition.status", KindBool, "", "ignition on"},
	{"engine.motorhours", KindFloat, "h", "engine running time (the device's run-time counter)"},
	{"movement.status", KindBool, "", "device is moving"},
	{"door.open.status", KindBool, "", "a door is open"},
	{"hood.open.status", KindBool, "", "the hood (bonnet) is open"},
	{"external.powersource.voltage", KindFloat, "V", "external power voltage"},
	{"external.powersource.status", KindBool, "", "external power connected"},
	{"battery.voltage", KindFloat, "V", "internal battery voltage"},
	{"battery.level", KindFloat, "%", "internal battery charge"},
	{"battery.current", KindFloat, "A", "internal battery current"},
	{"battery.charging.status", KindBool, "", "battery is charging"},
	{"battery.low.status", KindBool, "", "battery is low"},
	{"din", KindFloat, "", "digital inputs as a bitmask, input 1 = bit 0"},
	{"dout", KindFloat, "", "digital outputs as a bitmask, output 1 = bit 0"},
	{"din#N", KindBool, "", "digital input N"},
	{"dout#N", KindBool, "", "digital output N"},
	{"ain#N", KindFloat, "V", "analog input N"},
	{"rs232.sensor.value#N", KindFloat, "", "value of the sensor on RS232 port N (fuel level sensors: raw level)"},
	{"rs485.sensor.value#N", KindFloat, "", "value of RS485 sensor N (fuel level sensors: raw level)"},
	{"rs485.sensor.temperature#N", KindFloat, "°C", "temperature reported by RS485 sensor N"},
	{"gsm.signal.level", KindFloat, "", "GSM signal level as the protocol reports it"},
	{"gsm.signal.dbm", KindFloat, "dBm", "GSM signal strength"},
	{"gsm.mcc", KindFloat, "", "mobile country code"},
	{"gsm.mnc", KindFloat, "", "mobile network code"},
	{"gsm.lac", KindFloat, "", "location area code"},
	{"gsm.cellid", KindFloat, "", "cell id"},
	{"gsm.mcc#N", KindFloat, "", "mobile country code of the N-th cell a device reports"},
	{"gsm.mnc#N", KindFloat, "", "mobile network code of the N-th cell"},
	{"gsm.lac#N", KindFloat, "", "location area code of the N-th cell"},
	{"gsm.cellid#N", KindFloat, "", "cell id of the N-th cell"},
	{"gsm.operator.code", KindString, "", "operator code"},
	{"gsm.sim.iccid", KindString, "", "SIM card ICCID"},
	{"gsm.sim.imsi", KindString, "", "SIM card IMSI"},
	{"gsm.jamming.event.trigger", KindBool, "", "GSM jamming detected"},
	{"gnss.status", KindBool, "", "GNSS receiver on"},
	{"gnss.state.enum", KindFloat, "", "GNSS receiver state code"},
	{"data.mode.enum", KindFloat, "", "Teltonika data mode: 0 home on stop, 1 home moving, 2 roaming on stop, 3 roaming moving, 4 unknown on stop, 5 unknown moving"},
	{"sleep.mode.enum", KindFloat, "", "sleep mode as the device reports it (Teltonika: 0 none, 1 GPS sleep, 2 deep sleep, 3 online sleep, 4 ultra sleep)"},
	{"gnss.antenna.cut.status", KindBool, "", "GNSS antenna disconnected or shorted"},
	{"vehicle.mileage", KindFloat, "km", "total vehicle mileage"},
	{"gps.vehicle.mileage", KindFloat, "km", "mileage counted from GPS"},
	{"vehicle.trip.mileage", KindFloat, "km", "mileage of the current trip"},
	{"vehicle.vin", KindString, "", "vehicle identification number"},
	{"device.temperature", KindFloat, "°C", "device temperature"},
	{"temperature#N", KindFloat, "°C", "external temperature sensor N (1-Wire, RS485 and the like)"},
	{"onewire.sensor.id#N", KindString, "", "1-Wire (Dallas) sensor N id, hex"},
	{"ble.sensor.temperature#N", KindFloat, "°C", "Bluetooth LE sensor N temperature"},
	{"ble.sensor.humidity#N", KindFloat, "%", "Bluetooth LE sensor N relative humidity"},
	{"ble.sensor.battery.level#N", KindFloat, "%", "Bluetooth LE sensor N battery charge"},
	{"eye.sensor.temperature#N", KindFloat, "°C", "Teltonika EYE sensor N temperature"},
	{"eye.sensor.humidity#N", KindFloat, "%", "Teltonika EYE sensor N relative humidity"},
	{"lls.fuel.level#N", KindFloat, "", "LLS fuel level sensor N, raw (level units or litres, as calibrated)"},
	{"lls.temperature#N", KindFloat, "°C", "LLS fuel level sensor N temperature"},
	{"device.model", KindString, "", "device model"},
	{"device.manufacturer", KindString, "", "device manufacturer as the device reports it"},
	{"device.imei", KindString, "", "device IMEI when the ident is another identifier"},
	{"device.firmware.version", KindString, "", "firmware version the device reports"},
	{"device.hardware.version", KindString, "", "hardware version the device reports"},
	{"device.type.enum", KindFloat, "", "device type code the device reports"},
	{"timezone", KindString, "", "device time zone as reported, e.g. +08:00"},
	{"can.vehicle.mileage", KindFloat, "km", "odometer read from the CAN bus"},
	{"can.vehicle.speed", KindFloat, "km/h", "speed read from the CAN bus"},
	{"can.engine.rpm", KindFloat, "rpm", "engine speed read from the CAN bus"},
	{"can.engine.motorhours", KindFloat, "h", "engine hours read from the CAN bus"},
	{"can.fuel.level", KindFloat, "%", "fuel level read from the CAN bus"},
	{"can.fuel.volume", KindFloat, "l", "fuel volume read from the CAN bus"},
	{"can.fuel.consumed", KindFloat, "l", "fuel used in total, read from the CAN bus"},
	{"can.engine.temperature", KindFloat, "°C", "engine temperature read from the CAN bus"},
	{"can.8bit.value#N", KindFloat, "", "a CAN value the device is set to read, 8 bits, raw"},
	{"can.16bit.value#N", KindFloat, "", "a CAN value the device is set to read, 16 bits, raw"},
	{"can.32bit.value#N", KindFloat, "", "a CAN value the device is set to read, 32 bits, raw"},
	{"can.engine.coolant.temperature", KindFloat, "°C", "engine coolant temperature read from the CAN bus"},
	{"can.dtc", KindString, "", "diagnostic trouble code read from the vehicle, e.g. P0010"},
	{"can.engine.load.level", KindFloat, "%", "engine load read from the CAN bus"},
	{"can.fuel.rate", KindFloat, "l/h", "fuel rate read from the CAN bus"},
	{"can.accelerator.pedal.position", KindFloat, "%", "accelerator pedal position read from the CAN bus"},
	{"can.adblue.level", KindFloat, "%", "AdBlue level read from the CAN bus"},
	{"can.adblue.volume", KindFloat, "l", "AdBlue volume read from the CAN bus"},
	{"can.axle.weight", KindFloat, "kg", "weight on the axle read from the CAN bus"},
	{"can.axle.weight#N", KindFloat, "kg", "weight on axle N read from the CAN bus"},
	{"can.doors.bitmask", KindFloat, "", "door status read from the CAN bus, one bit a door"},
	{"agro.vehicle.state.bitmask", KindFloat, "", "agricultural machinery flags read from the CAN bus"},
	{"obd.engine.rpm", KindFloat, "rpm", "engine speed read over OBD-II"},
	{"obd.vehicle.speed", KindFloat, "km/h", "vehicle speed read over OBD-II"},
	{"obd.engine.load.level", KindFloat, "%", "engine load read over OBD-II"},
	{"obd.engine.coolant.temperature", KindFloat, "°C", "coolant temperature read over OBD-II"},
	{"obd.engine.oil.temperature", KindFloat, "°C", "engine oil temperature read over OBD-II"},
	{"obd.intake.air.temperature", KindFloat, "°C", "intake air temperature read over OBD-II"},
	{"obd.ambient.air.temperature", KindFloat, "°C", "ambient air temperature read over OBD-II"},
	{"obd.throttle.position", KindFloat, "%", "throttle position read over OBD-II"},
	{"obd.fuel.level", KindFloat, "%", "fuel level read over OBD-II"},
	{"obd.fuel.pressure", KindFloat, "kPa", "fuel pressure read over OBD-II"},
	{"obd.fuel.rate", KindFloat, "l/h", "fuel rate read over OBD-II"},
	{"obd.dtc.count", KindFloat, "", "number of diagnostic trouble codes read over OBD-II"},
	{"engine.rpm", KindFloat, "rpm", "engine speed"},
	{"fuel.level", KindFloat, "%", "fuel level"},
	{"fuel.volume", KindFloat, "l", "fuel volume"},
	{"ibutton.code", KindString, "", "iButton / driver key code, hex"},
	{"driver.name", KindString, "", "driver name read from a driver card"},
	{"driver.id", KindString, "", "driver identifier the app or device reports (not an iButton key)"},
	{"vehicle.registration.number", KindString, "", "licence plate"},
	{"barcode.id", KindString, "", "barcode read by a scanner on the device"},
	{"harsh.acceleration.event.trigger", KindBool, "", "harsh acceleration"},
	{"harsh.braking.event.trigger", KindBool, "", "harsh braking"},
	{"harsh.cornering.event.trigger", KindBool, "", "harsh cornering"},
	{"overspeeding.event.trigger", KindBool, "", "speed limit exceeded"},
	{"towing.event.trigger", KindBool, "", "towing detected"},
	{"shock.event.trigger", KindBool, "", "shock or vibration detected"},
	{"geofence.inside.status", KindBool, "", "inside a geofence"},
	{"geofence.id", KindFloat, "", "geofence or area the event refers to"},
	{"absolute.acceleration", KindFloat, "g", "module of the accelerometer vector"},
	{"absolute.deceleration", KindFloat, "g", "module of the deceleration from the accelerometer"},
	{"wifi.access.points", KindJSON, "", "Wi-Fi access points seen: [{\"mac\",\"rssi\"}]"},
	{"gsm.cells", KindJSON, "", "neighbouring cells: [{\"mcc\",\"mnc\",\"lac\",\"cellid\",\"rssi\"}]"},
	{"image.name", KindString, "", "name of an image file a camera took"},
	{"image.timestamp", KindFloat, "s", "time the image was taken"},
	{"image.bin.jpeg", KindString, "", "image in JPEG format, base64"},
	{"frame.checksum.invalid", KindBool, "", "lenient mode kept a frame whose checksum was wrong"},
	{"frame.length.invalid", KindBool, "", "lenient mode kept a frame whose length field was wrong"},
	{"custom.param.N", KindFloat, "", "protocol parameter N without a common name, raw value"},
}

// Catalogue returns the documented parameter names, sorted by name. Indexed
// families appear once with a "#N" suffix ("ain#N"); "custom.param.N" stands
// for every unnamed protocol parameter.
func Catalogue() []ParamInfo {
	c := slices.Clone(catalogue)
	slices.SortFunc(c, func(a, b ParamInfo) int { return strings.Compare(a.Name, b.Name) })
	return c
}

// LookupParam describes a parameter name. "ain#3" finds "ain#N" and
// "custom.param.239" finds "custom.param.N".
func LookupParam(name string) (ParamInfo, bool) {
	key := name
	if i := strings.LastIndexByte(name, '#'); i > 0 && isDigits(name[i+1:]) {
		key = name[:i] + "#N"
	} else if rest, ok := strings.CutPrefix(name, "custom.param."); ok && isDigits(rest) {
		key = "custom.param.N"
	}
	for _, p := range catalogue {
		if p.Name == key {
			p.Name = name
			return p, true
		}
	}
	return ParamInfo{}, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// AppendGSMCell appends one cell to a gsm.cells array being built in js:
// it opens the array when js is empty and puts a comma before every cell
// but the first. The caller closes the array with ']'. rssi is written
// when hasRSSI is true.
func AppendGSMCell(js []byte, mcc, mnc, lac, cellID uint64, rssi int64, hasRSSI bool) []byte {
	if len(js) == 0 {
		js = append(js, '[')
	} else if js[len(js)-1] != '[' {
		js = append(js, ',')
	}
	js = append(js, `{"mcc":`...)
	js = strconv.AppendUint(js, mcc, 10)
	js = append(js, `,"mnc":`...)
	js = strconv.AppendUint(js, mnc, 10)
	js = append(js, `,"lac":`...)
	js = strconv.AppendUint(js, lac, 10)
	js = append(js, `,"cellid":`...)
	js = strconv.AppendUint(js, cellID, 10)
	if hasRSSI {
		js = append(js, `,"rssi":`...)
		js = strconv.AppendInt(js, rssi, 10)
	}
	return append(js, '}')
}
