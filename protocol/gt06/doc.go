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
//	type            content                                                reply
//	0x01            login: IMEI, [type id, time zone]                      ACK
//	0x10            GPS block                                              -
//	0x11            date-time, 2G cell (GT03 "LBS information")            -
//	0x12 0x17       GPS block, 2G cell                                     -
//	0x24 0x36 0x37  GPS block, 2G cell (device-specific rest kept in hex)  -
//	0x22            GPS block, 2G cell, ACC, upload mode, re-upload flag   -
//	0xA0            GPS block, 4G cell, ACC, upload mode, re-upload flag   -
//	0xA2            GPS block, 4G cell (rest kept in hex)                  -
//	0x70            modules ("79 79"): GPS module 0x0033, time 0x002C      -
//	0x13            heartbeat: terminal info, voltage, GSM, alarm          ACK
//	0x16 0x26 0x27  alarm: GPS block, cell, status, alarm, [geofence]      ACK
//	0xA4            4G alarm: GPS block, 4G cell, status, alarm, geofence  ACK
//	0x19            cell and status ([date-time] first on some devices)   ACK
//	0x18 0x28 0x2E  date-time, 7 cells ("gsm.cells"), timing advance       -
//	0x2C            as 0x28, then Wi-Fi access points                      -
//	0x69 (0x17)     BCD date-time, Wi-Fi, cells; no serial, no CRC         -
//	0x94            information: 0x00 external voltage, 0x04 status text,  -
//	                0x05 door, 0x0A IMSI/ICCID; others kept in hex
//	0x8A            time request                                           UTC time
//	0x15 0x21       answer to a command → Result.Responses                 -
//	other           kept raw                                               ACK
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
// The time reply is the same frame with YY MM DD hh mm ss (UTC) before the
// serial. An unknown packet type is acknowledged (a device that gets no
// answer resends) and kept as a message with "custom.packet.type" and
// "custom.packet.raw" (content, hex). So is a known type whose content is
// shorter than its layout. Content bytes after a known layout are kept in
// "custom.packet.tail" (hex).
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
// and, in bits 3-5, an alarm ("custom.status.alarm.enum": 1 shock, 2 power
// cut, 3 low battery, 4 SOS) that also sets "alarm.event.trigger" and
// "shock.event.trigger", "external.powersource.status" false,
// "battery.low.status" or "sos.event.trigger". The voltage level byte (0 no
// power … 6 very high) is "battery.level.enum", not a percentage: the
// documents define levels, not charge. The GSM signal byte (0 none … 4
// strong) is "gsm.signal.level". A non-zero alarm byte is "event.enum" with
// "alarm.event.trigger"; codes the GT06 documents fix also set
// "sos.event.trigger" (0x01), "external.powersource.status" false (0x02),
// "shock.event.trigger" (0x03), "geofence.inside.status" (0x04 true, 0x05
// false), "overspeeding.event.trigger" (0x06) and
// "harsh.acceleration.event.trigger" (0xF0). Other codes vary by model and
// are left to "event.enum".
//
// # Commands
//
// [Session.EncodeCommand] with Command.Name "" encodes the 0x80 text
// command: command length, server flag (Command.ID), text, the optional
// language word ([Codec].CommandLanguage), serial. The device echoes the
// flag in its answer (0x15 or 0x21), which becomes a
// [protocol.CommandResponse] with that ID and HasID set. An answer stating a
// position ("Lat:N54.739332,Lon:E25.273270", the reply to WHERE#) also
// makes a message with it.
//
// # Ownership
//
// A session keeps nothing of the frames it decodes: strings are copied, and
// the ident is decoded once per login. Decoding a location packet into a
// reused [protocol.Result] allocates nothing.
package gt06
