package jt808

import (
	"bytes"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// No public capture exists for these messages, so each frame is built from
// the body layout of JT/T 808-2013 (the message named on each case; section numbers are not given, as the document was not at hand to check them) with the
// hand-made framing of frame (header, XOR check code, 7D escaping), decoded
// through the session, and checked parameter by parameter and reply byte by
// reply byte.

// wantParams checks each named parameter's value exactly.
func wantParams(t *testing.T, m *protocol.Message, want map[string]protocol.Value) {
	t.Helper()
	for name, v := range want {
		got, ok := m.Lookup(name)
		if !ok || !got.Equal(v) {
			t.Errorf("%s = %v (present %v), want %v\n%s", name, got, ok, v, m)
		}
	}
}

// ack is the platform general response 0x8001 (JT/T 808-2013): the
// answered serial and ID, result 0, sent with the platform's serial.
func ack(t *testing.T, phone string, platformSerial, serial, id uint16) []byte {
	return frame(t, 0x8001, phone, platformSerial, []byte{byte(serial >> 8), byte(serial), byte(id >> 8), byte(id), 0})
}

const layoutPhone = "013345678906"

// locationBody is a 0x0200 body (JT/T 808-2013): no alarm,
// status ACC on and positioned, 22.583678 N 113.905533 E (the two hold 0x7E
// and 0x7D, so the frame needs escaping), 16 m, 50.0 km/h, 90°,
// 2026-06-17 12:00:00 UTC+8.
const locationBody = "00000000" + "00000003" + "0158997e" + "06ca0f7d" + "0010" + "01f4" + "005a" + "260617120000"

func TestBuiltFromLayouts(t *testing.T) {
	cases := []struct {
		name   string
		id     uint16
		serial uint16
		body   string
		want   map[string]protocol.Value
		reply  func(t *testing.T) []byte
	}{
		{
			// JT/T 808-2013 "query terminal parameters answer" 0x0104:
			// reply serial WORD, count BYTE, then items of parameter ID
			// DWORD, length BYTE, value: 0x0001 heartbeat
			// interval DWORD 30 s, 0x0013 main server address STRING,
			// 0x0081 province WORD 44, 0x0084 plate colour BYTE 2.
			name: "0x0104 parameters", id: 0x0104, serial: 0x0021,
			body: "0002" + "04" +
				"00000001" + "04" + "0000001e" +
				"00000013" + "0f" + "6770732e6578616d706c652e636f6d" + // gps.example.com
				"00000081" + "02" + "002c" +
				"00000084" + "01" + "02",
			want: map[string]protocol.Value{
				paramReplySeq:  protocol.Int(2),
				paramResponse:  protocol.String("1=30;13=gps.example.com;81=44;84=2"),
				paramSeqnum:    protocol.Int(0x21),
				paramMessageID: protocol.Int(0x0104),
			},
			reply: func(t *testing.T) []byte { return ack(t, layoutPhone, 1, 0x0021, 0x0104) },
		},
		{
			// JT/T 808-2013 "CAN bus data upload" 0x0705:
			// item count WORD, receive time of the first item BCD[5]
			// hh-mm-ss-msms (10:15:30.250), then items of CAN ID DWORD
			// (bit 31 channel, 30 frame type, 29 collection method, 0-28
			// the bus ID) and CAN DATA BYTE[8]. The second ID is 0x7E7D…:
			// escaped on the wire.
			name: "0x0705 CAN", id: 0x0705, serial: 0x0102,
			body: "0002" + "1015300250" +
				"80000123" + "0102030405060708" +
				"7e7d0001" + "1122334455667788",
			want: map[string]protocol.Value{
				paramCANTime:   protocol.String("1015300250"),
				paramCANFrames: protocol.RawJSON(`[{"id":2147483939,"data":"0102030405060708"},{"id":2122121217,"data":"1122334455667788"}]`),
				paramSeqnum:    protocol.Int(0x0102),
				paramMessageID: protocol.Int(0x0705),
			},
			reply: func(t *testing.T) []byte { return ack(t, layoutPhone, 1, 0x0102, 0x0705) },
		},
		{
			// JT/T 808-2013 "multimedia event information upload"
			// 0x0800: media ID DWORD, type BYTE (0 image, 1
			// audio, 2 video), format BYTE (0 JPEG … 4 WMV), event BYTE
			// (0 platform command, 1 timed, 2 robbery alarm, 3 collision
			// or rollover, …), channel BYTE.
			name: "0x0800 media event", id: 0x0800, serial: 0x7e01,
			body: "00000457" + "00" + "00" + "03" + "02",
			want: map[string]protocol.Value{
				paramMediaID:      protocol.Int(1111),
				paramMediaType:    protocol.Int(0),
				paramMediaFormat:  protocol.Int(0),
				paramMediaEvent:   protocol.Int(3),
				paramMediaChannel: protocol.Int(2),
				paramSeqnum:       protocol.Int(0x7e01),
				paramMessageID:    protocol.Int(0x0800),
			},
			reply: func(t *testing.T) []byte { return ack(t, layoutPhone, 1, 0x7e01, 0x0800) },
		},
		{
			// JT/T 808-2013 "multimedia data upload" 0x0801: media ID DWORD, type BYTE (1 audio), format BYTE (2
			// MP3), event BYTE (1 timed), channel BYTE, the 0x0200 basic
			// location body (28 bytes), then the data (6 bytes). A whole
			// message is answered by 0x8800: media ID
			// DWORD and retransmit count BYTE 0, nothing to resend. The
			// media ID holds 0x7E and 0x7D, escaped in both frames.
			name: "0x0801 media data", id: 0x0801, serial: 0x0005,
			body: "7e7d0009" + "01" + "02" + "01" + "01" + locationBody + "fffb9064" + "7e7d",
			want: map[string]protocol.Value{
				paramMediaID:            protocol.Int(0x7e7d0009),
				paramMediaType:          protocol.Int(1),
				paramMediaFormat:        protocol.Int(2),
				paramMediaEvent:         protocol.Int(1),
				paramMediaChannel:       protocol.Int(1),
				paramMediaSize:          protocol.Int(6),
				protocol.ParamLatitude:  protocol.Float(22.583678),
				protocol.ParamLongitude: protocol.Float(113.905533),
				protocol.ParamSpeed:     protocol.Float(50),
				protocol.ParamTimestamp: protocol.Float(1781668800), // 2026-06-17 04:00:00 UTC
				paramIgnition:           protocol.Bool(true),
				paramSeqnum:             protocol.Int(5),
				paramMessageID:          protocol.Int(0x0801),
			},
			reply: func(t *testing.T) []byte {
				return frame(t, 0x8800, layoutPhone, 1, []byte{0x7e, 0x7d, 0x00, 0x09, 0x00})
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := frame(t, tc.id, layoutPhone, tc.serial, protocoltest.Hex(t, tc.body))
			r := protocoltest.DecodeFrame(t, newSession(&Codec{}), f)
			if len(r.Messages) != 1 {
				t.Fatalf("%d messages", len(r.Messages))
			}
			m := &r.Messages[0]
			if m.Has(paramRaw) || m.Has(paramTail) {
				t.Fatalf("not decoded whole: %s", m)
			}
			if m.Ident() != "13345678906" {
				t.Errorf("ident %q", m.Ident())
			}
			wantParams(t, m, tc.want)
			if want := tc.reply(t); !bytes.Equal(r.Reply, want) {
				t.Errorf("reply\n%x\nwant\n%x", r.Reply, want)
			}
		})
	}
}

// fragment builds a 2013 frame of a message split into packages (JT/T
// 808-2013: body properties bit 13, then package count and
// index WORDs after the serial), independently of AppendFrame.
func fragment(t *testing.T, id uint16, phone string, serial, total, index uint16, body []byte) []byte {
	props := uint16(len(body)) | 1<<13
	raw := []byte{byte(id >> 8), byte(id), byte(props >> 8), byte(props)}
	raw = append(raw, protocoltest.Hex(t, phone)...)
	raw = append(raw, byte(serial>>8), byte(serial), byte(total>>8), byte(total), byte(index>>8), byte(index))
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

// The first package of a split 0x0801 (JT/T 808-2013) carries the
// media header and location; it is decoded, marked "1/3" and answered
// 0x8001, the 0x8800 waiting for the whole message. A later package is
// kept raw and answered 0x8001 too.
func TestMediaDataSplit(t *testing.T) {
	s := newSession(&Codec{})
	first := fragment(t, 0x0801, layoutPhone, 0x0030, 3, 1, protocoltest.Hex(t, "00000064"+"00"+"00"+"00"+"01"+locationBody+"ffd8ffe0"))
	r := protocoltest.DecodeFrame(t, s, first)
	if len(r.Messages) != 1 {
		t.Fatalf("%d messages", len(r.Messages))
	}
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		paramMediaID:           protocol.Int(100),
		paramMediaChannel:      protocol.Int(1),
		paramMediaSize:         protocol.Int(4),
		paramPacket:            protocol.String("1/3"),
		protocol.ParamLatitude: protocol.Float(22.583678),
	})
	if want := ack(t, layoutPhone, 1, 0x0030, 0x0801); !bytes.Equal(r.Reply, want) {
		t.Errorf("first package reply\n%x\nwant\n%x", r.Reply, want)
	}
	second := fragment(t, 0x0801, layoutPhone, 0x0031, 3, 2, protocoltest.Hex(t, "0102030405060708"))
	r = protocoltest.DecodeFrame(t, s, second)
	if len(r.Messages) != 1 || !r.Messages[0].Has(paramRaw) {
		t.Fatalf("second package: %+v", r.Messages)
	}
	if want := ack(t, layoutPhone, 2, 0x0031, 0x0801); !bytes.Equal(r.Reply, want) {
		t.Errorf("second package reply\n%x\nwant\n%x", r.Reply, want)
	}
}

