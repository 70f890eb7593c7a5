package galileosky

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Errors of command encoding.
var (
	// ErrNoHead: a command carries the IMEI and terminal identifier of the
	// head packet, which the session has not seen yet.
	ErrNoHead = errors.New("galileosky: head packet (IMEI, terminal identifier) not seen yet")
	// ErrCommandText: the command text is empty or longer than the 255
	// bytes its one-byte length can say.
	ErrCommandText = errors.New("galileosky: bad command text")
)

// EncodeCommand appends a command packet to dst: header 0x01, length, tag
// 0x03 with the IMEI, 0x04 with the terminal identifier, 0xE0 with
// Command.ID (the command number, which the device's answer repeats), 0xE1
// with the length and text of the command (Command.Text, e.g. "status",
// "Out 0,1"), and the CRC-16/MODBUS. Command.Name must be "". The answer
// arrives as a message with command.response and a Result.Responses entry
// whose ID is Command.ID (HasID set).
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if c.Name != "" {
		return dst, fmt.Errorf("%w: galileosky command %q (only the text command, Name \"\", exists)", protocol.ErrUnsupported, c.Name)
	}
	if len(s.ident) != 15 || !s.hasID {
		return dst, ErrNoHead
	}
	if c.Text == "" || len(c.Text) > 255 {
		return dst, ErrCommandText
	}
	return AppendCommand(dst, s.ident, s.terminalID, c.ID, c.Text), nil
}

// AppendCommand appends a command packet for the device with the given
// 15-digit IMEI and terminal identifier; number is the command number the
// answer repeats. Text longer than 255 bytes is cut.
func AppendCommand(dst []byte, imei string, terminal uint16, number uint32, text string) []byte {
	if len(text) > 255 {
		text = text[:255]
	}
	start := len(dst)
	n := 1 + 15 + 1 + 2 + 1 + 4 + 1 + 1 + len(text)
	dst = append(dst, hdrMain, byte(n), byte(n>>8), 0x03)
	var id [15]byte
	copy(id[:], imei)
	dst = append(dst, id[:]...)
	dst = append(dst, 0x04, byte(terminal), byte(terminal>>8), 0xE0)
	dst = binary.LittleEndian.AppendUint32(dst, number)
	dst = append(dst, 0xE1, byte(len(text)))
	dst = append(dst, text...)
	crc := crc16.Modbus.Checksum(dst[start:])
	return append(dst, byte(crc), byte(crc>>8))
}
