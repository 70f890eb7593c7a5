// Package meitrack is the Meitrack GPRS protocol (MVT100/340/380/600/800,
// T1, T3, T333, T355, T366, T622, MT90, P88L and the other Meitrack
// trackers): framing, decoding into flespi-named messages, the replies
// devices wait for, and the "@@" server commands. It runs over TCP and UDP;
// Traccar's usual port for it is 5020.
//
//	codec := &meitrack.Codec{}                  // zero value: strict, 64 KiB frames
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                         // then send r.Reply
//		return nil
//	})
//
// Built from Meitrack's documents: the "MEITRACK T622 GPRS Protocol" V1.2
// (frame format §1.1, AAA fields §1.2, event codes §1.5, every command of
// §3 with its examples, the CCC compressed format §3.45), with the "MEITRACK
// GPRS Protocol" V1.6 naming the MVT340/MVT380/MVT100/MVT600/MVT800/T1/T3/
// MT90/TC68 family. The analog scaling of those models is the one open
// decoders apply (Traccar, Drivetech meitrack-parser), checked against
// captures whose voltages it makes plausible. Meitrack publishes no complete description of the
// binary CCE report of the T333/T366/P88L generation: its parameter IDs come
// from flespi's Meitrack channel documentation (which names the parameters
// of IDs 0x16–0x19, 0x41, 0xFE, …) and from what open decoders (Traccar)
// show devices send, cross-checked on real captures.
//
// # Frames
//
// A device frame is
//
//	$$<flag><length>,<IMEI>,<type>,<fields…>*<checksum>\r\n
//
// The flag (data identifier) is one character, 0x41 to 0x7A; the length is
// decimal and counts from the first comma through "\r\n"; the checksum is the
// sum of every byte before it, '*' included, modulo 256, as two hex digits.
// Server commands have the same form with "@@". Text frames are cut at
// "*XX\r\n" (or "*XX" followed by the next "$$" or the end of the stream,
// since captures often lose the "\r\n"), binary ones (CCE, CCC, CFF, D00)
// by their length. A frame whose checksum or length is wrong is a
// [protocol.ErrChecksum] error unless the codec is Lenient: then its
// messages are kept and marked "frame.checksum.invalid" or
// "frame.length.invalid". A frame that lost its "\r\n" but whose length
// counts it is not marked.
//
// Every frame carries the IMEI, which is "ident" and [protocol.Result.Ident]:
// there is no login. Meitrack has no refusal reply.
//
// # Frame types
//
//	AAA   position report (events, the answer to A10)    one message
//	AFF   the same with a buffer index first ("event.seqnum")
//	CCE   binary report, several packets (CFF on some models)  one message a packet
//	CCC   compressed report, 52-byte packets (version 0x0102)  one message a packet;
//	      answered "@@<flag><len>,IMEI,CCC,<packets>*XX\r\n", after which the
//	      device deletes them
//	AAC   keep-alive                                       echoed back, no message
//	D00   one packet of a picture                         a message with its bytes (hex)
//	other the device's answer to a command                 a message with command.response
//
// # AAA reports
//
//	event code          event.enum (and the flags below)
//	latitude, longitude position.latitude/longitude (degrees, south/west negative)
//	yymmddHHMMSS        timestamp (UTC)
//	A / V               position.valid
//	satellites          position.satellites
//	GSM signal (0–31)   gsm.signal.level
//	speed (km/h), direction, HDOP, altitude (m)
//	mileage (m)         vehicle.mileage (km)
//	run time (s)        engine.motorhours (h)
//	MCC|MNC|LAC|CI      gsm.mcc, gsm.mnc, gsm.lac, gsm.cellid (LAC, CI hex); left out when MCC is 0
//	I/O status (hex)    din (first byte: inputs, input 1 = bit 0), dout (second byte)
//	analog inputs       see "Analog inputs"
//	assisted event info ibutton.code for the RFID event (37), geofence.id for 20/21,
//	                    else custom.event.info
//	customized data     custom.customized.data
//	protocol version    custom.protocol.version
//	fuel percentage     fuel.level: "XXYY" hex, XX + YY/100 %
//	temperature sensors temperature#N from "NNVVVV|…": protocol version ≥ 3 a signed
//	                    hundredth of a degree, before it a signed degree and hundredths
//	max acceleration, max deceleration  custom.max.acceleration/deceleration, as sent
//	later fields        custom.report.tail, as sent
//
// Event codes whose meaning every Meitrack document fixes also set: 1 SOS →
// sos.event.trigger; 17 low battery → battery.low.status; 19 speeding →
// overspeeding.event.trigger; 20/21 enter/exit geofence →
// geofence.inside.status; 22/23 external power on/cut →
// external.powersource.status; 36 tow → towing.event.trigger; 129/130 harsh
// braking/acceleration. Inputs' meanings (ignition on input 1 or 3, door on
// input 2) depend on the model and wiring and are left to din and
// event.enum.
//
// # Analog inputs
//
// "AD1|AD2|AD3|battery|external power". Written with a decimal point
// (current firmware) they are volts: battery.voltage,
// external.powersource.voltage, then custom.analog#3…#5. Written in hex they
// are ADC counts whose scaling depends on the model: set Codec.Model to
// "MVT340"/"MVT380" (10-bit: ×6/1024 V, power ×48/1024 V) or to "MVT100",
// "MVT600", "MVT800", "T1", "T3", "TC68", "TC68S", "MT90" (12-bit: ×6.6/4096 V,
// power ×52.8/4096 V). Without a model, a frame stating protocol version 3
// or later is read as hundredths of a volt (ain#1…#3, battery.voltage,
// external.powersource.voltage), and any other frame keeps the raw counts
// as custom.adc#1…#3, custom.battery.adc and custom.power.adc rather than
// guess.
//
// # CCE reports
//
// u32 records left in the buffer (custom.cache.remaining), u16 packet count,
// then per packet a u16 length, a u16 index (record.seqnum) and four groups
// of (ID, value): 1-byte, 2-byte and 4-byte values, then (ID, length,
// bytes). IDs are one byte, or two when the first is 0xFE; values are
// little-endian. Named IDs: 0x01/0x40 event.enum, 0x02/0x03 latitude and
// longitude (÷10⁶), 0x04 timestamp (seconds since 2000-01-01), 0x05 fix,
// 0x06 satellites, 0x07 GSM signal, 0x08 speed, 0x09 direction, 0x0A HDOP
// (÷10), 0x0B altitude, 0x0C mileage (m → km), 0x0D run time (s → h), 0x0E
// serving cell, 0x0F–0x13 neighbour cells (gsm.cells), 0x14 dout, 0x15 din,
// 0x16–0x18 ain#1–3 (÷100 V), 0x19 battery.voltage, 0x1A
// external.powersource.voltage (÷100 V), 0x1D–0x25 Wi-Fi access points
// (wifi.access.points), 0x25 (4-byte) RFID card (ibutton.code), 0x29
// fuel.level (÷100 %), 0x2A–0x31 temperature sensors (number, ÷100 °C),
// 0x91/0x92 can.vehicle.speed, 0x99 can.engine.rpm, 0xFE69 battery.level,
// 0xFEF4 engine hours (minutes → engine.motorhours). Every other ID is kept
// as custom.param.<id> (two-byte IDs as 0xFExx in decimal): numbers raw,
// variable-length values in hex. A packet that repeats an ID keeps its
// first value.
//
// # Commands
//
// [Session.EncodeCommand] sends Command.Text as the documents write a
// command ("A10", "C01,0,12222", "0D73,50,50") in an "@@" frame with the
// device's IMEI, so a session can send commands once the device has sent a
// frame. Each command gets the next data identifier; the device answers
// with the same identifier and command type ("$$A28,…,C01,OK*XX"), which
// gives the answer's [protocol.CommandResponse] the command's ID (HasID). An
// A10 query is answered by an AAA report (event 34), which is both a message
// and the response. Every answer, awaited or not, is also a message with
// command.response ("C01,OK"), so answers to commands sent by SMS or another
// server are kept. [AppendCommand] builds a command frame directly.
//
// # Not decoded
//
// The CCC layouts of other protocol versions (e.g. T622's 0x0501 with
// CCB-defined parameters) are kept as custom.report.tail hex per packet.
// Picture packets are not reassembled (each D00 packet is its own message),
// and the AFF confirmation the server sends in "event confirmation" mode
// (C03,1) is not sent automatically: the documents do not give its form.
//
// # Ownership
//
// A session keeps nothing of the frames it decodes; strings are copied.
// Decoding an AAA or CCE report into a reused [protocol.Result] allocates
// only the strings a message keeps.
package meitrack
