package arnavi

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// packet builds a PACKAGE packet with its checksum (sum of time and data).
func packet(typ byte, ts uint32, data []byte) []byte {
	b := []byte{typ, byte(len(data)), byte(len(data) >> 8), byte(ts), byte(ts >> 8), byte(ts >> 16), byte(ts >> 24)}
	b = append(b, data...)
	return append(b, sum(b[3:]))
}

func TestAnswers(t *testing.T) {
	c := &Codec{Now: fixedNow}
	s := c.NewSession(protocol.TCP)
	// HEADER v1 (0x22): 7B 00 00 7D; the IMEI is 8 bytes little-endian.
	r := protocoltest.DecodeFrame(t, s, protocoltest.Hex(t, "ff22f30c45f5c90f0300"))
	if hex.EncodeToString(r.Reply) != "7b00007d" || r.Ident != "861785007918323" {
		t.Fatalf("header v1: reply %x ident %q", r.Reply, r.Ident)
	}
	// HEADER v2 (0x23): 7B 04 00 CS <time LE> 7D with the server's time.
	r = protocoltest.DecodeFrame(t, s, protocoltest.Hex(t, "ff23f30c45f5c90f0300"))
	ts := uint32(fixedNow().Unix())
	tb := []byte{byte(ts), byte(ts >> 8), byte(ts >> 16), byte(ts >> 24)}
	want := append([]byte{0x7B, 4, 0, tb[0] + tb[1] + tb[2] + tb[3]}, tb...)
	if want = append(want, 0x7D); !bytes.Equal(r.Reply, want) {
		t.Fatalf("header v2: reply %x, want %x", r.Reply, want)
	}
	// A package is confirmed with its number.
	tags := []byte{0x03, 0, 0, 0x60, 0x42, 0x04, 0, 0, 0x16, 0x42, 0x05, 45, 12, 0x35, 20, 0x97, 219, 0, 0, 0}
	pkg := append(append([]byte{0x5B, 0x2A}, packet(packetTags, 1700000000, tags)...), 0x5D)
	r = protocoltest.DecodeFrame(t, s, pkg)
	if hex.EncodeToString(r.Reply) != "7b002a7d" || len(r.Messages) != 1 {
		t.Fatalf("package: reply %x, %d messages", r.Reply, len(r.Messages))
	}
	m := &r.Messages[0]
	for name, want := range map[string]float64{
		"position.latitude": 56, "position.longitude": 37.5, "position.direction": 90,
		"position.altitude": 120, "position.satellites": 8, "position.speed": 37.04,
		"position.hdop": 2.19, "timestamp": 1700000000,
	} {
		if got, _ := m.Float(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// An answer to a command (package 0xFD): a response, no confirmation.
	ans := append(append([]byte{0x5B, 0xFD}, packet(packetText, 1700000001, []byte("OK"))...), 0x5D)
	r = protocoltest.DecodeFrame(t, s, ans)
	if len(r.Reply) != 0 || len(r.Responses) != 1 || r.Responses[0].Text != "OK" {
		t.Fatalf("answer: reply %x responses %+v", r.Reply, r.Responses)
	}
	// A wrong packet checksum: an error unless lenient.
	bad := bytes.Clone(pkg)
	bad[len(bad)-2]++
	var res protocol.Result
	if err := s.Decode(bad, &res); !errors.Is(err, protocol.ErrChecksum) {
		t.Fatalf("bad checksum: %v", err)
	}
	res = protocol.Result{}
	if err := (&Codec{Lenient: true}).NewSession(protocol.TCP).Decode(bad, &res); err != nil || len(res.Messages) != 1 {
		t.Fatalf("lenient: %v", err)
	}
}

func TestCommand(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	got, err := s.EncodeCommand(nil, protocol.Command{Text: "AB"})
	if err != nil || hex.EncodeToString(got) != "7b0201834142"+"7d" {
		t.Fatalf("command %x, %v", got, err)
	}
	if _, err := s.EncodeCommand(nil, protocol.Command{Name: "x", Text: "y"}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Fatalf("named: %v", err)
	}
}

func TestSplit(t *testing.T) {
	c := &Codec{}
	text := []byte("$AV,V6SD,85164,20708,-1,3,6,37,33,*52\r\n")
	adv, f, err := c.Split(text, false)
	if err != nil || adv != len(text)-2 || string(f) != "$AV,V6SD,85164,20708,-1,3,6,37,33,*52" {
		t.Fatalf("text: %d %q %v", adv, f, err)
	}
	if adv, f, err := c.Split(text[adv:], false); adv != 2 || f != nil || err != nil {
		t.Fatalf("CR LF: %d %q %v", adv, f, err)
	}
	if _, _, err := c.Split([]byte{0x01, 0x02}, false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("garbage: %v", err)
	}
	if _, _, err := (&Codec{MaxFrameSize: 20}).Split([]byte{0x5B, 1, 1, 0xFF, 0x00}, false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Fatalf("too large: %v", err)
	}
}
