package teltonika

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// Vectors below are copied from /work/shared/vectors (documented-examples.jsonl
// and traccar-captures.jsonl); each names its source.

// decodeOne runs one frame through a fresh session of c.
func decodeOne(t *testing.T, c *Codec, tr protocol.Transport, frame []byte) (*protocol.Result, error) {
	t.Helper()
	s := c.NewSession(tr)
	var r protocol.Result
	err := s.Decode(frame, &r)
	return &r, err
}

// Wiki Codec 8 example as transcribed by nom-teltonika (parse_frame_codec8_1).
const wikiCodec8 = "000000000000003608010000016b40d8ea30010000000000000000000000000000000105021503010101425e0f01f10000601a014e0000000000000000010000c7cf"

func TestIMEIHandshake(t *testing.T) {
	c := &Codec{}
	// traccar TeltonikaProtocolDecoderTest: 000f + "123456789012345".
	login := protocoltest.Hex(t, "000f313233343536373839303132333435")
	adv, frame, err := c.Split(append(login, 0, 0), false)
	if err != nil || adv != len(login) || !bytes.Equal(frame, login) {
		t.Fatalf("Split = %d, %x, %v", adv, frame, err)
	}
	s := c.NewSession(protocol.TCP)
	var r protocol.Result
	if err := s.Decode(login, &r); err != nil {
		t.Fatal(err)
	}
	if r.Ident != "123456789012345" || !bytes.Equal(r.Reply, []byte{1}) || r.Close {
		t.Fatalf("ident %q reply %x close %v", r.Ident, r.Reply, r.Close)
	}
	// Records after the login carry the ident.
	r.Reset()
	if err := s.Decode(protocoltest.Hex(t, wikiCodec8), &r); err != nil {
		t.Fatal(err)
	}
	if got := r.Messages[0].Ident(); got != "123456789012345" {
		t.Fatalf("message ident %q", got)
	}

	// 15 bytes that are not all digits: rejected with 00 and a close.
	bad := append([]byte{0, 15}, "35630704244101X"...)
	r2, err := decodeOne(t, c, protocol.TCP, bad)
	if err != nil || !bytes.Equal(r2.Reply, []byte{0}) || !r2.Close || r2.Ident != "" {
		t.Fatalf("bad IMEI: err %v reply %x close %v ident %q", err, r2.Reply, r2.Close, r2.Ident)
	}
	// A length other than 15 is not a Teltonika stream.
	if _, _, err := c.Split(protocoltest.Hex(t, "0005cafe017601"), false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("Split of a 5-byte 'IMEI': %v", err)
	}
}

func TestTCPAck(t *testing.T) {
	for _, tc := range []struct{ name, frame, ack string }{
		// nom-teltonika parse_frame_codec8_1: server_ack_hex 00000001.
		{"codec8", wikiCodec8, "00000001"},
		// alim-zanibekov README example: 2 records, server_ack_hex 00000002.
		{"codec8e-nx", "00000000000000a98e020000017357633410000f0dc39b2095964a00ac00f80b00000000000b000500f00100150400c800004501007156000500b5000500b600040018000000430fe00044011b000100f10000601b000000000000017357633be1000f0dc39b2095964a00ac00f80b000001810001000000000000000000010181002d11213102030405060708090a0b0c0d0e0f104545010abc212102030405060708090a0b0c0d0e0f10020b010aad020000bf30", "00000002"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeOne(t, &Codec{}, protocol.TCP, protocoltest.Hex(t, tc.frame))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(r.Reply); got != tc.ack {
				t.Fatalf("ack %s, want %s", got, tc.ack)
			}
		})
	}
}

