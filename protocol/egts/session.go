package egts

import (
	"fmt"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/crc16"
	"github.com/gnssgate/gnssgate/protocol/crc8"
	"github.com/gnssgate/gnssgate/protocol/internal/binfield"
)

// Packet types.
const (
	ptResponse     = 0
	ptAppData      = 1
	ptSignedAppDat = 2
)

// Services.
const (
	serviceAuth     = 1
	serviceTeledata = 2
	serviceCommands = 4
	serviceFirmware = 9
	serviceECall    = 10
)

// Subrecord types.
const (
	srRecordResponse  = 0
	srTermIdent       = 1
	srModuleData      = 2
	srVehicleData     = 3
	srDispatcherIdent = 5
	srAuthParams      = 6
	srAuthInfo        = 7
	srServiceInfo     = 8
	srResultCode      = 9

	srPosData         = 16
	srExtPosData      = 17
	srADSensors       = 18
	srCounters        = 19
	srAccel           = 20
	srState           = 21
	srLoopIn          = 22
	srAbsDigSens      = 23
	srAbsAnSens       = 24
	srAbsCounter      = 25
	srAbsLoopIn       = 26
	srLiquidLevel     = 27
	srPassengerCounts = 28

	srCommandData = 51
)

// Processing results (GOST 33472 annex: EGTS_PC_*).
const (
	pcOK         = 0
	pcAuthDenied = 151
)

// Session is the state of one EGTS connection: the ident from the
// terminal's identification (or the records' object id), and the packet
// and record numbers of what the platform sends. It implements
// [protocol.Session], [protocol.CommandEncoder] and [protocol.Refuser].
type Session struct {
	codec *Codec
	ident string
	tid   uint32 // the terminal id the ident was made from, 0 when from IMEI
	pid   uint16 // last packet id sent
	rn    uint16 // last record number sent
	acks  []byte // the record-response records of the reply being built
}

// Ident returns the device's ident (IMEI, else terminal id, else object
// id) once known, or "".
func (s *Session) Ident() string { return s.ident }

// packet is one checked transport packet.
type packet struct {
	pid    uint16
	pt     byte
	body   []byte
	off    int // offset of body in the frame
	crcBad bool
}

// Decode decodes one transport packet: its service records become
// messages, and the reply is the EGTS_PT_RESPONSE confirming each record
// (plus, after a terminal identification, EGTS_SR_RESULT_CODE).
func (s *Session) Decode(b []byte, r *protocol.Result) error {
	p, err := s.transport(b)
	if err != nil {
		return err
	}
	first := len(r.Messages)
	s.acks = s.acks[:0]
	identified := false
	recs := p.body
	off := p.off
	switch p.pt {
	case ptResponse:
		if len(recs) < 3 {
			return protocol.Errorf(Name, off, protocol.ErrTruncated, "response shorter than RPID and PR")
		}
		recs, off = recs[3:], off+3
	case ptSignedAppDat:
		if len(recs) < 2 || 2+int(le16(recs)) > len(recs) {
			return protocol.Errorf(Name, off, protocol.ErrTruncated, "signature runs past the frame")
		}
		n := 2 + int(le16(recs))
		recs, off = recs[n:], off+n
	case ptAppData:
	default:
		return protocol.Errorf(Name, 9, protocol.ErrUnsupported, fmt.Sprintf("packet type %d", p.pt))
	}
	if flags := b[2]; flags>>3&3 != 0 || flags&0x04 != 0 {
		// Encrypted or compressed: the GOST leaves the algorithms to the
		// parties; keep the body whole and confirm the packet.
		m := s.begin(r)
		m.Add(paramRaw, protocol.String(binfield.HexString(p.body)))
		m.Add(paramFlags, protocol.Int(int64(flags)))
	} else {
		for len(recs) > 0 {
			n, id, err := s.record(recs, off, p.pt == ptResponse, r)
			if err != nil {
				return err
			}
			identified = identified || id
			recs, off = recs[n:], off+n
		}
	}
	if s.ident != "" {
		r.Ident = s.ident
	}
	for i := first; i < len(r.Messages); i++ {
		m := &r.Messages[i]
		if m.Len() > 0 && s.ident != "" {
			if _, ok := m.Lookup(protocol.ParamIdent); !ok {
				m.Set(protocol.ParamIdent, protocol.String(s.ident))
			}
		}
		if p.crcBad {
			m.SetBool(protocol.ParamChecksumInvalid, true)
		}
	}
	if p.pt == ptResponse {
		return nil // the device confirms the platform's packets: no answer
	}
	var head [3]byte
	head[0], head[1], head[2] = byte(p.pid), byte(p.pid>>8), pcOK
	r.Reply = s.appendPacket(r.Reply[:0], ptResponse, head[:], s.acks)
	if identified {
		r.Reply = s.appendResultCode(r.Reply, pcOK)
	}
	return nil
}

