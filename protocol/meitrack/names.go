package meitrack

import (
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// Parameter names this codec sets beyond those package protocol names.
// Names with a flespi equivalent use it (flespi's Meitrack channel lists
// din, dout, engine.motorhours, gsm.*, battery.level, can.engine.rpm, …);
// the rest carry the "custom." prefix, as flespi does for parameters without
// a common name.
const (
	paramEvent       = "event.enum"
	paramEventSeqnum = "event.seqnum" // AFF: index of the report in the device's buffer
	paramGSMSignal   = "gsm.signal.level"
	paramMileage     = "vehicle.mileage"
	paramMotorHours  = "engine.motorhours"
	paramMCC         = "gsm.mcc"
	paramMNC         = "gsm.mnc"
	paramLAC         = "gsm.lac"
	paramCellID      = "gsm.cellid"
	paramCells       = "gsm.cells"
	paramWiFi        = "wifi.access.points"
	paramDin         = "din"
	paramDout        = "dout"
	paramIButton     = "ibutton.code"
	paramGeofenceID  = "geofence.id"
	paramFuelLevel   = "fuel.level"
	paramBattery     = "battery.voltage"
	paramBatteryLvl  = "battery.level"
	paramPower       = "external.powersource.voltage"
	paramRPM         = "can.engine.rpm"
	paramCANSpeed    = "can.vehicle.speed"

	paramSOS            = "sos.event.trigger"
	paramBatteryLow     = "battery.low.status"
	paramOverspeed      = "overspeeding.event.trigger"
	paramGeofenceInside = "geofence.inside.status"
	paramPowerStatus    = "external.powersource.status"
	paramTowing         = "towing.event.trigger"
	paramHarshBraking   = "harsh.braking.event.trigger"
	paramHarshAccel     = "harsh.acceleration.event.trigger"

	paramEventInfo       = "custom.event.info"       // AAA "assisted event information", as sent
	paramCustomData      = "custom.customized.data"  // AAA "customized data", as sent
	paramProtocolVersion = "custom.protocol.version" // AAA protocol version
	paramMaxAccel        = "custom.max.acceleration" // AAA maximum acceleration value, as sent
	paramMaxDecel        = "custom.max.deceleration" // AAA maximum deceleration value, as sent
	paramReportTail      = "custom.report.tail"      // AAA fields after the maximum deceleration, as sent
	paramFrameType       = "custom.frame.type"       // AAA, AFF, CCE, CCC, D00, or the answered command
	paramCacheRemaining  = "custom.cache.remaining"  // CCE/CCC: records left in the device's buffer
	paramRecordIndex     = "record.seqnum"           // CCE: the packet's index

	paramPhotoName    = "custom.photo.name"
	paramPhotoPackets = "custom.photo.packets"
	paramPhotoIndex   = "custom.photo.packet.index"
	paramPhotoData    = "custom.photo.data" // the packet's bytes, hex
)

// Analog readings: volts where the scaling is known, raw ADC counts
// ("custom.*.adc") where it is not.
var (
	ainNames    = [...]string{"ain#1", "ain#2", "ain#3"}
	adcNames    = [...]string{"custom.adc#1", "custom.adc#2", "custom.adc#3"}
	extraVolts  = [...]string{"custom.analog#3", "custom.analog#4", "custom.analog#5"}
	paramBatADC = "custom.battery.adc"
	paramPwrADC = "custom.power.adc"
)

// temperatureNames caches "temperature#N" for the sensor numbers devices use.
var temperatureNames = func() (t [32]string) {
	for i := range t {
		t[i] = "temperature#" + strconv.Itoa(i)
	}
	return
}()

func temperatureName(n int) string {
	if n >= 0 && n < len(temperatureNames) {
		return temperatureNames[n]
	}
	return "temperature#" + strconv.Itoa(n)
}

// customNames caches "custom.param.<id>" for one-byte CCE parameter IDs.
var customNames = func() (t [256]string) {
	for i := range t {
		t[i] = "custom.param." + strconv.Itoa(i)
	}
	return
}()

func customName(id uint16) string {
	if id < 256 {
		return customNames[id]
	}
	return "custom.param." + strconv.Itoa(int(id))
}

// addUint adds a decimal unsigned integer field when it parses.
func addUint(m *protocol.Message, name string, b []byte) {
	if v, ok := parseUint(b); ok {
		m.Add(name, protocol.Uint(v))
	}
}

// addDecimal adds a decimal field, divided by div, when it parses.
func addDecimal(m *protocol.Message, name string, b []byte, div float64) {
	if v, ok := parseDecimal(b); ok {
		if div != 1 {
			v /= div
		}
		m.Add(name, protocol.Float(v))
	}
}
