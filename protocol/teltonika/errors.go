package teltonika

import "errors"

// Errors of command encoding. Decoding errors are [*protocol.DecodeError]s
// wrapping the protocol package's sentinels.
var (
	// ErrCommandKind: Command.Name is not "", "codec12" or "codec14".
	ErrCommandKind = errors.New("teltonika: unknown command kind")
	// ErrNoIMEI: a Codec 14 command needs the device's IMEI, and the session
	// has not seen it yet.
	ErrNoIMEI = errors.New("teltonika: device IMEI not known yet")
	// ErrCommandTooLarge: the encoded command would exceed the codec's
	// maximum frame size.
	ErrCommandTooLarge = errors.New("teltonika: command too large")
)
