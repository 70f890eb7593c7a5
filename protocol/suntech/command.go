package suntech

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// Errors of command encoding.
var (
	// ErrNoID: commands carry the device ID, and the session has not seen
	// a report from the device yet.
	ErrNoID = errors.New("suntech: device ID not known yet")
	// ErrCommandText: the command text is empty, longer than 1,024 bytes,
	// or holds '\r' or '\n', which would end the command; or the command
	// type (Command.Name) is not 2 to 8 capital letters.
	ErrCommandText = errors.New("suntech: bad command text")
)

const maxCommand = 1024

// EncodeCommand appends a command to dst, in the dialect the device
// speaks:
//
//   - legacy devices (ST300, ST600, SA200, …): "<prefix><type>;<DEV_ID>;02;<text>\r",
//     e.g. "ST300CMD;100850000;02;StatusReq\r" for Command{Text: "StatusReq"};
//   - universal-protocol devices: "<type>;<DEV_ID>;<text>\r", e.g.
//     "CMD;0560001616;03;01\r" for Command{Text: "03;01"}.
//
// Command.Name is the command type: "" means "CMD" (status request, reset,
// reboot, outputs, AckEmerg, Preset, …); others are the manuals'
// parameter-setting types ("RPT", "NTW", "SVC", "EVT", "ADP", "MBV", …),
// whose fields go in Text as the manuals write them. Suntech answers carry
// no command identifier: answers ("…CMD;Res;…", "RES;…") come back in
// order, as [protocol.CommandResponse]s without an ID, and as messages
// with command.response.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if s.ident == "" {
		return dst, ErrNoID
	}
	typ := c.Name
	if typ == "" {
		typ = "CMD"
	}
	if len(typ) < 2 || len(typ) > 8 || strings.IndexFunc(typ, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return dst, fmt.Errorf("%w: command type %q", ErrCommandText, typ)
	}
	if c.Text == "" || len(c.Text) > maxCommand || strings.ContainsAny(c.Text, "\r\n") {
		return dst, ErrCommandText
	}
	if s.universal || s.prefix == "" {
		return AppendCommand(dst, "", typ, s.ident, c.Text), nil
	}
	return AppendCommand(dst, s.prefix, typ, s.ident, c.Text), nil
}

// AppendCommand appends a command to dst: with a legacy prefix ("ST300",
// "SA200", …) "<prefix><typ>;<id>;02;<text>\r"; with prefix "" the
// universal protocol's "<typ>;<id>;<text>\r".
func AppendCommand(dst []byte, prefix, typ, id, text string) []byte {
	if prefix == "" {
		dst = append(dst, typ...)
		dst = append(dst, ';')
		dst = append(dst, id...)
		dst = append(dst, ';')
		dst = append(dst, text...)
		return append(dst, '\r')
	}
	return appendLegacyCommand(dst, []byte(prefix), typ, id, text)
}

func appendLegacyCommand(dst, prefix []byte, typ, id, text string) []byte {
	dst = append(dst, prefix...)
	dst = append(dst, typ...)
	dst = append(dst, ';')
	dst = append(dst, id...)
	dst = append(dst, ";02;"...)
	dst = append(dst, text...)
	return append(dst, '\r')
}
