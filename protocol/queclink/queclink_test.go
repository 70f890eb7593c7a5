package queclink

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func newCodec(c protocoltest.Config) protocol.Codec {
	return &Codec{Lenient: c.Lenient}
}

func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }

const fri = "+RESP:GTFRI,060100,135790246811220,,,00,1,1,4.3,92,70.0,121.354335,31.222073,20090214013254,0460,0000,18d8,6141,00,2000.0,12345:12:34,,,80,210100,,,,20090214093254,11F0$"

// A heartbeat is answered "+SACK:GTHBD,<protocol version>,<count>$" and
// gives no message.
func TestHeartbeat(t *testing.T) {
	o := protocoltest.DecodeText(&Codec{}, protocol.TCP, "+ACK:GTHBD,1A0401,135790246811220,,20100214093254,11F0$")
	if o.Err != nil || len(o.Messages) != 0 || string(o.Replies) != "+SACK:GTHBD,1A0401,11F0$" {
		t.Fatalf("text heartbeat: %v %d %q", o.Err, len(o.Messages), o.Replies)
	}
	// The binary +HBD: mask EE (device type, protocol version, firmware,
	// send time, count, unique id), length 32.
	frame, _ := hex.DecodeString("2b484244ee204501020209563254030003430507e108010824101" + "9e17ebe0d0a")
	o = protocoltest.Decode(&Codec{}, protocol.TCP, [][]byte{frame})
	if o.Err != nil || len(o.Messages) != 0 || string(o.Replies) != "+SACK:GTHBD,450102,19E1$" || o.Ident != "865084030003675" {
		t.Fatalf("binary heartbeat: %v %d %q %q", o.Err, len(o.Messages), o.Replies, o.Ident)
	}
}

// With SACK set every report is acknowledged "+SACK:<count>$".
func TestSACK(t *testing.T) {
	if o := protocoltest.DecodeText(&Codec{}, protocol.TCP, fri); o.Err != nil || len(o.Replies) != 0 {
		t.Fatalf("default: %v %q", o.Err, o.Replies)
	}
	o := protocoltest.DecodeText(&Codec{SACK: true}, protocol.TCP, fri, "+BUFF:GTFRI"+fri[11:])
	if o.Err != nil || string(o.Replies) != "+SACK:11F0$+SACK:11F0$" || len(o.Messages) != 2 {
		t.Fatalf("SACK: %v %q", o.Err, o.Replies)
	}
	if b, _ := o.Messages[1].Bool("message.buffered.status"); !b {
		t.Errorf("+BUFF not marked buffered: %s", o.Messages[1].String())
	}
	if o.Messages[0].Has("message.buffered.status") {
		t.Errorf("+RESP marked buffered: %s", o.Messages[0].String())
	}
}