// A parameter query answer (JT/T 808-2013) carries the serial of the
// platform's 0x8104 (§8.9): it becomes the command's response, its text
// the "id=value" list.
func TestParamsAnswerMatchesCommand(t *testing.T) {
	s := newSession(&Codec{})
	protocoltest.DecodeFrame(t, s, frame(t, 0x0002, layoutPhone, 1, nil)) // platform serial 1: the 0x8001
	cmd, err := s.EncodeCommand(nil, protocol.Command{ID: 41, Name: "params"})
	if err != nil {
		t.Fatal(err)
	}
	if want := frame(t, 0x8104, layoutPhone, 2, nil); !bytes.Equal(cmd, want) {
		t.Fatalf("0x8104 %x, want %x", cmd, want)
	}
	r := protocoltest.DecodeFrame(t, s, frame(t, 0x0104, layoutPhone, 2, protocoltest.Hex(t, "0002"+"01"+"00000029"+"04"+"0000000a")))
	if len(r.Responses) != 1 || !r.Responses[0].HasID || r.Responses[0].ID != 41 || r.Responses[0].Text != "29=10" {
		t.Fatalf("responses %+v", r.Responses)
	}
	if want := ack(t, layoutPhone, 3, 2, 0x0104); !bytes.Equal(r.Reply, want) {
		t.Errorf("reply\n%x\nwant\n%x", r.Reply, want)
	}
}
