package ruptela

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Command names [Session.EncodeCommand] understands.
const (
	// CommandSMS (or "") sends Text as an SMS command over GPRS (server
	// command 108), e.g. " setio 2,1" or "pass immobilizer 10"; the device
	// answers with command 7, whose text is the response.
	CommandSMS = "sms"
	// CommandConfiguration sends Text, a configuration line, followed by
	// "\r\n" (108 + … server command 102); the device answers with command 2.
	CommandConfiguration = "configuration"
	// CommandVersion asks for the firmware version (103); the answer is
	// command 3.
	CommandVersion = "version"
	// CommandFirmware starts a firmware update (104) with Text, by default
	// "|FU_STRT*", and "\r\n".
	CommandFirmware = "firmware"
	// CommandConnection sets the server: Text "host,port,TCP" (105).
	CommandConnection = "connection"
	// CommandOdometer sets the odometer: Text, a decimal number (106).
	CommandOdometer = "odometer"
	// CommandSetIO sets an output: Text "index,value" (117, two u32).
	CommandSetIO = "setio"
	// CommandPhoto asks for the pictures taken from Text's source (a
	// decimal number, default 0) over all time (137, sub-command 1); the
	// device sends them as command 37 file parts.
	CommandPhoto = "photo"
	// CommandPacket sends Data as it is: the server command byte, then the
	// payload. The length and CRC are added.
	CommandPacket = "packet"
)

// ErrCommand is returned for a command the encoder cannot build: an
// unknown Name, or Text that does not fit the command.
var ErrCommand = errors.New("ruptela: bad command")

// maxCommand bounds a command's payload: the length field is 16 bits.
const maxCommand = 0xFFFF - 1

// EncodeCommand appends a server packet to dst: u16 length, the command
// byte, the payload and its CRC-16/KERMIT. Ruptela packets from the server
// carry no IMEI (the connection says which device it is) and no command
// identifier: answers come in order, as Result.Responses and messages with
// command.response.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	var cmd byte
	var payload []byte
	switch c.Name {
	case "", CommandSMS:
		cmd, payload = replyBase+cmdSMS, []byte(c.Text)
	case CommandConfiguration:
		cmd, payload = replyBase+cmdConfiguration, []byte(c.Text+"\r\n")
	case CommandVersion:
		cmd = replyBase + cmdVersion
	case CommandFirmware:
		t := c.Text
		if t == "" {
			t = "|FU_STRT*"
		}
		cmd, payload = replyBase+cmdFirmware, []byte(t+"\r\n")
	case CommandConnection:
		cmd, payload = replyBase+cmdConnection, []byte(c.Text)
	case CommandOdometer:
		v, err := strconv.ParseUint(strings.TrimSpace(c.Text), 10, 32)
		if err != nil {
			return dst, fmt.Errorf("%w: odometer %q: %v", ErrCommand, c.Text, err)
		}
		cmd, payload = replyBase+cmdOdometer, binary.BigEndian.AppendUint32(nil, uint32(v))
	case CommandSetIO:
		a, b, ok := strings.Cut(c.Text, ",")
		i, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 32)
		v, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 32)
		if !ok || err1 != nil || err2 != nil {
			return dst, fmt.Errorf("%w: setio wants \"index,value\", got %q", ErrCommand, c.Text)
		}
		payload = binary.BigEndian.AppendUint32(nil, uint32(i))
		cmd, payload = replyBase+cmdSetIO, binary.BigEndian.AppendUint32(payload, uint32(v))
	case CommandPhoto:
		source := uint64(0)
		if t := strings.TrimSpace(c.Text); t != "" {
			v, err := strconv.ParseUint(t, 10, 8)
			if err != nil {
				return dst, fmt.Errorf("%w: photo source %q: %v", ErrCommand, c.Text, err)
			}
			source = v
		}
		payload = []byte{1, byte(source)}
		payload = binary.BigEndian.AppendUint32(payload, 0)
		cmd, payload = replyBase+cmdFiles, binary.BigEndian.AppendUint32(payload, math.MaxInt32)
	case CommandPacket:
		if len(c.Data) == 0 {
			return dst, fmt.Errorf("%w: packet needs Data (command byte, payload)", ErrCommand)
		}
		cmd, payload = c.Data[0], c.Data[1:]
	default:
		return dst, fmt.Errorf("%w: unknown command %q", ErrCommand, c.Name)
	}
	if len(payload) > maxCommand {
		return dst, fmt.Errorf("%w: payload of %d bytes", ErrCommand, len(payload))
	}
	return AppendPacket(dst, cmd, payload), nil
}

// AppendPacket appends a server packet: u16 length (1 + len(payload)), the
// command byte, the payload, and the CRC-16/KERMIT of command and payload,
// big-endian. The acknowledgement of records is AppendPacket(dst, 100,
// []byte{1}) = "00 02 64 01 13 BC".
func AppendPacket(dst []byte, cmd byte, payload []byte) []byte {
	n := 1 + len(payload)
	dst = append(dst, byte(n>>8), byte(n), cmd)
	start := len(dst) - 1
	dst = append(dst, payload...)
	crc := crc16.Kermit.Checksum(dst[start:])
	return append(dst, byte(crc>>8), byte(crc))
}
