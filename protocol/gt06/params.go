package gt06

// Parameter names this codec sets beyond the common ones in package protocol.
// Names with a flespi equivalent use it; the rest carry the "custom." prefix,
// as flespi does for parameters without a common name.
const (
	paramPacketType = "custom.packet.type" // protocol number of the packet
	paramPacketRaw  = "custom.packet.raw"  // content of a packet kept undecoded, hex
	paramPacketTail = "custom.packet.tail" // content bytes after a known layout, hex
	paramSeqnum     = "record.seqnum"      // the packet's serial number

	paramRealtime   = "custom.gps.realtime.status" // course/status bit 13
	paramUploadMode = "custom.upload.mode.enum"    // 0x22/0xA0 data upload mode
	paramBuffered   = "message.buffered.status"    // 0x22/0xA0 re-upload flag

	paramMCC     = "gsm.mcc"
	paramMNC     = "gsm.mnc"
	paramLAC     = "gsm.lac"
	paramCellID  = "gsm.cellid"
	paramCells   = "gsm.cells"
	paramWiFi    = "wifi.access.points"
	paramSignal  = "gsm.signal.level"   // 0 none … 4 strong
	paramVoltLvl = "battery.level.enum" // 0 no power … 6 very high

	paramIgnition   = "engine.ignition.status"
	paramCharging   = "battery.charging.status"
	paramGNSS       = "gnss.status"
	paramDefense    = "custom.defense.status"
	paramFuelCut    = "custom.oil.electricity.disconnected.status"
	paramStatusAlrm = "custom.status.alarm.enum"
	paramAlarm      = "alarm.event.trigger"
	paramEvent      = "event.enum"
	paramSOS        = "sos.event.trigger"
	paramShock      = "shock.event.trigger"
	paramOverspeed  = "overspeeding.event.trigger"
	paramHarshAccel = "harsh.acceleration.event.trigger"
	paramGeofenceIn = "geofence.inside.status"
	paramGeofenceID = "geofence.id"
	paramPowerOK    = "external.powersource.status"
	paramBatteryLow = "battery.low.status"

	paramTimezone   = "timezone"
	paramDeviceType = "device.type.enum"

	paramExtVoltage = "external.powersource.voltage"
	paramInfoType   = "custom.info.type"
	paramInfoRaw    = "custom.info.raw"
	paramInfoText   = "custom.info.text"
	paramDoor       = "door.open.status"
	paramICCID      = "gsm.sim.iccid"
	paramIMSI       = "gsm.sim.imsi"

	paramResponse = "custom.command.response"
)
