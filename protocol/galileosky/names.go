package galileosky

// Parameter names this codec sets beyond those package protocol names.
// Names with a flespi equivalent use it (flespi's Galileosky channel: ain,
// din, dout, can.8bit.value and the like); the rest carry the "custom."
// prefix, as flespi does for parameters without a common name.
const (
	paramHardware    = "custom.hardware.version" // tag 0x01
	paramFirmware    = "custom.firmware.version" // tag 0x02
	paramTerminalID  = "custom.terminal.id"      // tag 0x04, the device's own number
	paramRecordIndex = "record.seqnum"           // tag 0x10, archive record number
	paramStatus      = "custom.device.status"    // tag 0x40, status bitmask
	paramStatusExt   = "custom.device.status.extended"
	paramPower       = "external.powersource.voltage"
	paramBattery     = "battery.voltage"
	paramDeviceTemp  = "device.temperature"
	paramAccelX      = "custom.acceleration.x" // tag 0x44, 10-bit axes as sent
	paramAccelY      = "custom.acceleration.y"
	paramAccelZ      = "custom.acceleration.z"
	paramEcoAccel    = "custom.ecodrive.acceleration" // tag 0x47, g
	paramEcoBrake    = "custom.ecodrive.braking"
	paramEcoTurn     = "custom.ecodrive.cornering"
	paramEcoBump     = "custom.ecodrive.bump"
	paramDin         = "din"
	paramDout        = "dout"
	paramIButton     = "ibutton.code"
	paramIButton2    = "custom.ibutton2.code" // tag 0xD3, the second key
	paramIButtons    = "custom.ibuttons.state"
	paramMileage     = "vehicle.mileage" // tag 0xD4, m → km
	paramCoordSource = "custom.coordinates.source"

	paramCANFuelUsed  = "can.fuel.consumed"
	paramCANFuelLevel = "can.fuel.level"
	paramCANCoolant   = "can.engine.coolant.temperature"
	paramCANRPM       = "can.engine.rpm"
	paramCANMileage   = "can.vehicle.mileage"
	paramCANB1        = "custom.can.b1"

	paramCommandID  = "custom.command.id" // tag 0xE0, the command's number
	paramUserArray  = "custom.user.data.array"
	paramTagsTail   = "custom.tags.tail" // bytes from an unknown tag on, hex
	paramArchive    = "custom.archive.pending"
	paramCompressed = "custom.compressed"
	paramAlarm      = "alarm.event.trigger"
	paramGarmin     = "custom.garmin.fmi" // a Garmin FMI packet, hex
	paramPhotoPart  = "custom.photo.part"
	paramPhotoData  = "custom.photo.data"
	paramPhotoEnd   = "custom.photo.end"

	paramIridium    = "custom.iridium"
	paramIridiumLat = "custom.iridium.latitude" // the gateway's estimate
	paramIridiumLon = "custom.iridium.longitude"
	paramIridiumCEP = "custom.iridium.cep.radius" // km
)
