package galileosky

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// packet frames tags as a device does: header, length (bit 15: archive),
// tags, CRC-16/MODBUS little-endian.
func packet(header byte, archive bool, body []byte) []byte {
	n := uint16(len(body))
	if archive {
		n |= 0x8000
	}
	p := []byte{header, byte(n), byte(n >> 8)}
	p = append(p, body...)
	return binary.LittleEndian.AppendUint16(p, crc16.Modbus.Checksum(p))
}

const testIMEI = "862057047745531"

// The head packet of the pikhovkin/galileosky test suite, then a command
// answer with the command's number.
func TestCommandRoundTrip(t *testing.T) {
	head, _ := hex.DecodeString("0117800182021003383632303537303437373435353331043200b548")
	c := &Codec{}
	s := c.NewSession(protocol.TCP).(*Session)
	if _, err := s.EncodeCommand(nil, protocol.Command{Text: "status"}); !errors.Is(err, ErrNoHead) {
		t.Fatalf("before the head packet: %v", err)
	}
	var r protocol.Result
	if err := s.Decode(head, &r); err != nil {
		t.Fatal(err)
	}
	if r.Ident != testIMEI || hex.EncodeToString(r.Reply) != "02b548" {
		t.Fatalf("ident %q, reply %x", r.Ident, r.Reply)
	}
	cmd, err := s.EncodeCommand(nil, protocol.Command{ID: 0x01020304, Text: "status"})
	if err != nil {
		t.Fatal(err)
	}
	// The layout of the document's "structure of a packet with a command".
	want := "01" + "2000" + "03" + hex.EncodeToString([]byte(testIMEI)) + "04" + "3200" + "e0" + "04030201" + "e1" + "06" + hex.EncodeToString([]byte("status"))
	if got := hex.EncodeToString(cmd[:len(cmd)-2]); got != want {
		t.Fatalf("command\n got %s\nwant %s", got, want)
	}
	if crc16.Modbus.Checksum(cmd[:len(cmd)-2]) != binary.LittleEndian.Uint16(cmd[len(cmd)-2:]) {
		t.Fatal("command CRC")
	}
	// The answer has the same structure with the reply text.
	answer := AppendCommand(nil, testIMEI, 50, 0x01020304, "Dev50 Soft=91 Pack=17230")
	r.Reset()
	if err := s.Decode(answer, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || !r.Responses[0].HasID || r.Responses[0].ID != 0x01020304 || r.Responses[0].Text != "Dev50 Soft=91 Pack=17230" {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, _ := r.Messages[0].Str(protocol.ParamCommandResponse); v != "Dev50 Soft=91 Pack=17230" {
		t.Fatalf("message %s", r.Messages[0].String())
	}
	for _, bad := range []protocol.Command{{Text: ""}, {Name: "x", Text: "a"}} {
		if _, err := s.EncodeCommand(nil, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// bitWriter packs fields most significant bit first.
type bitWriter struct {
	b   []byte
	pos int
}

func (w *bitWriter) put(v uint64, n int) {
	for i := n - 1; i >= 0; i-- {
		if w.pos/8 >= len(w.b) {
			w.b = append(w.b, 0)
		}
		if v>>uint(i)&1 != 0 {
			w.b[w.pos/8] |= 0x80 >> uint(w.pos%8)
		}
		w.pos++
	}
}

func TestCompressedPacket(t *testing.T) {
	var w bitWriter
	w.b = make([]byte, 10)
	w.put(0, 1)
	w.put(86400*31+3600, 25) // 1 February, 01:00 of the year
	w.put(0, 1)              // valid
	lon, lat := 30.5, 59.9
	w.put(uint64(math.Round((lon+180)*4194304/360)), 22)
	w.put(uint64(math.Round((lat+90)*2097152/180)), 21)
	w.put(1, 1) // alarm
	body := append(w.b[:10], 2, 0x41, 0x43)
	body = binary.LittleEndian.AppendUint16(body, 12600) // 12.6 V
	body = append(body, 0xEB)                            // −21 °C
	p := packet(hdrCompressed, false, body)
	o := protocoltest.Decode(&Codec{Now: fixedNow}, protocol.TCP, [][]byte{p})
	if o.Err != nil || len(o.Messages) != 1 {
		t.Fatalf("%+v", o)
	}
	m := &o.Messages[0]
	ts, _ := m.Float("timestamp")
	la, _ := m.Float("position.latitude")
	lo, _ := m.Float("position.longitude")
	v, _ := m.Float("external.powersource.voltage")
	tc, _ := m.Float("device.temperature")
	al, _ := m.Bool("alarm.event.trigger")
	if ts != 1704067200+86400*31+3600 || math.Abs(la-lat) > 1e-4 || math.Abs(lo-lon) > 1e-4 || v != 12.6 || tc != -21 || !al {
		t.Fatalf("%s", m.String())
	}
	if hex.EncodeToString(o.Replies) != "02"+hex.EncodeToString(p[len(p)-2:]) {
		t.Fatalf("reply %x", o.Replies)
	}
}

func TestPhotoAndGarmin(t *testing.T) {
	part := packet(hdrPhoto, false, []byte{3, 0xFF, 0xD8})
	end := packet(hdrPhoto, false, []byte{4})
	fmi := packet(hdrGarmin, false, []byte{0x10, 0xA1})
	o := protocoltest.Decode(&Codec{}, protocol.TCP, [][]byte{part, end, fmi})
	if o.Err != nil || len(o.Messages) != 3 {
		t.Fatalf("%+v", o)
	}
	want := "07" + hex.EncodeToString(part[len(part)-2:]) + "07" + hex.EncodeToString(end[len(end)-2:])
	if hex.EncodeToString(o.Replies) != want {
		t.Fatalf("replies %x, want %s (Garmin data is not confirmed)", o.Replies, want)
	}
}

// A tag the table does not know ends decoding; what follows is kept.
func TestUnknownTag(t *testing.T) {
	body := []byte{0x20, 1, 2, 3, 4, 0x42, 0x10, 0x10, 0x4F, 9, 9}
	var r protocol.Result
	if err := (&Codec{}).NewSession(protocol.TCP).Decode(packet(hdrMain, false, body), &r); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Messages[0].Str("custom.tags.tail"); v != "4f0909" {
		t.Fatalf("%s", r.Messages[0].String())
	}
}

func TestChecksumAndFraming(t *testing.T) {
	p := packet(hdrMain, false, []byte{0x20, 1, 2, 3, 4})
	p[len(p)-1] ^= 0xFF
	var r protocol.Result
	if err := (&Codec{}).NewSession(protocol.TCP).Decode(p, &r); !errors.Is(err, protocol.ErrChecksum) {
		t.Fatalf("bad CRC: %v", err)
	}
	r.Reset()
	if err := (&Codec{Lenient: true}).NewSession(protocol.TCP).Decode(p, &r); err != nil || len(r.Messages) != 1 {
		t.Fatalf("lenient: %v", err)
	}
	if v, _ := r.Messages[0].Bool(protocol.ParamChecksumInvalid); !v {
		t.Fatalf("%s", r.Messages[0].String())
	}
	c := &Codec{MaxFrameSize: 100}
	if _, _, err := c.Split([]byte{0x05, 0, 0}, false); !errors.Is(err, protocol.ErrMalformed) {
		t.Errorf("bad header: %v", err)
	}
	if _, _, err := c.Split([]byte{0x01, 0xFF, 0x7F, 0x20, 0, 0}, false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("long length: %v", err)
	}
}
