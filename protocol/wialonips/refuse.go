package wialonips

import "github.com/gnssgate/gnssgate/protocol"

// refusal is the login answer "connection rejected by server" of both
// versions of the spec.
var refusal = []byte("#AL#0\r\n")

// Refusal returns "#AL#0\r\n", the answer that rejects a login. A channel
// sends it before closing a connection that sent data without logging in.
// The bytes are shared: the caller must not modify them.
func (s *Session) Refusal() []byte { return refusal }

var _ protocol.Refuser = (*Session)(nil)
