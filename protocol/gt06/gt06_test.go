package gt06

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

var fixedNow = func() time.Time { return time.Date(2026, 11, 22, 10, 15, 4, 0, time.UTC) }

func newCodec(c protocoltest.Config) protocol.Codec {
	return &Codec{Lenient: c.Lenient, Now: fixedNow}
}

func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }

// The server-to-device ACK vectors of documented-examples.jsonl.
func TestAppendAck(t *testing.T) {
	for _, tc := range []struct {
		proto  byte
		serial uint16
		want   string
		source string
	}{
		{0x01, 1, "787805010001d9dc0d0a", "CoolElvis/gt06_server test_server_ack_pack; SerAbin1/gt06 login_ack_matches_reference"},
		{0x13, 3, "787805130003cae30d0a", "SerAbin1/gt06@b2d3236c:src/response.rs status_ack_matches_reference"},
	} {
		if got := AppendAck(nil, false, tc.proto, tc.serial); hex.EncodeToString(got) != tc.want {
			t.Errorf("ACK %#x/%d = %x, want %s (%s)", tc.proto, tc.serial, got, tc.want, tc.source)
		}
	}
	// The 79 79 form has a two-byte length and the same CRC coverage.
	got := AppendAck(nil, true, 0xFD, 0x2A)
	if !bytes.HasPrefix(got, []byte{0x79, 0x79, 0x00, 0x05, 0xFD, 0x00, 0x2A}) || len(got) != 11 {
		t.Fatalf("extended ACK = %x", got)
	}
	var r protocol.Result
	if err := (&Codec{}).NewSession(protocol.TCP).Decode(got, &r); err != nil {
		t.Fatalf("our own extended ACK does not decode: %v", err)
	}
}

func TestEncodeCommand(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	got, err := s.EncodeCommand(nil, protocol.Command{ID: 0x01020304, Text: "WHERE#"})
	if err != nil {
		t.Fatal(err)
	}
	// 78 78 | len 11 | 80 | cmd len 0a | flag 01020304 | "WHERE#" | serial 0001 | CRC | 0d 0a
	want := "7878108" + "00a01020304" + hex.EncodeToString([]byte("WHERE#")) + "0001"
	if hex.EncodeToString(got[:len(got)-4]) != want {
		t.Fatalf("command = %x, want prefix %s", got, want)
	}
	if hex.EncodeToString(got[len(got)-4:]) != "10990d0a" {
		t.Fatalf("command CRC/stop = %x, want 8a4c0d0a", got[len(got)-4:])
	}
	// The command is a valid frame, and the next one has the next serial.
	if adv, fr, err := (&Codec{}).Split(got, false); err != nil || adv != len(got) || !bytes.Equal(fr, got) {
		t.Fatalf("Split(command) = %d, %x, %v", adv, fr, err)
	}
	got2, _ := s.EncodeCommand(nil, protocol.Command{Text: "WHERE#"})
	if got2[len(got2)-5] != 0x02 {
		t.Fatalf("second command serial: %x", got2)
	}

	// With the language word (GT06N / JM layouts).
	s = (&Codec{CommandLanguage: 2}).NewSession(protocol.TCP).(*Session)
	got, _ = s.EncodeCommand(nil, protocol.Command{ID: 7, Text: "RELAY,1#"})
	if got[2] != byte(1+1+4+8+2+4) || !bytes.Contains(got, []byte("RELAY,1#\x00\x02\x00\x01")) {
		t.Fatalf("command with language = %x", got)
	}

	if _, err := s.EncodeCommand(nil, protocol.Command{Name: "engine-stop"}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Fatalf("named command: %v", err)
	}
	if _, err := s.EncodeCommand(nil, protocol.Command{Text: string(make([]byte, 252))}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Fatalf("too long command: %v", err)
	}
	// A long command goes in a 79 79 frame.
	long := AppendCommand(nil, 1, bytes.Repeat([]byte{'A'}, 251), 2, 9)
	if long[0] != 0x79 || int(long[2])<<8|int(long[3]) != len(long)-6 {
		t.Fatalf("long command framing: %x", long[:8])
	}
}

