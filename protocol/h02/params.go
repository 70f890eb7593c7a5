package h02

// Parameter names this codec sets beyond the common ones in package
// protocol. Names with a flespi equivalent use it; the rest carry the
// "custom." prefix, as flespi does for parameters without a common name.
const (
	paramType        = "custom.packet.type"    // the frame's command word: "V1", "NBR", "BIN" for a binary record, …
	paramRaw         = "custom.packet.raw"     // the fields of a frame of an unknown type, as sent
	paramTail        = "custom.packet.tail"    // fields after a known layout, as sent
	paramStatus      = "custom.vehicle.status" // the 32-bit terminal status word (negative logic: a clear bit is active)
	paramUserAlarm   = "custom.user.alarm.flag"
	paramSeqnum      = "record.seqnum"
	paramBuffered    = "message.buffered.status"
	paramMCC         = "gsm.mcc"
	paramMNC         = "gsm.mnc"
	paramLAC         = "gsm.lac"
	paramCellID      = "gsm.cellid"
	paramCells       = "gsm.cells"
	paramSignal      = "gsm.signal.level"
	paramBattery     = "battery.level"
	paramBatteryRaw  = "custom.battery.raw"
	paramBatteryLow  = "battery.low.status"
	paramIgnition    = "engine.ignition.status"
	paramDoor        = "door.open.status"
	paramAlarm       = "alarm.event.trigger"
	paramEvent       = "event.enum"
	paramSOS         = "sos.event.trigger"
	paramOverspeed   = "overspeeding.event.trigger"
	paramPowerOK     = "external.powersource.status"
	paramAntennaCut  = "gnss.antenna.cut.status"
	paramEngineCut   = "custom.oil.electricity.disconnected.status"
	paramArmed       = "custom.armed.status"
	paramIllegalIgn  = "custom.illegal.ignition.event.trigger"
	paramTempAlarm   = "custom.temperature.alarm.event.trigger"
	paramGeofenceIn  = "custom.geofence.enter.event.trigger"
	paramGeofenceOut = "custom.geofence.exit.event.trigger"
	paramGeofence    = "geofence.inside.status"
	paramICCID       = "gsm.sim.iccid"
	paramSimInfo     = "custom.sim.info"
	paramGPSSignal   = "custom.gps.signal"
	paramMileage     = "vehicle.mileage"
	paramTemperature = "custom.temperature"
	paramSteps       = "custom.steps"
	paramTurnovers   = "custom.turnovers"
	paramTA          = "custom.gsm.timing.advance"
	paramResponse    = "command.response"
	paramHeartbeat   = "custom.heartbeat.data"
)
