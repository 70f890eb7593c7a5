package teltonika

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
)

// Settings: a Teltonika device keeps its configuration as numbered
// parameters (the configurator's parameter IDs, e.g. 2001 the APN, 1000 the
// period of records while moving). A server reads one with the text command
// "getparam ID" and writes one with "setparam ID:VALUE", sent over Codec 12
// (over GPRS no SMS password precedes the command), and the device answers
// in a Codec 12 response:
//
//	getparam 2001        → Param ID:2001 Value:wap
//	setparam 2001:wap    → New value 2001:wap   (older firmware: Param ID:2001 Value:wap)
//	getparam 99999       → Param ID:99999 doesn’t exist
//	getparam 99999999    → Invalid parameter id provided
//	setparam 001:wap     → WARNING: Not supported Param ID or Value detected
//
// Sources: Teltonika wiki, "FMB getparam", "FMB setparam", "SMS/GPRS
// command - getparam", "SMS/GPRS command - setparam" and "Codec" (Codec
// 12); a command is at most 160 characters (the SMS/GPRS command list).
//
// The Codec implements [protocol.Settings] with these: a setting's name is
// the parameter ID.

// maxCommandText is the longest SMS/GPRS command a device takes.
const maxCommandText = 160

// maxParamIDDigits bounds a parameter ID: the documented IDs have 3 to 5
// digits, and a device answers "Invalid parameter id provided" to an
// 8-digit one.
const maxParamIDDigits = 8

var _ protocol.Settings = (*Codec)(nil)

func checkParamID(name string) error {
	if name == "" || len(name) > maxParamIDDigits {
		return fmt.Errorf("%w: teltonika: a parameter ID of 1 to %d digits, not %q", protocol.ErrSettingName, maxParamIDDigits, name)
	}
	for i := range len(name) {
		if name[i] < '0' || name[i] > '9' {
			return fmt.Errorf("%w: teltonika: a parameter ID is digits, not %q", protocol.ErrSettingName, name)
		}
	}
	return nil
}

// ReadSetting returns the Codec 12 command "getparam NAME".
func (c *Codec) ReadSetting(name string) (protocol.Command, error) {
	if err := checkParamID(name); err != nil {
		return protocol.Command{}, err
	}
	return protocol.Command{Name: "codec12", Text: "getparam " + name}, nil
}

// WriteSetting returns the Codec 12 command "setparam NAME:VALUE". The
// value cannot hold ';' (it separates parameters in one setparam) or
// control characters, and the command is at most 160 characters.
func (c *Codec) WriteSetting(name, value string) (protocol.Command, error) {
	if err := checkParamID(name); err != nil {
		return protocol.Command{}, err
	}
	if !utf8.ValidString(value) {
		return protocol.Command{}, fmt.Errorf("%w: teltonika: not UTF-8", protocol.ErrSettingValue)
	}
	for _, r := range value {
		if r == ';' || r < 0x20 || r == 0x7f {
			return protocol.Command{}, fmt.Errorf("%w: teltonika: %q cannot be sent in a setparam value", protocol.ErrSettingValue, r)
		}
	}
	text := "setparam " + name + ":" + value
	if len(text) > maxCommandText {
		return protocol.Command{}, fmt.Errorf("%w: teltonika: the command would be %d characters; devices take %d", protocol.ErrSettingValue, len(text), maxCommandText)
	}
	return protocol.Command{Name: "codec12", Text: text}, nil
}

// SettingValue reads a device's answer to getparam or setparam of name.
func (c *Codec) SettingValue(name string, answer protocol.CommandResponse) (string, error) {
	if err := checkParamID(name); err != nil {
		return "", err
	}
	text := strings.TrimRight(answer.Text, "\r\n\x00")
	switch {
	case strings.HasPrefix(text, "Param ID:"):
		rest := text[len("Param ID:"):]
		id, value, ok := strings.Cut(rest, " Value:")
		if !ok {
			// "Param ID:99999 doesn’t exist", and the like.
			if leadingDigits(rest) == name {
				return "", fmt.Errorf("%w: teltonika: %q", protocol.ErrSettingRefused, text)
			}
			return "", answerError(name, text)
		}
		if id != name {
			return "", answerError(name, text)
		}
		return firstValue(value), nil
	case strings.HasPrefix(text, "New value "):
		id, value, ok := strings.Cut(text[len("New value "):], ":")
		if !ok || id != name {
			return "", answerError(name, text)
		}
		return firstValue(value), nil
	case strings.HasPrefix(text, "Invalid parameter"), strings.HasPrefix(text, "WARNING:"),
		strings.HasPrefix(text, "Error while configuring"):
		return "", fmt.Errorf("%w: teltonika: %q", protocol.ErrSettingRefused, text)
	}
	return "", answerError(name, text)
}

func answerError(name, text string) error {
	if len(text) > 80 {
		text = text[:80] + "…"
	}
	return fmt.Errorf("%w: teltonika: %q is not an answer about parameter %s", protocol.ErrSettingAnswer, text, name)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// firstValue cuts an answer listing several parameters ("wap;1000:30",
// the documented answer to "getparam 2001;1000") to the first one's value.
// A value cannot hold ';' (setparam could not have set it), so a ';'
// followed by an ID and ':' starts the next parameter.
func firstValue(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] != ';' {
			continue
		}
		rest := v[i+1:]
		if d := leadingDigits(rest); d != "" && len(d) < len(rest) && rest[len(d)] == ':' {
			return v[:i]
		}
	}
	return v
}
