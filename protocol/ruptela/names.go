package ruptela

// Parameter names this codec sets beyond those package protocol names.
// Names with a flespi equivalent use it; the rest carry the "custom."
// prefix, as flespi does for parameters without a common name.
const (
	paramEvent        = "event.enum"          // the record's event ID (the IO ID that made it)
	paramPriority     = "event.priority.enum" // record priority
	paramTimestampExt = "custom.timestamp.extension"
	paramRecordsLeft  = "custom.records.left" // the device has more records to send
	paramBuffered     = "message.buffered.status"
	paramDTC          = "can.dtc" // a diagnostic trouble code, e.g. "P0010"
	paramIMSI         = "gsm.sim.imsi"
	paramOperator     = "gsm.operator.code"
	paramFirmware     = "custom.firmware.version"
	paramCommand      = "custom.command.id" // the packet's command byte
	paramPacketRaw    = "custom.packet.raw" // payload kept undecoded, hex
	paramFileCommand  = "custom.file.command"
	paramFileSource   = "custom.file.source"
	paramFileName     = "custom.file.name"
	paramFileParts    = "custom.file.parts"
	paramFilePart     = "custom.file.part"
	paramFileData     = "custom.file.data" // the part's bytes, hex
)
