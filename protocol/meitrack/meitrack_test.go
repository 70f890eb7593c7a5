package meitrack

import (
	"errors"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// A device frame built with the codec's own framing, for tests.
func deviceFrame(flag byte, imei, content string) []byte {
	typ, body, _ := strings.Cut(content, ",")
	return AppendFrame(nil, '$', flag, imei, []byte(typ), []byte(body))
}

const docIMEI = "353358017784062"

// The A10 example of the Meitrack T622 GPRS protocol document (§3.1) and
// the documented-examples vector copied from it.
func TestAppendCommandDocumentExample(t *testing.T) {
	got := string(AppendCommand(nil, 'Q', docIMEI, "A10"))
	if want := "@@Q25,353358017784062,A10*6A\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// More examples of the same document: B36 (§3.26), C49 (§3.43), the
	// parameter-table form of D73 (§3.59).
	for _, tc := range []struct {
		flag       byte
		imei, text string
		want       string
	}{
		{'P', docIMEI, "B36,480", "@@P29,353358017784062,B36,480*3E\r\n"},
		{'c', docIMEI, "C49,3,2", "@@c29,353358017784062,C49,3,2*4B\r\n"},
		{'Q', "865328022075252", "0D73,50,50", "@@Q32,865328022075252,0D73,50,50*C1\r\n"},
	} {
		if got := string(AppendCommand(nil, tc.flag, tc.imei, tc.text)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.text, got, tc.want)
		}
	}
	// The device's answers in the same document check the same way.
	for _, s := range []string{"$$P28,353358017784062,B36,OK*03\r\n", "$$c28,353358017784062,C49,ok*5B\r\n"} {
		var r protocol.Result
		if err := (&Codec{}).NewSession(protocol.TCP).Decode([]byte(s), &r); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestCommandAnswerCarriesID(t *testing.T) {
	c := &Codec{}
	s := c.NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	enc := s
	if _, err := enc.EncodeCommand(nil, protocol.Command{ID: 1, Text: "F01"}); !errors.Is(err, ErrNoIMEI) {
		t.Fatalf("command before the IMEI is known: %v", err)
	}
	if err := s.Decode(deviceFrame('z', docIMEI, "AAC,1"), &r); err != nil {
		t.Fatal(err)
	}
	cmd, err := enc.EncodeCommand(nil, protocol.Command{ID: 41, Text: "F01"})
	if err != nil {
		t.Fatal(err)
	}
	if string(cmd) != string(AppendCommand(nil, 'A', docIMEI, "F01")) {
		t.Fatalf("command %q", cmd)
	}
	loc, err := enc.EncodeCommand(nil, protocol.Command{ID: 42, Text: "A10"})
	if err != nil || loc[2] != 'B' {
		t.Fatalf("second command %q, %v", loc, err)
	}

	r.Reset()
	if err := s.Decode(deviceFrame('A', docIMEI, "F01,OK"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || !r.Responses[0].HasID || r.Responses[0].ID != 41 || r.Responses[0].Text != "F01,OK" {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, _ := r.Messages[0].Str(protocol.ParamCommandResponse); v != "F01,OK" {
		t.Fatalf("message %s", r.Messages[0].String())
	}

	// The A10 query is answered by an AAA report with its identifier.
	r.Reset()
	report := "AAA,34,22.543176,114.078448,100313093738,A,5,22,2,205,5,-14,0,60,0|0|10133|4110,0000,149|153|173|2707|914,"
	if err := s.Decode(deviceFrame('B', docIMEI, report), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || r.Responses[0].ID != 42 || len(r.Messages) != 1 || !protocoltest.HasPosition(&r.Messages[0]) {
		t.Fatalf("A10 answer: responses %+v, messages %d", r.Responses, len(r.Messages))
	}

	// An answer nobody waits for (another identifier) is still a message
	// and a response, without an ID.
	r.Reset()
	if err := s.Decode(deviceFrame('x', docIMEI, "B36,OK"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || r.Responses[0].HasID || len(r.Messages) != 1 {
		t.Fatalf("unsolicited answer: %+v, %d messages", r.Responses, len(r.Messages))
	}

	for _, bad := range []protocol.Command{{Text: ""}, {Text: "A10*"}, {Text: "A10\r\n"}, {Text: strings.Repeat("A", 1025)}} {
		if _, err := enc.EncodeCommand(nil, bad); !errors.Is(err, ErrCommandText) {
			t.Errorf("%q: %v", bad.Text, err)
		}
	}
	if _, err := enc.EncodeCommand(nil, protocol.Command{Name: "sms", Text: "x"}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Errorf("unknown kind: %v", err)
	}
}

// Identifiers cycle through the 58 the documents allow.
func TestCommandFlagsCycle(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	s.ident = docIMEI
	seen := map[byte]bool{}
	for i := 0; i < 2*flagCount; i++ {
		b, err := s.EncodeCommand(nil, protocol.Command{Text: "A10"})
		if err != nil {
			t.Fatal(err)
		}
		if b[2] < flagFirst || b[2] > flagLast {
			t.Fatalf("flag %q", b[2])
		}
		seen[b[2]] = true
	}
	if len(seen) != flagCount {
		t.Fatalf("%d identifiers used", len(seen))
	}
}

// The analog scaling of the models the MVT documents name.
func TestModelAnalogScaling(t *testing.T) {
	frame := "$$e155,867965021508656,AAA,35,-33.361133,-70.514245,160412155005,A,8,27,0,289,1.3,867,318379,2338885,730|1|32D3|A03F,0008,0000|0000|0000|02DA|0106,00000001,*3A\r\n"
	for _, tc := range []struct {
		model          string
		battery, power float64
	}{
		{"MVT380", 4.277, 12.281}, // 730×6/1024, 262×48/1024
		{"T1", 1.176, 3.377},      // 730×6.6/4096, 262×52.8/4096
	} {
		var r protocol.Result
		s := (&Codec{Model: tc.model}).NewSession(protocol.TCP)
		if err := s.Decode([]byte(frame), &r); err != nil {
			t.Fatal(err)
		}
		m := &r.Messages[0]
		b, _ := m.Float("battery.voltage")
		p, _ := m.Float("external.powersource.voltage")
		if b != tc.battery || p != tc.power {
			t.Errorf("%s: battery %v, power %v; want %v, %v", tc.model, b, p, tc.battery, tc.power)
		}
	}
}

// Frames that lost their "\r\n", back to back, and a frame over UDP.
func TestFramesWithoutCRLF(t *testing.T) {
	a := "$$z27,861451040910625,AAC,1*D3"
	b := "$$j28,353358017784062,F01,OK*19\r\n"
	o := protocoltest.Decode(&Codec{}, protocol.TCP, [][]byte{[]byte(a + b + a)})
	if o.Err != nil || len(o.Messages) != 1 || len(o.Replies) == 0 {
		t.Fatalf("%+v", o)
	}
	protocoltest.CheckChunked(t, &Codec{}, []byte(a+b+a))
	u := protocoltest.Decode(&Codec{}, protocol.UDP, [][]byte{[]byte(b), []byte(a)})
	if u.Err != nil || len(u.Messages) != 1 {
		t.Fatalf("udp: %+v", u)
	}
}

func TestSplitErrors(t *testing.T) {
	c := &Codec{MaxFrameSize: 512}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"GET / HTTP/1.1\r\n", protocol.ErrMalformed},
		{"$$A99999999,", protocol.ErrMalformed},
		{"$$A9999,353358017784062,CCE,", protocol.ErrFrameTooLarge},
		{"$$Ax,", protocol.ErrMalformed},
		{"$$A600,353358017784062,AAA," + strings.Repeat("1", 600), protocol.ErrFrameTooLarge},
	} {
		_, _, err := c.Split([]byte(tc.in), false)
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"$$A28,353358017784062,F01,OK*00\r\n", protocol.ErrChecksum},
		{"$$A99,353358017784062,F01,OK*F7\r\n", protocol.ErrChecksum},
		{"$$A28,35335801778406X,F01,OK*16\r\n", protocol.ErrMalformed},
		{"$$A28,353358017784062,F01,OK\r\n", protocol.ErrTruncated},
	} {
		var r protocol.Result
		err := (&Codec{}).NewSession(protocol.TCP).Decode([]byte(tc.in), &r)
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, err, tc.want)
		}
	}
	// A report whose fields do not parse is malformed, not a panic.
	bad := deviceFrame('A', docIMEI, "AAA,35,north,south,100313093738,A,5,22,2,205,5,-14,0,60,0|0|1|1,0000,,")
	var r protocol.Result
	if err := (&Codec{}).NewSession(protocol.TCP).Decode(bad, &r); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("bad report: %v", err)
	}
}

func TestByteSum(t *testing.T) {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	for n := 0; n <= len(b); n++ {
		var want byte
		for _, c := range b[:n] {
			want += c
		}
		if got := byteSum(b[:n]); got != want {
			t.Fatalf("%d bytes: %02x, want %02x", n, got, want)
		}
	}
}
