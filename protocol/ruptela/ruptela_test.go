package ruptela

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The records ACK as a public decoder prints it after 22 records
// (documented-examples.jsonl line 139: mauriciormrz/avl-gps ruptela_js.js).
func TestAckBytes(t *testing.T) {
	if got := hex.EncodeToString(AppendPacket(nil, 100, []byte{1})); got != "0002640113bc" {
		t.Fatalf("ACK %s", got)
	}
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	if got := hex.EncodeToString(s.Refusal()); got != "00026400"+hex.EncodeToString(AppendPacket(nil, 100, []byte{0})[4:]) {
		t.Fatalf("refusal %s", got)
	}
}

// Commands as Traccar's encoder test writes them (traccar-captures.jsonl
// lines 313 and 314: RuptelaProtocolEncoderTest).
func TestEncodeCommands(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	for _, tc := range []struct {
		c    protocol.Command
		want string
	}{
		{protocol.Command{Text: " Setio 2,1"}, "000b6c20536574696f20322c31eb3e"},
		{protocol.Command{Name: CommandPhoto}, "000b890100000000007fffffff89f0"},
		{protocol.Command{Name: CommandPacket, Data: mustHex(t, "890100000000007fffffff")}, "000b890100000000007fffffff89f0"},
	} {
		got, err := s.EncodeCommand(nil, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%+v: %x, want %s", tc.c, got, tc.want)
		}
	}
	for _, tc := range []struct {
		c   protocol.Command
		cmd byte
		pay string
	}{
		{protocol.Command{Name: CommandVersion}, 103, ""},
		{protocol.Command{Name: CommandConfiguration, Text: "cfg"}, 102, "6366670d0a"},
		{protocol.Command{Name: CommandFirmware}, 104, hex.EncodeToString([]byte("|FU_STRT*\r\n"))},
		{protocol.Command{Name: CommandConnection, Text: "example.com,5046,TCP"}, 105, hex.EncodeToString([]byte("example.com,5046,TCP"))},
		{protocol.Command{Name: CommandOdometer, Text: "123456"}, 106, "0001e240"},
		{protocol.Command{Name: CommandSetIO, Text: "1,0"}, 117, "0000000100000000"},
	} {
		got, err := s.EncodeCommand(nil, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		want := AppendPacket(nil, tc.cmd, mustHex(t, tc.pay))
		if hex.EncodeToString(got) != hex.EncodeToString(want) {
			t.Errorf("%s: %x, want %x", tc.c.Name, got, want)
		}
	}
	for _, bad := range []protocol.Command{{Name: "nope"}, {Name: CommandOdometer, Text: "x"}, {Name: CommandSetIO, Text: "1"}, {Name: CommandPacket}, {Name: CommandPhoto, Text: "300"}} {
		if _, err := s.EncodeCommand(nil, bad); !errors.Is(err, ErrCommand) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// devicePacket frames a device packet: length, IMEI, command, payload and
// the CRC-16/KERMIT of everything after the length.
func devicePacket(imei uint64, cmd byte, payload []byte) []byte {
	body := binary.BigEndian.AppendUint64(nil, imei)
	body = append(body, cmd)
	body = append(body, payload...)
	p := binary.BigEndian.AppendUint16(nil, uint16(len(body)))
	p = append(p, body...)
	return binary.BigEndian.AppendUint16(p, crc16.Kermit.Checksum(body))
}

// record1 builds one command-1 record.
func record1(ts uint32, lat, lon int32, event byte, io1 [][2]byte, io2 [][3]byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, ts)
	b = append(b, 0, 1) // time extension, priority
	b = binary.BigEndian.AppendUint32(b, uint32(lon))
	b = binary.BigEndian.AppendUint32(b, uint32(lat))
	b = binary.BigEndian.AppendUint16(b, 1234) // altitude 123.4 m
	b = binary.BigEndian.AppendUint16(b, 9050) // angle 90.5°
	b = append(b, 9)                           // satellites
	b = binary.BigEndian.AppendUint16(b, 57)   // km/h
	b = append(b, 8, event)                    // HDOP 0.8, event
	b = append(b, byte(len(io1)))
	for _, e := range io1 {
		b = append(b, e[0], e[1])
	}
	b = append(b, byte(len(io2)))
	for _, e := range io2 {
		b = append(b, e[:]...)
	}
	return append(b, 0, 0) // no 4- or 8-byte elements
}

func TestRecordValues(t *testing.T) {
	rec := record1(1700000000, 546874321, 253101234, 7,
		[][2]byte{{5, 1}, {27, 22}, {32, 0xF6}},                         // ignition on, GSM 22, PCB −10 °C
		[][3]byte{{29, 0x30, 0xC5}, {30, 0x0F, 0xF0}, {22, 0xFF, 0xFF}}) // 12.485 V, 4.08 V, AIN1 n/a
	p := devicePacket(356307042441013, 1, append([]byte{0, 1}, rec...))
	var r protocol.Result
	s := (&Codec{}).NewSession(protocol.TCP)
	if err := s.Decode(p, &r); err != nil {
		t.Fatal(err)
	}
	if r.Ident != "356307042441013" || len(r.Messages) != 1 || hex.EncodeToString(r.Reply) != "0002640113bc" {
		t.Fatalf("ident %q, %d messages, reply %x", r.Ident, len(r.Messages), r.Reply)
	}
	m := &r.Messages[0]
	for name, want := range map[string]any{
		"timestamp": 1700000000.0, "position.latitude": 54.6874321, "position.longitude": 25.3101234,
		"position.altitude": 123.4, "position.direction": 90.5, "position.satellites": 9.0,
		"position.speed": 57.0, "position.hdop": 0.8, "event.enum": 7.0, "gsm.signal.level": 22.0,
		"device.temperature": -10.0, "external.powersource.voltage": 12.485, "battery.voltage": 4.08,
		"custom.param.22": 65535.0, "din#4": true, "engine.ignition.status": true,
	} {
		v, ok := m.Lookup(name)
		if !ok {
			t.Errorf("%s missing in %s", name, m.String())
			continue
		}
		if b, isBool := want.(bool); isBool {
			if got, _ := v.Bool(); got != b {
				t.Errorf("%s = %v, want %v", name, v, b)
			}
			continue
		}
		if got, _ := v.Float(); got != want.(float64) {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
}

// A record that repeats an IO ID sets its parameter once: a message never
// repeats a name.
func TestRepeatedID(t *testing.T) {
	rec := record1(1700000000, 0, 0, 7, [][2]byte{{27, 1}, {27, 2}, {200, 3}, {200, 4}}, nil)
	p := devicePacket(356307042441013, 1, append([]byte{0, 1}, rec...))
	var r protocol.Result
	if err := (&Codec{}).NewSession(protocol.TCP).Decode(p, &r); err != nil {
		t.Fatal(err)
	}
	var back protocol.Message
	enc := r.Messages[0].AppendJSON(nil)
	if err := back.UnmarshalJSON(enc); err != nil || !back.Equal(&r.Messages[0]) {
		t.Fatalf("%s: %v", enc, err)
	}
}

func TestHeartbeatAndUnknown(t *testing.T) {
	o := protocoltest.Decode(&Codec{}, protocol.TCP, [][]byte{
		devicePacket(356307042441013, 16, nil),
		devicePacket(356307042441013, 99, []byte{1, 2, 3}),
	})
	if o.Err != nil || len(o.Messages) != 1 || hex.EncodeToString(o.Replies) != hex.EncodeToString(AppendPacket(nil, 116, []byte{1})) {
		t.Fatalf("%+v", o)
	}
	if v, _ := o.Messages[0].Str("custom.packet.raw"); v != "010203" {
		t.Fatalf("%s", o.Messages[0].String())
	}
}

func TestSplitErrors(t *testing.T) {
	c := &Codec{MaxFrameSize: 100}
	if _, _, err := c.Split([]byte{0, 3, 1, 2, 3}, false); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("short length: %v", err)
	}
	if _, _, err := c.Split([]byte{0xFF, 0xFF}, false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("long length: %v", err)
	}
	var r protocol.Result
	bad := devicePacket(356307042441013, 16, nil)
	bad[len(bad)-1] ^= 1
	if err := (&Codec{}).NewSession(protocol.TCP).Decode(bad, &r); !errors.Is(err, protocol.ErrChecksum) {
		t.Errorf("bad CRC: %v", err)
	}
	r.Reset()
	if err := (&Codec{Lenient: true}).NewSession(protocol.TCP).Decode(bad, &r); err != nil || len(r.Reply) == 0 {
		t.Errorf("lenient bad CRC: %v", err)
	}
}
