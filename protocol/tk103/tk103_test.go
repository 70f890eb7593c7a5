package tk103

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

// Tk103FrameDecoderTest (Traccar): noise before the first frame is
// skipped, and a ')' inside "$…$" does not end the frame.
func TestFrames(t *testing.T) {
	for _, tc := range []struct{ stream, first string }{
		{
			"garbage%@#*^$-+<>?$)))$$--(864755555555555,DW3B,131117,A,5562.02870N,01348.08194E,1.597,223707,291.65,-0.10,4)(864755555555555,ZC20,131117,223706,6,394,65535,255)",
			"(864755555555555,DW3B,131117,A,5562.02870N,01348.08194E,1.597,223707,291.65,-0.10,4)",
		},
		{
			"a\r\ngarbage%@#*^$-+<>?$)))$$--(8647555555555,ZC03,191117,234421,$)Notice:\r\nDevices serial number: \r\n580555555555).\r\nSoftware version:\r\nV2.000,2016/08/23 11:17)$)(864755555555555,ZC20,131117,223706,6,394,65535,255)",
			"(8647555555555,ZC03,191117,234421,$)Notice:\r\nDevices serial number: \r\n580555555555).\r\nSoftware version:\r\nV2.000,2016/08/23 11:17)$)",
		},
	} {
		data := []byte(tc.stream)
		var frame []byte
		for frame == nil {
			adv, f, err := (&Codec{}).Split(data, false)
			if err != nil || adv == 0 {
				t.Fatalf("Split: %d %v", adv, err)
			}
			frame, data = f, data[adv:]
		}
		if string(frame) != tc.first {
			t.Errorf("first frame %q, want %q", frame, tc.first)
		}
	}
	if _, _, err := (&Codec{MaxFrameSize: 16}).Split([]byte("(0123456789012345678"), false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("long frame: %v", err)
	}
}

func TestReplies(t *testing.T) {
	o := protocoltest.DecodeText(&Codec{}, protocol.TCP, "(027044702512BP00027044702512HSO01A4)")
	if o.Err != nil || string(o.Replies) != "(027044702512AP01HSO)" || len(o.Messages) != 0 {
		t.Fatalf("handshake: %+v", o)
	}
	const login = "(088046338039BP05000088046338039160727A3354.7768N03540.7258E000.0140309065.1000000000L00BEB0D4+017.3)"
	if o := protocoltest.DecodeText(&Codec{}, protocol.TCP, login); string(o.Replies) != "(088046338039AP05)" {
		t.Fatalf("log-in reply %q", o.Replies)
	}
	const alarm = "(013666666666BO012110925A1234.5678N01234.5678W000.0025948118.7200000000L000024DE)"
	if o := protocoltest.DecodeText(&Codec{}, protocol.TCP, alarm); len(o.Replies) != 0 {
		t.Fatalf("alarm answered by default: %q", o.Replies)
	}
	if o := protocoltest.DecodeText(&Codec{AnswerAlarms: true}, protocol.TCP, alarm); string(o.Replies) != "(013666666666AS012)" {
		t.Fatalf("alarm answer %q", o.Replies)
	}
}

func TestEncodeCommand(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	if _, err := s.EncodeCommand(nil, protocol.Command{Name: CommandPosition}); !errors.Is(err, ErrNoIdent) {
		t.Fatalf("before any frame: %v", err)
	}
	var r protocol.Result
	if err := s.Decode([]byte("(013632651491BP00000013632651491HSO)"), &r); err != nil {
		t.Fatal(err)
	}
	protocoltest.CheckCommands(t, s, "(013632651491%s)", []protocoltest.Encoded{
		{Command: protocol.Command{Name: CommandPosition}, Want: "AP00"},
		{Command: protocol.Command{Name: CommandPeriodic, Text: "30"}, Want: "AR00001E0000"},
		{Command: protocol.Command{Name: CommandStopPeriodic}, Want: "AR0000000000"},
		{Command: protocol.Command{Name: CommandEngineStop}, Want: "AV010"},
		{Command: protocol.Command{Name: CommandEngineResume}, Want: "AV011"},
		{Command: protocol.Command{Name: CommandOutput, Text: "1"}, Want: "AV001"},
		{Command: protocol.Command{Name: CommandReboot}, Want: "AT00"},
		{Command: protocol.Command{Name: CommandVersion}, Want: "AP07"},
		{Command: protocol.Command{Text: "AX01"}, Want: "AX01"},
	}, []protocol.Command{{Name: "fly"}, {Text: "AP00)("}, {Name: CommandPeriodic, Text: "0"}, {Name: CommandOutput, Text: "2"}, {}})
}

func TestUTCOffset(t *testing.T) {
	const f = "(012345678901BR00130520A3439.9629S05826.3504W000.1175622323.8700000000L000450AC)"
	a := protocoltest.DecodeText(&Codec{}, protocol.TCP, f)
	b := protocoltest.DecodeText(&Codec{UTCOffset: -3 * time.Hour}, protocol.TCP, f)
	ta, _ := a.Messages[0].Timestamp()
	tb, _ := b.Messages[0].Timestamp()
	if ta != 1369072582 || tb-ta != 3*3600 {
		t.Fatalf("%v %v", ta, tb)
	}
}
