package queclink

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// Errors of [Session.EncodeCommand].
var (
	// ErrCommandText: the text holds '$', CR or LF inside the command, or a
	// ',' inside a password.
	ErrCommandText = errors.New("queclink: bad command text")
	// ErrUnknownCommand: Command.Name is none of the kinds the session
	// encodes.
	ErrUnknownCommand = errors.New("queclink: unknown command name")
)

// Command names [Session.EncodeCommand] understands. Each is an @Track AT
// command ending in the serial number the device echoes in its +ACK.
const (
	// CommandCustom (or "") sends Text as it is, "AT+GT…$" (the '$' is
	// added when missing).
	CommandCustom = "custom"
	// CommandPosition asks for the current position: AT+GTRTO, RTL.
	CommandPosition = "position"
	// CommandReboot restarts the device: AT+GTRTO, REBOOT.
	CommandReboot = "reboot"
	// CommandVersion asks for the versions (+RESP:GTVER): AT+GTRTO, VER.
	CommandVersion = "version"
	// CommandEngineStop switches digital output 1 on (the relay that cuts
	// the engine): AT+GTOUT.
	CommandEngineStop = "engine-stop"
	// CommandEngineResume switches it off again.
	CommandEngineResume = "engine-resume"
)

// EncodeCommand appends an AT command to dst. Its serial number is
// Command.ID's low 16 bits, in four hex digits: the device's +ACK for the
// command carries it, and its [protocol.CommandResponse] has the same ID.
// Named commands use [Codec].Password, or the model's factory password.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	serial := string(appendHex4(nil, uint64(c.ID&0xFFFF)))
	pw := s.codec.Password
	if pw == "" {
		pw = defaultPassword(s.model)
	}
	if strings.ContainsAny(pw, ",$\r\n") {
		return dst, fmt.Errorf("%w: password %q", ErrCommandText, pw)
	}
	var cmd string
	switch c.Name {
	case "", CommandCustom:
		t := strings.TrimSuffix(c.Text, "$")
		if t == "" || strings.ContainsAny(t, "$\r\n") {
			return dst, fmt.Errorf("%w: %q", ErrCommandText, c.Text)
		}
		cmd = t + "$"
	case CommandPosition:
		cmd = "AT+GTRTO=" + pw + ",1,,,,,," + serial + "$"
	case CommandReboot:
		cmd = "AT+GTRTO=" + pw + ",3,,,,,," + serial + "$"
	case CommandVersion:
		cmd = "AT+GTRTO=" + pw + ",8,,,,,," + serial + "$"
	case CommandEngineStop, CommandEngineResume:
		state := "1"
		if c.Name == CommandEngineResume {
			state = "0"
		}
		cmd = "AT+GTOUT=" + pw + "," + state + ",,,0,0,0,0,0,0,0,,,,,,," + serial + "$"
	default:
		return dst, fmt.Errorf("%w: %q", ErrUnknownCommand, c.Name)
	}
	return append(dst, cmd...), nil
}
