package egts

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

// No public capture exists for the authentication service's identity,
// module, vehicle and login subrecords, so these packets are built from
// the layouts of GOST 33472-2015 (EGTS_AUTH_SERVICE subrecords, named on
// each) with build's hand-made transport framing (header CRC-8/NRSC-5, body
// CRC-16/CCITT-FALSE), decoded through the session, and checked parameter
// by parameter and reply byte by reply byte.

func wantParams(t *testing.T, m *protocol.Message, want map[string]protocol.Value) {
	t.Helper()
	for name, v := range want {
		got, ok := m.Lookup(name)
		if !ok || !got.Equal(v) {
			t.Errorf("%s = %v (present %v), want %v\n%s", name, got, ok, v, m)
		}
	}
}

// recordResponse is the EGTS_PT_RESPONSE the session sends for one record:
// RPID, PR 0 (EGTS_PC_OK), then a record (RL 6, its own RN, RFL 0, SST =
// RST = service) holding EGTS_SR_RECORD_RESPONSE (type 0, length 3: CRN,
// RST 0).
func recordResponse(pid, rpid, rn, crn uint16, service byte) []byte {
	return build(pid, ptResponse, []byte{byte(rpid), byte(rpid >> 8), 0,
		6, 0, byte(rn), byte(rn >> 8), 0, service, service,
		srRecordResponse, 3, 0, byte(crn), byte(crn >> 8), 0})
}

// resultCode is EGTS_SR_RESULT_CODE (type 9, RCD 0) in the authentication
// service, the answer a terminal waits for after identifying itself.
func resultCode(pid, rn uint16) []byte {
	return build(pid, ptAppData, []byte{4, 0, byte(rn), byte(rn >> 8), 0, serviceAuth, serviceAuth, srResultCode, 1, 0, 0})
}

