package h02

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

var testTime = time.Date(2026, 11, 22, 10, 15, 4, 0, time.UTC)

func fixedNow() time.Time { return testTime }

func newCodec(c protocoltest.Config) protocol.Codec {
	return &Codec{Lenient: c.Lenient, Now: fixedNow}
}

func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }

func TestUTCOffset(t *testing.T) {
	const frame = "*HQ,4103000861,V1,092853,A,2234.2029,N,11351.4197,E,000.40,000,270215,FFFFFBFF#"
	utc := protocoltest.DecodeText(&Codec{NoTimeReply: true}, protocol.TCP, frame)
	local := protocoltest.DecodeText(&Codec{NoTimeReply: true, UTCOffset: 8 * time.Hour}, protocol.TCP, frame)
	if utc.Err != nil || local.Err != nil {
		t.Fatal(utc.Err, local.Err)
	}
	a, _ := utc.Messages[0].Timestamp()
	b, _ := local.Messages[0].Timestamp()
	if a != 1425029333 || a-b != 8*3600 {
		t.Fatalf("timestamps %v (UTC) and %v (+08:00 device clock)", a, b)
	}
	if len(utc.Replies) != 0 {
		t.Fatalf("NoTimeReply still replied %q", utc.Replies)
	}
}

func TestEncodeCommand(t *testing.T) {
	c := &Codec{Now: fixedNow}
	s := c.NewSession(protocol.TCP).(*Session)
	if _, err := s.EncodeCommand(nil, protocol.Command{Name: CommandReboot}); !errors.Is(err, ErrNoIdent) {
		t.Fatalf("command before any frame: %v", err)
	}
	var r protocol.Result
	if err := s.Decode([]byte("*TH,2020916012,XT#"), &r); err != nil {
		t.Fatal(err)
	}
	protocoltest.CheckCommands(t, s, "%s", []protocoltest.Encoded{
		{Command: protocol.Command{Name: CommandEngineStop}, Want: "*TH,2020916012,S20,101504,1,1#"},
		{Command: protocol.Command{Name: CommandEngineResume}, Want: "*TH,2020916012,S20,101504,1,0#"},
		{Command: protocol.Command{Name: CommandPosition}, Want: "*TH,2020916012,CR#"},
		{Command: protocol.Command{Name: CommandArm}, Want: "*TH,2020916012,SF#"},
		{Command: protocol.Command{Name: CommandDisarm}, Want: "*TH,2020916012,CF#"},
		{Command: protocol.Command{Name: CommandReboot}, Want: "*TH,2020916012,CQ#"},
		{Command: protocol.Command{Name: CommandFactoryReset}, Want: "*TH,2020916012,RESET,101504#"},
		{Command: protocol.Command{Name: CommandInterval, Text: "30"}, Want: "*TH,2020916012,XT,30#"},
		{Command: protocol.Command{Name: CommandRestInterval, Text: "600"}, Want: "*TH,2020916012,NXT,600#"},
		{Command: protocol.Command{Name: CommandAPN, Text: "zap.vivo.com.br,vivo,vivo"}, Want: "*TH,2020916012,APN,zap.vivo.com.br,vivo,vivo#"},
		{Command: protocol.Command{Name: CommandInfo}, Want: "*TH,2020916012,INFO#"},
		{Command: protocol.Command{Text: "D1,101504,60,4"}, Want: "*TH,2020916012,D1,101504,60,4#"},
		{Command: protocol.Command{Text: "*HQ,000,R7,130305"}, Want: "*HQ,000,R7,130305#"},
	}, []protocol.Command{
		{Name: "self-destruct"},
		{Text: "S20#"},
		{Name: CommandInterval, Text: "soon"},
	})
}

// The device's V4 answer to a command comes back as a response and as a
// message carrying command.response.
func TestAnswer(t *testing.T) {
	o := protocoltest.DecodeText(&Codec{}, protocol.TCP, "*HQ,135790246811221,V4,CQ #")
	if o.Err != nil || len(o.Responses) != 1 || o.Responses[0].Text != "CQ" {
		t.Fatalf("%+v", o)
	}
	if s, _ := o.Messages[0].Str(protocol.ParamCommandResponse); s != "CQ" {
		t.Fatalf("message %s", o.Messages[0].String())
	}
}

func TestSplit(t *testing.T) {
	c := &Codec{MaxFrameSize: 64}
	protocoltest.CheckSplit(t, c.Split, []protocoltest.SplitCase{
		{In: "\r\n*HQ,1,XT#", AtEOF: false, Advance: 2, Frame: "", Err: nil},
		{In: "*HQ,1,XT#\r\n", AtEOF: false, Advance: 9, Frame: "*HQ,1,XT#", Err: nil},
		{In: "*HQ,1,X", AtEOF: false, Advance: 0, Frame: "", Err: nil},
		{In: "*HQ,1,X", AtEOF: true, Advance: 0, Frame: "", Err: nil},
		{In: "GET / HTTP/1.1\r\n", AtEOF: false, Advance: 0, Frame: "", Err: protocol.ErrMalformed},
		{In: "*" + strings.Repeat("A", 70), AtEOF: false, Advance: 0, Frame: "", Err: protocol.ErrFrameTooLarge},
	})
}

// A binary record waits for the next frame to tell its size, unless the
// size is configured; then it is cut at once.
func TestBinaryFrameSize(t *testing.T) {
	rec := mustHex(t, "2410307310010503162209022212874500113466574c014028fffffbffff0000")
	if adv, _, _ := (&Codec{}).Split(rec, false); adv != 0 {
		t.Fatalf("auto size cut a lone record at %d before the next frame", adv)
	}
	if adv, fr, _ := (&Codec{BinaryFrameSize: 32}).Split(rec, false); adv != 32 || len(fr) != 32 {
		t.Fatalf("fixed size: %d", adv)
	}
	// Garbage after a record: no frame follows at any known size.
	junk := append(append([]byte{}, rec...), bytes.Repeat([]byte{0x11}, 40)...)
	if _, _, err := (&Codec{}).Split(junk, false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("record followed by junk: %v", err)
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Over UDP a text frame may come without its '#'.
func TestUDPText(t *testing.T) {
	o := protocoltest.DecodeText(&Codec{NoTimeReply: true}, protocol.UDP, "*HQ,3800008786,V1,062507,A,3048.2437,N,03058.5617,E,000.00,000,250413,FFFFFBFF\r\n")
	if o.Err != nil || len(o.Messages) != 1 || !protocoltest.HasPosition(&o.Messages[0]) {
		t.Fatalf("%+v", o)
	}
	o = protocoltest.DecodeText(&Codec{}, protocol.TCP, "*HQ,3800008786,V1,062507,A")
	if !errors.Is(o.Err, protocol.ErrTruncated) {
		t.Fatalf("unterminated TCP frame: %v", o.Err)
	}
}