// A command and the device's answer carry the same server flag.
func TestCommandResponse(t *testing.T) {
	// 0x15 answer: command length 0x25, flag, text, language 0002
	// (traccar Gt06ProtocolDecoderTest), with the flag replaced by 0x0a0b0c0d
	// and the CRC recomputed.
	content := append(append([]byte{0x25, 0x0a, 0x0b, 0x0c, 0x0d}, "Cut off the fuel supply: Success!"...), 0x00, 0x02)
	frame := appendPacket(nil, false, 0x15, content, nil, 0x013b)
	var r protocol.Result
	if err := (&Codec{}).NewSession(protocol.TCP).Decode(frame, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || r.Responses[0].ID != 0x0a0b0c0d || !r.Responses[0].HasID || r.Responses[0].Text != "Cut off the fuel supply: Success!" {
		t.Fatalf("responses = %+v", r.Responses)
	}
	// The answer is also a message, so that one nobody waits for is kept.
	if len(r.Messages) != 1 || len(r.Reply) != 0 {
		t.Fatalf("a command answer makes one message and no reply: %v %x", r.Messages, r.Reply)
	}
	if got, _ := r.Messages[0].Str(protocol.ParamCommandResponse); got != "Cut off the fuel supply: Success!" {
		t.Fatalf("command.response = %q", got)
	}
}

// Answers the device sends on its own, with any server flag, in ASCII or
// UTF-16, in 0x15 or 0x21, become messages (JM-VL03 V1.1.2 section 7
// layouts; texts from traccar Gt06ProtocolDecoderTest captures).
func TestUnsolicitedAnswers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proto   byte
		content []byte
		want    string
	}{
		{"0x15 ASCII, flag 0", 0x15, append(append([]byte{4 + 12, 0, 0, 0, 0}, "DYD=Success!"...), 0, 1), "DYD=Success!"},
		{"0x15 no length", 0x15, append(append([]byte{0, 0, 0, 0, 0}, "DYD=Success!"...), 0, 2), "DYD=Success!"},
		{"0x21 ASCII, flag ffffffff", 0x21, append([]byte{0xff, 0xff, 0xff, 0xff, 1}, "Battery:5.56V,NORMAL"...), "Battery:5.56V,NORMAL"},
		{"0x21 UTF-16", 0x21, []byte{0, 0, 0, 7, 2, 0, 'O', 0, 'K', 0x4e, 0x2d}, "OK中"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := decodeOne(t, &Codec{}, tc.proto, tc.content)
			if len(r.Messages) != 1 || len(r.Responses) != 1 || r.Responses[0].Text != tc.want {
				t.Fatalf("messages %v responses %+v", r.Messages, r.Responses)
			}
			if got, _ := r.Messages[0].Str(protocol.ParamCommandResponse); got != tc.want {
				t.Fatalf("command.response = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTimeRequest(t *testing.T) {
	// 78 78 05 8a 00 0a CRC 0d 0a: a time request, serial 10.
	req := AppendAck(nil, false, 0x8A, 10)
	var r protocol.Result
	if err := (&Codec{Now: fixedNow}).NewSession(protocol.TCP).Decode(req, &r); err != nil {
		t.Fatal(err)
	}
	// 2026-11-22 10:15:04 UTC = 1a 0b 16 0a 0f 04.
	if hex.EncodeToString(r.Reply) != "78780b8a1a0b160a0f04000a3dd60d0a" {
		t.Fatalf("time reply = %x", r.Reply)
	}
	if len(r.Messages) != 0 {
		t.Fatalf("time request made messages: %v", r.Messages)
	}
}

func TestLoginTimezone(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	// traccar Gt06ProtocolDecoderTest: type 0x100b, time zone word 0x3201.
	if err := s.Decode(protocoltest.Hex(t, "787811010123456789012345100b3201000171930d0a"), &r); err == nil {
		t.Fatal("the capture's CRC is wrong; strict mode must reject it")
	}
	s = (&Codec{Lenient: true}).NewSession(protocol.TCP).(*Session)
	if err := s.Decode(protocoltest.Hex(t, "787811010123456789012345100b3201000171930d0a"), &r); err != nil {
		t.Fatal(err)
	}
	if s.Ident() != "123456789012345" || s.Timezone() != "+08:00" || r.Ident != s.Ident() {
		t.Fatalf("ident %q timezone %q", s.Ident(), s.Timezone())
	}
	for w, want := range map[uint16]string{0x3200: "+08:00", 0x3208: "-08:00", 0x2220: "+05:46", 0x0000: "+00:00"} {
		if got := timezone(w); got != want {
			t.Errorf("timezone(%#04x) = %q, want %q", w, got, want)
		}
	}
}

func TestSplit(t *testing.T) {
	c := &Codec{MaxFrameSize: 64}
	for _, tc := range []struct {
		in      string
		adv     int
		err     error
		comment string
	}{
		{"", 0, nil, "empty"},
		{"78", 0, nil, "one marker byte"},
		{"7878", 0, nil, "no length yet"},
		{"7878050100", 0, nil, "incomplete"},
		{"787805010001d9dc0d0a7878", 10, nil, "one frame and the next one's start"},
		{"7070", 0, protocol.ErrMalformed, "bad marker"},
		{"7879", 0, protocol.ErrMalformed, "mixed marker"},
		{"7979ffff", 0, protocol.ErrFrameTooLarge, "length beyond the limit"},
		{"787803691604130318490d0a", 12, nil, "wrong length, stop marker at the end"},
		{"787803691604130318490d0a787805", 12, nil, "wrong length, stop marker before the next frame"},
		{"787803691604130d0a99990d0a", 13, nil, "wrong length, a 0d0a inside the data is skipped"},
	} {
		adv, _, err := c.Split(protocoltest.Hex(t, tc.in), false)
		if adv != tc.adv || !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
			t.Errorf("%s: Split(%s) = %d, %v; want %d, %v", tc.comment, tc.in, adv, err, tc.adv, tc.err)
		}
	}
	// Garbage without a stop marker is bounded: by the frame size limit,
	// and for a wrong length field by the 4 KiB search window.
	junk := append([]byte{0x78, 0x78, 0x01}, make([]byte, 100)...)
	if _, _, err := c.Split(junk, false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Fatalf("unbounded frame: %v", err)
	}
	junk = append([]byte{0x78, 0x78, 0x01}, make([]byte, 5000)...)
	if _, _, err := (&Codec{}).Split(junk, false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("unbounded search: %v", err)
	}
	if adv, _, err := (&Codec{}).Split(junk[:4000], false); adv != 0 || err != nil {
		t.Fatalf("within the search window: %d, %v", adv, err)
	}
}

// BenchmarkDecode decodes a GT06 location packet (0x12) with a reused
// Result, after the login, as a channel does.
func BenchmarkDecode(b *testing.B) {
	protocoltest.Benchmark(b, protocoltest.Bench{
		Codec: &Codec{},
		Setup: [][]byte{protocoltest.Hex(b, "78780d01012345678901234500018cdd0d0a")},
		Frame: protocoltest.Hex(b, "78781f1211071403362aca0543ec4f00ff976e021549010603e6b500e7590074763d0d0a"),
	})
}

// The Concox document's login example: CRC 8CDD over length..serial.
func TestLoginCRC(t *testing.T) {
	if got := crc16.X25.Checksum(protocoltest.Hex(t, "0d010123456789012345000"+"1")); got != 0x8CDD {
		t.Fatalf("login CRC = %04x, want 8cdd", got)
	}
}

// decodeOne decodes one frame built from content with a fresh session.
func decodeOne(t *testing.T, c *Codec, proto byte, content []byte) *protocol.Result {
	t.Helper()
	var r protocol.Result
	if err := c.NewSession(protocol.TCP).Decode(appendPacket(nil, false, proto, content, nil, 0x0102), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func wantParams(t *testing.T, m *protocol.Message, want map[string]protocol.Value) {
	t.Helper()
	for name, v := range want {
		got, ok := m.Lookup(name)
		if !ok || !got.Equal(v) {
			t.Errorf("%s = %v (present %v), want %v\n%s", name, got, ok, v, m)
		}
	}
}

// 0xA0, the 4G location packet, has no capture in the shared vectors: this
// frame is built from the layout (GPS block of the vondraussen capture, then
// MCC, MNC, 4-byte LAC, 8-byte cell id, ACC, upload mode, re-upload flag).
func TestLocation4G(t *testing.T) {
	gps := protocoltest.Hex(t, "11071403362aca0543ec4f00ff976e021549")
	content := append(append([]byte{}, gps...), protocoltest.Hex(t, "0106"+"03"+"0000e6b5"+"000000000000e759"+"01"+"02"+"01")...)
	r := decodeOne(t, &Codec{}, 0xA0, content)
	if len(r.Messages) != 1 || len(r.Reply) != 0 {
		t.Fatalf("messages %v, reply %x", r.Messages, r.Reply)
	}
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		"position.latitude": protocol.Float(88337487.0 / 1800000), "gsm.mcc": protocol.Int(262), "gsm.mnc": protocol.Int(3),
		"gsm.lac": protocol.Int(59061), "gsm.cellid": protocol.Int(59225), "engine.ignition.status": protocol.Bool(true),
		"custom.upload.mode.enum": protocol.Int(2), "message.buffered.status": protocol.Bool(true),
		"record.seqnum": protocol.Int(0x0102), "custom.packet.type": protocol.Int(0xA0),
	})
	// MCC bit 15: a two-byte MNC follows.
	content = append(append([]byte{}, gps...), protocoltest.Hex(t, "8136"+"0104"+"0000cb8a"+"00000000000bef3a"+"00"+"00"+"00")...)
	r = decodeOne(t, &Codec{}, 0xA0, content)
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		"gsm.mcc": protocol.Int(310), "gsm.mnc": protocol.Int(260), "gsm.lac": protocol.Int(0xcb8a),
		"gsm.cellid": protocol.Int(0xbef3a), "message.buffered.status": protocol.Bool(false),
	})
}

