package teltonika

import "github.com/gnssgate/gnssgate/protocol"

// refusal is the byte a Teltonika server sends to turn a device away: the
// IMEI handshake's 00, after which the device closes the connection.
var refusal = [...]byte{0}

// Refusal returns 00, the answer that rejects a device's IMEI. A channel
// sends it before closing a connection that sent data without logging in.
// The bytes are shared: the caller must not modify them.
func (s *Session) Refusal() []byte { return refusal[:] }

var _ protocol.Refuser = (*Session)(nil)