func TestAuthSubrecordsBuiltFromLayouts(t *testing.T) {
	// EGTS_SR_TERM_IDENTITY: TID UINT32 = 1000001, flags with every
	// optional field (HDIDE, IMEIE, IMSIE, LNGCE, SSRA, NIDE, BSE, MNE),
	// HDID USHORT 7, IMEI STRING[15], IMSI STRING[16], LNGC STRING[3]
	// "rus", NID BINARY[3] (MCC/MNC 250-01 in the GOST's packing: kept
	// as hex), BS USHORT 1024, MSISDN STRING[15] (space-padded).
	ident := []byte{0x41, 0x42, 0x0F, 0x00, 0xFF, 0x07, 0x00}
	ident = append(ident, "863071014496389"...)
	ident = append(ident, "250011234567890"...)
	ident = append(ident, 0) // IMSI is 16 bytes; 15 digits and a NUL
	ident = append(ident, "rus"...)
	ident = append(ident, 0x0F, 0xA0, 0x01)
	ident = append(ident, 0x00, 0x04)
	ident = append(ident, "79161234567    "...)
	// EGTS_SR_MODULE_DATA: MT 1 (main module), VID UINT32 0x00001234,
	// FWV USHORT 2.17 (major in the high byte), SWV USHORT 1.5, MD 3,
	// ST 1 (on), SRN "SN-0042" NUL, DSCR "main unit" NUL.
	module := []byte{0x01, 0x34, 0x12, 0x00, 0x00, 0x11, 0x02, 0x05, 0x01, 0x03, 0x01}
	module = append(module, "SN-0042\x00main unit\x00"...)
	// EGTS_SR_VEHICLE_DATA: VIN STRING[17], VHT UINT32 21, VPST UINT32
	// 0x05 (bits 0 and 2: petrol and CNG).
	vehicle := append([]byte("XTA21099043583512"), 21, 0, 0, 0, 0x05, 0, 0, 0)
	// EGTS_SR_AUTH_INFO: UNM, D, UPSW, D, SS (optional), D.
	auth := []byte("dispatcher\x00s3cret\x00SEQ1\x00")

	s := newSession(&Codec{})
	pkt := build(20, ptAppData, record(5, 0, serviceAuth,
		sub(srTermIdent, ident), sub(srModuleData, module), sub(srVehicleData, vehicle), sub(srAuthInfo, auth)))
	r := protocoltest.DecodeFrame(t, s, pkt)
	if r.Ident != "863071014496389" || len(r.Messages) != 1 {
		t.Fatalf("ident %q, %d messages", r.Ident, len(r.Messages))
	}
	m := &r.Messages[0]
	wantParams(t, m, map[string]protocol.Value{
		protocol.ParamIdent: protocol.String("863071014496389"),
		paramRecord:         protocol.Int(5),
		paramService:        protocol.Int(serviceAuth),
		paramTID:            protocol.Int(1000001),
		paramHDID:           protocol.Int(7),
		paramIMEI:           protocol.String("863071014496389"),
		paramIMSI:           protocol.String("250011234567890"),
		paramLanguage:       protocol.String("rus"),
		paramNetwork:        protocol.String("0fa001"),
		paramBuffer:         protocol.Int(1024),
		paramMSISDN:         protocol.String("79161234567"),
		paramModuleType:     protocol.Int(1),
		paramVendor:         protocol.Int(0x1234),
		paramFirmware:       protocol.String("2.17"),
		paramSoftware:       protocol.String("1.5"),
		paramModuleState:    protocol.Int(1),
		paramModuleSerial:   protocol.String("SN-0042"),
		paramModuleDesc:     protocol.String("main unit"),
		paramVIN:            protocol.String("XTA21099043583512"),
		paramVehicleType:    protocol.Int(21),
		paramPropulsion:     protocol.Int(5),
		paramUser:           protocol.String("dispatcher"),
	})
	for name, v := range m.All() {
		if strings.HasPrefix(name, "custom.subrecord.") || strings.Contains(v.String(), "s3cret") {
			t.Errorf("%s = %v: undecoded subrecord or the password kept", name, v)
		}
	}
	// The record is confirmed, then EGTS_SR_RESULT_CODE 0 follows.
	want := append(recordResponse(1, 20, 1, 5, serviceAuth), resultCode(2, 2)...)
	if !bytes.Equal(r.Reply, want) {
		t.Fatalf("reply\n%x\nwant\n%x", r.Reply, want)
	}

	// EGTS_SR_MODULE_DATA alone, after identification, with empty SRN
	// and DSCR: confirmed with no second result code.
	r = protocoltest.DecodeFrame(t, s, build(21, ptAppData, record(6, 0, serviceAuth,
		sub(srModuleData, []byte{0x02, 0x01, 0, 0, 0, 0x00, 0x01, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x00}))))
	if len(r.Messages) != 1 {
		t.Fatalf("%d messages", len(r.Messages))
	}
	m = &r.Messages[0]
	wantParams(t, m, map[string]protocol.Value{
		protocol.ParamIdent: protocol.String("863071014496389"),
		paramModuleType:     protocol.Int(2),
		paramVendor:         protocol.Int(1),
		paramFirmware:       protocol.String("1.0"),
		paramSoftware:       protocol.String("0.10"),
		paramModuleState:    protocol.Int(0),
	})
	if m.Has(paramModuleSerial) || m.Has(paramModuleDesc) {
		t.Errorf("empty serial or description kept: %s", m)
	}
	if want := recordResponse(3, 21, 3, 6, serviceAuth); !bytes.Equal(r.Reply, want) {
		t.Fatalf("module reply\n%x\nwant\n%x", r.Reply, want)
	}
}

// EGTS_SR_TERM_IDENTITY with IMEIE set but the IMEI all zeros (GOST
// 33472-2015 lets a terminal without one send zeros) identifies by TID;
// only TID and the flags' fields are kept.
func TestTermIdentZeroIMEI(t *testing.T) {
	s := newSession(&Codec{})
	ident := append([]byte{0x15, 0xCD, 0x5B, 0x07, 0x02}, "000000000000000"...)
	r := protocoltest.DecodeFrame(t, s, build(1, ptAppData, record(1, 0, serviceAuth, sub(srTermIdent, ident))))
	if r.Ident != "123456789" {
		t.Fatalf("ident %q", r.Ident)
	}
	m := &r.Messages[0]
	wantParams(t, m, map[string]protocol.Value{paramTID: protocol.Int(123456789)})
	for _, name := range []string{paramHDID, paramIMSI, paramLanguage, paramNetwork, paramBuffer, paramMSISDN} {
		if m.Has(name) {
			t.Errorf("%s kept though its flag is clear: %s", name, m)
		}
	}
	if want := append(recordResponse(1, 1, 1, 1, serviceAuth), resultCode(2, 2)...); !bytes.Equal(r.Reply, want) {
		t.Fatalf("reply\n%x\nwant\n%x", r.Reply, want)
	}
}
