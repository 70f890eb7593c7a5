package tk103

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textcmd"
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

// commands is the table of [Session.EncodeCommand].
var commands = textcmd.Table{
	Forbidden: "()",
	Fixed: map[string]string{
		CommandPosition:     "AP00",
		CommandStopPeriodic: "AR0000000000",
		CommandEngineStop:   "AV010",
		CommandEngineResume: "AV011",
		CommandReboot:       "AT00",
		CommandVersion:      "AP07",
	},
	FromText: map[string]func(string) (string, error){
		CommandPeriodic: func(text string) (string, error) {
			v, err := strconv.Atoi(text)
			if err != nil || v < 1 || v > 0xFFFF {
				return "", fmt.Errorf("%w: periodic takes 1-65535 seconds, got %q", ErrCommandText, text)
			}
			return fmt.Sprintf("AR00%04X0000", v), nil
		},
		CommandOutput: func(text string) (string, error) {
			if text != "0" && text != "1" {
				return "", fmt.Errorf("%w: output takes \"0\" or \"1\", got %q", ErrCommandText, text)
			}
			return "AV00" + text, nil
		},
	},
	ErrText: ErrCommandText, ErrNoIdent: ErrNoIdent, ErrUnknown: ErrUnknownCommand,
}

// EncodeCommand appends a server command to dst. TK103 carries no command
// identifiers: answers come back in order (BP04, BV00, …) in
// Result.Responses.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	body, err := commands.Body(s.ident, c)
	if err != nil {
		return dst, err
	}
	dst = append(dst, '(')
	dst = append(dst, s.ident...)
	dst = append(dst, body...)
	return append(dst, ')'), nil
}
