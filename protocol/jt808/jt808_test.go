package jt808

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// frame builds a 2013 frame by hand, independently of AppendFrame: header,
// body, XOR, escaping.
func frame(t testing.TB, id uint16, phone string, serial uint16, body []byte) []byte {
	raw := []byte{byte(id >> 8), byte(id), byte(len(body) >> 8), byte(len(body))}
	raw = append(raw, protocoltest.Hex(t, phone)...)
	raw = append(raw, byte(serial>>8), byte(serial))
	raw = append(raw, body...)
	x := byte(0)
	for _, c := range raw {
		x ^= c
	}
	raw = append(raw, x)
	out := []byte{0x7E}
	for _, c := range raw {
		switch c {
		case 0x7E:
			out = append(out, 0x7D, 0x02)
		case 0x7D:
			out = append(out, 0x7D, 0x01)
		default:
			out = append(out, c)
		}
	}
	return append(out, 0x7E)
}

func newSession(c *Codec) *Session { return c.NewSession(protocol.TCP).(*Session) }

// The exact answers: 0x8001 for a location, 0x8100 with the auth code for
// a registration, 0x8004 for a 2019 time request; each with the platform's
// own serial, counting from 1.
func TestReplies(t *testing.T) {
	s := newSession(&Codec{Now: fixedNow, AuthCode: func(id string) string { return "AUTH" + id }})
	reg := frame(t, 0x0100, "013345678906", 0x000f, protocoltest.Hex(t, "002c012f37303131314253"+"4a2d4d3742"+"000000000000000000000000"+"30303030303030"+"01"+"d4c1423838383838"))
	r := protocoltest.DecodeFrame(t, s, reg)
	want := frame(t, 0x8100, "013345678906", 1, append([]byte{0x00, 0x0f, 0x00}, "AUTH13345678906"...))
	if !bytes.Equal(r.Reply, want) {
		t.Fatalf("registration answer %x, want %x", r.Reply, want)
	}
	if r.Ident != "13345678906" {
		t.Fatalf("ident %q", r.Ident)
	}
	auth := frame(t, 0x0102, "013345678906", 0x0010, []byte("AUTH13345678906"))
	r = protocoltest.DecodeFrame(t, s, auth)
	if want := frame(t, 0x8001, "013345678906", 2, []byte{0x00, 0x10, 0x01, 0x02, 0x00}); !bytes.Equal(r.Reply, want) {
		t.Fatalf("auth answer %x, want %x", r.Reply, want)
	}
	hb := frame(t, 0x0002, "013345678906", 0x7e7d, nil) // a serial that needs escaping
	r = protocoltest.DecodeFrame(t, s, hb)
	if want := frame(t, 0x8001, "013345678906", 3, []byte{0x7e, 0x7d, 0x00, 0x02, 0x00}); !bytes.Equal(r.Reply, want) || len(r.Messages) != 0 {
		t.Fatalf("heartbeat answer %x, want %x (messages %d)", r.Reply, want, len(r.Messages))
	}

	// 2019 header: version flag and byte, 10-byte phone; 0x0004 is
	// answered 0x8004 with the UTC time in BCD.
	s19 := newSession(&Codec{Now: fixedNow})
	req := AppendFrame(nil, 0x0004, 1, protocoltest.Hex(t, "00000000013912345678"), 5, nil)
	r = protocoltest.DecodeFrame(t, s19, req)
	if got, want := hex.EncodeToString(r.Reply), hex.EncodeToString(AppendFrame(nil, 0x8004, 1, protocoltest.Hex(t, "00000000013912345678"), 1, protocoltest.Hex(t, "261122101504"))); got != want {
		t.Fatalf("time answer %s, want %s", got, want)
	}
	if r.Ident != "13912345678" {
		t.Fatalf("2019 ident %q", r.Ident)
	}
}

