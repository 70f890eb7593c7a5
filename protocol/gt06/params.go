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

	paramTamper       = "tamper.event.trigger"
	paramRemoval      = "removal.event.trigger"
	paramHarshBrake   = "harsh.braking.event.trigger"
	paramHarshCorner  = "harsh.cornering.event.trigger"
	paramCrash        = "crash.event.trigger"
	paramFall         = "fall.event.trigger"
	paramTowing       = "towing.event.trigger"
	paramDoorEvent    = "door.event.trigger"
	paramPowerOn      = "power.on.event.trigger"
	paramPowerOff     = "power.off.event.trigger"
	paramExtPowerLow  = "external.powersource.low.event.trigger"
	paramGPSBlind     = "custom.gps.blind.area.status"
	paramSIMChanged   = "gsm.sim.change.event.trigger"
	paramTemperature  = "temperature.event.trigger"
	paramBatteryVolt  = "battery.voltage"
	paramBatteryPct   = "battery.level"
	paramMileage      = "vehicle.mileage"
	paramMotorHours   = "engine.motorhours"
	paramSatVisible   = "custom.satellites.visible"
	paramDin          = "din"
	paramDout         = "dout"
	paramMovement     = "movement.status"
	paramPhone        = "custom.phone.number"
	paramTempSensor   = "sensor.temperature#1"
	paramHumidity     = "sensor.humidity#1"
	paramFuel         = "fuel.level"
	paramBLEMac       = "ble.sensor.mac.address"
	paramBLETemp      = "ble.sensor.temperature"
	paramBLEHumidity  = "ble.sensor.humidity"
	paramBLEBattVolt  = "ble.sensor.battery.voltage"
	paramBLEBattLevel = "ble.sensor.battery.level"
	paramBLEStatus    = "ble.sensor.status"
	paramSteps        = "steps.count"
	paramIButton      = "ibutton.code"
	paramRFID         = "rfid.code"
	paramEventData    = "custom.event.data"
	paramEventFiles   = "custom.event.files"
	paramSerialData   = "custom.serial.data"
	paramSerialType   = "custom.serial.device.type"
	paramStartup      = "custom.startup.status"
	paramBootReason   = "custom.boot.reason.enum"
	paramRecordIndex  = "custom.record.index"
	paramNetworkTech  = "gsm.network.type"
	paramInfoStatus   = "custom.info.status." // + ALM1, STA1, DYD… (hex byte)
	paramGPSState     = "gnss.state.enum"
	paramAccuracy     = "position.accuracy"
	paramOdometerRaw  = "custom.mileage.raw"
)
