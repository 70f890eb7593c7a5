package gt06

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// decodeModel decodes one frame after a login with a codec for model.
func decodeModel(t *testing.T, model, frame string) *protocol.Result {
	t.Helper()
	// Lenient: one capture's CRC is wrong (its source does not check CRCs).
	s := (&Codec{Model: model, Now: fixedNow, Lenient: true}).NewSession(protocol.TCP)
	var r protocol.Result
	if err := s.Decode(protocoltest.Hex(t, "78780d01012345678901234500018cdd0d0a"), &r); err != nil {
		t.Fatal(err)
	}
	r.Reset()
	if err := s.Decode(protocoltest.Hex(t, frame), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Messages) != 1 {
		t.Fatalf("%d messages", len(r.Messages))
	}
	return &r
}

// The JM-VL03 V1.1.2 document's time calibration exchange, byte for byte:
// request 7878058A000688290D0A, answer 78780B8A0F0C1D0000150006F0860D0A
// (2015-12-29 00:00:21 UTC).
func TestTimeCalibrationDocument(t *testing.T) {
	now := func() time.Time { return time.Date(2015, 12, 29, 0, 0, 21, 0, time.UTC) }
	var r protocol.Result
	if err := (&Codec{Now: now}).NewSession(protocol.TCP).Decode(protocoltest.Hex(t, "7878058A000688290D0A"), &r); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(r.Reply); got != "78780b8a0f0c1d0000150006f0860d0a" {
		t.Fatalf("answer %s", got)
	}
}

// The JM-VL03 V1.1.2 document's online command example: "sos#", server
// flag 0, no language word, serial 1.
func TestCommandDocument(t *testing.T) {
	if got := hex.EncodeToString(AppendCommand(nil, 0, []byte("sos#"), 0, 1)); got != "78780e800800000000736f732300016d6a0d0a" {
		t.Fatalf("command %s", got)
	}
}

// modelCaptures are captures of model-specific firmware from traccar's
// Gt06ProtocolDecoderTest at 9e5c458ad0 (XT40, NT20, LW4G-4B).
var modelCaptures = []string{
	"78783c220109999999999999991a04171433101a041714310fb00288a5a8050754500008000800000000000000000604e32933000200468b000025008d87ce0d0a",
	"78783c22010357789648774484180c06142038180c06142038cb03313ee4061fe98300185e090000000000000000460984284c000200000000017101d6f35d0d0a",
	"78780a13560604f0830ccf986f0d0a",
}

// Model-specific layouts, with captures from traccar's
// Gt06ProtocolDecoderTest at 9e5c458ad0 (the model its test sets).
func TestModels(t *testing.T) {
	// NT20 / XT40 0x22: source, IMEI, device time, GPS, LBS, status with
	// external and battery voltage, mileage and running time.
	r := decodeModel(t, "XT40", modelCaptures[0])
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		paramExtVoltage: protocol.Float(12.51), paramBatteryVolt: protocol.Float(4.1),
	})
	r = decodeModel(t, "NT20", modelCaptures[1])
	wantParams(t, &r.Messages[0], map[string]protocol.Value{
		paramBatteryVolt: protocol.Float(4.0), paramMotorHours: protocol.Float(6.15), // the source: 22,140,000 ms
	})
	if !hasPos(&r.Messages[0]) {
		t.Fatalf("NT position: %v", r.Messages[0].String())
	}
	// LW4G 0x13: the external voltage in the low 12 bits.
	r = decodeModel(t, "LW4G-4B", modelCaptures[2])
	wantParams(t, &r.Messages[0], map[string]protocol.Value{paramExtVoltage: protocol.Float(13.1)})
	// Without the model, the same bytes are the documents' alarm/language.
	r = decodeModel(t, "", "78780a13560604f0830ccf986f0d0a")
	if r.Messages[0].Has(paramExtVoltage) {
		t.Fatalf("no model, yet a voltage: %v", r.Messages[0].String())
	}
}

// buildFrame builds a 78 78 (or 79 79) frame of proto with content.
func buildFrame(ext bool, proto byte, content string) string {
	c, _ := hex.DecodeString(content)
	return hex.EncodeToString(appendPacket(nil, ext, proto, c, nil, 0x0102))
}