// Authenticate rejects a code: 0x8001 result 1 and the connection closed;
// Refusal answers the last message with result 1.
func TestAuthenticateReject(t *testing.T) {
	s := newSession(&Codec{Authenticate: func(id, code string) bool { return code == "good" }})
	if s.Refusal() != nil {
		t.Fatal("Refusal before any frame")
	}
	r := protocoltest.DecodeFrame(t, s, frame(t, 0x0102, "013345678906", 9, []byte("bad")))
	if want := frame(t, 0x8001, "013345678906", 1, []byte{0x00, 0x09, 0x01, 0x02, 0x01}); !bytes.Equal(r.Reply, want) || !r.Close {
		t.Fatalf("reject %x close=%v, want %x", r.Reply, r.Close, want)
	}
	if want := frame(t, 0x8001, "013345678906", 2, []byte{0x00, 0x09, 0x01, 0x02, 0x01}); !bytes.Equal(s.Refusal(), want) {
		t.Fatalf("Refusal %x, want %x", s.Refusal(), want)
	}
	r = protocoltest.DecodeFrame(t, s, frame(t, 0x0102, "013345678906", 10, []byte("good")))
	if r.Close || r.Reply[len(r.Reply)-3] != 0x00 {
		t.Fatalf("accepted code: %x close=%v", r.Reply, r.Close)
	}
}

// A location whose body holds 0x7E and 0x7D decodes after unescaping; a
// bad check code is an error unless lenient; a body-length mismatch too.
func TestEscapingAndChecks(t *testing.T) {
	body := protocoltest.Hex(t, "00000001"+"00000003"+"0158997e"+"06ca0f7d"+"0010"+"01f4"+"005a"+"260617120000"+"0104000004d2"+"310108")
	f := frame(t, 0x0200, "013345678906", 1, body)
	if !bytes.Contains(f, []byte{0x7D, 0x02}) || !bytes.Contains(f, []byte{0x7D, 0x01}) {
		t.Fatalf("test frame not escaped: %x", f)
	}
	r := protocoltest.DecodeFrame(t, newSession(&Codec{}), f)
	m := &r.Messages[0]
	if lat, _ := m.Float(protocol.ParamLatitude); lat != 22.583678 {
		t.Errorf("latitude %v", lat)
	}
	if lon, _ := m.Float(protocol.ParamLongitude); lon != 113.905533 {
		t.Errorf("longitude %v", lon)
	}
	if v, _ := m.Float(protocol.ParamSpeed); v != 50 {
		t.Errorf("speed %v", v)
	}
	if v, _ := m.Float("vehicle.mileage"); v != 123.4 {
		t.Errorf("mileage %v", v)
	}
	if v, _ := m.Bool("sos.event.trigger"); !v {
		t.Errorf("SOS bit not decoded: %s", m.String())
	}
	if v, _ := m.Float(protocol.ParamTimestamp); v != 1781668800 { // 2026-06-17 12:00:00 +08:00
		t.Errorf("timestamp %v", v)
	}

	bad := bytes.Clone(f)
	bad[len(bad)-2] ^= 0x01
	var res protocol.Result
	if err := newSession(&Codec{}).Decode(bad, &res); !errors.Is(err, protocol.ErrChecksum) {
		t.Fatalf("bad check code: %v", err)
	}
	res = protocol.Result{}
	if err := newSession(&Codec{Lenient: true}).Decode(bad, &res); err != nil || len(res.Messages) != 1 {
		t.Fatalf("lenient: %v", err)
	}
	if v, _ := res.Messages[0].Bool(protocol.ParamChecksumInvalid); !v {
		t.Fatal("lenient message not marked")
	}
	badEsc := []byte{0x7E, 0x00, 0x02, 0x7D, 0x05, 0x7E}
	if err := newSession(&Codec{}).Decode(badEsc, &res); !errors.Is(err, protocol.ErrMalformed) && !errors.Is(err, protocol.ErrTruncated) {
		t.Fatalf("bad escape: %v", err)
	}
}

func TestSplit(t *testing.T) {
	c := &Codec{}
	for _, tc := range []struct {
		in         string
		adv        int
		frame, err string
	}{
		{"24247e307d02087d01557e", 2, "", ""}, // "$$" prefix skipped (Traccar frame test)
		{"7e307d02087d01557e", 9, "7e307d02087d01557e", ""},
		{"7e7e3031", 1, "", ""}, // a frame's end, then the next one's start
		{"7e3031", 0, "", ""},   // need more
		{"28373430312c424153452c322c54494d4529ff", 18, "28373430312c424153452c322c54494d4529", ""},
	} {
		adv, fr, err := c.Split(protocoltest.Hex(t, tc.in), false)
		if adv != tc.adv || hex.EncodeToString(fr) != tc.frame || err != nil {
			t.Errorf("Split(%s) = %d, %x, %v; want %d, %s", tc.in, adv, fr, err, tc.adv, tc.frame)
		}
	}
	small := &Codec{MaxFrameSize: 16}
	if _, _, err := small.Split(append([]byte{0x7E}, make([]byte, 32)...), false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("oversized frame: %v", err)
	}
	if _, _, err := c.Split(make([]byte, 5000), false); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("5000 bytes without a delimiter: %v", err)
	}
}