func TestUDPAck(t *testing.T) {
	for _, tc := range []struct{ name, dgram, ack, ident string }{
		// Wiki UDP Codec 8 example (alim-zanibekov, nom-teltonika): packet id
		// CAFE, AVL packet id 5, one record.
		{"wiki-codec8", "003dcafe0105000f33353230393330383634303336353508010000016b4f815b30010000000000000000000000000000000103021503010101425dbc000001", "0005cafe010501", "352093086403655"},
		// filipkroca ExampleDecode: response_bytes [0 5 202 254 1 40 4].
		{"fm11-4-records", "01e4cafe0128000f333532303934303839333937343634080400000163c803eb02010a2524c01d4a377d00d3012f130032421b0a4503f00150051503ef01510052005900be00c1000ab50008b60006426fd8cd3d1ece605a5400005500007300005a0000c0000007c70000000df1000059d910002d33c65300000000570000000064000000f7bf000000000000000163c803e6e8010a2530781d4a316f00d40131130031421b0a4503f00150051503ef01510052005900be00c1000ab50008b60005426fcbcd3d1ece605a5400005500007300005a0000c0000007c70000000ef1000059d910002d33b95300000000570000000064000000f7bf000000000000000163c803df18010a2536961d4a2e4f00d50134130033421b0a4503f00150051503ef01510052005900be00c1000ab50008b6000542702bcd3d1ece605a5400005500007300005a0000c0000007c70000001ef1000059d910002d33aa5300000000570000000064000000f7bf000000000000000163c8039ce2010a25d8d41d49f42c00dc0123120058421b0a4503f00150051503ef01510052005900be00c1000ab50009b60005427031cd79d8ce605a5400005500007300005a0000c0000007c700000019f1000059d910002d32505300000000570000000064000000f7bf000000000004", "0005cafe012804", "352094089397464"},
		// filipkroca ExampleDecode (2nd): response_bytes [0 5 202 254 1 1 1].
		{"fmb-codec8e", "0086cafe0101000f3335323039333038353639383230368e0100000167efa919800200000000000000000000000000000000fc0013000800ef0000f00000150500c80000450200010000710000fc00000900b5000000b600000042305600cd432a00ce6064001100090012ff22001303d1000f0000000200f1000059d90010000000000000000001", "0005cafe010101", "352093085698206"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeOne(t, &Codec{}, protocol.UDP, protocoltest.Hex(t, tc.dgram))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(r.Reply); got != tc.ack {
				t.Fatalf("ack %s, want %s", got, tc.ack)
			}
			if r.Ident != tc.ident {
				t.Fatalf("ident %q, want %q", r.Ident, tc.ident)
			}
		})
	}
	// The documented server ACK (filipkroca commands_test.go): packet id
	// CAFE, AVL packet id 0x76, one record, built from a datagram with those
	// ids.
	body := []byte{codec8E, 1}
	body = appendRecord8E(body, 1_700_000_000_000, benchIOs[:3])
	body = append(body, 1)
	r, err := decodeOne(t, &Codec{}, protocol.UDP, udpDatagram(0xCAFE, 0x76, "352093086403655", body))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(r.Reply); got != "0005cafe017601" {
		t.Fatalf("ack %s, want 0005cafe017601", got)
	}
}

func TestEncodeCommand(t *testing.T) {
	c := &Codec{}
	s := c.NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	if err := s.Decode(append([]byte{0, 15}, "352093081452251"...), &r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cmd  protocol.Command
		want string
	}{
		// Wiki Codec 12 getinfo (alim-zanibekov TestCodec12Encode, filipkroca).
		{"getinfo", protocol.Command{Text: "getinfo"}, "000000000000000f0c010500000007676574696e666f0100004312"},
		// filipkroca CommandCodec12GetIo.
		{"getio", protocol.Command{Name: "codec12", Text: "getio"}, "000000000000000d0c010500000005676574696f01000000cb"},
		// traccar TeltonikaProtocolEncoderTest: custom "setdigout 11".
		{"setdigout", protocol.Command{Text: "setdigout 11"}, "00000000000000140c01050000000c7365746469676f7574203131010000bed5"},
		// traccar TeltonikaProtocolEncoderTest: custom hex data 03030000000185E8.
		{"binary", protocol.Command{Data: []byte{0x03, 0x03, 0, 0, 0, 0x01, 0x85, 0xE8}}, "00000000000000100c01050000000803030000000185e8010000da8b"},
		// alim-zanibekov TestCodec14Encode: getver to IMEI 352093081452251.
		{"codec14", protocol.Command{Name: "codec14", Text: "getver"}, "00000000000000160e01050000000e0352093081452251676574766572010000d2c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.EncodeCommand([]byte("prefix"), tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, []byte("prefix")) {
				t.Fatalf("dst not appended to")
			}
			if h := hex.EncodeToString(got[6:]); h != tc.want {
				t.Fatalf("got  %s\nwant %s", h, tc.want)
			}
		})
	}
	if _, err := s.EncodeCommand(nil, protocol.Command{Name: "codec99"}); !errors.Is(err, ErrCommandKind) {
		t.Errorf("unknown kind: %v", err)
	}
	fresh := c.NewSession(protocol.TCP).(*Session)
	if _, err := fresh.EncodeCommand(nil, protocol.Command{Name: "codec14", Text: "getver"}); !errors.Is(err, ErrNoIMEI) {
		t.Errorf("codec14 without IMEI: %v", err)
	}
	small := (&Codec{MaxFrameSize: 64}).NewSession(protocol.UDP).(*Session)
	if _, err := small.EncodeCommand(nil, protocol.Command{Text: strings.Repeat("x", 64)}); !errors.Is(err, ErrCommandTooLarge) {
		t.Errorf("oversized command: %v", err)
	}
	// Over UDP a command is the same packet as over TCP.
	u := c.NewSession(protocol.UDP).(*Session)
	got, err := u.EncodeCommand(nil, protocol.Command{Text: "getinfo"})
	if err != nil || hex.EncodeToString(got) != "000000000000000f0c010500000007676574696e666f0100004312" {
		t.Errorf("UDP getinfo: %x, %v", got, err)
	}
}

