// Package suntech is the Suntech tracker protocol family: the legacy
// "ST300STT;…" text reports of the ST200/ST300/ST340/ST500/ST600 series
// and SA200, their binary "zip" form, the universal protocol of the
// ST4300/ST4340/ST8300 generation ("STT;<id>;<mask>;…") in text and
// binary, the ST900/ST910/ST940 personal trackers, crash reports, and the
// commands of both dialects. It runs over TCP and UDP; Traccar's usual
// port for it is 5011.
//
//	codec := &suntech.Codec{}                   // zero value: strict, 64 KiB frames
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                         // then send r.Reply (over UDP, the ACK)
//		return nil
//	})
//
// Built from Suntech's documents: the "ST300/340 Operation Manual – LATAM"
// rev 1.41 (report formats §6, zip forms, the alert table, "ACK in case of
// UDP", commands §7), the ST310U operation manual rev 1.08 (emergency IDs,
// zip headers), the ST600, ST3330 and ST3500 user manuals (commands and
// their answers), and the table of contents of the universal "Device
// Communication Guide" (its report types). The universal protocol's header
// mask bits and binary sizes, the ST900 field order, the travel (HTE) and crash (CRR) reports and the GTSL
// driver-ID record are as open decoders (Traccar) read them, checked
// against the captures in testdata.
//
// # Frames
//
// Text reports end with '\r' (a '\n' after it is skipped); a UEX report's
// serial data may hold CRLF, and its length field says where the data
// ends. Legacy zip reports are STX, a 16-bit length and ETX; universal
// binary reports start with their type byte (0x81 status, 0x82 alert) and
// a 16-bit length; crash report parts carry a decimal length. Reports have
// no checksum; UEX serial data and crash parts carry an 8-bit sum, whose
// failure is a [protocol.ErrChecksum] error unless the codec is Lenient
// (then the message is kept and marked "frame.checksum.invalid", or
// "frame.length.invalid" for a UEX length field that does not match).
//
// Every report carries the device ID, which is "ident" and
// [protocol.Result.Ident]: there is no login and no refusal reply.
//
// # Replies
//
// Over TCP the devices expect nothing. Over UDP a legacy device waits for
// "<prefix>ACK;<DEV_ID>" (zip: 0x15 and the BCD device ID) and sends a
// report again without it: the session sets that reply for every report
// but keep-alives and answers. The universal protocol's UDP
// acknowledgement is not in the documents we had and is not sent. An
// emergency report is repeated until the server sends AckEmerg: set
// Codec.AckEmergency to send it as the reply to each legacy EMG report
// over TCP.
//
// # Legacy reports
//
//	HDR;DEV_ID;[MODEL;]SW_VER;DATE;TIME;[CELL[;MCC;MNC;LAC;RX_LVL];]LAT;LON;SPD;CRS;SATT;FIX;DIST;PWR_VOLT;I/O;…
//
// HDR is the model prefix and the type: STT status, EMG emergency, EVT
// event, ALT alert, UEX external serial data, ALV keep-alive (no message),
// HTE travel report. MODEL, the cell fields and the HBM fields are present
// or not depending on the model and its settings; the decoder tells them
// apart by their form, so no configuration is needed.
//
//	MODEL, SW_VER        device.type.enum, device.firmware.version
//	DATE;TIME            timestamp (UTC)
//	CELL (hex)           gsm.cellid; ST600: gsm.mcc, gsm.mnc, gsm.lac (hex), gsm.signal.level
//	LAT;LON;SPD;CRS      position.* (degrees, km/h)
//	SATT;FIX             position.satellites, position.valid
//	DIST (m)             vehicle.mileage (km)
//	PWR_VOLT             external.powersource.voltage
//	I/O                  engine.ignition.status, din (inputs 1–3 or 1–4, input 1 = bit 0), dout
//	STT: MODE;MSG_NUM    custom.mode.enum, record.seqnum
//	EMG: EMG_ID          event.enum, alarm.event.trigger; 1 panic → sos.event.trigger,
//	                     3 main power removed → external.powersource.status false, 8 shock
//	EVT: EVT_ID          event.enum
//	ALT: ALERT_ID        event.enum and the alert's flag (see below)
//	UEX: LEN;DATA;CHK    custom.serial.data (custom.serial.data.hex when not text);
//	                     a GTSL driver-ID record gives ibutton.code
//	H_METER;BCK_VOLT;MSG_TYPE   engine.motorhours (minutes → h), battery.voltage,
//	                     message.buffered.status (MSG_TYPE 0: sent from storage)
//	the rest             custom.report.tail as sent; a driver ID (14 hex digits) gives
//	                     ibutton.code, temperature sensors "ID:value" temperature#N
//
// Alert IDs with a fixed meaning also set: 1 and 49 over speed →
// overspeeding.event.trigger; 5/6 geofence exit/entry →
// geofence.inside.status; 15 shock; 40/41 main power connected/cut →
// external.powersource.status; 42 panic button (universal); 46, 47, 48
// harsh acceleration, braking, cornering; 50 jamming →
// gsm.jamming.event.trigger.
//
// # Universal reports
//
//	TYPE;DEV_ID;HDR_MASK;<fields the mask selects>[;ASSIGN_MAP;<assigned fields>]
//
// The mask's bits 1–21 select model, firmware, message type, date, time,
// cell ID, MCC, MNC, LAC, signal, latitude, longitude, speed, course,
// satellites, fix, input and output state, then MODE, STT_RPT_TYPE and
// MSG_NUM in a status report (custom.mode.enum, custom.report.reason,
// record.seqnum) or ALERT_ID, ALERT_MOD and ALERT_DATA in an alert
// (event.enum, custom.alert.modifier, custom.alert.data); bit 23 an assign
// map whose set bits N-1 select custom.assign#N. Input and output states
// are strings of '0'/'1' read with the last character as bit 0 (the
// ignition for inputs). Fields after those are kept in custom.report.tail.
// RES is a command answer, ALV a keep-alive, BLE a beacon report
// (custom.ble.beacons), BSA a beacon scan (its position, the rest kept as
// sent). The binary form (type 0x81 status, 0x82 alert) carries the same
// fields in binary: a 5-byte BCD device ID, a 24-bit mask, coordinates as
// sign and magnitude in millionths of a degree, speed and course in
// hundredths, the alert data with a length byte.
//
// # Commands
//
// [Session.EncodeCommand] writes a command in the dialect the device
// spoke: "ST300CMD;<id>;02;StatusReq\r" or the universal
// "CMD;<id>;03;01\r". Answers ("ST300CMD;Res;<id>;<ver>;<command>…",
// "RES;<id>;…", "-Error") carry no command identifier: each becomes a
// [protocol.CommandResponse] without an ID, matched first-in first-out by
// the caller, and a message with command.response, so answers to commands
// sent by SMS or another server are kept.
//
// # Not decoded
//
// The ST4xx personal trackers' legacy layout (seven cells) and report
// types the documents we had do not lay out are kept as a message with
// custom.report.type and the fields as sent. A crash record's inner layout
// (positions and acceleration samples) is kept in hex.
//
// # Ownership
//
// A session keeps nothing of the frames it decodes but the parts of a
// crash report, bounded to 256 KiB; strings are copied. Decoding a status
// report into a reused [protocol.Result] allocates nothing beyond the
// strings a message keeps (the ident and firmware version are kept by the
// session and shared).
package suntech
