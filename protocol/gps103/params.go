package gps103

// Parameter names this codec sets beyond the common ones in package
// protocol. Names with a flespi equivalent use it; the rest carry the
// "custom." prefix, as flespi does for parameters without a common name.
const (
	paramType        = "custom.packet.type" // the message's keyword: "tracker", "help me", "OBD", …
	paramRaw         = "custom.packet.raw"  // fields of a message kept as sent
	paramPhone       = "custom.phone"       // the phone number field (the admin number that asked for the report)
	paramRFID        = "custom.rfid"
	paramBattery     = "battery.level"
	paramBatteryLow  = "battery.low.status"
	paramAlarm       = "alarm.event.trigger"
	paramSOS         = "sos.event.trigger"
	paramOverspeed   = "overspeeding.event.trigger"
	paramPowerOK     = "external.powersource.status"
	paramDoor        = "door.open.status"
	paramHood        = "hood.open.status"
	paramShock       = "shock.event.trigger"
	paramIgnition    = "engine.ignition.status"
	paramFuel        = "fuel.level"
	paramFuel2       = "custom.fuel2.level"
	paramTemperature = "custom.temperature"
	paramLAC         = "gsm.lac"
	paramCellID      = "gsm.cellid"
	paramSignal      = "gsm.signal.level"
	paramPhotoCount  = "custom.photo.packets"
	paramSensorID    = "custom.sensor.id"
	paramSensorVolt  = "custom.sensor.voltage"
	paramCharging    = "battery.charging.status"
	paramError       = "custom.error"
	paramResponse    = "command.response"

	paramOBDOdometer = "custom.obd.odometer"
	paramOBDFuelInst = "custom.obd.fuel.consumption.instant"
	paramOBDFuelAvg  = "custom.obd.fuel.consumption.average"
	paramOBDHours    = "custom.obd.engine.hours"
	paramOBDSpeed    = "can.vehicle.speed"
	paramOBDLoad     = "custom.obd.engine.load"
	paramOBDCoolant  = "can.engine.temperature"
	paramOBDThrottle = "custom.obd.throttle"
	paramOBDRPM      = "can.engine.rpm"
	paramOBDBattery  = "external.powersource.voltage"
	paramOBDDTC      = "custom.obd.dtcs"
	paramPhotoChunk  = "custom.photo.chunk"
)
