// Package gt06 is the GT06 / Concox (Jimi) tracker protocol: framing,
// decoding into flespi-named messages, the replies devices wait for, and the
// 0x80 text command.
//
//	codec := &gt06.Codec{}                     // zero value: strict, 64 KiB frames
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                        // then send r.Reply
//		return nil
//	})
//
// # Frames
//
// A frame is "78 78", a one-byte length, the protocol number, the content,
// a two-byte serial number, a CRC and "0D 0A"; "79 79" frames have a
// two-byte length. The length counts the protocol number through the CRC.
// The CRC is CRC-16/X-25 (the documents' "CRC-ITU") over the length through
// the serial number.
//
// [Codec.Split] cuts frames by their length field. Some devices send a wrong
// length (Wi-Fi packets with length 0, 3 or 8, a status packet with 8 for
// 10): when the length does not end on "0D 0A", the frame ends at the first
// "0D 0A" followed by the next start marker or by the end of what has been
// read, searched for within 4 KiB. Bytes that do not start with "78 78" or "79 79" are an
// [protocol.ErrMalformed] error, and a Split error drops the connection; a
// frame longer than MaxFrameSize is [protocol.ErrFrameTooLarge].
//
// A frame whose CRC or length field is wrong is a [protocol.ErrChecksum]
// error, unless the codec is Lenient: then its messages are kept and marked
// "frame.checksum.invalid" / "frame.length.invalid". A lenient frame too
// short to hold a serial number and CRC ("78 78 01 08 0D 0A") is kept as a
// raw message and not acknowledged. The Concox document's 0xF0
// quick-acceleration alarm example carries a CRC that does not verify (a
// typo): it decodes only in lenient mode, as do real captures with a
// non-standard length or CRC (testdata/*-lenient.txtar).
//
// # Sessions, ident and time
//
// The login packet (0x01) carries the terminal id, 8 bytes of BCD: the IMEI
// with a leading 0, which is dropped ("0123456789012345" → ident
// "123456789012345"; a 16-digit id not starting with 0 is kept whole). Every
// message after it carries "ident", and [protocol.Result.Ident] is set. Newer
// firmware adds a type identification ("device.type.enum") and a time zone
// word (bits 15-4: hours×100, bit 3 set west), recorded as "timezone"
// ("+08:00") on the login message and by [Session.Timezone]. Timestamps are
// not shifted by it: the Concox documents give GPS date-time in UTC, and so
// does this codec. Packets without a device time (heartbeat, information,
// raw packets) have no "timestamp"; the channel adds "server.timestamp".
//
// # Packets
//
// Built from the Concox documents: "GPS Tracker Communication Protocol"
// (GT06) v1.8, the GT03A/B protocol V1.82 and the JM-VL03 protocol V1.1.2
// (the GT06N, JM-VL01/VL03 and 4G generation). Vendors reuse protocol
// numbers for other layouts; where no document is public, the layouts are
// those public decoders read from the field (the facts, not their code),
// told apart by the content's length. The reply column is what the device
// gets.
//
//	type       content                                                       reply
//	0x01       login: IMEI, [type id, time zone]                             ACK
//	0x10       GPS block (GT03)                                              -
//	0x11       date-time, cell (GT03); or GPS block, cell (MNC 2, id 4)      -
//	0x12       GPS block, cell (GT06); VXT01, S5 longer forms                -
//	0x17       GPS block, cell; RFID form (card, validity)                   -
//	0x1A       GPS block, asking phone number (GT03)                         -
//	0x22       GPS block, cell, ACC, upload mode, re-upload, [mileage]       -
//	0xA0       as 0x22 with a 4G cell (4-byte LAC, 8-byte cell id)           -
//	0x22 0x25  NT firmware (Codec.Model): IMEI, voltages, mileage, hours,    -
//	           driver id
//	0x24       GPS block, cell, ACC, external and battery voltage (SR411)    -
//	0x2D 0x31  GPS block, cell, ACC, upload reason, re-upload                ACK
//	0x36       GPS block, cell, voltages, mileage, hours, RFID (TRX16i);     -
//	           or status and modules (battery voltage, level) (Jimi 4G)     ACK
//	0x37       GPS block, cell, upload info, modules (voltage, mileage)      -
//	0x38       GPS block, upload info, 2G or 4G cell with signal             ACK
//	0x34       X1: GPS, mileage, cell, driver, voltages, I/O, analog inputs  ACK
//	0x61       IMEI, GPS block, cell, iButton key                            ACK
//	0x1E       GPS block (JI09)                                              ACK
//	0xA2       GPS block, 4G cell                                            -
//	0x70       modules ("79 79"): fix, time, ICCID, satellites, cell,        -
//	           battery, HDOP, door, mileage, events, Bluetooth tags
//	0x13       heartbeat: terminal info, voltage level, GSM, alarm; LW       ACK
//	           external voltage (Codec.Model); 16-byte form with battery,
//	           voltage and temperature
//	0x23       heartbeat: terminal info, battery voltage, GSM                ACK
//	0xA3       pedometer status: voltage, steps, battery, motion; or as 0x26 ACK
//	0x16 0x26  alarm: GPS block, cell, status, alarm; [mileage], [RFID]      ACK
//	0x27 0xA4  as 0x26 with a geofence number (0xA4: 4G cell)                ACK
//	0x19 0xA5  cell and status ([date-time] first; 0xA5: 4G cell)            ACK
//	0x95       camera alarm: [fix], event, event data, recorded files        ACK
//	0x32 0x33  "79 79" (AZ735): GPS, cell, status (0x33: alarm status)       ACK
//	0x18 0x28  date-time, 7 cells ("gsm.cells"), timing advance              -
//	0x2E       as 0x28                                                       -
//	0xA1       as 0x28 with 4G cells                                         -
//	0x2C       as 0x28, then Wi-Fi access points                             -
//	0x33       "78 78": date-time, 6 cells, timing advance, Wi-Fi            ACK
//	0x69 0x17  BCD date-time, Wi-Fi, cells; no serial, no CRC                -
//	0x94       information: sub-type 0x00 external voltage, 0x04 status      -
//	           sync (ALM1-4, STA1, DYD), 0x05 door and I/O, 0x09
//	           satellites, 0x0A IMSI/ICCID, 0x0B network or voltage, 0x1B
//	           RFID or serial text, 0x1E temperature and humidity; others in
//	           hex; a "78 78" 0x94 of 2 bytes is the external voltage
//	0x9B       serial device data (text or hex)                              ACK
//	0xF1 0xF2  device status / peripherals: Unix time, items                 ACK
//	0x2A       address request: GPS block, phone number                      0x97
//	0x8A       time request                                                  UTC time
//	0x15 0x21  answer to a command → command.response and Result.Responses  -
//	other      kept raw                                                      ACK
//
// The 0x69 layout (and a 0x17 variant) found in captures has no length, no
// serial and no CRC: its "length" byte counts the Wi-Fi access points. It is
// recognised only when the bytes fit that layout exactly, and, having no
// CRC, only in lenient mode (marked invalid length and checksum). A packet
// numbered as a GPS packet whose coordinates cannot be (beyond ±90/±180) is
// another device's layout under the same number: it is kept raw.
//
// The ACK is "78 78 05 <type> <serial> <CRC> 0D 0A", echoing the packet's
// serial; a packet that came in a "79 79" frame is answered "79 79 00 05 …".
// The documents answer login, status and alarm packets and not location,
// LBS, Wi-Fi, information or command-answer packets; packets of other
// vendors' numbers, and unknown ones, are acknowledged (a device that
// waits for an answer and gets none resends). The time reply is the same
// frame with YY MM DD hh mm ss (UTC) before the serial. The address request
// is answered with an English address packet (0x97, "79 79") that knows no
// address ("NA&&NA&&0##"): there is no geocoder here. An unknown packet
// type is kept as a message with "custom.packet.type" and
// "custom.packet.raw" (content, hex). So is a known type whose content fits
// none of its layouts. Content bytes after a known layout are kept in
// "custom.packet.tail" (hex).
//
// # Models
//
// A few firmware families depart from the documents in ways their bytes
// cannot tell: [Codec].Model names the model a port serves ("LW…", the NT
// models and XT40, "TR08X"); the default follows the documents.
//
// # Parameters
//
// Every message ends with "record.seqnum" (the packet's serial number) and
// "custom.packet.type" (its protocol number). The GPS block gives
// "timestamp", "position.latitude"/"longitude" (÷1,800,000; course/status
// bit 10 clear = south, bit 11 set = west), "position.speed" (km/h),
// "position.direction" (low 10 bits), "position.satellites" (low nibble of
// the GPS info byte), "position.valid" (bit 12) and
// "custom.gps.realtime.status" (bit 13, real-time/differential). A position
// outside ±90/±180 (devices without a fix send garbage) is left out. Cells
// give "gsm.mcc", "gsm.mnc", "gsm.lac", "gsm.cellid" (MCC bit 15 set means a
// two-byte MNC follows).
//
// The terminal information byte gives "engine.ignition.status" (ACC),
// "battery.charging.status", "gnss.status" (GPS tracking on),
// "custom.defense.status" (armed), "custom.oil.electricity.disconnected.status"
// and, in bits 3-5, an alarm ("custom.status.alarm.enum": 1 vibration, 2
// power cut, 3 low battery, 4 SOS in the documents; 6 geofence and 7
// removal on other firmware) that also sets "alarm.event.trigger" and the
// matching trigger. The voltage level byte (0 no power … 6 very high) is
// "battery.level.enum", not a percentage: the documents define levels, not
// charge; firmware that sends a percentage there (7-100) gets
// "battery.level". The GSM signal byte (0 none … 4 strong) is
// "gsm.signal.level". A non-zero alarm byte is "event.enum" with
// "alarm.event.trigger" and, for the codes of the JM-VL03 alarm table, a
// named trigger: "sos.event.trigger" (0x01), "external.powersource.status"
// false (0x02), "shock.event.trigger" (0x03), "geofence.inside.status"
// (0x04 true, 0x05 false), "overspeeding.event.trigger" (0x06),
// "towing.event.trigger" (0x09), "custom.gps.blind.area.status" (0x0A,
// 0x0B), "power.on.event.trigger" (0x0C), "external.powersource.low.event.trigger"
// (0x0E, 0x0F), "gsm.sim.change.event.trigger" (0x10),
// "power.off.event.trigger" (0x11, 0x15), "tamper.event.trigger" (0x13),
// "door.event.trigger" (0x14), "removal.event.trigger" (0x18, 0x32),
// "battery.low.status" (0x19), "fall.event.trigger" (0x23),
// "harsh.acceleration.event.trigger" (0x29, and 0xF0 of the GT06
// document), "harsh.cornering.event.trigger" (0x2A, 0x2B),
// "crash.event.trigger" (0x2C), "harsh.braking.event.trigger" (0x30);
// 0xFE and 0xFF (ACC on, off) set "engine.ignition.status" and no alarm.
// Voltages are volts ("external.powersource.voltage", "battery.voltage"),
// mileage kilometres ("vehicle.mileage", from the metres devices send),
// running time hours ("engine.motorhours"); sensors and Bluetooth tags are
// indexed ("sensor.temperature#1", "ble.sensor.temperature#1").
//
// # Commands
//
// [Session.EncodeCommand] with Command.Name "" encodes the 0x80 text
// command: command length, server flag (Command.ID), text, the optional
// language word ([Codec].CommandLanguage), serial. The device echoes the
// flag in its answer (0x15 or 0x21), which becomes a
// [protocol.CommandResponse] with that ID and HasID set, and a message with
// "command.response" (the answer's text) and "custom.server.flag": an
// answer nobody waits for (a command sent by SMS or by another server, any
// server flag, ASCII or UTF-16) is stored too. An answer stating a position
// ("Lat:N54.739332,Lon:E25.273270", the reply to WHERE#) gives that
// message the position.
//
// # Ownership
//
// A session keeps nothing of the frames it decodes: strings are copied, and
// the ident is decoded once per login. Decoding a location packet into a
// reused [protocol.Result] allocates nothing.
package gt06