func TestResponses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		lenient bool
		tr      protocol.Transport
		frame   string
		text    string
		data    string
		ts      float64
	}{
		// Wiki Codec 12 getinfo answer (filipkroca, nom-teltonika).
		{name: "codec12-getinfo", frame: "00000000000000900c010600000088494e493a323031392f372f323220373a3232205254433a323031392f372f323220373a3533205253543a32204552523a312053523a302042523a302043463a302046473a3020464c3a302054553a302f302055543a3020534d533a30204e4f4750533a303a3330204750533a31205341543a302052533a332052463a36352053463a31204d443a30010000c78f",
			text: "INI:2019/7/22 7:22 RTC:2019/7/22 7:53 RST:2 ERR:1 SR:0 BR:0 CF:0 FG:0 FL:0 TU:0/0 UT:0 SMS:0 NOGPS:0:30 GPS:1 SAT:0 RS:3 RF:65 SF:1 MD:0"},
		// Wiki Codec 12 getio answer.
		{name: "codec12-getio", frame: "00000000000000370c01060000002f4449313a31204449323a30204449333a302041494e313a302041494e323a313639323420444f313a3020444f323a3101000066e3",
			text: "DI1:1 DI2:0 DI3:0 AIN1:0 AIN2:16924 DO1:0 DO2:1"},
		// Same answer over UDP: GPRS packets travel in their TCP form.
		{name: "codec12-udp", tr: protocol.UDP, frame: "00000000000000370c01060000002f4449313a31204449323a30204449333a302041494e313a302041494e323a313639323420444f313a3020444f323a3101000066e3",
			text: "DI1:1 DI2:0 DI3:0 AIN1:0 AIN2:16924 DO1:0 DO2:1"},
		// alim-zanibekov TestCodec13Encode: timestamp_s 176276256, "getinfo".
		{name: "codec13", frame: "00000000000000130d01060000000b0a81c320676574696e666f0100001d6b", text: "getinfo", ts: 176276256},
		// traccar: Codec 13 with the pre-2021 8-byte millisecond timestamp.
		{name: "codec13-ms", frame: "00000000000000170d01050000000f0000016c0a81c320676574696e666f0100006855", text: "getinfo", ts: 1563544372},
		// traccar: Codec 13 whose size leaves out the timestamp (and whose
		// CRC does not verify: lenient).
		{name: "codec13-size-without-ts", lenient: true, frame: "000000000000001c0d01050000001056e924222347455420444154414f524445520d0a0100004990", text: "#GET DATAORDER\r\n", ts: 1458119714},
		// alim-zanibekov TestCodec14...: getver answer with the IMEI.
		{name: "codec14", frame: "00000000000000ab0e0106000000a303520930814522515665723a30332e31382e31345f3034204750533a41584e5f352e31305f333333332048773a464d42313230204d6f643a313520494d45493a33353230393330383134353232353120496e69743a323031382d31312d323220373a313320557074696d653a3137323334204d41433a363042444430303136323631205350433a312830292041584c3a30204f42443a3020424c3a312e362042543a340100007aae",
			text: "Ver:03.18.14_04 GPS:AXN_5.10_3333 Hw:FMB120 Mod:15 IMEI:352093081452251 Init:2018-11-22 7:13 Uptime:17234 MAC:60BDD0016261 SPC:1(0) AXL:0 OBD:0 BL:1.6 BT:4"},
		// alim-zanibekov TestCodec15Encode: "Hello!\n" at 1699440036.
		{name: "codec15", frame: "000000000000001b0f010b00000013654b65a4012345678912345648656c6c6f210a01000093d6", text: "Hello!\n", ts: 1699440036},
		// traccar: Codec 12 type 0x0D (camera file packet): kept as bytes.
		{name: "codec12-type13", frame: "00000000000000090c010d00000001000100000cd8", data: "00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeOne(t, &Codec{Lenient: tc.lenient}, tc.tr, protocoltest.Hex(t, tc.frame))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Reply) != 0 || len(r.Responses) != 1 {
				t.Fatalf("reply %x, %d responses", r.Reply, len(r.Responses))
			}
			resp := r.Responses[0]
			if resp.Text != tc.text || hex.EncodeToString(resp.Data) != tc.data || resp.Timestamp != tc.ts {
				t.Fatalf("got %q data %x ts %v, want %q data %s ts %v", resp.Text, resp.Data, resp.Timestamp, tc.text, tc.data, tc.ts)
			}
			// A text answer is also a message, so that it is stored when no
			// command waits for it; binary payloads are not.
			if tc.text == "" {
				if len(r.Messages) != 0 {
					t.Fatalf("binary answer made %d messages", len(r.Messages))
				}
				return
			}
			if len(r.Messages) != 1 {
				t.Fatalf("%d messages", len(r.Messages))
			}
			m := &r.Messages[0]
			if got, _ := m.Str(protocol.ParamCommandResponse); got != tc.text {
				t.Errorf("command.response %q", got)
			}
			// The device's time is the message's when it is a plausible date
			// (the wiki's Codec 13 example, 1975, is not); otherwise the
			// channel stamps the time of reception.
			ts, ok := m.Timestamp()
			if plausible := tc.ts >= minSecs; ok != plausible || ok && ts != tc.ts {
				t.Errorf("timestamp %v %v, want %v", ts, ok, tc.ts)
			}
		})
	}
	// filipkroca TestCommandResponseDecode must-fail vectors.
	for _, tc := range []struct {
		frame string
		err   error
	}{
		{"10000000000000370c01060000002f4449313a31204449323a30204449333a302041494e313a302041494e323a313639323420444f313a3020444f323a3101000066e3", protocol.ErrMalformed},
		{"00000000000000370c01060000002f4449313a31204449323a30204449333a302041494e313a302041494e323a313639323420444f313a3020444f323a3101000066e4", protocol.ErrChecksum},
		{"00000000000000370c01050000002f4449313a31204449323a30204449333a302041494e313a302041494e323a313639323420444f313a3020444f323a3101000066e3", protocol.ErrChecksum},
	} {
		if _, err := decodeOne(t, &Codec{}, protocol.TCP, protocoltest.Hex(t, tc.frame)); !errors.Is(err, tc.err) {
			t.Errorf("%.40s…: %v, want %v", tc.frame, err, tc.err)
		}
	}
	// Codec 14 nACK: the device is not the IMEI the command named; the
	// answer's Data is that IMEI.
	nack := tcpPacket([]byte{codec14, 1, typeNack, 0, 0, 0, 8, 0x03, 0x52, 0x09, 0x30, 0x81, 0x45, 0x22, 0x51, 1})
	r, err := decodeOne(t, &Codec{}, protocol.TCP, nack)
	if err != nil || len(r.Responses) != 1 || hex.EncodeToString(r.Responses[0].Data) != "0352093081452251" || r.Responses[0].Text != "" {
		t.Errorf("codec 14 nACK: %v %+v", err, r.Responses)
	}
	// A command going the wrong way is malformed even with a good CRC.
	wrongWay := tcpPacket([]byte{codec12, 1, typeCommand, 0, 0, 0, 1, 'x', 1})
	if _, err := decodeOne(t, &Codec{}, protocol.TCP, wrongWay); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("type 5 from the device: %v", err)
	}
}

