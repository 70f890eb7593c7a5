package egts

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/crc8"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// record builds a service data record: RL, RN, RFL (with OID when oid is
// not 0), SST = RST = service, then the subrecords.
func record(rn uint16, oid uint32, service byte, subs ...[]byte) []byte {
	var rd []byte
	for _, s := range subs {
		rd = append(rd, s...)
	}
	b := []byte{byte(len(rd)), byte(len(rd) >> 8), byte(rn), byte(rn >> 8)}
	if oid != 0 {
		b = append(b, 0x01, byte(oid), byte(oid>>8), byte(oid>>16), byte(oid>>24))
	} else {
		b = append(b, 0x00)
	}
	b = append(b, service, service)
	return append(b, rd...)
}

func sub(srt byte, data []byte) []byte {
	return append([]byte{srt, byte(len(data)), byte(len(data) >> 8)}, data...)
}

// build builds a transport packet by hand: header with its CRC-8, body
// with its CRC-16 (both little-endian where multi-byte).
func build(pid uint16, pt byte, body []byte) []byte {
	h := []byte{1, 0, 0, 11, 0, byte(len(body)), byte(len(body) >> 8), byte(pid), byte(pid >> 8), pt}
	h = append(h, crc8.NRSC5.Checksum(h))
	if len(body) == 0 {
		return h
	}
	c := crc16.CCITTFalse.Checksum(body)
	return append(append(h, body...), byte(c), byte(c>>8))
}

func newSession(c *Codec) *Session { return c.NewSession(protocol.TCP).(*Session) }

// The terminal identifies itself (TID and IMEI): the answer is the
// EGTS_PT_RESPONSE confirming the record, then EGTS_SR_RESULT_CODE 0. A
// position record follows and is confirmed.
func TestIdentAndResponses(t *testing.T) {
	s := newSession(&Codec{})
	ident := sub(srTermIdent, append([]byte{0x39, 0x30, 0, 0, 0x02}, "356307042441013"...))
	r := protocoltest.DecodeFrame(t, s, build(7, ptAppData, record(3, 0, serviceAuth, ident)))
	want := build(1, ptResponse, append([]byte{7, 0, 0}, 6, 0, 1, 0, 0, 1, 1, 0, 3, 0, 3, 0, 0))
	want = append(want, build(2, ptAppData, []byte{4, 0, 2, 0, 0, 1, 1, 9, 1, 0, 0})...)
	if !bytes.Equal(r.Reply, want) {
		t.Fatalf("reply\n%x\nwant\n%x", r.Reply, want)
	}
	if r.Ident != "356307042441013" || len(r.Messages) != 1 {
		t.Fatalf("ident %q, %d messages", r.Ident, len(r.Messages))
	}
	if tid, _ := r.Messages[0].Int("custom.terminal.id"); tid != 12345 {
		t.Fatalf("TID %d", tid)
	}

	// POS_DATA: 2026-01-02 03:04:05 UTC, 55.75 S, 37.6 W, speed 83.4
	// km/h, direction 300 (high bit in SPD), odometer 1234.5 km, altitude
	// -12 m (sign in SPD), source 5, source data 0x0102.
	var pos []byte
	ntm := uint32(1767323045 - epoch2010)
	lat := uint32(math.Round(55.75 / 90 * math.MaxUint32))
	lon := uint32(math.Round(37.6 / 180 * math.MaxUint32))
	pos = append(pos, byte(ntm), byte(ntm>>8), byte(ntm>>16), byte(ntm>>24))
	pos = append(pos, byte(lat), byte(lat>>8), byte(lat>>16), byte(lat>>24))
	pos = append(pos, byte(lon), byte(lon>>8), byte(lon>>16), byte(lon>>24))
	pos = append(pos, 0x80|0x40|0x20|0x10|0x02|0x01) // ALTE LOHS LAHS MV FIX VLD
	spd := uint16(834) | 0x4000 | 0x8000
	pos = append(pos, byte(spd), byte(spd>>8), 300-256)
	pos = append(pos, 0x39, 0x30, 0x00) // 12345 → 1234.5 km
	pos = append(pos, 0x05, 0x05)       // DIN, SRC
	pos = append(pos, 12, 0, 0, 0x02, 0x01)
	ext := sub(srExtPosData, []byte{0x1F, 0x64, 0, 0x7D, 0, 0x96, 0, 11, 0x03, 0})
	ad := sub(srADSensors, []byte{0x01, 0x02, 0x01, 0xAA, 0x10, 0x27, 0x00})
	r = protocoltest.DecodeFrame(t, s, build(8, ptAppData, record(4, 0, serviceTeledata, sub(srPosData, pos), ext, ad)))
	m := &r.Messages[0]
	for name, want := range map[string]float64{
		"timestamp": 1767323045, "position.latitude": -55.75, "position.longitude": -37.6,
		"position.speed": 83.4, "position.direction": 300, "vehicle.mileage": 1234.5,
		"position.altitude": -12, "event.enum": 5, "custom.event.data": 0x0102,
		"position.vdop": 1, "position.hdop": 1.25, "position.pdop": 1.5, "position.satellites": 11,
		"din": 0xAA05, "dout": 2, "custom.ain#1": 10000,
	} {
		if got, ok := m.Float(name); !ok || math.Abs(got-want) > 1e-6 {
			t.Errorf("%s = %v, want %v\n%s", name, got, want, m.String())
		}
	}
	if v, _ := m.Str(protocol.ParamIdent); v != "356307042441013" {
		t.Errorf("ident %q", v)
	}
	if want := build(3, ptResponse, append([]byte{8, 0, 0}, 6, 0, 3, 0, 0, 2, 2, 0, 3, 0, 4, 0, 0)); !bytes.Equal(r.Reply, want) {
		t.Fatalf("position reply\n%x\nwant\n%x", r.Reply, want)
	}
}

