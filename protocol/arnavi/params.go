package arnavi

// Parameter names this codec sets beyond the common ones in package protocol.
const (
	paramPacketType      = "custom.packet.type"     // a packet kept undecoded: its type
	paramPacketRaw       = "custom.packet.raw"      // and its data, hex
	paramTail            = "custom.record.tail"     // bytes after the last whole tag, hex
	paramLocator         = "custom.position.source" // 0xFE cells, 0xFF Wi-Fi
	paramVirtualIgnition = "custom.virtual.ignition.status"
	paramCallButton      = "custom.call.button.status"
	paramStatus          = "custom.status.bitmask"
	paramStatus2         = "custom.status2.bitmask"
	paramGSMState        = "custom.gsm.state.enum"
	paramGNSSState       = "gnss.state.enum"
	paramArmed           = "custom.armed.status"
	paramCANFlags        = "custom.can.flags.bitmask"
	paramThrottle        = "custom.can.accelerator.pedal.position"
	paramEngineLoad      = "custom.can.engine.load"
	paramSentence        = "custom.sentence.type" // "$AV,<type>"
	paramIndex           = "record.seqnum"
	paramTemperature     = "custom.temperature"
	paramFields          = "custom.fields"
)
