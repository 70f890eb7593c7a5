package suntech

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// decodeAll runs frames through one session as a channel would.
func decodeAll(t *testing.T, c *Codec, tr protocol.Transport, frames ...string) protocoltest.Outcome {
	t.Helper()
	var in [][]byte
	for _, f := range frames {
		in = append(in, []byte(f))
	}
	return protocoltest.Decode(c, tr, in)
}

const stt = "ST300STT;100850000;01;010;20081017;07:41:56;2F100;+37.478519;+126.886819;032.512;045.00;9;1;500;15.30;001100;2;0002;2000;4.5;1\r"

// The command examples of the ST300 manual (§7-2 StatusReq, §7-3 Reset)
// and the answer form "ST300CMD;Res;<id>;<version>;<command>".
func TestCommandsLegacy(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	if _, err := s.EncodeCommand(nil, protocol.Command{Text: "StatusReq"}); !errors.Is(err, ErrNoID) {
		t.Fatalf("command before the device ID is known: %v", err)
	}
	var r protocol.Result
	if err := s.Decode([]byte(strings.TrimSuffix(stt, "\r")), &r); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    protocol.Command
		want string
	}{
		{protocol.Command{Text: "StatusReq"}, "ST300CMD;100850000;02;StatusReq\r"},
		{protocol.Command{Text: "Reset"}, "ST300CMD;100850000;02;Reset\r"},
		{protocol.Command{Text: "AckEmerg"}, "ST300CMD;100850000;02;AckEmerg\r"},
		{protocol.Command{Name: "ADP", Text: "U;T;2;9000;0;0;0;0;0;0"}, "ST300ADP;100850000;02;U;T;2;9000;0;0;0;0;0;0\r"},
	} {
		got, err := s.EncodeCommand(nil, tc.c)
		if err != nil || string(got) != tc.want {
			t.Errorf("%+v: %q, %v; want %q", tc.c, got, err, tc.want)
		}
	}
	for _, bad := range []protocol.Command{{Text: ""}, {Text: "a\rb"}, {Name: "cmd", Text: "x"}, {Text: strings.Repeat("x", 2000)}} {
		if _, err := s.EncodeCommand(nil, bad); !errors.Is(err, ErrCommandText) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	r.Reset()
	if err := s.Decode([]byte("ST300CMD;Res;100850000;010;Reset"), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Responses) != 1 || r.Responses[0].Text != "Reset" || r.Responses[0].HasID {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, _ := r.Messages[0].Str(protocol.ParamCommandResponse); v != "Reset" {
		t.Fatalf("message %s", r.Messages[0].String())
	}
}

func TestCommandsUniversal(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP).(*Session)
	var r protocol.Result
	if err := s.Decode([]byte("STT;0560001616;BFFFFF;56;1.0.15;1;20200219;20:52:25;00008D6C;334;20;0925;24;+20.741764;-103.430364;0.00;0.00;19;1;00000001;00000000;2;1;1765;00008003;0.0;12.14;136598"), &r); err != nil {
		t.Fatal(err)
	}
	got, err := s.EncodeCommand(nil, protocol.Command{Text: "03;01"})
	if err != nil || string(got) != "CMD;0560001616;03;01\r" {
		t.Fatalf("%q, %v", got, err)
	}
	r.Reset()
	if err := s.Decode([]byte("RES;0560001616;03;01;OK"), &r); err != nil || r.Responses[0].Text != "03;01;OK" {
		t.Fatalf("%+v, %v", r.Responses, err)
	}
}

// Over UDP the device waits for "ST300ACK;<id>" (ST300 manual, "ACK in case
// of UDP") and sends the report again without it; over TCP nothing is sent.
func TestUDPAck(t *testing.T) {
	o := decodeAll(t, &Codec{}, protocol.UDP, stt)
	if o.Err != nil || string(o.Replies) != "ST300ACK;100850000" {
		t.Fatalf("UDP: %q, %v", o.Replies, o.Err)
	}
	o = decodeAll(t, &Codec{}, protocol.TCP, stt)
	if o.Err != nil || len(o.Replies) != 0 {
		t.Fatalf("TCP: %q, %v", o.Replies, o.Err)
	}
	// Keep-alives and answers are not acknowledged.
	o = decodeAll(t, &Codec{}, protocol.UDP, "ST300ALV;100850000\r")
	if o.Err != nil || len(o.Replies) != 0 || o.Ident != "100850000" {
		t.Fatalf("ALV: %q, %v, %q", o.Replies, o.Err, o.Ident)
	}
}

