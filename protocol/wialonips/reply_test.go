package wialonips_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// crc writes a 2.0 packet: "#TYPE#" + body + CRC16 of body as hex.
func crc(typ, body string) string {
	return fmt.Sprintf("#%s#%s%X\r\n", typ, body, crc16.ARC.Checksum([]byte(body)))
}

const (
	login20 = "#L#2.0;860000000000000;NA;46D4\r\n" // CRC from our notes
	login11 = "#L#860000000000000;NA\r\n"
	sdBody  = "270413;205601;5544.6025;N;03739.6834;E;1;2;3;4"
	dBody   = "231012;153959;5354.49260;N;02731.44990;E;0;0;300;7;1.1;0;0;1,0,0,0;NA;ign:1:1,SOS:1:1"
)

// dWith returns dBody with field i (0-based) replaced.
func dWith(i int, v string) string {
	f := strings.Split(dBody, ";")
	f[i] = v
	return strings.Join(f, ";")
}

func run(t *testing.T, c *wialonips.Codec, tr protocol.Transport, chunks ...string) protocoltest.Outcome {
	t.Helper()
	in := make([][]byte, len(chunks))
	for i, s := range chunks {
		in[i] = []byte(s)
	}
	return protocoltest.Decode(c, tr, in)
}

func TestReplies(t *testing.T) {
	tests := []struct {
		name    string
		codec   wialonips.Codec
		in      string
		reply   string
		msgs    int
		invalid bool // messages carry frame.checksum.invalid
	}{
		{"login v1.1", wialonips.Codec{}, login11, "#AL#1\r\n", 0, false},
		{"login v2.0", wialonips.Codec{}, login20, "#AL#1\r\n", 0, false},
		{"login v2.1", wialonips.Codec{}, crc("L", "2.1;860000000000000;NA;"), "#AL#1\r\n", 0, false},
		{"login bad version", wialonips.Codec{}, crc("L", "3.0;860000000000000;NA;"), "#AL#0\r\n", 0, false},
		{"login no password field", wialonips.Codec{}, "#L#860000000000000\r\n", "#AL#0\r\n", 0, false},
		{"login bad ident", wialonips.Codec{}, "#L#86/00;NA\r\n", "#AL#0\r\n", 0, false},
		{"login wrong password", wialonips.Codec{CheckPassword: func(id, pw string) bool { return pw == "secret" }},
			"#L#860000000000000;wrong\r\n", "#AL#01\r\n", 0, false},
		{"login right password", wialonips.Codec{CheckPassword: func(id, pw string) bool { return id == "860000000000000" && pw == "secret" }},
			"#L#860000000000000;secret\r\n", "#AL#1\r\n", 0, false},
		{"login crc error", wialonips.Codec{}, "#L#2.0;860000000000000;NA;46D5\r\n", "#AL#10\r\n", 0, false},
		{"login crc error lenient", wialonips.Codec{Lenient: true}, "#L#2.0;860000000000000;NA;46D5\r\n", "#AL#1\r\n", 0, false},

		{"SD ok v1.1", wialonips.Codec{}, login11 + "#SD#" + sdBody + "\r\n", "#AL#1\r\n#ASD#1\r\n", 1, false},
		{"SD ok v2.0", wialonips.Codec{}, login20 + crc("SD", sdBody+";"), "#AL#1\r\n#ASD#1\r\n", 1, false},
		{"SD structure", wialonips.Codec{}, "#SD#270413;205601;5544.6025;N\r\n", "#ASD#-1\r\n", 0, false},
		{"SD time", wialonips.Codec{}, "#SD#320413;205601;5544.6025;N;03739.6834;E;1;2;3;4\r\n", "#ASD#0\r\n", 0, false},
		{"SD only date NA", wialonips.Codec{}, "#SD#NA;205601;5544.6025;N;03739.6834;E;1;2;3;4\r\n", "#ASD#0\r\n", 0, false},
		{"SD coordinates", wialonips.Codec{}, "#SD#270413;205601;5544.6025;X;03739.6834;E;1;2;3;4\r\n", "#ASD#10\r\n", 0, false},
		{"SD latitude over 90", wialonips.Codec{}, "#SD#270413;205601;9544.6025;N;03739.6834;E;1;2;3;4\r\n", "#ASD#10\r\n", 0, false},
		{"SD speed", wialonips.Codec{}, "#SD#270413;205601;5544.6025;N;03739.6834;E;fast;2;3;4\r\n", "#ASD#11\r\n", 0, false},
		{"SD altitude", wialonips.Codec{}, "#SD#270413;205601;5544.6025;N;03739.6834;E;1;2;1e3;4\r\n", "#ASD#11\r\n", 0, false},
		{"SD satellites", wialonips.Codec{}, "#SD#270413;205601;5544.6025;N;03739.6834;E;1;2;3;-4\r\n", "#ASD#12\r\n", 0, false},
		{"SD crc", wialonips.Codec{}, "#SD#" + sdBody + ";1234\r\n", "#ASD#13\r\n", 0, false},
		{"SD crc lenient", wialonips.Codec{Lenient: true}, "#SD#" + sdBody + ";1234\r\n", "#ASD#1\r\n", 1, true},
		{"SD crc missing in 2.0", wialonips.Codec{}, login20 + "#SD#" + sdBody + "\r\n", "#AL#1\r\n#ASD#13\r\n", 0, false},
		{"SD crc missing in 2.0 lenient", wialonips.Codec{Lenient: true}, login20 + "#SD#" + sdBody + "\r\n", "#AL#1\r\n#ASD#1\r\n", 1, true},

		{"D ok", wialonips.Codec{}, "#D#" + dBody + "\r\n", "#AD#1\r\n", 1, false},
		{"D ok v2.0", wialonips.Codec{}, login20 + crc("D", dBody+";"), "#AL#1\r\n#AD#1\r\n", 1, false},
		{"D structure", wialonips.Codec{}, "#D#" + dBody + ";x;y\r\n", "#AD#-1\r\n", 0, false},
		{"D time", wialonips.Codec{}, "#D#" + dWith(1, "246000") + "\r\n", "#AD#0\r\n", 0, false},
		{"D coordinates", wialonips.Codec{}, "#D#" + dWith(4, "NA") + "\r\n", "#AD#10\r\n", 0, false},
		{"D course", wialonips.Codec{}, "#D#" + dWith(7, "north") + "\r\n", "#AD#11\r\n", 0, false},
		{"D satellites", wialonips.Codec{}, "#D#" + dWith(9, "7.5") + "\r\n", "#AD#12\r\n", 0, false},
		{"D hdop", wialonips.Codec{}, "#D#" + dWith(10, "good") + "\r\n", "#AD#12\r\n", 0, false},
		{"D inputs", wialonips.Codec{}, "#D#" + dWith(11, "-1") + "\r\n", "#AD#13\r\n", 0, false},
		{"D outputs", wialonips.Codec{}, "#D#" + dWith(12, "0x10") + "\r\n", "#AD#13\r\n", 0, false},
		{"D adc", wialonips.Codec{}, "#D#" + dWith(13, "1.5,volts") + "\r\n", "#AD#14\r\n", 0, false},
		{"D params without type", wialonips.Codec{}, "#D#" + dWith(15, "ign") + "\r\n", "#AD#15\r\n", 0, false},
		{"D params empty name", wialonips.Codec{}, "#D#" + dWith(15, ":1:5") + "\r\n", "#AD#15\r\n", 0, false},
		{"D params int continued", wialonips.Codec{}, "#D#" + dWith(15, "a:1:5,6") + "\r\n", "#AD#15\r\n", 0, false},
		{"D param of wrong type skipped", wialonips.Codec{}, "#D#" + dWith(15, "a:2:abc,b:1:5") + "\r\n", "#AD#1\r\n", 1, false},
		{"D crc", wialonips.Codec{}, "#D#" + dBody + ";4BC4\r\n", "#AD#16\r\n", 0, false},
		{"D crc not hex", wialonips.Codec{}, "#D#" + dBody + ";XYZ\r\n", "#AD#16\r\n", 0, false},
		{"D crc lenient", wialonips.Codec{Lenient: true}, "#D#" + dBody + ";4BC4\r\n", "#AD#1\r\n", 1, true},
		{"D crc missing in 2.0", wialonips.Codec{}, login20 + "#D#" + dBody + "\r\n", "#AL#1\r\n#AD#16\r\n", 0, false},

		{"B two v1.1", wialonips.Codec{}, "#B#" + sdBody + "|" + dBody + "\r\n", "#AB#2\r\n", 2, false},
		{"B one bad record", wialonips.Codec{}, "#B#" + sdBody + "|" + dWith(0, "999999") + "|" + sdBody + "\r\n", "#AB#2\r\n", 2, false},
		{"B bad layout", wialonips.Codec{}, "#B#1;2;3\r\n", "#AB#0\r\n", 0, false},
		{"B v2.0", wialonips.Codec{}, login20 + crc("B", sdBody+"|"+dBody+"|"), "#AL#1\r\n#AB#2\r\n", 2, false},
		{"B crc", wialonips.Codec{}, "#B#" + sdBody + "|" + dBody + "|FFFF\r\n", "#AB#\r\n", 0, false},
		{"B crc lenient", wialonips.Codec{Lenient: true}, "#B#" + sdBody + "|" + dBody + "|FFFF\r\n", "#AB#2\r\n", 2, true},
		{"B crc missing in 2.0", wialonips.Codec{}, login20 + "#B#" + sdBody + "\r\n", "#AL#1\r\n#AB#\r\n", 0, false},

		{"SD trailing semicolon v1.1", wialonips.Codec{}, "#SD#" + sdBody + ";\r\n", "#ASD#1\r\n", 1, false},
		{"SD empty crc v2.0", wialonips.Codec{}, login20 + "#SD#" + sdBody + ";\r\n", "#AL#1\r\n#ASD#13\r\n", 0, false},
		{"B trailing bar v1.1", wialonips.Codec{}, "#B#" + sdBody + "|" + sdBody + "|\r\n", "#AB#2\r\n", 2, false},
		{"B empty crc v2.0", wialonips.Codec{}, login20 + "#B#" + sdBody + "|" + sdBody + "|\r\n", "#AL#1\r\n#AB#\r\n", 0, false},
		{"P", wialonips.Codec{}, "#P#\r\n", "#AP#\r\n", 0, false},
		{"M v1.1", wialonips.Codec{}, login11 + "#M#hello; driver\r\n", "#AL#1\r\n#AM#1\r\n", 1, false},
		{"M v2.0", wialonips.Codec{}, login20 + crc("M", "hello;"), "#AL#1\r\n#AM#1\r\n", 1, false},
		{"M empty", wialonips.Codec{}, "#M#\r\n", "#AM#0\r\n", 0, false},
		{"M crc", wialonips.Codec{}, login20 + "#M#hello;1234\r\n", "#AL#1\r\n#AM#01\r\n", 0, false},
		{"M crc lenient", wialonips.Codec{Lenient: true}, login20 + "#M#hello;1234\r\n", "#AL#1\r\n#AM#1\r\n", 1, true},

		{"I two blocks v1.1", wialonips.Codec{}, login11 + "#I#3;0;1;070512;124010;a.jpg\r\nab\n#I#2;1;1;070512;124010;a.jpg\r\ncd",
			"#AL#1\r\n#AI#0;1\r\n#AI#1;1\r\n#AI#1\r\n", 1, false},
		{"I bad structure", wialonips.Codec{}, "#I#x;y\r\n", "#AI#NA;0\r\n", 0, false},
		{"I out of order", wialonips.Codec{}, "#I#2;1;1;070512;124010;a.jpg\r\ncd", "#AI#1;0\r\n", 0, false},
		{"I crc", wialonips.Codec{}, login20 + "#I#2;0;0;070512;124010;a.jpg;1234\r\ncd", "#AL#1\r\n#AI#0;01\r\n", 0, false},
		{"I v2.0", wialonips.Codec{}, login20 + fmt.Sprintf("#I#2;0;0;070512;124010;a.jpg;%X\r\ncd", crc16.ARC.Checksum([]byte("cd"))),
			"#AL#1\r\n#AI#0;1\r\n#AI#1\r\n", 1, false},
		{"IT unsupported", wialonips.Codec{}, "#IT#070512;124010;driver;;3;1234\r\n", "#AIT#0\r\n", 0, false},
		{"T unsupported", wialonips.Codec{}, "#T#;2;0;1234\r\nxy", "#AT#0;0\r\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := run(t, &tt.codec, protocol.TCP, tt.in)
			if o.Err != nil {
				t.Fatalf("decode: %v", o.Err)
			}
			if string(o.Replies) != tt.reply {
				t.Errorf("reply %q, want %q", o.Replies, tt.reply)
			}
			if len(o.Messages) != tt.msgs {
				t.Fatalf("%d messages, want %d: %s", len(o.Messages), tt.msgs, protocoltest.FormatMessages(o.Messages))
			}
			for i := range o.Messages {
				_, marked := o.Messages[i].Bool(protocol.ParamChecksumInvalid)
				if marked != tt.invalid {
					t.Errorf("message %d: checksum mark %v, want %v", i, marked, tt.invalid)
				}
			}
		})
	}
}

