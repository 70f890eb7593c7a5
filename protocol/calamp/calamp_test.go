package calamp

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// header builds an options header with a mobile ID (IMEI, F-padded) and
// its type, and a message header.
func header(svc, typ byte, seq uint16) []byte {
	b := []byte{0x83, 8, 0x35, 0x26, 0x48, 0x06, 0x88, 0x63, 0x39, 0x8f, 1, 2}
	b = append(b, svc, typ)
	return binary.BigEndian.AppendUint16(b, seq)
}

// location builds the full location header of the LM Direct reference:
// 2019-06-09 00:07:41, 42.8949341 -85.7659106, 133.06 m, 88 cm/s, 273°,
// 8 satellites, fix status 0, carrier 410, RSSI -99, comm state 0x6F,
// HDOP 1.4, inputs 0x13, unit status 0.
func location() []byte {
	b := binary.BigEndian.AppendUint32(nil, 1560038861)
	b = binary.BigEndian.AppendUint32(b, 1560038861)
	b = binary.BigEndian.AppendUint32(b, uint32(428949341))
	v := int32(-857659106)
	b = binary.BigEndian.AppendUint32(b, uint32(v))
	b = binary.BigEndian.AppendUint32(b, 13306)
	b = binary.BigEndian.AppendUint32(b, 88)
	b = binary.BigEndian.AppendUint16(b, 273)
	b = append(b, 8, 0)
	b = binary.BigEndian.AppendUint16(b, 410)
	rssi := int16(-99)
	b = binary.BigEndian.AppendUint16(b, uint16(rssi))
	return append(b, 0x6f, 14, 0x13, 0)
}

func TestLocateAndApplicationMessages(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.UDP).(*Session)
	// A locate report (type 8) has the event report's layout.
	loc := append(header(serviceUnacknowledged, msgLocate, 5), location()...)
	loc = append(loc, 255, 3, 1, 0, 0, 0, 0x01, 0x00)
	r := protocoltest.DecodeFrame(t, s, loc)
	m := &r.Messages[0]
	if m.Ident() != "352648068863398" || len(r.Reply) != 0 {
		t.Fatalf("ident %q reply %x", m.Ident(), r.Reply)
	}
	for name, want := range map[string]float64{"position.latitude": 42.8949341, "position.altitude": 133.06,
		"position.speed": 3.168, "position.hdop": 1.4, "event.enum": 3, "custom.event.index": 255,
		"custom.accumulator#1": 256, "din": 9, "gsm.signal.dbm": -99} {
		if got, _ := m.Float(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// An application message (type 5): type, length, contents.
	app := append(header(serviceAcknowledged, msgApplication, 6), location()...)
	app = append(app, 0, 111, 0, 3, 0xaa, 0xbb, 0xcc)
	r = protocoltest.DecodeFrame(t, s, app)
	if v, _ := r.Messages[0].Str("custom.application.message.hex"); v != "aabbcc" {
		t.Errorf("application data %q", v)
	}
	if want := []byte{2, 1, 0, 6, 5, 0, 0, 0, 0, 0}; !bytes.Equal(r.Reply, want) {
		t.Errorf("ack %x, want %x", r.Reply, want)
	}
	// A later message without the options header belongs to the same unit.
	null := []byte{serviceUnacknowledged, msgNull, 0, 7}
	r = protocoltest.DecodeFrame(t, s, null)
	if r.Ident != "352648068863398" || len(r.Messages) != 0 {
		t.Errorf("null message: ident %q, %d messages", r.Ident, len(r.Messages))
	}
	// A message type not decoded is kept whole.
	r = protocoltest.DecodeFrame(t, s, append(header(serviceUnacknowledged, msgVersion, 8), 1, 2, 3))
	if v, _ := r.Messages[0].Str("custom.message.hex"); v != "010203" {
		t.Errorf("version message %s", r.Messages[0].String())
	}
}

func TestCommandsAndAcknowledgements(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.UDP).(*Session)
	cmd, err := s.EncodeCommand(nil, protocol.Command{ID: 42, Text: "HELLO"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "01040001000000054845" + "4c4c4f"; hex.EncodeToString(cmd) != want {
		t.Fatalf("user message %x, want %s", cmd, want)
	}
	req, err := s.EncodeCommand(nil, protocol.Command{ID: 43, Name: CommandUnitRequest, Data: []byte{0}})
	if err != nil || hex.EncodeToString(req) != "0107000200" {
		t.Fatalf("unit request %x, %v", req, err)
	}
	// The unit acknowledges the user message and refuses the unit request.
	ack := append(header(serviceResponse, msgAck, 1), msgUser, ackOK, 0, '8', '1', 'a')
	r := protocoltest.DecodeFrame(t, s, ack)
	if len(r.Responses) != 1 || !r.Responses[0].HasID || r.Responses[0].ID != 42 || r.Responses[0].Text != "ACK" {
		t.Fatalf("responses %+v", r.Responses)
	}
	if v, _ := r.Messages[0].Str("command.response"); v != "ACK" || len(r.Reply) != 0 {
		t.Fatalf("message %s reply %x", r.Messages[0].String(), r.Reply)
	}
	nak := append(header(serviceResponse, msgAck, 2), msgUnitRequest, nakNotSupported, 0, 0, 0, 0)
	r = protocoltest.DecodeFrame(t, s, nak)
	if r.Responses[0].ID != 43 || r.Responses[0].Text != "NAK: message type not supported" {
		t.Fatalf("responses %+v", r.Responses)
	}
	for _, bad := range []protocol.Command{{}, {Name: "reboot", Text: "x"}, {Name: CommandParameter}} {
		if _, err := s.EncodeCommand(nil, bad); err == nil {
			t.Errorf("%+v encoded", bad)
		}
	}
}

func TestRefusalAndTCP(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.UDP).(*Session)
	var r protocol.Result
	if err := s.Decode([]byte{serviceAcknowledged, msgEvent, 0x12, 0x34}, &r); err == nil {
		t.Fatal("an event report without its contents decoded")
	}
	if want := []byte{2, 1, 0x12, 0x34, msgEvent, nakMobileID, 0, 0, 0, 0}; !bytes.Equal(s.Refusal(), want) {
		t.Errorf("refusal %x, want %x", s.Refusal(), want)
	}
	if _, _, err := (&Codec{}).Split([]byte{0x83}, false); !errors.Is(err, protocol.ErrUnsupported) {
		t.Errorf("TCP: %v", err)
	}
	if err := s.Decode(make([]byte, 70000), &r); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("oversized datagram: %v", err)
	}
	// Options header fields that run past the datagram.
	if err := s.Decode([]byte{0x81, 9, 1, 2}, &r); !errors.Is(err, protocol.ErrTruncated) {
		t.Errorf("short mobile ID: %v", err)
	}
}
