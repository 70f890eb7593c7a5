package suntech

// Parameter names this codec sets beyond those package protocol names.
// Names with a flespi equivalent use it; the rest carry the "custom."
// prefix, as flespi does for parameters without a common name.
const (
	paramEvent      = "event.enum"
	paramSeqnum     = "record.seqnum"
	paramBuffered   = "message.buffered.status"
	paramModel      = "device.type.enum" // the report's MODEL code (the manuals' model table)
	paramFirmware   = "device.firmware.version"
	paramMileage    = "vehicle.mileage"
	paramPower      = "external.powersource.voltage"
	paramBattery    = "battery.voltage"
	paramMotorHours = "engine.motorhours"
	paramIgnition   = "engine.ignition.status"
	paramDin        = "din"
	paramDout       = "dout"
	paramCellID     = "gsm.cellid"
	paramMCC        = "gsm.mcc"
	paramMNC        = "gsm.mnc"
	paramLAC        = "gsm.lac"
	paramSignal     = "gsm.signal.level"
	paramCells      = "gsm.cells"
	paramIButton    = "ibutton.code"
	paramFuel       = "fuel.level"
	paramGeofence   = "geofence.inside.status"
	paramRPM        = "can.engine.rpm"

	paramSOS         = "sos.event.trigger"
	paramAlarm       = "alarm.event.trigger"
	paramOverspeed   = "overspeeding.event.trigger"
	paramShock       = "shock.event.trigger"
	paramHarshAccel  = "harsh.acceleration.event.trigger"
	paramHarshBrake  = "harsh.braking.event.trigger"
	paramHarshTurn   = "harsh.cornering.event.trigger"
	paramPowerStatus = "external.powersource.status"
	paramBatteryLow  = "battery.low.status"
	paramJamming     = "gsm.jamming.event.trigger"
	paramTowing      = "towing.event.trigger"

	paramReportType  = "custom.report.type"   // STT, EMG, EVT, ALT, UEX, HTE, …
	paramMode        = "custom.mode.enum"     // STT MODE: 1 idle (parked), 2 active (driving), …
	paramReportKind  = "custom.report.reason" // universal STT_RPT_TYPE
	paramAlertMod    = "custom.alert.modifier"
	paramAlertData   = "custom.alert.data"
	paramIOState     = "custom.io.state" // the I/O field as sent when its length is not one the manuals give
	paramAssign      = "custom.assign"   // universal assign fields: custom.assign#N, N = the assign bit + 1
	paramSerialData  = "custom.serial.data"
	paramSerialHex   = "custom.serial.data.hex"
	paramADC         = "custom.adc"
	paramReportTail  = "custom.report.tail" // fields after those decoded, as sent
	paramTripStart   = "custom.trip.start"  // HTE: custom.trip.start.latitude/longitude
	paramCrashData   = "custom.crash.data"  // CRR: the crash record's bytes, hex
	paramCrashPart   = "custom.crash.parts"
	paramBeacons     = "custom.ble.beacons" // BLE/BSA: [{"id","rssi",…}]
	paramStoredCount = "custom.alert.count"
)

const paramCell = "custom.cell" // ST9xx: the cell field as sent
