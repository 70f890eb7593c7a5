// Package jt808 is the JT/T 808 protocol (the Chinese national standard for
// vehicle terminals, editions 2011, 2013 and 2019, with JT/T 1078's
// location items): framing, decoding into flespi-named messages, the
// answers terminals wait for, and platform commands.
//
//	codec := &jt808.Codec{}                    // zero value: strict, UTC+8 device times
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                        // then send r.Reply
//		return nil
//	})
//
// Built from JT/T 808-2013 ("Road transport vehicle satellite positioning
// system — terminal communication protocol and data format") and the 2019
// edition's changes (header version flag, 10-byte phone number, wider
// registration fields, 0x0004 time request), JT/T 1078-2016's location
// items 0x14-0x18, and the published decoding of the 2013 location example
// at blog.csdn.net (testdata/doc-2013-location.txtar). Terminals usually
// connect over TCP to port 5015 (Traccar's "huabao" port) or a port of the
// operator's choosing; UDP works the same, one frame a datagram.
//
// # Frames
//
// A frame is 0x7E, the message header, the body, a check code and 0x7E.
// Inside, 0x7E is sent as 7D 02 and 0x7D as 7D 01; the check code is the
// XOR of header and body, unescaped. The header is the message ID, the body
// properties (bits 0-9 body length, 10-12 encryption, 13 split into
// packages, 14 the 2019 version flag), for 2019 a protocol version byte,
// the terminal's phone number in BCD (6 bytes, 10 in 2019), a serial
// number, and for a split message the package count and index.
//
// [Codec.Split] cuts the stream at the delimiters; bytes before a 0x7E are
// skipped ("$$" prefixes), and "7E 7E" is the end of one frame and the
// start of the next. A frame whose check code or body-length field is
// wrong, or with a bad escape, is a [protocol.ErrChecksum] (bad escape:
// [protocol.ErrMalformed]) error, unless the codec is Lenient: then its
// messages are kept and marked "frame.checksum.invalid" /
// "frame.length.invalid".
//
// # Ident
//
// Every frame carries the phone number, so every message has "ident": the
// BCD digits with the padding zeros dropped ("013912345678" →
// "13912345678"). A phone field that is not BCD holds, on devices that
// put their IMEI there, the IMEI as a 48-bit number without its Luhn
// digit; the ident is then the 15-digit IMEI.
//
// # Messages and answers
//
//	ID      message                                      answer
//	0x0001  terminal general response → Responses        -
//	0x0002  heartbeat (no message)                       0x8001
//	0x0003  logout (no message)                          0x8001
//	0x0004  time request (2019)                          0x8004 UTC time
//	0x0100  registration: province, city, manufacturer,  0x8100 result 0 and the
//	        model, terminal id, plate colour and plate   auth code ([Codec].AuthCode)
//	0x0102  authentication (2019: with IMEI, firmware)   0x8001 (result 1 and Close
//	                                                     when [Codec].Authenticate refuses)
//	0x0104  parameter query answer → Responses           0x8001
//	0x0107  terminal properties: model, ICCID, versions  0x8001
//	0x0108  upgrade result                               0x8001
//	0x0200  location report                              0x8001
//	0x0201  location query answer → Responses            0x8001
//	0x0301  event report, 0x0302 question answer,       0x8001
//	0x0303  information demand
//	0x0500  vehicle control answer (location)            0x8001
//	0x0700  tachograph data (GB/T 19056 block, hex)      0x8001
//	0x0701  electronic waybill                           0x8001
//	0x0702  driver identity (IC card)                    0x8001
//	0x0704  batch of locations, each a message           0x8001
//	0x0705  CAN frames ("custom.can.frames")             0x8001
//	0x0800  multimedia event                             0x8001
//	0x0801  multimedia data: its location and size       0x8800 (0x8001 per package)
//	0x0802 0x0805 0x0608  answers with data (hex)        0x8001
//	0x0900  transparent data: text or hex                0x8001
//	other   kept raw ("custom.message.raw", hex)         0x8001
//
// An RSA-encrypted body (encryption bits set) and the packages of a split
// message after the first are kept raw and acknowledged. Jointech's 0x5501
// and 0x5502 (their JT600 binary location under this header, with a
// one-byte serial: time, coordinates, speed in knots, course, signal,
// satellites, odometer, battery, cell, status and alarm words, items; 0x5502
// is a blind-area re-upload) are decoded and not answered. The
// parenthesised text frames the same Jointech devices send
// ("(id,1,001,ELOCK,3,…)") become a
// message with "command.response"; "(…,BASE,2,TIME)" is answered with TIME
// replaced by the UTC time yyyyMMddHHmmss.
//
// Answers are addressed with the phone number and header edition the
// device used, and carry the platform's own serial number, counting from 1
// per connection. 0x8001 is the serial and ID of the message answered and
// result 0.
//
// # Location parameters
//
// The basic information gives "timestamp" (BCD, in [Codec].Location,
// UTC+8 by default as the standard says), "position.latitude" and
// "position.longitude" (1e-6 degrees, status bits 2 and 3 for south and
// west), "position.altitude" (m), "position.speed" (0.1 km/h),
// "position.direction", "position.valid" (status bit 1) and
// "engine.ignition.status" (bit 0), with the status word in
// "custom.status.bitmask" and its other bits named (operating, load,
// fuel/circuit cut, doors, GNSS systems). A non-zero alarm word sets
// "alarm.event.trigger", "custom.alarm.bitmask" and one trigger per set bit
// ("sos.event.trigger", "overspeeding.event.trigger",
// "custom.fatigue.driving.event.trigger", …; see alarmBits).
//
// Additional items: 0x01 "vehicle.mileage" (0.1 km), 0x02 "fuel.volume"
// (0.1 l), 0x03 "custom.tachograph.speed" (0.1 km/h), 0x04, 0x05 tyres and
// 0x06 compartment temperature (2019), 0x11-0x13 area and route alarms
// ("geofence.id", "geofence.inside.status"), 0x14-0x18 JT/T 1078 video
// alarms, 0x25 vehicle signals, 0x2A IO status, 0x2B analog AD0/AD1, 0x30
// "gsm.signal.level", 0x31 "position.satellites". Items the standards leave
// to manufacturers (0xE1-0xFF and others) mean different things on
// different devices and are kept as "custom.param.<id>": a number for 1, 2
// and 4-byte values, text when printable, hex otherwise. Every message
// ends with "record.seqnum" (the header serial) and "custom.message.id".
//
// # Commands
//
// [Session.EncodeCommand] encodes the text message 0x8300 (the default),
// the location query 0x8201 ("locate"), the parameter and property queries
// 0x8104 / 0x8107, terminal control 0x8105 and any other message ("raw").
// The device's general response (0x0001) or serial-carrying answer becomes
// a [protocol.CommandResponse] with the command's ID.
//
// # Ownership
//
// A session keeps nothing of the frames it decodes: it unescapes into its
// own buffer and copies strings. Decoding a location into a reused
// [protocol.Result] allocates only the strings messages keep.
package jt808
