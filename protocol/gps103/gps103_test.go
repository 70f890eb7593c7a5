package gps103

import (
	"errors"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func newCodec(c protocoltest.Config) protocol.Codec {
	return &Codec{Lenient: c.Lenient}
}

func TestGolden(t *testing.T) { protocoltest.RunDir(t, "testdata", newCodec) }

func FuzzDecode(f *testing.F) { protocoltest.Fuzz(f, "testdata", newCodec) }

func TestEncodeCommand(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	if _, err := s.EncodeCommand(nil, protocol.Command{Name: CommandPosition}); !errors.Is(err, ErrNoIdent) {
		t.Fatalf("before login: %v", err)
	}
	var r protocol.Result
	if err := s.Decode([]byte("##,imei:359586015829802,A;"), &r); err != nil || string(r.Reply) != "LOAD" {
		t.Fatalf("login: %v %q", err, r.Reply)
	}
	protocoltest.CheckCommands(t, s, "**,imei:359586015829802,%s;", []protocoltest.Encoded{
		{Command: protocol.Command{Name: CommandPosition}, Want: "B"},
		{Command: protocol.Command{Name: CommandPeriodic, Text: "30s"}, Want: "C,30s"},
		{Command: protocol.Command{Name: CommandPeriodic, Text: "300"}, Want: "C,05m"},
		{Command: protocol.Command{Name: CommandPeriodic, Text: "7200"}, Want: "C,02h"},
		{Command: protocol.Command{Name: CommandCancelAlarm}, Want: "E"},
		{Command: protocol.Command{Name: CommandOverspeed, Text: "80"}, Want: "H,080"},
		{Command: protocol.Command{Name: CommandEngineStop}, Want: "J"},
		{Command: protocol.Command{Name: CommandEngineResume}, Want: "K"},
		{Command: protocol.Command{Name: CommandArm}, Want: "L"},
		{Command: protocol.Command{Name: CommandDisarm}, Want: "M"},
		{Command: protocol.Command{Name: CommandPhoto}, Want: "160"},
		{Command: protocol.Command{Text: "H,060"}, Want: "H,060"},
	}, []protocol.Command{{Name: "launch"}, {Text: "B;C"}, {Name: CommandPeriodic, Text: "soon"}, {Name: CommandOverspeed, Text: "fast"}, {}})
}

func TestAcknowledgeSOS(t *testing.T) {
	const sos = "imei:359586015829802,help me,0809231429,13554900601,F,062947.294,A,2234.4026,N,11354.3277,E,0.00,;"
	if o := protocoltest.DecodeText(&Codec{}, protocol.TCP, sos); o.Err != nil || len(o.Replies) != 0 {
		t.Fatalf("default: %v %q", o.Err, o.Replies)
	}
	o := protocoltest.DecodeText(&Codec{AcknowledgeSOS: true}, protocol.TCP, sos)
	if o.Err != nil || string(o.Replies) != "**,imei:359586015829802,E;" {
		t.Fatalf("AcknowledgeSOS: %v %q", o.Err, o.Replies)
	}
}

// A message without GPS carries only the device's local time: it is dated
// with Codec.UTCOffset until the session learns the offset from a GPS fix.
func TestUTCOffset(t *testing.T) {
	const noGPS = "imei:359586015829802,tracker,0809231449,,L,,,113b,,558f,,,;"
	o := protocoltest.DecodeText(&Codec{UTCOffset: 8 * time.Hour}, protocol.TCP, noGPS)
	if ts, _ := o.Messages[0].Timestamp(); ts != 1222152540 {
		t.Fatalf("timestamp %v", ts)
	}
	o = protocoltest.DecodeText(&Codec{}, protocol.TCP, noGPS)
	if ts, _ := o.Messages[0].Timestamp(); ts != 1222152540+8*3600 {
		t.Fatalf("timestamp %v", ts)
	}
}

func TestSplit(t *testing.T) {
	c := &Codec{MaxFrameSize: 32}
	protocoltest.CheckSplit(t, c.Split, []protocoltest.SplitCase{
		{In: "\r\n359586015829802;", AtEOF: false, Advance: 2, Frame: "", Err: nil},
		{In: "359586015829802;imei:", AtEOF: false, Advance: 16, Frame: "359586015829802;", Err: nil},
		{In: "imei:3595", AtEOF: false, Advance: 0, Frame: "", Err: nil},
		{In: "imei:3595", AtEOF: true, Advance: 9, Frame: "imei:3595", Err: nil},
		{In: "imei:1,x,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,", AtEOF: false, Advance: 0, Frame: "", Err: protocol.ErrFrameTooLarge},
	})
	if o := protocoltest.DecodeText(&Codec{}, protocol.TCP, "GET / HTTP/1.1\r\n"); !errors.Is(o.Err, protocol.ErrMalformed) {
		t.Fatalf("HTTP request: %v", o.Err)
	}
}