// South and west: bit 10 clear, bit 11 set.
func TestHemispheres(t *testing.T) {
	content := protocoltest.Hex(t, "11071403362aca0543ec4f00ff976e02"+"0949"+"010603e6b500e759")
	r := decodeOne(t, &Codec{}, 0x12, content)
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		"position.latitude": protocol.Float(-88337487.0 / 1800000), "position.longitude": protocol.Float(-16750446.0 / 1800000),
		"position.direction": protocol.Int(0x149), "position.valid": protocol.Bool(false),
	})
}

func TestInfoICCID(t *testing.T) {
	content := protocoltest.Hex(t, "0a"+"0123456789012345"+"0460001234567890"+"89860012345678901234")
	r := decodeOne(t, &Codec{}, 0x94, content)
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		"gsm.sim.imsi": protocol.String("460001234567890"), "gsm.sim.iccid": protocol.String("89860012345678901234"),
		"custom.info.type": protocol.Int(10),
	})
	if len(r.Reply) != 0 {
		t.Fatalf("information packets are not answered: %x", r.Reply)
	}
}

func TestUnknownIsKeptAndAcknowledged(t *testing.T) {
	r := decodeOne(t, &Codec{}, 0xEE, []byte{1, 2, 3})
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		"custom.packet.type": protocol.Int(0xEE), "custom.packet.raw": protocol.String("010203"), "record.seqnum": protocol.Int(0x0102),
	})
	if want := AppendAck(nil, false, 0xEE, 0x0102); !bytes.Equal(r.Reply, want) {
		t.Fatalf("reply %x, want %x", r.Reply, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.UDP)
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", protocol.ErrMalformed},
		{"7070", protocol.ErrMalformed},
		{"7878", protocol.ErrTruncated},
		{"787805010001d9dc", protocol.ErrMalformed},                                                    // no stop marker
		{"787805010001d9dd0d0a", protocol.ErrChecksum},                                                 // CRC
		{"787806010001d9dc0d0a", protocol.ErrChecksum},                                                 // length
		{"787801080d0a", protocol.ErrChecksum},                                                         // no room for serial and CRC
		{"78780d0101234567890123ab00018cdd0d0a", protocol.ErrChecksum},                                 // (CRC checked before content)
		{"7878050100" + "00" + "0d0a", protocol.ErrChecksum},                                           // short login, bad CRC
		{hex.EncodeToString(appendPacket(nil, false, 1, []byte{1, 2}, nil, 1)), protocol.ErrTruncated}, // login without id
		{hex.EncodeToString(appendPacket(nil, false, 1, protocoltest.Hex(t, "0123456789abcdef"), nil, 1)), protocol.ErrMalformed},
	} {
		var r protocol.Result
		err := s.Decode(protocoltest.Hex(t, tc.in), &r)
		if !errors.Is(err, tc.want) {
			t.Errorf("Decode(%s) = %v, want %v", tc.in, err, tc.want)
		}
		var de *protocol.DecodeError
		if !errors.As(err, &de) || de.Protocol != "gt06" {
			t.Errorf("Decode(%s): %v is not a gt06 DecodeError", tc.in, err)
		}
	}
}

