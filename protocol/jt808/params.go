package jt808

// Parameter names this codec sets beyond the common ones in package protocol.
// Names with a flespi equivalent use it; the rest carry the "custom." prefix,
// as flespi does for parameters without a common name.
const (
	paramMessageID = "custom.message.id" // the message ID, e.g. 512 for 0x0200
	paramSeqnum    = "record.seqnum"     // the message serial number
	paramRaw       = "custom.message.raw"
	paramTail      = "custom.message.tail"
	paramPacket    = "custom.packet.index" // sub-package: "index/total" of a split message
	paramEncrypted = "custom.message.encryption.enum"

	paramAlarmBits  = "custom.alarm.bitmask"
	paramStatusBits = "custom.status.bitmask"
	paramAlarm      = "alarm.event.trigger"
	paramIgnition   = "engine.ignition.status"
	paramOperating  = "custom.operating.status"
	paramEncCoords  = "custom.coordinates.encrypted.status"
	paramLoad       = "custom.load.status.enum"
	paramFuelCut    = "custom.fuel.cut.status"
	paramCircuitCut = "custom.circuit.cut.status"
	paramDoorLocked = "custom.door.locked.status"
	paramDoorsOpen  = "custom.doors.open.bitmask"
	paramGNSSUsed   = "custom.gnss.systems.bitmask"
	paramBuffered   = "message.buffered.status"

	paramMileage      = "vehicle.mileage"
	paramFuel         = "fuel.volume"
	paramTachoSpeed   = "custom.tachograph.speed"
	paramConfirmEvent = "custom.alarm.confirm.id"
	paramTyres        = "custom.tyre.pressure.raw"
	paramCargoTemp    = "custom.compartment.temperature"
	paramAreaType     = "custom.area.type.enum"
	paramAreaID       = "geofence.id"
	paramGeofenceIn   = "geofence.inside.status"
	paramRouteID      = "custom.route.id"
	paramRouteTime    = "custom.route.time"
	paramRouteResult  = "custom.route.time.too.long.status"
	paramSignals      = "custom.vehicle.signals.bitmask"
	paramIOStatus     = "custom.io.status.bitmask"
	paramAD0          = "custom.analog.ad0"
	paramAD1          = "custom.analog.ad1"
	paramSignal       = "gsm.signal.level"
	paramVideoAlarm   = "custom.video.alarm.bitmask"
	paramVideoLoss    = "custom.video.loss.bitmask"
	paramVideoBlock   = "custom.video.blocked.bitmask"
	paramStorageFault = "custom.storage.fault.bitmask"
	paramBehaviour    = "custom.driving.behaviour.bitmask"
	paramCustomLen    = "custom.extra.length"

	paramProvince     = "custom.province.id"
	paramCity         = "custom.city.id"
	paramManufacturer = "device.manufacturer"
	paramModel        = "device.model"
	paramTerminalID   = "custom.terminal.id"
	paramPlateColour  = "custom.plate.colour.enum"
	paramPlate        = "vehicle.registration.number"
	paramPlateHex     = "custom.plate.gbk.hex"
	paramVIN          = "vehicle.vin"
	paramAuthCode     = "custom.auth.code"
	paramIMEI         = "device.imei"
	paramFirmware     = "device.firmware.version"
	paramHardware     = "device.hardware.version"
	paramICCID        = "gsm.sim.iccid"
	paramTerminalType = "device.type.enum"
	paramGNSSProps    = "custom.gnss.capabilities.bitmask"
	paramCommProps    = "custom.communication.capabilities.bitmask"
	paramProtoVersion = "custom.protocol.version"

	paramResponse      = "command.response"
	paramReplyID       = "custom.response.message.id"
	paramReplySeq      = "custom.response.seqnum"
	paramResult        = "custom.response.result.enum"
	paramUpgradeType   = "custom.upgrade.type.enum"
	paramEventID       = "event.enum"
	paramAnswerID      = "custom.answer.id"
	paramInfoType      = "custom.info.type"
	paramInfoOn        = "custom.info.subscribed.status"
	paramCardStatus    = "custom.ic.card.status.enum"
	paramCardResult    = "custom.ic.card.result.enum"
	paramDriverName    = "driver.name"
	paramDriverCert    = "ibutton.code"
	paramCertAgency    = "custom.driver.certificate.agency"
	paramCertValidity  = "custom.driver.certificate.validity"
	paramDriverIDCard  = "custom.driver.id.card"
	paramWaybill       = "custom.waybill"
	paramTransparent   = "custom.transparent.type"
	paramTransText     = "custom.transparent.text"
	paramTransHex      = "custom.transparent.hex"
	paramMediaID       = "custom.media.id"
	paramMediaType     = "custom.media.type.enum"
	paramMediaFormat   = "custom.media.format.enum"
	paramMediaEvent    = "custom.media.event.enum"
	paramMediaChannel  = "custom.media.channel"
	paramMediaSize     = "custom.media.size"
	paramCANTime       = "custom.can.receive.time"
	paramCANFrames     = "custom.can.frames"
	paramRecorderCmd   = "custom.recorder.command"
	paramRecorderData  = "custom.recorder.data"
	paramDeviceText    = "custom.device.text"
	paramTimezone      = "timezone"
	paramDeviceTimeReq = "custom.time.request"
)

// alarmBits names the alarm flag bits of the location report (JT/T
// 808-2013 table 24, unchanged in 2019). Bits not named are reserved.
var alarmBits = [32]string{
	0:  "sos.event.trigger",
	1:  "overspeeding.event.trigger",
	2:  "custom.fatigue.driving.event.trigger",
	3:  "custom.danger.warning.event.trigger",
	4:  "custom.gnss.fault.event.trigger",
	5:  "custom.gnss.antenna.cut.event.trigger",
	6:  "custom.gnss.antenna.short.event.trigger",
	7:  "custom.power.low.event.trigger",
	8:  "custom.power.cut.event.trigger",
	9:  "custom.display.fault.event.trigger",
	10: "custom.tts.fault.event.trigger",
	11: "custom.camera.fault.event.trigger",
	12: "custom.ic.card.fault.event.trigger",
	13: "custom.overspeed.warning.event.trigger",
	14: "custom.fatigue.warning.event.trigger",
	18: "custom.driving.timeout.event.trigger",
	19: "custom.parking.timeout.event.trigger",
	20: "custom.area.event.trigger",
	21: "custom.route.event.trigger",
	22: "custom.route.time.event.trigger",
	23: "custom.route.deviation.event.trigger",
	24: "custom.vss.fault.event.trigger",
	25: "custom.fuel.abnormal.event.trigger",
	26: "custom.theft.event.trigger",
	27: "custom.illegal.ignition.event.trigger",
	28: "custom.illegal.movement.event.trigger",
	29: "custom.collision.event.trigger",
	30: "custom.rollover.event.trigger",
	31: "custom.illegal.door.event.trigger",
}

// Parameters of Jointech's locations (0x5501, 0x5502).
const (
	paramProduct       = "custom.product.type"
	paramJointechAlarm = "custom.jointech.alarm.bitmask"
)