// Frames whose length or CRC is wrong: strict rejects, lenient keeps and
// marks (the traccar capture with "invalid length and checksum").
func TestStrictAndLenient(t *testing.T) {
	frame := protocoltest.Hex(t, "0000000000000000080100000113fc208dff00209cca800f14f650006f00d60400040004030101150316030001460000015d000100000000")
	_, err := decodeOne(t, &Codec{}, protocol.TCP, frame)
	var de *protocol.DecodeError
	if !errors.Is(err, protocol.ErrChecksum) || !errors.As(err, &de) || de.Protocol != Name {
		t.Fatalf("strict: %v", err)
	}
	r, err := decodeOne(t, &Codec{Lenient: true}, protocol.TCP, frame)
	if err != nil {
		t.Fatal(err)
	}
	m := &r.Messages[0]
	if b, _ := m.Bool(protocol.ParamLengthInvalid); !b {
		t.Errorf("no length mark: %s", m)
	}
	if b, _ := m.Bool(protocol.ParamChecksumInvalid); !b {
		t.Errorf("no checksum mark: %s", m)
	}
	// Split cuts it where its record ends, not where its length says.
	adv, _, err := (&Codec{}).Split(append(frame, protocoltest.Hex(t, wikiCodec8)...), false)
	if err != nil || adv != len(frame) {
		t.Fatalf("Split = %d, %v; want %d", adv, err, len(frame))
	}
}