// transport checks the header (CRC-8) and body (CRC-16) of a packet.
func (s *Session) transport(b []byte) (packet, error) {
	var p packet
	if len(b) < headerShort {
		return p, protocol.Errorf(Name, len(b), protocol.ErrTruncated, "packet shorter than its header")
	}
	if b[0] != protocolVersion {
		return p, protocol.Errorf(Name, 0, protocol.ErrMalformed, "protocol version is not 1")
	}
	hl := int(b[3])
	if hl != headerShort && hl != headerRouted {
		return p, protocol.Errorf(Name, 3, protocol.ErrMalformed, "header length is neither 11 nor 16")
	}
	if len(b) < hl {
		return p, protocol.Errorf(Name, len(b), protocol.ErrTruncated, "packet shorter than its header")
	}
	fdl := frameDataLen(b)
	want := hl + fdl
	if fdl > 0 {
		want += 2
	}
	if len(b) < want {
		return p, protocol.Errorf(Name, len(b), protocol.ErrTruncated, fmt.Sprintf("packet of %d bytes, its header says %d", len(b), want))
	}
	if len(b) > want {
		return p, protocol.Errorf(Name, want, protocol.ErrMalformed, fmt.Sprintf("%d bytes after the packet", len(b)-want))
	}
	hcs := crc8.NRSC5.Checksum(b[:hl-1])
	if hcs != b[hl-1] {
		if !s.codec.Lenient {
			return p, protocol.Errorf(Name, hl-1, protocol.ErrChecksum, fmt.Sprintf("header CRC-8 %02x, computed %02x", b[hl-1], hcs))
		}
		p.crcBad = true
	}
	p.pid = le16(b[7:])
	p.pt = b[9]
	p.body = b[hl : hl+fdl]
	p.off = hl
	if fdl > 0 {
		sum := crc16.CCITTFalse.Checksum(p.body)
		if got := le16(b[hl+fdl:]); got != sum {
			if !s.codec.Lenient {
				return p, protocol.Errorf(Name, hl+fdl, protocol.ErrChecksum, fmt.Sprintf("body CRC-16 %04x, computed %04x", got, sum))
			}
			p.crcBad = true
		}
	}
	return p, nil
}

