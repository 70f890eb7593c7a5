package teltonika

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
)

// The commands and answers of the Teltonika wiki's getparam and setparam
// pages.
func TestSettingCommands(t *testing.T) {
	c := &Codec{}
	// Source: Teltonika wiki "FMB getparam": getparam 2001 requests the APN.
	cmd, err := c.ReadSetting("2001")
	if err != nil || cmd.Text != "getparam 2001" || cmd.Name != "codec12" {
		t.Fatalf("read: %+v, %v", cmd, err)
	}
	// Source: Teltonika wiki "SMS/GPRS command - setparam": setparam 2001:wap.
	cmd, err = c.WriteSetting("2001", "wap")
	if err != nil || cmd.Text != "setparam 2001:wap" || cmd.Name != "codec12" {
		t.Fatalf("write: %+v, %v", cmd, err)
	}
	if cmd, err := c.WriteSetting("2002", ""); err != nil || cmd.Text != "setparam 2002:" {
		t.Fatalf("an empty value (clearing the APN user): %+v, %v", cmd, err)
	}
	for _, name := range []string{"", "20a1", "123456789", "2001;1000", "1000:5", " 2001"} {
		if _, err := c.ReadSetting(name); !errors.Is(err, protocol.ErrSettingName) {
			t.Errorf("read %q: %v, want ErrSettingName", name, err)
		}
		if _, err := c.WriteSetting(name, "1"); !errors.Is(err, protocol.ErrSettingName) {
			t.Errorf("write %q: %v, want ErrSettingName", name, err)
		}
	}
	// ';' would start a second parameter: "wap;2002:x" must not set 2002.
	for _, v := range []string{"wap;2002:x", "a\nb", "a\x00", "\xff", strings.Repeat("x", 150)} {
		if _, err := c.WriteSetting("2001", v); !errors.Is(err, protocol.ErrSettingValue) {
			t.Errorf("value %q: %v, want ErrSettingValue", v, err)
		}
	}
}

func TestSettingValue(t *testing.T) {
	c := &Codec{}
	for _, tc := range []struct {
		source, name, answer, value string
		err                         error
	}{
		{"wiki FMB getparam", "2001", "Param ID:2001 Value:wap", "wap", nil},
		{"wiki SMS/GPRS command - getparam", "13000", "Param ID:13000 Value:fm.teltonika.lt", "fm.teltonika.lt", nil},
		{"wiki FMB getparam (getparam 2001;1000)", "2001", "Param ID:2001 Value:wap;1000:30", "wap", nil},
		{"wiki SMS/GPRS command - setparam", "2001", "New value 2001:wap", "wap", nil},
		{"wiki FMB setparam (older firmware)", "2001", "Param ID:2001 Value:wap2", "wap2", nil},
		{"wiki SMS/GPRS command - setparam (several)", "2001", "New value 2001:wap;2002:user;2003:pass", "wap", nil},
		{"an empty value", "2002", "Param ID:2002 Value:", "", nil},
		{"a value with spaces and ':'", "2004", "Param ID:2004 Value:my server:1", "my server:1", nil},
		{"trailing line end", "1000", "Param ID:1000 Value:30\r\n", "30", nil},
		{"wiki SMS/GPRS command - getparam (fail)", "99999", "Param ID:99999 doesn’t exist", "", protocol.ErrSettingRefused},
		{"wiki SMS/GPRS command - getparam (fail)", "99999999", "Invalid parameter id provided", "", protocol.ErrSettingRefused},
		{"wiki SMS/GPRS command - setparam (fail)", "001", "WARNING: Not supported Param ID or Value detected", "", protocol.ErrSettingRefused},
		{"wiki SMS/GPRS command - setparam (fail)", "2001", "Error while configuring parameters", "", protocol.ErrSettingRefused},
		{"another parameter's answer", "2001", "Param ID:1000 Value:30", "", protocol.ErrSettingAnswer},
		{"another parameter's refusal", "2001", "Param ID:1000 doesn’t exist", "", protocol.ErrSettingAnswer},
		{"another parameter written", "2001", "New value 1000:30", "", protocol.ErrSettingAnswer},
		{"wiki Codec 12: a getinfo answer", "2001", "INI:2019/7/22 7:22 RTC:2019/7/22 7:53 RST:2", "", protocol.ErrSettingAnswer},
		{"nothing", "2001", "", "", protocol.ErrSettingAnswer},
	} {
		v, err := c.SettingValue(tc.name, protocol.CommandResponse{Text: tc.answer})
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: %q: %q, %v; want %v", tc.source, tc.answer, v, err, tc.err)
			}
			continue
		}
		if err != nil || v != tc.value {
			t.Errorf("%s: %q: %q, %v; want %q", tc.source, tc.answer, v, err, tc.value)
		}
	}
}