func TestRejectedLoginCloses(t *testing.T) {
	for _, in := range []string{"#L#860000000000000\r\n", "#L#3.0;1;NA;0\r\n"} {
		s := (&wialonips.Codec{}).NewSession(protocol.TCP)
		var r protocol.Result
		if err := s.Decode([]byte(strings.TrimSpace(in)), &r); err != nil {
			t.Fatal(err)
		}
		if !r.Close || string(r.Reply) != "#AL#0\r\n" {
			t.Errorf("%q: close %v reply %q", in, r.Close, r.Reply)
		}
	}
}

func TestIdentAndPassword(t *testing.T) {
	o := run(t, &wialonips.Codec{}, protocol.TCP, "#L#2.0;imei;s3cret;"+fmt.Sprintf("%X", crc16.ARC.Checksum([]byte("2.0;imei;s3cret;")))+"\r\n", "#SD#"+sdBody+";"+fmt.Sprintf("%X", crc16.ARC.Checksum([]byte(sdBody+";")))+"\r\n")
	if o.Err != nil || o.Ident != "imei" || len(o.Messages) != 1 {
		t.Fatalf("err %v ident %q msgs %d", o.Err, o.Ident, len(o.Messages))
	}
	if id := o.Messages[0].Ident(); id != "imei" {
		t.Errorf("message ident %q", id)
	}
	if strings.Contains(o.Messages[0].String(), "s3cret") {
		t.Errorf("the password leaked into the message: %s", o.Messages[0].String())
	}
}

