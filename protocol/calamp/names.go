package calamp

// Parameter names this codec sets beyond those package protocol names.
// Names with a flespi equivalent use it; the rest carry the "custom."
// prefix, as flespi does for parameters without a common name.
const (
	paramEvent       = "event.enum"    // the report's event code
	paramSeqnum      = "record.seqnum" // the message's sequence number
	paramSignalDBM   = "gsm.signal.dbm"
	paramIgnition    = "engine.ignition.status"
	paramDin         = "din" // inputs 1–7, input 1 = bit 0 (the ignition is bit 0 of the wire byte)
	paramFixTime     = "position.timestamp"
	paramFirmware    = "device.firmware.version"
	paramIMEI        = "device.imei"
	paramIMSI        = "gsm.sim.imsi"
	paramICCID       = "gsm.sim.iccid"
	paramVIN         = "vehicle.vin"
	paramEventIndex  = "custom.event.index" // the PEG event (line) that made the report; 255: a real-time request
	paramFixStatus   = "custom.fix.status.bitmask"
	paramCommState   = "custom.comm.state.bitmask"
	paramUnitStatus  = "custom.unit.status.bitmask"
	paramCarrier     = "custom.carrier"
	paramMessageType = "custom.message.type.enum" // the LM Direct message type
	paramMobileType  = "custom.mobile.id.type.enum"
	paramAccumulator = "custom.accumulator" // custom.accumulator#N: accumulator N-1 of the list
	paramUserRoute   = "custom.user.message.route"
	paramUserID      = "custom.user.message.id"
	paramUserData    = "custom.user.message"     // as text when printable
	paramUserHex     = "custom.user.message.hex" // else in hex
	paramAppType     = "custom.application.message.type"
	paramAppData     = "custom.application.message.hex"
	paramRaw         = "custom.message.hex" // the contents of a message type not decoded
	paramTail        = "custom.message.tail.hex"
	paramScript      = "custom.script.version"
	paramConfig      = "custom.config.version"
	paramVehicle     = "custom.vehicle.class"
	paramModem       = "custom.modem.selection"
	paramAppID       = "custom.application.id"
	paramESN         = "custom.esn"
	paramMIN         = "custom.min"
	paramExtension   = "custom.id.extension" // the ID report's extension strings, ';'-joined
	paramRedirect    = "custom.response.redirection"
)