func TestAckEmergency(t *testing.T) {
	emg := "ST300EMG;100850000;01;010;20081017;07:41:56;2F100;+37.478519;+126.886819;000.012;000.00;9;1;0;15.30;001100;1;2000;4.5;1\r"
	o := decodeAll(t, &Codec{}, protocol.TCP, emg)
	if o.Err != nil || len(o.Replies) != 0 {
		t.Fatalf("default: %q, %v", o.Replies, o.Err)
	}
	if sos, _ := o.Messages[0].Bool("sos.event.trigger"); !sos {
		t.Errorf("EMG_ID 1 (panic button) without sos: %s", o.Messages[0].String())
	}
	o = decodeAll(t, &Codec{AckEmergency: true}, protocol.TCP, emg)
	if o.Err != nil || string(o.Replies) != "ST300CMD;100850000;02;AckEmerg\r" {
		t.Fatalf("AckEmergency: %q, %v", o.Replies, o.Err)
	}
}

// zipFrame builds a legacy zip status report from the layout of the
// ST300 manual (§6-2-2 and the alert and UEX zip tables).
func zipFrame(hdr byte, body []byte) []byte {
	p := []byte{hdr, 0x10, 0x08, 0x50, 0x00, 0x00, 0x01, 0x00, 0x0a}
	p = append(p, 8, 10, 17, 7, 41, 56)               // 2008-10-17 07:41:56
	p = append(p, 0x02, 0xf1, 0x00)                   // LAC 0x02F1, BSIC 0
	p = append(p, 37, 0x47, 0x85, 0x19)               // 37.478519
	p = append(p, 126, 0x88, 0x68, 0x19)              // 126.886819 (west: sign bit)
	p = append(p, 0x00, 0x20, 0x51, 0x00, 0x2d, 0x00) // 32.51 km/h, 45.00°
	p = append(p, 0x80|0x20|9)                        // fixed, west, 9 satellites
	p = binary.BigEndian.AppendUint32(p, 500)         // metres
	p = append(p, 15, 0x30, 0b000101)                 // 15.30 V; ignition, input 2
	p = append(p, body...)
	out := []byte{zipSTX, 0, 0}
	binary.BigEndian.PutUint16(out[1:], uint16(len(p)))
	out = append(out, p...)
	return append(out, zipETX)
}

func TestZip(t *testing.T) {
	hbm := []byte{0, 0, 0x07, 0xd0, 4, 0x50, 1} // 2000 min, 4.50 V, real time
	o := decodeAll(t, &Codec{}, protocol.TCP, string(zipFrame(zipSTT, append([]byte{2, 0, 2}, hbm...))))
	if o.Err != nil || len(o.Messages) != 1 {
		t.Fatalf("%v %d", o.Err, len(o.Messages))
	}
	m := &o.Messages[0]
	for name, want := range map[string]float64{
		"timestamp": 1224229316, "position.latitude": 37.478519, "position.longitude": -126.886819,
		"position.speed": 32.51, "position.direction": 45, "position.satellites": 9, "vehicle.mileage": 0.5,
		"external.powersource.voltage": 15.3, "din": 2, "dout": 0, "custom.mode.enum": 2, "record.seqnum": 2,
		"battery.voltage": 4.5, "engine.motorhours": 2000.0 / 60, "device.type.enum": 1,
	} {
		if got, ok := m.Float(name); !ok || got != want {
			t.Errorf("%s = %v, want %v (%s)", name, got, want, m.String())
		}
	}
	if m.Ident() != "100850000" {
		t.Errorf("ident %q", m.Ident())
	}
	// UDP: the zip acknowledgement, 0x15 and the BCD device ID.
	o = decodeAll(t, &Codec{}, protocol.UDP, string(zipFrame(zipALT, []byte{41})))
	if o.Err != nil || !bytes.Equal(o.Replies, []byte{0x15, 0x10, 0x08, 0x50, 0x00, 0x00}) {
		t.Fatalf("UDP zip ack %x, %v", o.Replies, o.Err)
	}
	if v, _ := o.Messages[0].Bool("external.powersource.status"); v {
		t.Errorf("alert 41 (main power disconnected): %s", o.Messages[0].String())
	}
	// UEX: serial data with its checksum.
	data := []byte("012345")
	uex := append(binary.BigEndian.AppendUint16(nil, uint16(len(data))), data...)
	uex = append(uex, 0x2f)
	o = decodeAll(t, &Codec{}, protocol.TCP, string(zipFrame(zipUEX, uex)))
	if o.Err != nil {
		t.Fatal(o.Err)
	}
	if v, _ := o.Messages[0].Str("custom.serial.data"); v != "012345" {
		t.Errorf("serial %s", o.Messages[0].String())
	}
	uex[len(uex)-1] = 0x30
	if o = decodeAll(t, &Codec{}, protocol.TCP, string(zipFrame(zipUEX, uex))); !errors.Is(o.Err, protocol.ErrChecksum) {
		t.Errorf("bad zip UEX checksum: %v", o.Err)
	}
}