// The GPS block of the JM-VL03 document's 0x22 example, and a cell.
const (
	docGPS  = "0f0c1d023305c9027ac8180c465860001400"
	docCell = "01cc00287d001f71"
)

// Layouts without a document example: frames built from the layout (its
// source in each comment; the vendor packets' layouts as public decoders
// read them, traccar's Gt06ProtocolDecoder at 9e5c458ad0) on the JM-VL03
// document's GPS block, then decoded. ack says whether the device gets the
// ACK: the documents answer status and alarm packets and not locations;
// vendor packets are answered, as a device that waits for an answer and
// gets none resends.
// layoutCase is a frame built from a layout and what it decodes to.
type layoutCase struct {
	name  string
	ext   bool
	proto byte
	body  string
	want  map[string]protocol.Value
	ack   bool
}

var layoutCases = []layoutCase{
	// JM-VL03 0x22: ... re-upload, mileage (4).
	{"0x22 mileage", false, 0x22, docGPS + docCell + "000100" + "00002710", map[string]protocol.Value{
		paramMileage: protocol.Float(10), paramUploadMode: protocol.Int(1)}, false},
	// JM-VL03 0xA0: 0x22 with a 4G cell (MCC bit 15: 2-byte MNC).
	{"0xA0 4G", false, 0xA0, docGPS + "81cc0001" + "00002710" + "0000000000abcdef" + "010200", map[string]protocol.Value{
		paramMCC: protocol.Int(460), paramMNC: protocol.Int(1), paramLAC: protocol.Int(10000), paramCellID: protocol.Int(0xabcdef)}, false},
	// JM-VL03 0x26 with the mileage its table lists after alarm/language.
	{"0x26 mileage", false, 0x26, docGPS + "09" + docCell + "8004041302" + "000003e8", map[string]protocol.Value{
		paramMileage: protocol.Float(1), paramTamper: protocol.Bool(true)}, true},
	// JM-VL03 0xA1: 0x28 with 4-byte LACs and 8-byte cell ids.
	{"0xA1 4G cells", false, 0xA1, "10010d020202" + "01cc00" + "0000287d" + "0000000000001f71" + "3e" + repeat("00", 13*6) + "ff" + "0002", map[string]protocol.Value{
		paramLAC: protocol.Int(10365), paramCellID: protocol.Int(8049)}, false},
	// JM-VL03 0x94 sub-type 0x00: "0x04 0x9F = 11.83 V".
	{"0x94 external voltage", true, 0x94, "00049f", map[string]protocol.Value{paramExtVoltage: protocol.Float(11.83)}, false},
	// JM-VL03 0x94 sub-type 0x05: door on, I/O port high.
	{"0x94 door", true, 0x94, "0505", map[string]protocol.Value{paramDoor: protocol.Bool(true), "din#1": protocol.Bool(true)}, false},
	// JM-VL03 0x94 sub-type 0x0A: IMEI, IMSI, ICCID (the document's
	// example digits).
	{"0x94 ICCID", true, 0x94, "0a" + "0123456789123456" + "0123456789123456" + "12345123456789123456", map[string]protocol.Value{
		paramICCID: protocol.String("12345123456789123456"), paramIMSI: protocol.String("123456789123456")}, false},
	// JM-VL03 0x94 sub-type 0x04: terminal status synchronisation.
	{"0x94 status sync", true, 0x94, "04" + hex.EncodeToString([]byte("ALM1=FF;ALM2=FF;ALM3=FF;STA1=C0;DYD=01;")), map[string]protocol.Value{
		paramInfoStatus + "sta1": protocol.Int(0xC0), paramInfoStatus + "dyd": protocol.Int(1)}, false},
	// GT03A/B 0x1A: GPS block and the phone number that asked.
	{"0x1A phone", false, 0x1A, docGPS + hex.EncodeToString([]byte("13800138000")) + repeat("00", 10) + "0001", map[string]protocol.Value{
		paramPhone: protocol.String("13800138000")}, false},
	// 0x2D and 0x31: GPS, cell, ACC, upload reason, re-upload.
	{"0x2D", false, 0x2D, docGPS + docCell + "010300", map[string]protocol.Value{paramIgnition: protocol.Bool(true), paramUploadMode: protocol.Int(3)}, true},
	{"0x31", false, 0x31, docGPS + docCell + "000101", map[string]protocol.Value{paramBuffered: protocol.Bool(true)}, true},
	// 0x38: GPS, upload mode, re-upload, cell type 4 (4G): LAC 4, cell
	// id 8, signal 2.
	{"0x38 4G", false, 0x38, docGPS + "0200" + "04" + "01cc00" + "0000287d" + "0000000000001f71" + "0050", map[string]protocol.Value{
		paramUploadMode: protocol.Int(2), paramCellID: protocol.Int(8049)}, true},
	// 0x23 heartbeat without language.
	{"0x23", false, 0x23, "4401a403", map[string]protocol.Value{paramBatteryVolt: protocol.Float(4.2), paramSignal: protocol.Int(3)}, true},
	// 0x13, 16-byte form: battery 80 %, working voltage 3.70 V,
	// temperature +25.0 °C.
	{"0x13 16 bytes", false, 0x13, "40" + "0a0c" + "00" + "02" + "50" + "01" + "0172" + "00" + "0001" + "0002" + "80fa", map[string]protocol.Value{
		paramBatteryPct: protocol.Int(80), paramBatteryVolt: protocol.Float(3.7), paramTempSensor: protocol.Float(25)}, true},
	// 0xF1: Unix time, ACC on, external voltage 12.34 V, moving.
	{"0xF1", true, 0xF1, "5f5e1000" + "000401" + "01" + "00050204d2" + "00010102", map[string]protocol.Value{
		protocol.ParamTimestamp: protocol.Int(0x5f5e1000), paramIgnition: protocol.Bool(true), paramExtVoltage: protocol.Float(12.34), paramMovement: protocol.Bool(true)}, true},
	// 0x32 in 79 79 (AZ735): GPS with info length, LBS length, cell,
	// signal, no neighbours, no Wi-Fi, status, no reserved part.
	{"0x32 AZ735", true, 0x32, docGPS + "08" + docCell + "40" + "00" + "00" + "00" + "00", map[string]protocol.Value{
		paramSignal: protocol.Int(0x40), "custom.status.enum": protocol.Int(0)}, true},
	// 0x33 in 79 79 (AZ735 alarm): status A5, door.
	{"0x33 AZ735 alarm", true, 0x33, docGPS + "08" + docCell + "40" + "00" + "00" + "a5" + "00", map[string]protocol.Value{
		paramDoorEvent: protocol.Bool(true)}, true},
	// 0x1E (JI09): GPS block.
	{"0x1E", false, 0x1E, docGPS, map[string]protocol.Value{protocol.ParamSatellites: protocol.Int(9)}, true},
	// 0x11 of firmware that sends a GPS block there: MNC 2, cell id 4.
	{"0x11 GPS", false, 0x11, docGPS + "01cc" + "0001" + "287d" + "00001f71", map[string]protocol.Value{
		paramMNC: protocol.Int(1), paramCellID: protocol.Int(8049)}, false},
}