// Without an identification, the records' object id is the ident.
func TestObjectIDIdent(t *testing.T) {
	s := newSession(&Codec{})
	r := protocoltest.DecodeFrame(t, s, build(1, ptAppData, record(1, 0x9a2cc762, serviceTeledata, sub(srState, []byte{2, 125, 40, 41, 0x04}))))
	if r.Ident != "2586625890" {
		t.Fatalf("ident %q", r.Ident)
	}
	m := &r.Messages[0]
	if v, _ := m.Float("external.powersource.voltage"); v != 12.5 {
		t.Errorf("main power %v", v)
	}
	if v, _ := m.Bool("gnss.status"); !v {
		t.Error("navigation module flag")
	}
}

func TestChecks(t *testing.T) {
	good := build(1, ptAppData, record(1, 5, serviceTeledata, sub(srCounters, []byte{0x01, 1, 2, 3})))
	for i, corrupt := range []int{10, len(good) - 1} {
		bad := bytes.Clone(good)
		bad[corrupt] ^= 0x40
		var r protocol.Result
		if err := newSession(&Codec{}).Decode(bad, &r); !errors.Is(err, protocol.ErrChecksum) {
			t.Fatalf("%d: strict: %v", i, err)
		}
		r = protocol.Result{}
		if err := newSession(&Codec{Lenient: true}).Decode(bad, &r); err != nil {
			t.Fatalf("%d: lenient: %v", i, err)
		}
		if v, _ := r.Messages[0].Bool(protocol.ParamChecksumInvalid); !v {
			t.Fatalf("%d: not marked", i)
		}
	}
	c := &Codec{}
	if adv, f, err := c.Split(append(good, good[:5]...), false); err != nil || adv != len(good) || !bytes.Equal(f, good) {
		t.Fatalf("Split = %d, %v", adv, err)
	}
	if _, _, err := c.Split([]byte{2, 0, 0}, false); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("bad version: %v", err)
	}
	if _, _, err := (&Codec{MaxFrameSize: 20}).Split(good, false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Fatalf("too large: %v", err)
	}
}

// A command, and the terminal's confirmation carrying its id.
func TestCommands(t *testing.T) {
	s := newSession(&Codec{})
	cmd, err := s.EncodeCommand(nil, protocol.Command{ID: 0x01020304, Text: "RESET"})
	if err != nil {
		t.Fatal(err)
	}
	cd := append([]byte{0x50, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "RESET"...)
	want := build(1, ptAppData, record(1, 0, serviceCommands, sub(srCommandData, cd)))
	if !bytes.Equal(cmd, want) {
		t.Fatalf("command\n%x\nwant\n%x", cmd, want)
	}
	conf := append([]byte{0x10, 4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "DONE"...)
	r := protocoltest.DecodeFrame(t, s, build(9, ptAppData, record(1, 77, serviceCommands, sub(srCommandData, conf))))
	if len(r.Responses) != 1 || r.Responses[0].ID != 0x01020304 || !r.Responses[0].HasID || r.Responses[0].Text != "ok: DONE" {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, _ := r.Messages[0].Str(protocol.ParamCommandResponse); v != "ok: DONE" {
		t.Fatalf("command.response %q", v)
	}
	if _, err := s.EncodeCommand(nil, protocol.Command{Name: "reboot"}); !errors.Is(err, protocol.ErrUnsupported) {
		t.Fatalf("unknown kind: %v", err)
	}
	if got := s.Refusal(); !bytes.HasSuffix(got[:len(got)-2], []byte{9, 1, 0, 151}) {
		t.Fatalf("refusal %x", got)
	}
}