// codec12Answer is a Codec 12 response packet (type 6) carrying text, as
// a device sends it (Teltonika wiki "Codec", Codec 12).
func codec12Answer(text string) []byte {
	body := []byte{codec12, 1, typeResponse}
	body = binary.BigEndian.AppendUint32(body, uint32(len(text)))
	body = append(body, text...)
	body = append(body, 1)
	pkt := binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, uint32(len(body)))
	pkt = append(pkt, body...)
	return binary.BigEndian.AppendUint32(pkt, uint32(crc16.ARC.Checksum(body)))
}

// A setting's command goes out as Codec 12 like any command, and the
// device's Codec 12 answer decodes to the value.
func TestSettingOverCodec12(t *testing.T) {
	c := &Codec{}
	s := c.NewSession(protocol.TCP).(*Session)
	cmd, _ := c.ReadSetting("2001")
	wire, err := s.EncodeCommand(nil, cmd)
	if err != nil {
		t.Fatal(err)
	}
	// Source: Teltonika wiki "Codec", Codec 12 command layout: preamble,
	// data size, codec 0x0C, quantity 1, type 5, command size, command,
	// quantity 1, CRC-16/IBM of codec id .. quantity 2.
	want := []byte{0, 0, 0, 0, 0, 0, 0, 21, 0x0c, 1, 5, 0, 0, 0, 13}
	want = append(want, "getparam 2001"...)
	want = append(want, 1)
	want = binary.BigEndian.AppendUint32(want, uint32(crc16.ARC.Checksum(want[8:])))
	if !bytes.Equal(wire, want) {
		t.Fatalf("command %x\nwant    %x", wire, want)
	}
	var r protocol.Result
	if err := s.Decode(codec12Answer("Param ID:2001 Value:internet.gprs"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, err := c.SettingValue("2001", r.Responses[0]); err != nil || v != "internet.gprs" {
		t.Fatalf("value %q, %v", v, err)
	}
}

func FuzzSettingValue(f *testing.F) {
	f.Add("2001", "Param ID:2001 Value:wap;1000:30")
	f.Add("2001", "New value 2001:wap")
	f.Add("99999", "Param ID:99999 doesn’t exist")
	f.Add("2001", ";;1:;2:")
	c := &Codec{}
	f.Fuzz(func(t *testing.T, name, answer string) {
		v, err := c.SettingValue(name, protocol.CommandResponse{Text: answer})
		if err != nil {
			if !errors.Is(err, protocol.ErrSettingRefused) && !errors.Is(err, protocol.ErrSettingAnswer) && !errors.Is(err, protocol.ErrSettingName) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if !strings.Contains(answer, name) || !strings.Contains(answer, v) {
			t.Fatalf("%q from %q about %q", v, answer, name)
		}
		// What a device reports can be written back, unless it holds what
		// setparam cannot carry.
		if _, err := c.WriteSetting(name, v); err != nil && !errors.Is(err, protocol.ErrSettingValue) {
			t.Fatalf("write back %q: %v", v, err)
		}
	})
}