// Command answers from testdata captures (traccar Gt06ProtocolDecoderTest):
// the text, trimmed of NUL padding and the language word, with the flag.
func TestResponses(t *testing.T) {
	for _, tc := range []struct {
		hex, text string
		position  bool
	}{
		// 0x15 whose command length byte is 0; NUL padding, language 0001.
		{"7878661500000000004459443d537563636573732100000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010009e82b0d0a", "DYD=Success!", false},
		// 0x15 with a command length: text, language 0002.
		{"78782d152500000000437574206f666620746865206675656c20737570706c793a2053756363657373210002013b898a0d0a", "Cut off the fuel supply: Success!", false},
		// 0x21 (79 79), ASCII, the answer to WHERE#.
		{"7979007121000000000143757272656e7420706f736974696f6e214c61743a4e35342e3733393333322c4c6f6e3a4532352e3237333237302c436f757273653a3132362e35332c53706565643a302e303030302c4461746554696d653a323031372d30352d3236202031303a32373a3437000bbee30d0a",
			"Current position!Lat:N54.739332,Lon:E25.273270,Course:126.53,Speed:0.0000,DateTime:2017-05-26  10:27:47", true},
	} {
		var r protocol.Result
		if err := (&Codec{}).NewSession(protocol.TCP).Decode(protocoltest.Hex(t, tc.hex), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Responses) != 1 || r.Responses[0].Text != tc.text || !r.Responses[0].HasID || r.Responses[0].ID != 0 {
			t.Errorf("responses = %+v, want %q", r.Responses, tc.text)
		}
		if got := len(r.Messages) == 1 && protocoltest.HasPosition(&r.Messages[0]); got != tc.position {
			t.Errorf("%q: position message %v, want %v", tc.text, got, tc.position)
		}
	}
	// UTF-16 answers (0x21 encoding 2).
	content := append([]byte{0, 0, 0, 9, 2}, 0, 'O', 0, 'K', 0x4e, 0x2d)
	r := decodeOne(t, &Codec{}, 0x21, content)
	if len(r.Responses) != 1 || r.Responses[0].Text != "OK中" || r.Responses[0].ID != 9 {
		t.Fatalf("UTF-16 answer = %+v", r.Responses)
	}
}

// 0x11 follows the GT03 document's "LBS information package": date-time
// and a cell, no GPS block (no capture in the shared vectors; built from
// the layout).
func TestLBS(t *testing.T) {
	r := decodeOne(t, &Codec{}, 0x11, protocoltest.Hex(t, "11071403362a"+"01cc"+"00"+"287d"+"001f72"))
	if protocoltest.HasPosition(&r.Messages[0]) || len(r.Reply) != 0 {
		t.Fatalf("LBS packet: %v, reply %x", r.Messages[0].String(), r.Reply)
	}
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		"timestamp": protocol.Int(1500522882), "gsm.mcc": protocol.Int(460), "gsm.mnc": protocol.Int(0),
		"gsm.lac": protocol.Int(0x287d), "gsm.cellid": protocol.Int(0x1f72),
	})
}