// A +ACK is a command response whose ID is the serial number the command
// carried, and a message with command.response.
func TestAck(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	if err := s.Decode([]byte(fri), &r); err != nil {
		t.Fatal(err)
	}
	cmd, err := s.EncodeCommand(nil, protocol.Command{ID: 0x1002F, Name: CommandReboot})
	if err != nil || string(cmd) != "AT+GTRTO=gv300,3,,,,,,002F$" {
		t.Fatalf("reboot = %q, %v", cmd, err)
	}
	r.Reset()
	if err := s.Decode([]byte("+ACK:GTRTO,060100,135790246811220,,REBOOT,002F,20161102204545,028F$"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || !r.Responses[0].HasID || r.Responses[0].ID != 0x2F || r.Responses[0].Text != "GTRTO,REBOOT" {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, _ := r.Messages[0].Str(protocol.ParamCommandResponse); v != "GTRTO,REBOOT" {
		t.Fatalf("message %s", r.Messages[0].String())
	}
}

func TestEncodeCommand(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	if err := s.Decode([]byte("+RESP:GTSTT,1A0401,860599000508846,,41,0,0.0,84,107.5,-76.657998,39.497203,20150623160622,0310,0260,B435,3B81,,20150623160622,0F54$"), &r); err != nil {
		t.Fatal(err)
	}
	protocoltest.CheckCommands(t, s, "%s", []protocoltest.Encoded{
		{Command: protocol.Command{ID: 1, Name: CommandPosition}, Want: "AT+GTRTO=gl300,1,,,,,,0001$"},
		{Command: protocol.Command{ID: 0xABCD, Name: CommandVersion}, Want: "AT+GTRTO=gl300,8,,,,,,ABCD$"},
		{Command: protocol.Command{ID: 2, Name: CommandEngineStop}, Want: "AT+GTOUT=gl300,1,,,0,0,0,0,0,0,0,,,,,,,0002$"},
		{Command: protocol.Command{ID: 3, Name: CommandEngineResume}, Want: "AT+GTOUT=gl300,0,,,0,0,0,0,0,0,0,,,,,,,0003$"},
		{Command: protocol.Command{Text: "AT+GTFRI=gl300,1,1,,,0000,2359,60,60,,,1F,0,,,,,0004$"}, Want: "AT+GTFRI=gl300,1,1,,,0000,2359,60,60,,,1F,0,,,,,0004$"},
		{Command: protocol.Command{Name: CommandCustom, Text: "AT+GTRTO=gl300,0,,,,,,0005"}, Want: "AT+GTRTO=gl300,0,,,,,,0005$"},
	}, []protocol.Command{{Name: "launch"}, {Text: "AT+GTRTO$x"}, {Text: "a\r\nb"}, {}})
	p := (&Codec{Password: "secret"}).NewSession(protocol.UDP).(*Session)
	if got, err := p.EncodeCommand(nil, protocol.Command{ID: 9, Name: CommandPosition}); err != nil || string(got) != "AT+GTRTO=secret,1,,,,,,0009$" {
		t.Errorf("password: %q, %v", got, err)
	}
	bad := (&Codec{Password: "a,b"}).NewSession(protocol.TCP).(*Session)
	if _, err := bad.EncodeCommand(nil, protocol.Command{Name: CommandPosition}); !errors.Is(err, ErrCommandText) {
		t.Errorf("password with a comma: %v", err)
	}
}

// Text and binary frames mixed on one stream, with CR LF between them.
func TestSplitMixed(t *testing.T) {
	bin, _ := hex.DecodeString("2b5253500700fc1fbf005d4501020209563254030003430564377e42071001000000000000007eff75a151025c6a8107e10801081a2a02680003189c1ac500000000000002100700000000000000000007e1080108241019e17ebe0d0a")
	stream := fri + "\r\n" + string(bin) + fri
	var chunks [][]byte
	for i := 0; i < len(stream); i += 7 {
		chunks = append(chunks, []byte(stream[i:min(i+7, len(stream))]))
	}
	o := protocoltest.Decode(&Codec{}, protocol.TCP, chunks)
	if o.Err != nil || len(o.Messages) != 3 {
		t.Fatalf("%v, %d messages", o.Err, len(o.Messages))
	}
	if v, _ := o.Messages[1].Str("custom.packet.type"); v != "RSP" {
		t.Errorf("second message %s", o.Messages[1].String())
	}
	if _, _, err := (&Codec{}).Split([]byte("xyz"), false); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
	if _, _, err := (&Codec{MaxFrameSize: 64}).Split([]byte(fri), false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("limit: %v", err)
	}
}

// GTFRI with several fixes: one message per fix, in order, the report's
// own fields on the last.
func TestSeveralFixes(t *testing.T) {
	o := protocoltest.DecodeText(&Codec{}, protocol.TCP, "+RESP:GTFRI,1A0102,135790246811220,,0,0,2,1,4.3,92,70.0,121.354335,31.222073,20090214013254,0460,0000,18d8,6141,00,0,4.3,92,70.0,121.354335,31.222073,20090101000000,0460,0000,18d8,6141,00,,20090214093254,11F0$")
	if o.Err != nil || len(o.Messages) != 2 {
		t.Fatalf("%v, %d messages", o.Err, len(o.Messages))
	}
	t0, _ := o.Messages[0].Timestamp()
	t1, _ := o.Messages[1].Timestamp()
	if t0 != 1234575174 || t1 != 1230768000 {
		t.Errorf("timestamps %v %v", t0, t1)
	}
	if n, _ := o.Messages[1].Int("custom.report.fix.count"); n != 2 || o.Messages[0].Has("custom.report.fix.count") {
		t.Errorf("fix count on the wrong message: %s / %s", o.Messages[0].String(), o.Messages[1].String())
	}
}