// Commands: the text command 0x8300, and a device's general response
// (0x0001) becoming a CommandResponse with the command's ID.
func TestEncodeCommand(t *testing.T) {
	s := newSession(&Codec{})
	if _, err := s.EncodeCommand(nil, protocol.Command{Text: "x"}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Fatalf("command before any frame: %v", err)
	}
	protocoltest.DecodeFrame(t, s, frame(t, 0x0002, "013345678906", 1, nil)) // serial 1 used by the 0x8001
	cmd, err := s.EncodeCommand(nil, protocol.Command{ID: 77, Text: "RELAY,1#"})
	if err != nil {
		t.Fatal(err)
	}
	if want := frame(t, 0x8300, "013345678906", 2, append([]byte{0x04}, "RELAY,1#"...)); !bytes.Equal(cmd, want) {
		t.Fatalf("text command %x, want %x", cmd, want)
	}
	loc, _ := s.EncodeCommand(nil, protocol.Command{ID: 78, Name: "locate"})
	if want := frame(t, 0x8201, "013345678906", 3, nil); !bytes.Equal(loc, want) {
		t.Fatalf("locate %x, want %x", loc, want)
	}
	raw, _ := s.EncodeCommand(nil, protocol.Command{Name: "raw", Text: "8103", Data: []byte{1, 0, 0, 0, 1, 4, 0, 0, 0, 30}})
	if want := frame(t, 0x8103, "013345678906", 4, []byte{1, 0, 0, 0, 1, 4, 0, 0, 0, 30}); !bytes.Equal(raw, want) {
		t.Fatalf("raw %x, want %x", raw, want)
	}
	for _, c := range []protocol.Command{{Name: "reboot"}, {Name: "raw", Text: "zz"}, {Name: "control"}} {
		if _, err := s.EncodeCommand(nil, c); err == nil {
			t.Errorf("%+v encoded", c)
		}
	}
	// The device acknowledges the text command (serial 2, ID 0x8300).
	r := protocoltest.DecodeFrame(t, s, frame(t, 0x0001, "013345678906", 5, []byte{0x00, 0x02, 0x83, 0x00, 0x00}))
	if len(r.Responses) != 1 || r.Responses[0].ID != 77 || !r.Responses[0].HasID || r.Responses[0].Text != "success" {
		t.Fatalf("responses %+v", r.Responses)
	}
	if len(r.Messages) != 1 || len(r.Reply) != 0 {
		t.Fatalf("general response: %d messages, reply %x", len(r.Messages), r.Reply)
	}
	// An answer nobody waits for is still a message, with no Response.
	r = protocoltest.DecodeFrame(t, s, frame(t, 0x0001, "013345678906", 6, []byte{0x00, 0x02, 0x83, 0x00, 0x01}))
	if len(r.Responses) != 0 || len(r.Messages) != 1 {
		t.Fatalf("unmatched answer: %+v", r)
	}
	if v, _ := r.Messages[0].Str(protocol.ParamCommandResponse); v != "failure" {
		t.Fatalf("command.response %q", v)
	}
}

// A phone field that is not BCD holds a 48-bit IMEI without its check digit.
func TestIMEIIdent(t *testing.T) {
	s := newSession(&Codec{})
	r := protocoltest.DecodeFrame(t, s, frame(t, 0x0002, "4eb6fb4afd9e", 1, nil))
	if r.Ident != "865478070102068" {
		t.Fatalf("ident %q", r.Ident)
	}
	if PhoneBCD("13912345678", 6) == nil || hex.EncodeToString(PhoneBCD("13912345678", 6)) != "013912345678" || PhoneBCD("12a", 6) != nil {
		t.Fatal("PhoneBCD")
	}
}
