package device

import (
	"encoding/binary"
	"errors"
	"maps"
	"strings"
	"sync"

	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// Params is a Teltonika device's configuration as a server reaches it over
// GPRS: numbered parameters, read with "getparam ID" and written with
// "setparam ID:VALUE" in Codec 12 commands, answered in Codec 12 responses
// in the Teltonika wiki's words ("SMS/GPRS command - getparam",
// "SMS/GPRS command - setparam"). A test or a simulated fleet plays the
// device's side of remote configuration with it. Safe for concurrent use.
type Params struct {
	mu     sync.Mutex
	values map[string]string
}

// NewParams returns a configuration holding values; its parameter IDs are
// the only ones the device has.
func NewParams(values map[string]string) *Params {
	return &Params{values: maps.Clone(values)}
}

// Get returns a parameter's value.
func (p *Params) Get(id string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.values[id]
	return v, ok
}

// Answer returns the device's answer to a command's text; ok is false for
// a command that is not getparam or setparam.
//
//	getparam 2001          Param ID:2001 Value:wap
//	getparam 2001;1000     Param ID:2001 Value:wap;1000:30
//	getparam 99999         Param ID:99999 doesn’t exist
//	getparam 99999999      Invalid parameter id provided
//	setparam 2001:wap      New value 2001:wap
//	setparam 001:wap       WARNING: Not supported Param ID or Value detected
func (p *Params) Answer(command string) (answer string, ok bool) {
	verb, args, _ := strings.Cut(strings.TrimSpace(command), " ")
	p.mu.Lock()
	defer p.mu.Unlock()
	switch verb {
	case "getparam":
		var b strings.Builder
		for i, id := range strings.Split(args, ";") {
			if !paramID(id) {
				return "Invalid parameter id provided", true
			}
			v, ok := p.values[id]
			if !ok {
				return "Param ID:" + id + " doesn’t exist", true
			}
			if i == 0 {
				b.WriteString("Param ID:" + id + " Value:" + v)
			} else {
				b.WriteString(";" + id + ":" + v)
			}
		}
		return b.String(), true
	case "setparam":
		pairs := strings.Split(args, ";")
		for _, pair := range pairs {
			id, _, found := strings.Cut(pair, ":")
			if _, known := p.values[id]; !found || !known {
				return "WARNING: Not supported Param ID or Value detected", true
			}
		}
		for _, pair := range pairs {
			id, v, _ := strings.Cut(pair, ":")
			p.values[id] = v
		}
		return "New value " + args, true
	}
	return "", false
}

// paramID: 1 to 5 digits, the IDs a device knows.
func paramID(s string) bool { return s != "" && len(s) <= 5 && isDigits(s) }

// Codec 12 packets (Teltonika wiki "Codec"): preamble 0, data size, codec
// 0x0C, quantity, type (5 a command, 6 a response), size, text, quantity,
// CRC-16/IBM of codec id .. second quantity.
const (
	codec12         = 0x0C
	codec12Command  = 0x05
	codec12Response = 0x06
)

// ErrNotCommand: the bytes a device read are not a Codec 12 command.
var ErrNotCommand = errors.New("device: not a Codec 12 command")

// IsTeltonikaCommand reports whether what a logged-in Teltonika device has
// read starts a GPRS command packet (four zero bytes) rather than the
// answer to its data (the record count, never zero for a packet of
// records). It needs 4 bytes.
func IsTeltonikaCommand(data []byte) bool {
	return len(data) >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0 && data[3] == 0
}

// SplitTeltonikaCommand cuts a Codec 12 command packet from the start of
// data and returns its text: (0, "", nil) asks for more bytes.
func SplitTeltonikaCommand(data []byte) (advance int, text string, err error) {
	if len(data) < 8 {
		return 0, "", nil
	}
	if !IsTeltonikaCommand(data) {
		return 0, "", ErrNotCommand
	}
	size := int(binary.BigEndian.Uint32(data[4:]))
	if size < 8 || size > 64<<10 {
		return 0, "", ErrNotCommand
	}
	if len(data) < 8+size+4 {
		return 0, "", nil
	}
	body := data[8 : 8+size]
	if uint32(crc16.ARC.Checksum(body)) != binary.BigEndian.Uint32(data[8+size:]) {
		return 0, "", ErrNotCommand
	}
	n := int(binary.BigEndian.Uint32(body[3:]))
	if body[0] != codec12 || body[2] != codec12Command || 7+n+1 != len(body) {
		return 0, "", ErrNotCommand
	}
	return 8 + size + 4, string(body[7 : 7+n]), nil
}

// AppendTeltonikaAnswer appends the Codec 12 response packet carrying
// text, as a device answers a command.
func AppendTeltonikaAnswer(dst []byte, text string) []byte {
	start := len(dst) + 8
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(1+1+1+4+len(text)+1))
	dst = append(dst, codec12, 1, codec12Response)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(text)))
	dst = append(dst, text...)
	dst = append(dst, 1)
	return binary.BigEndian.AppendUint32(dst, uint32(crc16.ARC.Checksum(dst[start:])))
}
