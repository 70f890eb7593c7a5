// Package h02 is the H02 tracker protocol ("*HQ,…#"): Sinotrack ST-901 and
// the many low-cost trackers built on the same firmware. [Codec] frames a
// TCP stream (or takes UDP datagrams) and makes a [Session] per
// connection; the session decodes text frames and binary records into
// flespi-named messages, returns the answers devices wait for, and encodes
// the documented downlink commands. Traccar's usual port for it is 5013
// (TCP and UDP).
//
// Built from two manufacturer documents: "Communication Protocol V1.0.3"
// (revisions to 1.0.5, 2016: V1, XT, VI1, BC, ALRM, the V4 answers and
// twenty downlink commands) and the LKGPS protocol (V1/V4 with the
// binary standard, base-station and X-mode records, NBR, the V4 time
// calibration). Frame types neither document describes (HTBT/V0, LINK, VP1, V19,
// the base-station V3) follow what open decoders show devices sending,
// and are tested against real captures.
//
// # Frames
//
//	*XX,id,V1,hhmmss,A,ddmm.mmmm,N,dddmm.mmmm,E,knots,course,ddmmyy,status[,…]#
//	$ + 31, 41, 44 or 45 bytes     binary record (BCD id, time, date, position)
//	X + 31 bytes                   X-mode binary record (no id: mileage instead)
//
// XX is the maker ("HQ", "TH", either case); id is the device's 10-digit
// number or IMEI, carried by every text frame (there is no login: the
// first frame identifies the device). [Codec.Split] cuts text frames at
// '#' and skips CR, LF and spaces between frames. Binary records carry no
// length: the standard record is 32 bytes, the record with base station
// data 45, and devices also send 42 (an 8-byte id) and 46. Unless
// [Codec].BinaryFrameSize fixes it, a record ends where the next frame of
// the same device (its '$' and id bytes again) or a text frame begins, and
// the session then remembers the size; so only a connection's first
// record waits for the next frame. A datagram holds one text frame or one
// or more records of one size. H02 has no checksum and no length field:
// Lenient changes nothing, and there is no refusal reply.
//
// # Reports
//
//	V1 V2 V5 V19 VI1 … position report                  → V4 time reply (V1)
//	ALRM type,hhmmss,…   alarm: 1 SOS, 2 low battery, 3 geofence
//	BC   up to 100 stored points ("message.buffered.status")
//	NBR  base stations, up to 6 with signal levels       → V4 time reply
//	LINK signal, satellites, battery, steps of wearables
//	VP1  position without time of day, or cells
//	V3   position (LKGPS) or the base-station form with "X"
//	V4   the device's answer to a command (command.response)
//	HTBT V0  heartbeat                                   → echoed
//	XT       heartbeat (the document: no answer)
//
// A frame of another type with the V1 layout is decoded as a report; any
// other frame is kept as a message with "custom.packet.type" and
// "custom.packet.raw" (the fields as sent). Every message from a text
// frame ends with "custom.packet.type" (the frame's type; "BIN" and "X"
// for binary records).
//
// # Time
//
// H02 devices send the date and time their clock shows. The LKGPS document
// says GMT; the V1.0.3 document's clock runs 8 hours ahead (China), and
// devices in the field are set either way — the protocol's best-known
// trap. [Codec].UTCOffset is that clock's offset from UTC, taken off every
// timestamp; 0 reads the time as UTC. V1 and NBR reports are answered
// with the LKGPS document's time calibration "*HQ,<id>,V4,V1,
// yyyyMMddHHmmss#" in UTC (turned off by [Codec].NoTimeReply), which sets
// the clock of devices that honour it. Blind-spot (BC) points carry a day
// of the month without month or year: they are dated in the latest month,
// by [Codec].Now, in which that day is not in the future. VP1 and frames
// whose date or time is "000000" or out of range have no "timestamp".
//
// # Parameters
//
// Speeds are sent in knots and given in km/h. Coordinates are NMEA
// DDMM.MMMM (the degree digits may be short, "954.9490") or "-D-M.M";
// S and W are negative; a coordinate that is not a valid one (a device
// without a fix sends "0.0000,0") leaves the position out. Validity A is
// "position.valid" true and V false; B and the coding-scheme digit of VI1,
// V2 and ALRM leave it out.
//
// The terminal status word (8 hex digits, negative logic: a clear bit is
// active) is kept whole in "custom.vehicle.status", and the bits both
// documents agree on are named: bit 10 "engine.ignition.status" (the
// document's "ACC off" when clear), bit 8 "door.open.status", bit 9
// "custom.armed.status", bit 1 "sos.event.trigger" (robbery/SOS), bit 2
// "overspeeding.event.trigger", bit 3 illegal ignition, bits 4 and 7
// geofence enter and exit, bit 24 temperature alarm (each also
// "alarm.event.trigger"), bits 5, 6, 21, 22 "gnss.antenna.cut.status", bit
// 19 "external.powersource.status" false (on the backup battery), bit 27
// "custom.oil.electricity.disconnected.status".
//
// Base station data after the status word comes in three layouts — V1.0.3
// "pw,count,mcc,mnc,lac,cid,…", V1.0.3 VI1/ALRM "mcc,mnc,lac,cid,pw,
// lac-cid-signal|…", LKGPS "mcc,mnc,lac,cid[,level]" — in decimal or hex.
// The MCC tells which: 200–999 in decimal is decimal ("460"), otherwise
// hex ("1CC", "0002d4"); LAC and cell id that do not read in decimal are
// read in hex, as the V1.0.3 document's own S20 answer writes them. They
// give "gsm.mcc", "gsm.mnc", "gsm.lac", "gsm.cellid" and further cells in
// "gsm.cells". The power field is a percentage in the V1.0.3 layouts ("99
// means 100 %") and an LKGPS level 1–6 (10, 20, 40, 60, 80, 100 %) in the
// others; either becomes "battery.level". What does not read is kept as
// sent in "custom.packet.tail".
//
// Binary records give the same position, status and (45 bytes) GSM
// signal, "custom.gps.signal", mileage in km, MCC, MNC, LAC, cell id and
// "record.seqnum"; an X-mode record gives mileage (units of 0.51444 m, as
// the document says) and "custom.temperature" and takes its ident from
// the frames before it.
//
// # Commands
//
// Sessions implement [protocol.CommandEncoder] once they have seen the
// device's id: the V1.0.3 document's S20 engine stop and resume, CR
// position request, SF/CF arm and disarm, CQ reboot, RESET, XT/NXT
// intervals, APN and INFO by name, and any other command as text. Answers
// (V4) arrive in Result.Responses in order, and as messages with
// "command.response".
package h02
