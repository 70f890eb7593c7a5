package egts

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// Command types (CT) of EGTS_SR_COMMAND_DATA.
const (
	ctComConf = 1 // the terminal confirms a command
	ctMsgConf = 2 // the terminal confirms a message
	ctMsgFrom = 3 // a message from the terminal (driver)
	ctMsgTo   = 4 // a message to the terminal
	ctCom     = 5 // a command
)

// command decodes EGTS_SR_COMMAND_DATA from the terminal: type and
// confirmation type, command id, sender id, optional charset and
// authorisation code, then the command data. A confirmation (CT_COMCONF,
// CT_MSGCONF) becomes a [protocol.CommandResponse] whose ID is the command
// id, and a message with "command.response"; a message from the terminal
// (CT_MSGFROM) becomes "driver.message".
func (c *recordCtx) command(d []byte) bool {
	if len(d) < 10 {
		return false
	}
	ct, cct, cid := d[0]>>4, d[0]&0x0F, le32(d[1:])
	fl, p := d[9], 10
	if fl&0x01 != 0 { // CHSFE: charset
		p++
	}
	if fl&0x02 != 0 { // ACFE: authorisation code
		if p >= len(d) {
			return false
		}
		p += 1 + int(d[p])
	}
	if p > len(d) {
		return false
	}
	cd := d[p:]
	m := c.msg()
	m.Set(paramCmdType, protocol.Int(int64(ct)))
	m.Set(paramCommandID, protocol.Int(int64(cid)))
	switch ct {
	case ctComConf, ctMsgConf:
		txt := resultText(cct)
		var data []byte
		if ct == ctComConf && len(cd) >= 5 {
			m.Set(paramCmdCode, protocol.Int(int64(le16(cd[3:]))))
			data = cd[5:]
			if len(data) > 0 && printable(data) {
				txt += ": " + strings.ToValidUTF8(string(bytes.TrimRight(data, "\x00")), "\uFFFD")
			}
		}
		m.Set(paramCmdResult, protocol.Int(int64(cct)))
		m.Set(paramResponse, protocol.String(txt))
		resp := protocol.CommandResponse{ID: cid, HasID: true, Text: txt}
		if len(data) > 0 {
			resp.Data = bytes.Clone(data)
		}
		c.r.Responses = append(c.r.Responses, resp)
	case ctMsgFrom:
		m.Set(paramDriverMsg, protocol.String(text(cd)))
	default:
		m.Set(subrecordNames[srCommandData], protocol.String(binfield.HexString(d)))
	}
	return true
}

// resultText names a confirmation type (CCT).
func resultText(cct byte) string {
	switch cct {
	case 0:
		return "ok"
	case 1:
		return "error"
	case 2:
		return "illegal"
	case 3:
		return "deleted"
	case 4:
		return "not found"
	case 5:
		return "not confirmed"
	case 6:
		return "in progress"
	}
	return fmt.Sprintf("result %d", cct)
}

func printable(b []byte) bool {
	b = bytes.TrimRight(b, "\x00")
	for _, c := range b {
		if c < 0x20 && c != '\r' && c != '\n' && c != '\t' {
			return false
		}
	}
	return len(b) > 0
}

// EncodeCommand appends an EGTS_PT_APPDATA packet with a commands-service
// record holding EGTS_SR_COMMAND_DATA. The command id (CID) is
// Command.ID, which the terminal's confirmation carries back. Command.Name
// selects the kind:
//
//	""         CT_COM, command code 0x0000 (EGTS_RAW_DATA): Command.Text
//	           (or Command.Data) is the command's data
//	"code"     CT_COM with the command code in Command.Data's first two
//	           bytes (little-endian) and its data after them
//	"message"  CT_MSGTO: Command.Text is a message for the driver
//
// Texts are sent as they are; terminals expect CP-1251, which ASCII is.
func (s *Session) EncodeCommand(dst []byte, c protocol.Command) ([]byte, error) {
	var cd []byte
	ct := byte(ctCom)
	payload := []byte(c.Text)
	if len(payload) == 0 {
		payload = c.Data
	}
	switch c.Name {
	case "":
		cd = append([]byte{0, 0, 0, 0, 0}, payload...) // ADR, SZ|ACT, CCD 0x0000
	case "code":
		if len(c.Data) < 2 {
			return dst, fmt.Errorf("%w: egts command \"code\" needs the command code in Data", protocol.ErrMalformed)
		}
		cd = append([]byte{0, 0, 0, c.Data[0], c.Data[1]}, c.Data[2:]...)
	case "message":
		ct, cd = ctMsgTo, []byte(c.Text)
	default:
		return dst, fmt.Errorf("%w: egts command %q", protocol.ErrUnsupported, c.Name)
	}
	sub := make([]byte, 0, 13+len(cd))
	sub = append(sub, ct<<4, byte(c.ID), byte(c.ID>>8), byte(c.ID>>16), byte(c.ID>>24), 0, 0, 0, 0, 0)
	sub = append(sub, cd...)
	if 3+len(sub) > 0xFFFF-7-16 {
		return dst, fmt.Errorf("%w: egts command of %d bytes", protocol.ErrUnsupported, len(sub))
	}
	rl := 3 + len(sub)
	rn := s.nextRN()
	rec := []byte{byte(rl), byte(rl >> 8), byte(rn), byte(rn >> 8), 0x00, serviceCommands, serviceCommands,
		srCommandData, byte(len(sub)), byte(len(sub) >> 8)}
	return s.appendPacket(dst, ptAppData, rec, sub), nil
}
