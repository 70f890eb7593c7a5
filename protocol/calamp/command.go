package calamp

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
)

// Command kinds ([protocol.Command.Name]).
const (
	// CommandUser (the default, "") sends a user message: its bytes
	// (Command.Data, or Command.Text when Data is empty) go to the device
	// on the unit's host serial port.
	CommandUser = "user"
	// CommandUnitRequest sends a unit request message (type 7) whose
	// contents, Command.Data, are the action and its parameters as the LM
	// Direct reference lays them out.
	CommandUnitRequest = "unit"
	// CommandParameter sends a configuration parameter message (type 6)
	// whose contents are Command.Data.
	CommandParameter = "parameter"
)

// ErrCommandData: a command without contents, or longer than a user
// message's 16-bit length allows.
var ErrCommandData = errors.New("calamp: bad command data")

// EncodeCommand appends a command to dst as an LM Direct message with the
// acknowledged service: message header (service type 1, the message type,
// a sequence number of the session's own) and contents. The unit answers
// with an acknowledgement carrying the same sequence number, which gives
// the answer's [protocol.CommandResponse] the command's ID (HasID); a NAK
// code becomes its text ("NAK: message type not supported", …).
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	var typ byte
	body := c.Data
	switch c.Name {
	case "", CommandUser:
		typ = msgUser
		if len(body) == 0 {
			body = []byte(c.Text)
		}
	case CommandUnitRequest:
		typ = msgUnitRequest
	case CommandParameter:
		typ = msgParameter
	default:
		return dst, fmt.Errorf("%w: calamp command %q (user, unit or parameter)", protocol.ErrUnsupported, c.Name)
	}
	if len(body) == 0 || len(body) > 0xffff-8 {
		return dst, ErrCommandData
	}
	s.seq++
	seq := s.seq
	s.pending[seq%uint16(len(s.pending))] = pendingCommand{seq: seq, id: c.ID, used: true}
	dst = append(dst, serviceAcknowledged, typ)
	dst = binary.BigEndian.AppendUint16(dst, seq)
	if typ == msgUser {
		dst = append(dst, 0, 0) // route: the host port; user message ID 0
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(body)))
	}
	return append(dst, body...), nil
}
