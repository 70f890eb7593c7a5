package tk103

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// Errors of [Session.EncodeCommand].
var (
	// ErrNoIdent: the session has not seen the device's id yet, and every
	// command carries it.
	ErrNoIdent = errors.New("tk103: no device id seen yet: a command needs it")
	// ErrCommandText: the text holds '(' or ')', which frame a command on
	// the wire, or is not what the command takes.
	ErrCommandText = errors.New("tk103: bad command text")
	// ErrUnknownCommand: Command.Name is none of the kinds the session
	// encodes.
	ErrUnknownCommand = errors.New("tk103: unknown command name")
)

// Command names [Session.EncodeCommand] understands; each is sent as
// "(<id><command>)".
const (
	// CommandCustom (or "") sends Text after the id: "(<id><Text>)".
	CommandCustom = "custom"
	// CommandPosition asks for the position now (one-time calling): AP00.
	// The device answers BP04.
	CommandPosition = "position"
	// CommandPeriodic asks for a report every Text seconds (1–65535):
	// AR00 + the interval in 4 hex digits + 0000 (no time limit).
	CommandPeriodic = "periodic"
	// CommandStopPeriodic stops the periodic reports: AR0000000000.
	CommandStopPeriodic = "stop-periodic"
	// CommandEngineStop cuts the oil: AV010.
	CommandEngineStop = "engine-stop"
	// CommandEngineResume restores it: AV011.
	CommandEngineResume = "engine-resume"
	// CommandOutput switches the circuit output to Text ("0" or "1"): AV00.
	CommandOutput = "output"
	// CommandReboot restarts the device: AT00.
	CommandReboot = "reboot"
	// CommandVersion asks for the firmware version: AP07.
	CommandVersion = "version"
)

// EncodeCommand appends a server command to dst. TK103 carries no command
// identifiers: answers come back in order (BP04, BV00, …) in
// Result.Responses.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if strings.ContainsAny(c.Text, "()") {
		return dst, ErrCommandText
	}
	if s.ident == "" {
		return dst, ErrNoIdent
	}
	var body string
	switch c.Name {
	case "", CommandCustom:
		if c.Text == "" {
			return dst, fmt.Errorf("%w: a custom command needs Text", ErrCommandText)
		}
		body = c.Text
	case CommandPosition:
		body = "AP00"
	case CommandPeriodic:
		v, err := strconv.Atoi(c.Text)
		if err != nil || v < 1 || v > 0xFFFF {
			return dst, fmt.Errorf("%w: periodic takes 1-65535 seconds, got %q", ErrCommandText, c.Text)
		}
		body = fmt.Sprintf("AR00%04X0000", v)
	case CommandStopPeriodic:
		body = "AR0000000000"
	case CommandEngineStop:
		body = "AV010"
	case CommandEngineResume:
		body = "AV011"
	case CommandOutput:
		if c.Text != "0" && c.Text != "1" {
			return dst, fmt.Errorf("%w: output takes \"0\" or \"1\", got %q", ErrCommandText, c.Text)
		}
		body = "AV00" + c.Text
	case CommandReboot:
		body = "AT00"
	case CommandVersion:
		body = "AP07"
	default:
		return dst, fmt.Errorf("%w: %q", ErrUnknownCommand, c.Name)
	}
	dst = append(dst, '(')
	dst = append(dst, s.ident...)
	dst = append(dst, body...)
	return append(dst, ')'), nil
}
