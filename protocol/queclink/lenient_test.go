package queclink

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// binRSP is the +RSP of testdata/traccar-101-bin-rsp.txtar (Traccar's
// Gl200BinaryProtocolDecoderTest): its length field (bytes 9-10, 0x0064)
// equals the frame's 100 bytes.
const binRSP = "2b5253500300fc1fff0064450102020867623130302d446f642f442105007018217345005f010100000001100045073c4d4101db86bd07e106130b2b0f0460000018770013000000030000000106020f2300002714301107e106130b2b1003424efb0d0a"

func udp(t *testing.T, c *Codec, hexFrame string) protocoltest.Outcome {
	t.Helper()
	b, err := hex.DecodeString(hexFrame)
	if err != nil {
		t.Fatal(err)
	}
	return protocoltest.Decode(c, protocol.UDP, [][]byte{b})
}

// withoutMark returns m less the lenient mark, and whether it had it.
func withoutMark(m protocol.Message) (protocol.Message, bool) {
	m = m.Clone()
	marked, _ := m.Bool(protocol.ParamLengthInvalid)
	m.Delete(protocol.ParamLengthInvalid)
	return m, marked
}

// Lenient mode is the one relaxation the package makes (the binary
// checksum is not verified in either mode, text frames carry none): a
// binary datagram longer than its length field. Strict refuses it as a
// checksum-class error and gives nothing; lenient decodes it up to its
// length, the messages the clean frame gives, each marked
// "frame.length.invalid".
func TestLenientLongDatagram(t *testing.T) {
	clean := udp(t, &Codec{}, binRSP)
	if clean.Err != nil || len(clean.Messages) == 0 {
		t.Fatalf("clean frame: %v, %d messages", clean.Err, len(clean.Messages))
	}
	for _, m := range clean.Messages {
		if m.Has(protocol.ParamLengthInvalid) {
			t.Fatalf("clean frame marked: %s", &m)
		}
	}
	// Lenient or not, a clean frame decodes the same.
	if l := udp(t, &Codec{Lenient: true}, binRSP); l.Err != nil ||
		string(protocoltest.FormatMessages(l.Messages)) != string(protocoltest.FormatMessages(clean.Messages)) {
		t.Fatalf("lenient, clean frame: %v\n%s", l.Err, protocoltest.FormatMessages(l.Messages))
	}

	// The same datagram with four bytes of padding after its 0D 0A.
	long := binRSP + "00000000"
	strict := udp(t, &Codec{}, long)
	var de *protocol.DecodeError
	if !errors.Is(strict.Err, protocol.ErrChecksum) || !errors.As(strict.Err, &de) || de.Protocol != Name {
		t.Fatalf("strict: %v, want a queclink checksum error", strict.Err)
	}
	if len(strict.Messages) != 0 || len(strict.Replies) != 0 {
		t.Fatalf("strict kept %d messages, replied %q", len(strict.Messages), strict.Replies)
	}

	lenient := udp(t, &Codec{Lenient: true}, long)
	if lenient.Err != nil {
		t.Fatalf("lenient: %v", lenient.Err)
	}
	if len(lenient.Messages) != len(clean.Messages) {
		t.Fatalf("lenient: %d messages, clean frame %d", len(lenient.Messages), len(clean.Messages))
	}
	for i := range lenient.Messages {
		m, marked := withoutMark(lenient.Messages[i])
		if !marked {
			t.Errorf("message %d not marked %s: %s", i, protocol.ParamLengthInvalid, &lenient.Messages[i])
		}
		if !m.Equal(&clean.Messages[i]) {
			t.Errorf("message %d:\n got %s\nwant %s", i, &m, &clean.Messages[i])
		}
	}
	if string(lenient.Replies) != string(clean.Replies) {
		t.Errorf("lenient replies %q, clean %q", lenient.Replies, clean.Replies)
	}
}

// What lenient mode does not excuse: a datagram shorter than its length
// field, and one whose length field ends somewhere other than at 0D 0A.
func TestLenientRefuses(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		c := &Codec{Lenient: lenient}
		short := udp(t, c, binRSP[:len(binRSP)-8])
		if !errors.Is(short.Err, protocol.ErrTruncated) || len(short.Messages) != 0 {
			t.Errorf("lenient=%v, short datagram: %v, %d messages", lenient, short.Err, len(short.Messages))
		}
		// Length field one byte short: the frame it names ends in 0D, not
		// 0D 0A, and the datagram is one byte longer than it.
		b, _ := hex.DecodeString(binRSP)
		b[10]--
		o := protocoltest.Decode(c, protocol.UDP, [][]byte{b})
		want := protocol.ErrChecksum
		if lenient {
			want = protocol.ErrMalformed
		}
		if !errors.Is(o.Err, want) || len(o.Messages) != 0 {
			t.Errorf("lenient=%v, length field one short: %v, %d messages; want %v", lenient, o.Err, len(o.Messages), want)
		}
	}
}

// Over TCP the length field frames the stream, so bytes after it are the
// next frame, not part of this one: nothing is marked, in either mode.
func TestLenientTCPStream(t *testing.T) {
	b, _ := hex.DecodeString(binRSP)
	in := append(b, []byte(fri)...)
	for _, lenient := range []bool{false, true} {
		o := protocoltest.Decode(&Codec{Lenient: lenient}, protocol.TCP, [][]byte{in})
		if o.Err != nil || len(o.Messages) < 2 {
			t.Fatalf("lenient=%v: %v, %d messages", lenient, o.Err, len(o.Messages))
		}
		for _, m := range o.Messages {
			if m.Has(protocol.ParamLengthInvalid) {
				t.Errorf("lenient=%v: marked %s", lenient, &m)
			}
		}
	}
}

// Text frames carry no checksum: lenient mode changes nothing for them.
func TestLenientText(t *testing.T) {
	strict := decode(&Codec{}, protocol.TCP, fri)
	lenient := decode(&Codec{Lenient: true}, protocol.TCP, fri)
	if strict.Err != nil || lenient.Err != nil || len(strict.Messages) == 0 {
		t.Fatalf("strict %v, lenient %v, %d messages", strict.Err, lenient.Err, len(strict.Messages))
	}
	if s, l := protocoltest.FormatMessages(strict.Messages), protocoltest.FormatMessages(lenient.Messages); string(s) != string(l) {
		t.Fatalf("text frame differs:\nstrict %s\nlenient %s", s, l)
	}
}