// A UEX report's data may hold CRLF, which does not end the report; the
// 8-bit sum and the length count it.
func TestUEXWithCRLF(t *testing.T) {
	data := "AB;C\r\nD"
	var sum byte
	for i := 0; i < len(data); i++ {
		sum += data[i]
	}
	rep := fmt.Sprintf("ST300UEX;100850000;01;010;20081017;07:41:56;2F100;+37.478519;+126.886819;000.012;000.00;9;1;0;15.30;001100;%d;%s;%02X;0;4.5;1\r", len(data), data, sum)
	o := decodeAll(t, &Codec{}, protocol.TCP, rep+stt)
	if o.Err != nil || len(o.Messages) != 2 {
		t.Fatalf("%v, %d messages", o.Err, len(o.Messages))
	}
	if v, _ := o.Messages[0].Str("custom.serial.data"); v != data {
		t.Errorf("serial data %q", v)
	}
	protocoltest.CheckChunked(t, &Codec{}, []byte(rep+stt))
}

func TestCrashReportParts(t *testing.T) {
	part := func(n, of int, data []byte, sum int) string {
		if sum < 0 {
			var s byte
			for _, c := range data {
				s += c
			}
			sum = int(s)
		}
		return fmt.Sprintf("CRR;0910000063;%d;%d;%04d;%s;%02X\r", n, of, len(data), data, sum)
	}
	first := []byte{22, 1, 28, 21, 15, 10, '\r', 1, 2}
	second := []byte{3, 4, 5}
	o := decodeAll(t, &Codec{}, protocol.TCP, part(1, 2, first, -1), part(2, 2, second, -1))
	if o.Err != nil || len(o.Messages) != 1 {
		t.Fatalf("%v, %d messages", o.Err, len(o.Messages))
	}
	if v, _ := o.Messages[0].Str("custom.crash.data"); v != "16011c150f0a0d0102030405" {
		t.Errorf("crash data %s", v)
	}
	if ts, _ := o.Messages[0].Float("timestamp"); ts != 1643404510 {
		t.Errorf("timestamp %v", ts)
	}
	o = decodeAll(t, &Codec{}, protocol.TCP, part(1, 1, second, 0))
	if !errors.Is(o.Err, protocol.ErrChecksum) {
		t.Errorf("bad checksum: %v", o.Err)
	}
	o = decodeAll(t, &Codec{Lenient: true}, protocol.TCP, part(1, 1, second, 0))
	if o.Err != nil || !o.Messages[0].Has(protocol.ParamChecksumInvalid) {
		t.Errorf("lenient: %v", o.Err)
	}
	// A part out of order is dropped with what came before it.
	o = decodeAll(t, &Codec{}, protocol.TCP, part(2, 2, second, -1))
	if o.Err != nil || len(o.Messages) != 0 {
		t.Errorf("lone second part: %v, %d messages", o.Err, len(o.Messages))
	}
}

func TestFraming(t *testing.T) {
	c := &Codec{MaxFrameSize: 64}
	if _, _, err := c.Split([]byte(strings.Repeat("A", 64)), false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("long text: %v", err)
	}
	if _, _, err := c.Split([]byte{0x81, 0x10, 0x00}, false); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("long binary: %v", err)
	}
	// "\r\n" ends a report too, and the '\n' is skipped.
	o := decodeAll(t, &Codec{}, protocol.TCP, strings.TrimSuffix(stt, "\r")+"\r\n"+stt)
	if o.Err != nil || len(o.Messages) != 2 {
		t.Fatalf("%v, %d messages", o.Err, len(o.Messages))
	}
	// A report cut short at the end of the stream is truncated, not decoded.
	o = decodeAll(t, &Codec{}, protocol.TCP, stt[:60])
	if !errors.Is(o.Err, protocol.ErrTruncated) || len(o.Messages) != 0 {
		t.Fatalf("cut report: %v, %d messages", o.Err, len(o.Messages))
	}
	for _, bad := range []string{"st300stt;1\r", "ST300STT;12a;01\r", "ST300STT;100850000;01;010;2008101;07:41:56\r"} {
		if o := decodeAll(t, &Codec{}, protocol.TCP, bad); !errors.Is(o.Err, protocol.ErrMalformed) && !errors.Is(o.Err, protocol.ErrTruncated) {
			t.Errorf("%q: %v", bad, o.Err)
		}
	}
}