// record decodes one service data record at the start of b and reports
// its length and whether it identified the terminal.
func (s *Session) record(b []byte, off int, confirming bool, r *protocol.Result) (int, bool, error) {
	if len(b) < 7 {
		return 0, false, protocol.Errorf(Name, off, protocol.ErrTruncated, "record shorter than its header")
	}
	rl, rn, rfl := int(le16(b)), le16(b[2:]), b[4]
	p := 5
	var oid, tm uint32
	hasOID, hasTM := rfl&0x01 != 0, rfl&0x04 != 0
	if hasOID {
		if len(b) < p+4 {
			return 0, false, protocol.Errorf(Name, off+p, protocol.ErrTruncated, "record header ends inside OID")
		}
		oid = le32(b[p:])
		p += 4
	}
	if rfl&0x02 != 0 { // EVID
		p += 4
	}
	if hasTM {
		if len(b) < p+4 {
			return 0, false, protocol.Errorf(Name, off+p, protocol.ErrTruncated, "record header ends inside TM")
		}
		tm = le32(b[p:])
		p += 4
	}
	if len(b) < p+2 {
		return 0, false, protocol.Errorf(Name, off+p, protocol.ErrTruncated, "record header ends before the service types")
	}
	sst := b[p]
	p += 2
	if len(b) < p+rl {
		return 0, false, protocol.Errorf(Name, off, protocol.ErrTruncated, fmt.Sprintf("record data of %d bytes runs past the packet", rl))
	}
	rd := b[p : p+rl]
	if hasOID && s.ident == "" {
		s.ident = strconv.FormatUint(uint64(oid), 10)
	}
	if !confirming {
		s.acks = appendRecordResponse(s.acks, s.nextRN(), rn, sst)
	}
	rec := recordCtx{s: s, r: r, rn: rn, sst: sst, tm: tm, hasTM: hasTM}
	identified, err := rec.subrecords(rd, off+p)
	return p + rl, identified, err
}

func (s *Session) nextRN() uint16 { s.rn++; return s.rn }

// begin starts a message with the session's ident.
func (s *Session) begin(r *protocol.Result) *protocol.Message {
	return r.NewMessageFor(s.ident, 24)
}

// appendRecordResponse appends a record holding EGTS_SR_RECORD_RESPONSE
// for record crn of service sst, status 0.
func appendRecordResponse(dst []byte, rn, crn uint16, sst byte) []byte {
	return append(dst,
		6, 0, byte(rn), byte(rn>>8), 0x00, sst, sst, // RL, RN, RFL, SST, RST
		srRecordResponse, 3, 0, byte(crn), byte(crn>>8), pcOK)
}

// appendResultCode appends an EGTS_PT_APPDATA packet with the
// authentication service's EGTS_SR_RESULT_CODE, which a terminal waits
// for after its identification.
func (s *Session) appendResultCode(dst []byte, code byte) []byte {
	rn := s.nextRN()
	rec := [11]byte{4, 0, byte(rn), byte(rn >> 8), 0x00, serviceAuth, serviceAuth, srResultCode, 1, 0, code}
	return s.appendPacket(dst, ptAppData, rec[:], nil)
}

// Refusal is EGTS_SR_RESULT_CODE with EGTS_PC_AUTH_DENIED (151).
func (s *Session) Refusal() []byte { return s.appendResultCode(nil, pcAuthDenied) }

// appendPacket appends a transport packet: header (version 1, no
// encryption, compression or routing, priority highest, HL 11), its CRC-8,
// the body (a then b) and its CRC-16.
func (s *Session) appendPacket(dst []byte, pt byte, a, b []byte) []byte {
	s.pid++
	return AppendPacket(dst, s.pid, pt, a, b)
}

// AppendPacket appends an EGTS transport packet with packet id pid and
// type pt whose frame data is a followed by b.
func AppendPacket(dst []byte, pid uint16, pt byte, a, b []byte) []byte {
	fdl := len(a) + len(b)
	start := len(dst)
	dst = append(dst, protocolVersion, 0, 0x00, headerShort, 0, byte(fdl), byte(fdl>>8), byte(pid), byte(pid>>8), pt)
	dst = append(dst, crc8.NRSC5.Checksum(dst[start:]))
	if fdl == 0 {
		return dst
	}
	body := len(dst)
	dst = append(dst, a...)
	dst = append(dst, b...)
	sum := crc16.CCITTFalse.Checksum(dst[body:])
	return append(dst, byte(sum), byte(sum>>8))
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func le24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
