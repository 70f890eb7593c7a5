package h02

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	tf "github.com/gnssgate/gnssgate/protocol/internal/textfield"
)

// Errors of [Session.EncodeCommand].
var (
	// ErrNoIdent: the session has not seen the device's id yet, and every
	// H02 command carries it.
	ErrNoIdent = errors.New("h02: no device id seen yet: a command needs it")
	// ErrCommandText: the text holds '#', which ends a frame on the wire,
	// or a CR or LF.
	ErrCommandText = errors.New("h02: command text contains '#', CR or LF")
	// ErrUnknownCommand: Command.Name is none of the kinds the session
	// encodes.
	ErrUnknownCommand = errors.New("h02: unknown command name")
)

// Command names [Session.EncodeCommand] understands, from the V1.0.3
// document's downlink commands.
const (
	// CommandCustom (or "") sends Text after the id: "*HQ,<id>,<Text>#";
	// a Text that starts with '*' is sent as it is.
	CommandCustom = "custom"
	// CommandPosition asks for a position report now: CR.
	CommandPosition = "position"
	// CommandEngineStop cuts oil and engine: S20,<time>,1,1.
	CommandEngineStop = "engine-stop"
	// CommandEngineResume restores oil and engine: S20,<time>,1,0.
	CommandEngineResume = "engine-resume"
	// CommandArm fortifies the vehicle: SF.
	CommandArm = "arm"
	// CommandDisarm disarms it: CF.
	CommandDisarm = "disarm"
	// CommandReboot restarts the device: CQ.
	CommandReboot = "reboot"
	// CommandFactoryReset restores the defaults: RESET,<time>.
	CommandFactoryReset = "factory-reset"
	// CommandInterval sets the reporting interval while driving to Text
	// seconds (5–3600): XT,<Text>.
	CommandInterval = "interval"
	// CommandRestInterval sets the reporting interval while parked to Text
	// seconds (10–7200): NXT,<Text>.
	CommandRestInterval = "rest-interval"
	// CommandAPN sets the access point: APN,<Text> with Text
	// "name,user,password".
	CommandAPN = "apn"
	// CommandInfo asks for the device information: INFO.
	CommandInfo = "info"
)

// EncodeCommand appends a server command, "*HQ,<id>,<CMD>,…#", to dst.
// Commands that carry a time field get the codec clock's UTC time of day;
// the device echoes it in its V4 answer. H02 carries no command
// identifiers: answers (V4) come back in order, in Result.Responses.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if strings.ContainsAny(c.Text, "#\r\n") {
		return dst, ErrCommandText
	}
	if c.Name == "" || c.Name == CommandCustom {
		if strings.HasPrefix(c.Text, "*") {
			return append(append(dst, c.Text...), '#'), nil
		}
	}
	if s.ident == "" {
		return dst, ErrNoIdent
	}
	start := len(dst)
	maker := s.maker
	if maker[0] == 0 {
		maker = [2]byte{'H', 'Q'}
	}
	dst = append(dst, '*', maker[0], maker[1], ',')
	dst = append(dst, s.ident...)
	dst = append(dst, ',')
	switch c.Name {
	case "", CommandCustom:
		dst = append(dst, c.Text...)
	case CommandPosition:
		dst = append(dst, "CR"...)
	case CommandEngineStop, CommandEngineResume:
		dst = append(dst, "S20,"...)
		dst = s.appendTime(dst)
		if c.Name == CommandEngineStop {
			dst = append(dst, ",1,1"...)
		} else {
			dst = append(dst, ",1,0"...)
		}
	case CommandArm:
		dst = append(dst, "SF"...)
	case CommandDisarm:
		dst = append(dst, "CF"...)
	case CommandReboot:
		dst = append(dst, "CQ"...)
	case CommandFactoryReset:
		dst = append(dst, "RESET,"...)
		dst = s.appendTime(dst)
	case CommandInterval, CommandRestInterval:
		if _, ok := tf.Uint([]byte(c.Text)); !ok {
			return dst[:start], fmt.Errorf("%w: %s needs a number of seconds in Text, got %q", ErrCommandText, c.Name, c.Text)
		}
		if c.Name == CommandInterval {
			dst = append(dst, "XT,"...)
		} else {
			dst = append(dst, "NXT,"...)
		}
		dst = append(dst, c.Text...)
	case CommandAPN:
		dst = append(dst, "APN,"...)
		dst = append(dst, c.Text...)
	case CommandInfo:
		dst = append(dst, "INFO"...)
	default:
		return dst[:start], fmt.Errorf("%w: %q", ErrUnknownCommand, c.Name)
	}
	return append(dst, '#'), nil
}

func (s *Session) appendTime(dst []byte) []byte {
	t := s.now().UTC()
	dst = tf.AppendUint(dst, uint64(t.Hour()), 2)
	dst = tf.AppendUint(dst, uint64(t.Minute()), 2)
	return tf.AppendUint(dst, uint64(t.Second()), 2)
}
