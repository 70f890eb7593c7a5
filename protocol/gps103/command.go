package gps103

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/textcmd"
)

// Errors of [Session.EncodeCommand].
var (
	// ErrNoIdent: the session has not seen the device's IMEI yet, and
	// every command carries it.
	ErrNoIdent = errors.New("gps103: no IMEI seen yet: a command needs it")
	// ErrCommandText: the text holds ';', CR or LF, which end a command on
	// the wire, or is not what the command takes.
	ErrCommandText = errors.New("gps103: bad command text")
	// ErrUnknownCommand: Command.Name is none of the kinds the session
	// encodes.
	ErrUnknownCommand = errors.New("gps103: unknown command name")
)

// Command names [Session.EncodeCommand] understands. Each is sent as
// "**,imei:<IMEI>,<letter>[,<argument>];".
const (
	// CommandCustom (or "") sends Text as the command: "**,imei:<IMEI>,<Text>;".
	CommandCustom = "custom"
	// CommandPosition asks for one position report: B.
	CommandPosition = "position"
	// CommandPeriodic asks for a report every Text, "30s", "05m", "01h" or
	// a number of seconds: C,<interval>.
	CommandPeriodic = "periodic"
	// CommandCancelAlarm cancels the alarm the device keeps reporting: E.
	CommandCancelAlarm = "cancel-alarm"
	// CommandOverspeed sets the overspeed alarm to Text km/h: H,<speed>.
	CommandOverspeed = "overspeed"
	// CommandEngineStop cuts oil and power: J.
	CommandEngineStop = "engine-stop"
	// CommandEngineResume restores them: K.
	CommandEngineResume = "engine-resume"
	// CommandArm arms the alarm: L.
	CommandArm = "arm"
	// CommandDisarm disarms it: M.
	CommandDisarm = "disarm"
	// CommandPhoto asks a camera model for a photo: 160.
	CommandPhoto = "photo"
)

// commands is the table of [Session.EncodeCommand].
var commands = textcmd.Table{
	Forbidden: ";\r\n",
	Fixed: map[string]string{
		CommandPosition:     "B",
		CommandCancelAlarm:  "E",
		CommandEngineStop:   "J",
		CommandEngineResume: "K",
		CommandArm:          "L",
		CommandDisarm:       "M",
		CommandPhoto:        "160",
	},
	FromText: map[string]func(string) (string, error){
		CommandPeriodic: func(text string) (string, error) {
			iv, err := interval(text)
			if err != nil {
				return "", err
			}
			return "C," + iv, nil
		},
		CommandOverspeed: func(text string) (string, error) {
			v, err := strconv.Atoi(text)
			if err != nil || v < 0 || v > 999 {
				return "", fmt.Errorf("%w: overspeed takes km/h, 0-999, got %q", ErrCommandText, text)
			}
			return fmt.Sprintf("H,%03d", v), nil
		},
	},
	ErrText: ErrCommandText, ErrNoIdent: ErrNoIdent, ErrUnknown: ErrUnknownCommand,
}

// EncodeCommand appends a server command to dst. Coban commands carry no
// identifier and most are answered by a report; there is nothing to
// correlate.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	body, err := commands.Body(s.ident, c)
	if err != nil {
		return dst, err
	}
	return appendCommand(dst, s.ident, body), nil
}

func appendCommand(dst []byte, imei, body string) []byte {
	dst = append(dst, "**,imei:"...)
	dst = append(dst, imei...)
	dst = append(dst, ',')
	dst = append(dst, body...)
	return append(dst, ';')
}

// interval accepts the device's own "NNs", "NNm", "NNh" or a number of
// seconds, which it writes in the largest whole unit.
func interval(t string) (string, error) {
	if n := len(t); n >= 2 && strings.ContainsRune("smh", rune(t[n-1])) {
		if v, err := strconv.Atoi(t[:n-1]); err == nil && v > 0 && v < 1000 {
			return t, nil
		}
	}
	v, err := strconv.Atoi(t)
	if err != nil || v <= 0 {
		return "", fmt.Errorf("%w: periodic takes \"30s\", \"05m\", \"01h\" or seconds, got %q", ErrCommandText, t)
	}
	switch {
	case v%3600 == 0 && v/3600 < 1000:
		return fmt.Sprintf("%02dh", v/3600), nil
	case v%60 == 0 && v/60 < 1000:
		return fmt.Sprintf("%02dm", v/60), nil
	case v < 1000:
		return fmt.Sprintf("%02ds", v), nil
	}
	return "", fmt.Errorf("%w: %d seconds is not a whole number of minutes or hours below 1000", ErrCommandText, v)
}
