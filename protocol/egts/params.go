package egts

// Parameter names this codec sets beyond the common ones in package protocol.
// Names with a flespi equivalent use it; the rest carry the "custom." prefix,
// as flespi does for parameters without a common name.
const (
	paramRecord  = "record.seqnum"         // the record number (RN)
	paramService = "custom.service.type"   // the record's source service (SST)
	paramRaw     = "custom.packet.raw"     // an encrypted or compressed body, hex
	paramFlags   = "custom.packet.flags"   // the transport flags of such a body
	paramTail    = "custom.subrecord.tail" // bytes after a known layout, hex

	paramTID      = "custom.terminal.id"
	paramHDID     = "custom.home.dispatcher.id"
	paramIMEI     = "device.imei"
	paramIMSI     = "gsm.sim.imsi"
	paramLanguage = "custom.language"
	paramNetwork  = "custom.network.id"
	paramBuffer   = "custom.buffer.size"
	paramMSISDN   = "custom.msisdn"
	paramUser     = "custom.auth.user"

	paramVIN         = "vehicle.vin"
	paramVehicleType = "custom.vehicle.type.enum"
	paramPropulsion  = "custom.vehicle.propulsion.bitmask"

	paramModuleType   = "custom.module.type.enum"
	paramVendor       = "custom.module.vendor.id"
	paramFirmware     = "device.firmware.version"
	paramSoftware     = "custom.software.version"
	paramModuleState  = "custom.module.state.enum"
	paramModuleSerial = "custom.module.serial"
	paramModuleDesc   = "custom.module.description"

	paramFix3D      = "custom.position.fix.3d.status"
	paramPZ90       = "custom.position.pz90.status" // coordinates in PZ-90, not WGS-84
	paramBuffered   = "message.buffered.status"
	paramMoving     = "movement.status"
	paramMileage    = "vehicle.mileage"
	paramDIN        = "din"
	paramDOUT       = "dout"
	paramSource     = "event.enum" // why the point was made (SRC)
	paramSourceData = "custom.event.data"
	paramVDOP       = "position.vdop"
	paramPDOP       = "position.pdop"
	paramNavSystems = "custom.gnss.systems.bitmask"

	paramAnalog  = "custom.ain#"
	paramCounter = "custom.counter#"
	paramLoopIn  = "custom.loopin#"

	paramState     = "custom.state.enum"
	paramPower     = "external.powersource.voltage"
	paramBackup    = "custom.backup.battery.voltage"
	paramBattery   = "battery.voltage"
	paramGNSS      = "gnss.status"
	paramOnBattery = "custom.internal.battery.used.status"
	paramOnBackup  = "custom.backup.battery.used.status"

	paramLLSError  = "custom.lls.error#"
	paramLLSRaw    = "custom.lls.raw#"
	paramLLSLevel  = "custom.lls.level#"
	paramLLSVolume = "custom.lls.volume#"
	paramLLSValue  = "custom.lls.value#"

	paramResponse  = "command.response"
	paramCommandID = "custom.command.id"
	paramCmdType   = "custom.command.type.enum"
	paramCmdResult = "custom.command.result.enum"
	paramCmdCode   = "custom.command.code"
	paramDriverMsg = "driver.message"
)