// Counts that promise more than the packet holds fail cleanly, without
// allocating for the promise.
func TestHostileCounts(t *testing.T) {
	c := &Codec{}
	for name, body := range map[string][]byte{
		"255 records":        {codec8, 255, 255},
		"65535 IO elements":  append(append([]byte{codec8E, 1}, make([]byte, recordHeader+2)...), 0xFF, 0xFF, 0xFF, 0xFF, 1),
		"65535 NX elements":  append(append([]byte{codec8E, 1}, make([]byte, recordHeader+12)...), 0xFF, 0xFF, 1),
		"NX longer than all": append(append([]byte{codec8E, 1}, make([]byte, recordHeader+12)...), 0, 1, 0, 1, 0xFF, 0xFF, 1),
		"N1 != N2":           append(append([]byte{codec8, 1}, make([]byte, recordHeader+6)...), 2),
		"trailing bytes":     append(append([]byte{codec8, 1}, make([]byte, recordHeader+8)...), 1),
		"unknown codec":      {0x42, 1, 1},
	} {
		t.Run(name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(10, func() {
				var r protocol.Result
				r.Messages = make([]protocol.Message, 0, 4)
				_ = c.NewSession(protocol.TCP).Decode(tcpPacket(body), &r)
			})
			_, err := decodeOne(t, c, protocol.TCP, tcpPacket(body))
			if err == nil {
				t.Fatal("decoded")
			}
			var de *protocol.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("%T %v", err, err)
			}
			if allocs > 20 {
				t.Errorf("%v allocations", allocs)
			}
		})
	}
}

