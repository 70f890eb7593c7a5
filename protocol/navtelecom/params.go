package navtelecom

// Parameter names this codec sets beyond the FLEX field table's.
const (
	paramPacketType = "custom.packet.type"       // FLEX frame type: A, T, C, E, X
	paramExtended   = "custom.flex.extended.raw" // a FLEX 2.0 extended record, hex
	paramNTCBRaw    = "custom.ntcb.raw"          // an NTCB payload kept undecoded, hex
	paramFormat     = "custom.ntcb.format"       // NTCB binary telemetry format (1 = F1.0 … 0x25 = F5.2)
)
