package wialonips

import (
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Command names [Session.EncodeCommand] understands.
const (
	// CommandMessage (or "") sends Text to the driver: #M#Text\r\n, with a
	// CRC16 in a 2.0 session. The device answers #AM#, found in
	// Result.Responses.
	CommandMessage = "message"
	// CommandCustom sends Text as it is, followed by \r\n ("Send Custom
	// Message Command"). Devices answer with a #M# packet, which arrives as
	// a message with driver.message.
	CommandCustom = "custom"
	// CommandSnapshot asks for a photo: #QI#\r\n.
	CommandSnapshot = "snapshot"
	// CommandTachograph asks for a DDD file of the driver in Text: #QT#Text\r\n.
	CommandTachograph = "ddd"
	// CommandFirmware uploads Data as firmware: #US#size[;CRC16]\r\n + Data.
	CommandFirmware = "firmware"
	// CommandConfig uploads Data as a configuration file: #UC#size[;CRC16]\r\n + Data.
	CommandConfig = "config"
)

// EncodeCommand appends a server-to-device packet to dst. Wialon IPS carries
// no command identifiers: answers come back in order. Over UDP the protocol
// has no way to reach the device and EncodeCommand returns
// [protocol.ErrNoCommands].
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	if s.transport == protocol.UDP {
		return dst, protocol.ErrNoCommands
	}
	if strings.ContainsAny(c.Text, "\r\n") {
		return dst, ErrCommandText
	}
	v2 := s.version == version20
	switch c.Name {
	case "", CommandMessage:
		dst = append(dst, "#M#"...)
		start := len(dst)
		dst = append(dst, c.Text...)
		if v2 {
			dst = append(dst, ';')
			dst = appendCRC(dst, crc16.ARC.Checksum(dst[start:]))
		}
		return append(dst, '\r', '\n'), nil
	case CommandCustom:
		dst = append(dst, c.Text...)
		return append(dst, '\r', '\n'), nil
	case CommandSnapshot:
		return append(dst, "#QI#\r\n"...), nil
	case CommandTachograph:
		dst = append(dst, "#QT#"...)
		dst = append(dst, c.Text...)
		return append(dst, '\r', '\n'), nil
	case CommandFirmware, CommandConfig:
		typ := "#US#"
		if c.Name == CommandConfig {
			typ = "#UC#"
		}
		dst = append(dst, typ...)
		dst = appendInt(dst, len(c.Data))
		if v2 {
			dst = append(dst, ';')
			dst = appendCRC(dst, crc16.ARC.Checksum(c.Data))
		}
		dst = append(dst, '\r', '\n')
		return append(dst, c.Data...), nil
	}
	return dst, fmt.Errorf("%w: %q", ErrUnknownCommand, c.Name)
}