func TestIOTable(t *testing.T) {
	ios := []ioVal{
		{239, 1, 1}, {1, 1, 0}, {66, 2, 12345}, {67, 2, 4083}, {21, 1, 4},
		{18, 2, 0xFF22},     // signed axis: -222
		{72, 4, 0xFFFFFF8D}, // Dallas temperature -115 (0.1 °C): -11.5 °C
		{16, 4, 123456789},  // odometer m → km
		{78, 8, 0x0102030405060708},
		{241, 4, 24602},            // operator code, kept as text
		{102, 4, 90},               // engine hours: 90 min → 1.5 h
		{25, 2, 0xF830},            // BLE temperature -2000 (0.01 °C)
		{1500, 2, 7}, {1500, 2, 8}, // a large ID, repeated: last wins, once
		{239, 1, 0}, // a repeated small ID: last wins, once
	}
	body := append(appendRecord8E([]byte{codec8E, 1}, 1_600_000_000_500, ios), 1)
	r, err := decodeOne(t, &Codec{}, protocol.TCP, tcpPacket(body))
	if err != nil {
		t.Fatal(err)
	}
	m := &r.Messages[0]
	want := map[string]protocol.Value{
		"engine.ignition.status":       protocol.Bool(false),
		"din#1":                        protocol.Bool(false),
		"external.powersource.voltage": protocol.Float(12.345),
		"battery.voltage":              protocol.Float(4.083),
		"gsm.signal.level":             protocol.Int(4),
		"custom.param.18":              protocol.Int(-222),
		"temperature#1":                protocol.Float(-11.5),
		"vehicle.mileage":              protocol.Float(123456.789),
		"ibutton.code":                 protocol.String("0102030405060708"),
		"gsm.operator.code":            protocol.String("24602"),
		"can.engine.motorhours":        protocol.Float(1.5),
		"ble.sensor.temperature#1":     protocol.Float(-20),
		"custom.param.1500":            protocol.Int(8),
		"timestamp":                    protocol.Float(1600000000.5),
		"position.latitude":            protocol.Float(54.6874321),
		"position.longitude":           protocol.Float(25.3101234),
		"position.valid":               protocol.Bool(true),
		"event.enum":                   protocol.Int(239),
		"event.priority.enum":          protocol.Int(1),
	}
	for name, v := range want {
		if got, ok := m.Lookup(name); !ok || !got.Equal(v) {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	seen := map[string]bool{}
	for _, p := range m.Params() {
		if seen[p.Name] {
			t.Errorf("%s appears twice", p.Name)
		}
		seen[p.Name] = true
	}
}

// The table is data: check what the decoder relies on, for every family.
func TestIOTableRows(t *testing.T) {
	// The names a record sets itself: no IO element may take one.
	header := map[string]bool{}
	for _, n := range []string{protocol.ParamIdent, protocol.ParamTimestamp, protocol.ParamLatitude,
		protocol.ParamLongitude, protocol.ParamAltitude, protocol.ParamDirection, protocol.ParamSpeed,
		protocol.ParamSatellites, protocol.ParamValid, ParamPriority, ParamEvent, ParamGeneration} {
		header[n] = true
	}
	for _, f := range []Family{FamilyFMB, FamilyFMX6, FamilyBoth} {
		names := map[string]uint16{}
		ids := map[uint16]bool{}
		for _, row := range rowsFor(f) {
			if ids[row.id] {
				t.Errorf("%v: AVL ID %d has two rows", f, row.id)
			}
			ids[row.id] = true
			if row.name == "" {
				if row.kind == ioUnsigned {
					t.Errorf("%v: row %d says nothing (unnamed and unsigned)", f, row.id)
				}
				continue
			}
			if _, ok := protocol.LookupParam(row.name); !ok {
				t.Errorf("%v: IO %d name %q is not in the protocol catalogue", f, row.id, row.name)
			}
			if other, dup := names[row.name]; dup {
				t.Errorf("%v: IDs %d and %d are both named %q", f, other, row.id, row.name)
			}
			names[row.name] = row.id
			if header[row.name] {
				t.Errorf("%v: IO %d takes the record's own name %q", f, row.id, row.name)
			}
		}
	}
	for i := 1; i < len(ioConflicts); i++ {
		if ioConflicts[i] <= ioConflicts[i-1] {
			t.Fatalf("ioConflicts not sorted at %d", i)
		}
	}
	for i := 1; i < len(ioTable); i++ {
		if ioTable[i].id < ioTable[i-1].id {
			t.Fatalf("ioTable not sorted at row %d (ID %d)", i, ioTable[i].id)
		}
	}
}

// The same AVL ID means different things on the FMB and FMX6 lists; each
// Family names by its own list, and FamilyBoth only where they agree.
func TestFamilies(t *testing.T) {
	ios := []ioVal{{30, 1, 7}, {66, 2, 12000}, {16, 4, 5000}, {216, 4, 7000}, {72, 2, 0xFF9C}}
	body := append(appendRecord8E([]byte{codec8E, 1}, 1_600_000_000_000, ios), 1)
	for _, tc := range []struct {
		f    Family
		want map[string]protocol.Value
	}{
		{FamilyFMB, map[string]protocol.Value{
			"obd.dtc.count": protocol.Int(7), "external.powersource.voltage": protocol.Float(12),
			"vehicle.mileage": protocol.Float(5), "custom.param.216": protocol.Int(7000),
			"temperature#1": protocol.Float(-10)}},
		{FamilyFMX6, map[string]protocol.Value{
			"custom.param.30": protocol.Int(7), "external.powersource.voltage": protocol.Float(12),
			"custom.param.16": protocol.Int(5000), "vehicle.mileage": protocol.Float(7),
			"temperature#1": protocol.Float(-10)}},
		{FamilyBoth, map[string]protocol.Value{
			"custom.param.30": protocol.Int(7), "external.powersource.voltage": protocol.Float(12),
			"custom.param.16": protocol.Int(5000), "custom.param.216": protocol.Int(7000),
			"temperature#1": protocol.Float(-10)}},
	} {
		r, err := decodeOne(t, &Codec{Family: tc.f}, protocol.TCP, tcpPacket(body))
		if err != nil {
			t.Fatal(err)
		}
		m := &r.Messages[0]
		for name, v := range tc.want {
			if got, ok := m.Lookup(name); !ok || !got.Equal(v) {
				t.Errorf("%v: %s = %v, want %v\n%s", tc.f, name, got, v, m)
			}
		}
	}
}

// A session names at most maxCachedNames large AVL IDs; beyond that names
// are built per use, so a hostile device cannot grow the cache.
func TestNameCacheBounded(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	for id := 2000; id < 2000+3*maxCachedNames; id++ {
		if e := s.entry(uint16(id)); e.name != "custom.param."+strconv.Itoa(id) {
			t.Fatalf("name %q", e.name)
		}
	}
	if len(s.names) != maxCachedNames {
		t.Fatalf("cache holds %d names", len(s.names))
	}
}

func TestSplit(t *testing.T) {
	c := &Codec{MaxFrameSize: 1024}
	frame := protocoltest.Hex(t, wikiCodec8)
	for k := 0; k < len(frame); k++ {
		if adv, f, err := c.Split(frame[:k], false); adv != 0 || f != nil || err != nil {
			t.Fatalf("prefix %d: %d %x %v", k, adv, f, err)
		}
	}
	two := append(append([]byte{}, frame...), frame...)
	if adv, f, err := c.Split(two, false); adv != len(frame) || !bytes.Equal(f, frame) || err != nil {
		t.Fatalf("two packets: %d %v", adv, err)
	}
	huge := protocoltest.Hex(t, "00000000 00100000 08")
	if _, _, err := c.Split(huge, false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Fatalf("1 MiB length field: %v", err)
	}
	if _, _, err := c.Split(protocoltest.Hex(t, "00000100 00000036 08"), false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("bad preamble: %v", err)
	}
}

// appendRecord8 appends one Codec 8 record (1-byte IDs and counts).
func appendRecord8(b []byte, ms uint64, ios []ioVal) []byte {
	b = binary.BigEndian.AppendUint64(b, ms)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // priority, GPS element
	b = append(b, 0, byte(len(ios)))                              // event ID, total
	for _, w := range []int{1, 2, 4, 8} {
		n := 0
		for _, io := range ios {
			if io.width == w {
				n++
			}
		}
		b = append(b, byte(n))
		for _, io := range ios {
			if io.width == w {
				b = append(b, byte(io.id))
				for i := w - 1; i >= 0; i-- {
					b = append(b, byte(io.v>>(8*i)))
				}
			}
		}
	}
	return b
}

// The inline conversions of group give what value, the general path, gives:
// for every table row of every family, at every width, with Codec 8 and
// Codec 8 Extended IDs.
func TestGroupMatchesValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range []Family{FamilyFMB, FamilyFMX6, FamilyBoth} {
		c := &Codec{Family: f}
		for _, row := range rowsFor(f) {
			for _, w := range []int{1, 2, 4, 8} {
				v := rng.Uint64()
				if w < 8 {
					v &= 1<<(8*w) - 1
				}
				io := []ioVal{{row.id, w, v}}
				var bodies [][]byte
				if row.id < 256 {
					bodies = append(bodies, append(appendRecord8([]byte{codec8, 1}, 1_600_000_000_000, io), 1))
				}
				bodies = append(bodies, append(appendRecord8E([]byte{codec8E, 1}, 1_600_000_000_000, io), 1))
				for _, body := range bodies {
					s := c.NewSession(protocol.TCP).(*Session)
					var r protocol.Result
					if err := s.Decode(tcpPacket(body), &r); err != nil {
						t.Fatal(err)
					}
					e := s.entry(row.id)
					want := s.value(e, v, w)
					if got, ok := r.Messages[0].Lookup(e.name); !ok || !got.Equal(want) {
						t.Errorf("%v: ID %d, %d bytes %#x (codec %#x): %s = %v, want %v", f, row.id, w, v, body[0], e.name, got, want)
					}
				}
			}
		}
	}
}
