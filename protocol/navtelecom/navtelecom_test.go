package navtelecom

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc8"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func newSession() *Session { return (&Codec{}).NewSession(protocol.TCP).(*Session) }

// The command encoder's output in Traccar's NavisProtocolEncoderTest:
// "*!SETOUT 1Y" to device 0 from server 1.
func TestEncodeCommand(t *testing.T) {
	s := newSession()
	// A handshake from device 0 to server 1 sets the addresses.
	protocoltest.DecodeFrame(t, s, AppendNTCB(nil, [4]byte{'@', 'N', 'T', 'C'}, 1, 0, []byte("*>S:861785005126069")))
	got, err := s.EncodeCommand(nil, protocol.Command{Text: "SETOUT 1Y"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "404e544300000000010000000b004f5c2a215345544f5554203159"; hex.EncodeToString(got) != want {
		t.Fatalf("command %x, want %s", got, want)
	}
	r := protocoltest.DecodeFrame(t, s, AppendNTCB(nil, [4]byte{'@', 'N', 'T', 'C'}, 1, 0, []byte("*@SETOUT OK")))
	if len(r.Responses) != 1 || r.Responses[0].Text != "SETOUT OK" || len(r.Messages) != 1 {
		t.Fatalf("answer: %+v", r)
	}
	if _, err := s.EncodeCommand(nil, protocol.Command{Name: "x", Text: "y"}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Fatalf("named command: %v", err)
	}
}

// FLEX answers: "~A" + count, "~T" + event index, "~C", each closed by the
// EGTS CRC-8.
func TestFlexAnswers(t *testing.T) {
	s := newSession()
	protocoltest.DecodeFrame(t, s, AppendNTCB(nil, [4]byte{'@', 'N', 'T', 'C'}, 1, 7, []byte("*>S:123456789012345")))
	// Fields 1 (record number), 3 (time), 8 (GNSS), 10, 11 (coordinates).
	nego := append([]byte("*>FLEX"), flexID, flex10, flex10, 11, 0xA1, 0x60)
	r := protocoltest.DecodeFrame(t, s, AppendNTCB(nil, [4]byte{'@', 'N', 'T', 'C'}, 1, 7, nego))
	if want := AppendNTCB(nil, [4]byte{'@', 'N', 'T', 'C'}, 7, 1, []byte("*<FLEX\xb0\x0a\x0a")); !bytes.Equal(r.Reply, want) {
		t.Fatalf("negotiation answer %x, want %x", r.Reply, want)
	}
	if s.RecordSize() != 4+4+1+4+4 {
		t.Fatalf("record size %d", s.RecordSize())
	}
	rec := []byte{1, 0, 0, 0, 0x80, 0xF9, 0x5E, 0x69, 0x0B, 0x70, 0xC6, 0xFE, 0x01, 0x40, 0x4C, 0x77, 0x01}
	// lat 33,474,160 / 600000 = 55.79026667, lon 24,595,520 / 600000 = 40.99253333
	frame := func(body []byte) []byte { return append(body, crc8.NRSC5.Checksum(body)) }
	for _, tc := range []struct {
		in, reply []byte
	}{
		{frame(append([]byte{'~', 'A', 2}, append(bytes.Clone(rec), rec...)...)), frame([]byte{'~', 'A', 2})},
		{frame(append([]byte{'~', 'T', 9, 0, 0, 0}, rec...)), frame([]byte{'~', 'T', 9, 0, 0, 0})},
		{frame(append([]byte{'~', 'C'}, rec...)), frame([]byte{'~', 'C'})},
	} {
		adv, f, err := s.Split(append(bytes.Clone(tc.in), 0x7F), false)
		if err != nil || adv != len(tc.in) || !bytes.Equal(f, tc.in) {
			t.Fatalf("Split(%x) = %d, %v", tc.in, adv, err)
		}
		r := protocoltest.DecodeFrame(t, s, tc.in)
		if !bytes.Equal(r.Reply, tc.reply) {
			t.Fatalf("%c: reply %x, want %x", tc.in[1], r.Reply, tc.reply)
		}
		m := &r.Messages[0]
		if lat, _ := m.Float(protocol.ParamLatitude); lat != 55.7902667 {
			t.Errorf("latitude %v", lat)
		}
		if ts, _ := m.Int(protocol.ParamTimestamp); ts != 1767831936 {
			t.Errorf("timestamp %v", ts)
		}
		if v, _ := m.Bool(protocol.ParamValid); !v {
			t.Errorf("valid: %s", m.String())
		}
	}
	bad := frame(append([]byte{'~', 'C'}, rec...))
	bad[len(bad)-1] ^= 1
	var res protocol.Result
	if err := s.Decode(bad, &res); !errors.Is(err, protocol.ErrChecksum) {
		t.Fatalf("bad CRC: %v", err)
	}
	// ~E and ~X: length-prefixed extended records, kept whole.
	ext := frame([]byte{'~', 'E', 2, 2, 0, 0xAA, 0xBB, 1, 0, 0xCC})
	if adv, _, err := s.Split(ext, false); err != nil || adv != len(ext) {
		t.Fatalf("Split ~E = %d, %v", adv, err)
	}
	r = protocoltest.DecodeFrame(t, s, ext)
	if len(r.Messages) != 2 || !bytes.Equal(r.Reply, frame([]byte{'~', 'E', 2})) {
		t.Fatalf("~E: %d messages, reply %x", len(r.Messages), r.Reply)
	}
}

func TestSplitAndChecks(t *testing.T) {
	s := newSession()
	if _, _, err := s.Split([]byte("~A\x01"), false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("FLEX before negotiation: %v", err)
	}
	if _, _, err := (&Codec{}).Split([]byte("xyz"), false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("garbage: %v", err)
	}
	f := AppendNTCB(nil, [4]byte{'@', 'N', 'T', 'C'}, 1, 2, []byte("*>S:1"))
	if adv, fr, err := (&Codec{}).Split(append(bytes.Clone(f), '@'), false); err != nil || adv != len(f) || !bytes.Equal(fr, f) {
		t.Fatalf("Split NTCB = %d, %v", adv, err)
	}
	f[14] ^= 1
	var r protocol.Result
	if err := s.Decode(f, &r); !errors.Is(err, protocol.ErrChecksum) {
		t.Fatalf("bad data XOR: %v", err)
	}
	ls := (&Codec{Lenient: true}).NewSession(protocol.TCP)
	if err := ls.Decode(f, &r); err != nil || r.Ident != "1" {
		t.Fatalf("lenient: %v %q", err, r.Ident)
	}
}