func TestNotAnswered(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want error
	}{
		{"#X#1;2\r\n", protocol.ErrUnsupported},
		{"#US#3\r\nabc", protocol.ErrUnsupported},
		{"#AD#1\r\n", protocol.ErrUnsupported},
		{"hello\r\n", protocol.ErrMalformed},
		{"#D", protocol.ErrMalformed},
		{"3.0;123#SD#" + sdBody + "\r\n", protocol.ErrUnsupported},
		{"12+3#SD#" + sdBody + "\r\n", protocol.ErrMalformed},
		{login11 + "99999999#SD#" + sdBody + "\r\n", protocol.ErrMalformed}, // another device on this connection
	} {
		o := run(t, &wialonips.Codec{}, protocol.TCP, tt.in)
		if !errors.Is(o.Err, tt.want) {
			t.Errorf("%q: error %v, want %v", tt.in, o.Err, tt.want)
		}
		if err := protocoltest.CheckError(o.Err); err != nil {
			t.Error(err)
		}
	}
}

func TestPasswordRequiresLogin(t *testing.T) {
	c := &wialonips.Codec{CheckPassword: func(id, pw string) bool { return pw == "secret" }}
	if o := run(t, c, protocol.TCP, "#SD#"+sdBody+"\r\n"); !errors.Is(o.Err, protocol.ErrMalformed) || len(o.Messages) != 0 {
		t.Errorf("data before login: err %v, %d messages", o.Err, len(o.Messages))
	}
	if o := run(t, c, protocol.TCP, "#L#1;bad\r\n#SD#"+sdBody+"\r\n"); !errors.Is(o.Err, protocol.ErrMalformed) || len(o.Messages) != 0 {
		t.Errorf("data after a rejected login: err %v, %d messages", o.Err, len(o.Messages))
	}
	if o := run(t, c, protocol.TCP, "#L#1;secret\r\n#SD#"+sdBody+"\r\n"); o.Err != nil || len(o.Messages) != 1 {
		t.Errorf("data after login: err %v, %d messages", o.Err, len(o.Messages))
	}
	if o := run(t, c, protocol.UDP, "1#SD#"+sdBody+"\r\n"); o.Err != nil || len(o.Messages) != 1 {
		t.Errorf("udp: err %v, %d messages", o.Err, len(o.Messages))
	}
}

func TestCommandAnswers(t *testing.T) {
	o := run(t, &wialonips.Codec{}, protocol.TCP, login11, "#AM#1\r\n")
	if o.Err != nil || len(o.Responses) != 1 || o.Responses[0].Text != "1" || len(o.Messages) != 0 {
		t.Fatalf("err %v responses %+v", o.Err, o.Responses)
	}
	if !bytes.Equal(o.Replies, []byte("#AL#1\r\n")) {
		t.Errorf("replies %q: #AM# is not answered", o.Replies)
	}
}