func TestBuiltFromLayouts(t *testing.T) {
	for _, tc := range layoutCases {
		t.Run(tc.name, func(t *testing.T) {
			var r protocol.Result
			if err := (&Codec{}).NewSession(protocol.TCP).Decode(protocoltest.Hex(t, buildFrame(tc.ext, tc.proto, tc.body)), &r); err != nil {
				t.Fatal(err)
			}
			if len(r.Messages) != 1 {
				t.Fatalf("%d messages", len(r.Messages))
			}
			if r.Messages[0].Has(paramPacketRaw) {
				t.Fatalf("kept raw: %v", r.Messages[0].String())
			}
			wantParams(t, &r.Messages[0], tc.want)
			ack := AppendAck(nil, tc.ext, tc.proto, 0x0102)
			if tc.ack != bytes.Equal(r.Reply, ack) || (!tc.ack && len(r.Reply) != 0) {
				t.Fatalf("reply %x, want ACK %v", r.Reply, tc.ack)
			}
		})
	}
}

func repeat(s string, n int) string { return string(bytes.Repeat([]byte(s), n)) }

// FuzzDecodeModels fuzzes the layouts Codec.Model selects (NT, LW) with the
// same seeds as FuzzDecode.
func FuzzDecodeModels(f *testing.F) {
	protocoltest.Fuzz(f, "testdata", func(c protocoltest.Config) protocol.Codec {
		return &Codec{Lenient: c.Lenient, Now: fixedNow, Model: "XT40"}
	})
}
