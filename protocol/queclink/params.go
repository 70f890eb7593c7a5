package queclink

// Parameter names this codec sets beyond the common ones in package
// protocol. Names with a flespi equivalent use it; the rest carry the
// "custom." prefix, as flespi does for parameters without a common name.
const (
	paramType       = "custom.packet.type"      // the message type: "GTFRI", "GTIGN", "RSP", …
	paramHead       = "custom.packet.head"      // fields before the first fix that this codec does not name, as sent
	paramTail       = "custom.packet.tail"      // fields after the last fix that this codec does not name, as sent
	paramRaw        = "custom.packet.raw"       // a binary frame's content kept undecoded, hex
	paramVersion    = "custom.protocol.version" // the protocol version field: device type and version, hex
	paramModel      = "device.model"            // the model the protocol version names ("GV300")
	paramDeviceName = "custom.device.name"      // the <Device Name> set on the device
	paramSendTime   = "custom.send.timestamp"   // <Send Time>, Unix seconds
	paramSeqnum     = "record.seqnum"           // <Count Number>
	paramBuffered   = "message.buffered.status" // +BUFF: (and binary B…) reports
	paramVIN        = "vehicle.vin"             //
	paramReportID   = "custom.report.id"        // <Report ID>
	paramReportType = "custom.report.type"      // <Report Type>
	paramFixCount   = "custom.report.fix.count" // <Number> of fixes the report carried
	paramSerial     = "custom.command.serial"   // the serial number a +ACK echoes, hex
	paramResponse   = "command.response"        //
	paramMileage    = "vehicle.mileage"         // km
	paramHours      = "custom.engine.hours"     // the hour meter, seconds
	paramPower      = "external.powersource.voltage"
	paramPowerOK    = "external.powersource.status"
	paramBatteryV   = "battery.voltage"
	paramBattery    = "battery.level"
	paramCharging   = "battery.charging.status"
	paramIgnition   = "engine.ignition.status"
	paramMovement   = "movement.status"
	paramMotion     = "custom.motion.state" // the motion state byte: 0x11 ignition off rest … 0x16 tow
	paramTowing     = "towing.event.trigger"
	paramDin        = "din"
	paramDout       = "dout"
	paramStatus     = "custom.device.status" // <Device Status>, hex as sent
	paramAlarm      = "alarm.event.trigger"
	paramSOS        = "sos.event.trigger"
	paramOverspeed  = "overspeeding.event.trigger"
	paramGeofenceIn = "geofence.inside.status"
	paramGeofenceID = "geofence.id"
	paramHarshAccel = "harsh.acceleration.event.trigger"
	paramHarshBrake = "harsh.braking.event.trigger"
	paramHarshTurn  = "harsh.cornering.event.trigger"
	paramShock      = "shock.event.trigger"
	paramJamming    = "gsm.jamming.event.trigger"
	paramBatteryLow = "battery.low.status"
	paramDuration   = "custom.duration" // seconds: ignition on/off duration (GTIGN/GTIGF), idling (GTIDF)
	paramMCC        = "gsm.mcc"
	paramMNC        = "gsm.mnc"
	paramLAC        = "gsm.lac"
	paramCellID     = "gsm.cellid"
	paramCells      = "gsm.cells"
	paramWiFi       = "wifi.access.points"
	paramSignal     = "gsm.signal.level"
	paramICCID      = "gsm.sim.iccid"
	paramTimezone   = "timezone"
	paramFirmware   = "custom.firmware.version"
	paramHardware   = "custom.hardware.version"
	paramRPM        = "can.engine.rpm"
	paramCANSpeed   = "can.vehicle.speed"
	paramCANMileage = "can.vehicle.mileage"
	paramCoolant    = "can.engine.temperature"
	paramFuelLevel  = "can.fuel.level"
	paramFuelVolume = "can.fuel.volume"
	paramFuel       = "fuel.level"
	paramIButton    = "ibutton.code"
	paramData       = "custom.data"
	paramTemp       = "custom.temperature"
	paramSats       = "position.satellites"
)
