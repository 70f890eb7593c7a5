package watch

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func decodeAll(t *testing.T, c *Codec, frames ...string) protocoltest.Outcome {
	t.Helper()
	var in [][]byte
	for _, f := range frames {
		in = append(in, []byte(f))
	}
	return protocoltest.Decode(c, protocol.TCP, in)
}

// The replies the protocol document gives: LK, AL, INIT, TKQ/TKQ2, TK and
// JXTK answers repeat the frame's maker, ID and index.
func TestReplies(t *testing.T) {
	for _, tc := range []struct{ in, reply string }{
		{"[SG*8800000015*0002*LK]", "[SG*8800000015*0002*LK]"},
		{"[3G*8800000015*0004*INIT]", "[3G*8800000015*0006*INIT,1]"},
		{"[CS*8800000015*0003*TKQ]", "[CS*8800000015*0003*TKQ]"},
		{"[CS*8800000015*0004*TKQ2]", "[CS*8800000015*0004*TKQ2]"},
		{"[ZJ*014111001350304*0038*0002*LK]", "[ZJ*014111001350304*0038*0002*LK]"},
		{"[SG*8800000015*000A*TK,#!AMR\x7d\x01]", "[SG*8800000015*0004*TK,1]"},
	} {
		o := decodeAll(t, &Codec{}, tc.in)
		if o.Err != nil || string(o.Replies) != tc.reply {
			t.Errorf("%q: reply %q, %v; want %q", tc.in, o.Replies, o.Err, tc.reply)
		}
	}
	// An escaped 0x7D in audio is read back as one byte.
	o := decodeAll(t, &Codec{}, "[SG*8800000015*000A*TK,#!AMR\x7d\x01]")
	if v, _ := o.Messages[0].Str("custom.audio.amr.hex"); v != "2321414d527d" {
		t.Errorf("audio %s", v)
	}
}

func TestHealth(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]float64
	}{
		{"[3G*6005412902*000F*bphrt,120,79,73]", map[string]float64{"custom.blood.pressure.systolic": 120, "custom.blood.pressure.diastolic": 79, "custom.heart.rate": 73}},
		{"[3G*6005412902*000B*oxygen,1,97]", map[string]float64{"custom.blood.oxygen": 97}},
		{"[3G*6005412902*000D*btemp2,1,36.6]", map[string]float64{"custom.body.temperature": 36.6}},
		{"[3G*6005412902*0009*TEMP,36.2]", map[string]float64{"custom.body.temperature": 36.2}},
	} {
		o := decodeAll(t, &Codec{}, tc.in)
		if o.Err != nil || len(o.Messages) != 1 {
			t.Fatalf("%q: %v", tc.in, o.Err)
		}
		for name, want := range tc.want {
			if got, _ := o.Messages[0].Float(name); got != want {
				t.Errorf("%q: %s = %v, want %v", tc.in, name, got, want)
			}
		}
	}
}

func TestCommands(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	if _, err := s.EncodeCommand(nil, protocol.Command{Text: "CR"}); !errors.Is(err, ErrNoID) {
		t.Fatalf("before the ID: %v", err)
	}
	var r protocol.Result
	if err := s.Decode([]byte("[3G*8800000015*0002*LK]"), &r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    protocol.Command
		want string
	}{
		{protocol.Command{ID: 1, Text: "CR"}, "[SG*8800000015*0002*CR]"},
		{protocol.Command{ID: 2, Text: "UPLOAD,600"}, "[SG*8800000015*000A*UPLOAD,600]"},
		{protocol.Command{ID: 3, Name: CommandMessage, Text: "Hi"}, "[SG*8800000015*0010*MESSAGE,00480069]"},
		{protocol.Command{ID: 4, Name: CommandVoice, Data: []byte{'[', 1}}, "[SG*8800000015*0006*TK,\x7d\x02\x01]"},
	} {
		got, err := s.EncodeCommand(nil, tc.c)
		if err != nil || string(got) != tc.want {
			t.Errorf("%+v: %q, %v; want %q", tc.c, got, err, tc.want)
		}
	}
	for _, bad := range []protocol.Command{{}, {Text: "a]b"}, {Name: CommandVoice}, {Name: "beep", Text: "x"}} {
		if _, err := s.EncodeCommand(nil, bad); err == nil {
			t.Errorf("%+v encoded", bad)
		}
	}
	// The watch echoes the keyword: each answer gets its command's ID.
	r.Reset()
	if err := s.Decode([]byte("[3G*8800000015*0006*UPLOAD]"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || !r.Responses[0].HasID || r.Responses[0].ID != 2 {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, _ := r.Messages[0].Str("command.response"); v != "UPLOAD" {
		t.Errorf("message %s", r.Messages[0].String())
	}
	// An answer nobody waits for is kept too.
	r.Reset()
	if err := s.Decode([]byte("[3G*8800000015*0005*RESET]"), &r); err != nil || r.Responses[0].HasID || len(r.Messages) != 1 {
		t.Fatalf("%+v %v", r.Responses, err)
	}
	// A watch whose frames carry an index gets one in commands.
	if err := s.Decode([]byte("[ZJ*014111001350304*0038*0002*LK]"), &r); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.EncodeCommand(nil, protocol.Command{Text: "CR"}); string(got) != "[ZJ*014111001350304*0001*0002*CR]" {
		t.Errorf("indexed command %q", got)
	}
}

func TestEscapeRoundTrip(t *testing.T) {
	data := []byte{0x7d, '[', ']', ',', '*', 0, 0xff}
	got, bad := unescape(escape(nil, data))
	if bad || !bytes.Equal(got, data) {
		t.Fatalf("%x, %v", got, bad)
	}
}

func TestFraming(t *testing.T) {
	c := &Codec{MaxFrameSize: 32}
	if _, _, err := c.Split([]byte("[SG*1*0002*"+string(bytes.Repeat([]byte("x"), 40))), false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("long frame: %v", err)
	}
	if _, _, err := c.Split([]byte("GET / HTTP/1.1"), false); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("garbage: %v", err)
	}
	// Line ends between frames are skipped.
	o := decodeAll(t, &Codec{}, "[SG*8800000015*0002*LK]\r\n[SG*8800000015*0002*LK]")
	if o.Err != nil || string(o.Replies) != "[SG*8800000015*0002*LK][SG*8800000015*0002*LK]" {
		t.Errorf("%q %v", o.Replies, o.Err)
	}
	for _, bad := range []string{"[SG*88a*0002*LK]", "[SG*8800000015*00X2*LK]", "[SG]", "[SG*8800000015*0005*UD,1]"} {
		o := decodeAll(t, &Codec{Lenient: true}, bad)
		if err := protocoltest.CheckError(o.Err); err != nil || o.Err == nil {
			t.Errorf("%q: %v", bad, o.Err)
		}
	}
}
