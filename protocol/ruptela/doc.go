// Package ruptela is the Ruptela device protocol (FM-Eco4, FM-Pro4,
// FM-Tco4, FM-Plug4, Trace5, Eco5, Pro5, HCV5, LCV5 and the other Ruptela
// trackers): framing, decoding into flespi-named messages, the
// acknowledgements devices wait for, and the server commands. It runs over
// TCP (a UDP datagram is decoded as one packet); Traccar's usual port for
// it is 5046.
//
//	codec := &ruptela.Codec{}                   // zero value: strict, 64 KiB packets
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                         // then send r.Reply
//		return nil
//	})
//
// Built from Ruptela's documents: the structure of records and of the
// server's answers from the "Ruptela protocol" for FM4 devices (records,
// record header, GPS elements, IO elements, command 68 extended records),
// and the IO elements from Ruptela's IO ID list (every ID's name, size,
// signedness, multiplier, offset, unit and "not available" values; the
// copy used is the one published in DIMO-Network/model-garage,
// pkg/ruptela/schema/oids.csv). Ruptela does not publish the full protocol
// document; what its public table of contents and the captures do not show
// (the payloads of commands 9, 15 and 37, the server command bytes) was
// checked against what open decoders (Traccar) show the devices send.
//
// # Packets
//
//	u16 length | u64 IMEI | u8 command | payload | u16 CRC-16/KERMIT
//
// The length counts IMEI, command and payload; the CRC covers the same
// bytes; both are big-endian. A packet whose CRC or length is wrong is a
// [protocol.ErrChecksum] error unless the codec is Lenient: then its
// messages are kept and marked "frame.checksum.invalid" or
// "frame.length.invalid", and Split ends a packet whose length field is
// wrong where its CRC matches. The IMEI (15 digits) is "ident" and
// [protocol.Result.Ident] on every packet: there is no login.
//
// Server packets have no IMEI: u16 length | u8 command | payload | CRC. The
// server's command byte is 100 + the device's: [AppendPacket] builds them.
//
//	command                        decoded as                          reply
//	1   records                    one message per record              00 02 64 01 13 BC
//	68  extended records           the same, 2-byte IO IDs; merged      00 02 64 01 13 BC
//	                               parts are one message
//	9   diagnostic trouble codes   one message per code (can.dtc)      00 02 6D 01 C4 A4
//	15  identification             firmware, IMSI, operator             00 02 73 01 CB 25
//	16  heartbeat                  no message                          00 02 74 01 …
//	37  file part (pictures)       a message with the part, hex        a request for the next part
//	2, 3, 4, 7                     answers (text) → command.response    -
//	5, 6, 17                       answers (result bytes, hex) → command.response
//	other                          a message with custom.packet.raw    -
//
// Refusal (a rejected device) is the negative acknowledgement of records,
// "00 02 64 00" and its CRC: the device keeps its records.
//
// # Records
//
//	u32 time (Unix seconds)                timestamp
//	u8 time extension                      custom.timestamp.extension when not 0
//	u8 record extension (68 only)          parts of a record too big for one
//	u8 priority                            event.priority.enum
//	i32 longitude, i32 latitude (×10⁻⁷)    position.longitude/latitude; 0x80000000: no fix
//	u16 altitude (×0.1 m), u16 angle (×0.01°), u8 satellites, u16 speed (km/h), u8 HDOP (×0.1)
//	event ID (1: u8, 68: u16)              event.enum (the IO ID that made the record)
//	IO elements: 1-, 2-, 4- and 8-byte groups of (ID, value)
//
// A record without a fix has no coordinates, altitude, angle, satellites,
// speed or HDOP and position.valid false. The "records left" byte is
// custom.records.left when not 0.
//
// # IO elements
//
// Named (with the list's scaling): 2–4 din#1–3, 5 (ignition, DIN4) din#4
// and engine.ignition.status (unless 409, the configured ignition source,
// says otherwise), 988/989 din#5/6, 405/406/111/112 dout#1–4, 22/23/20/21
// ain#1–4 (mV → V), 27 gsm.signal.level, 29 external.powersource.voltage
// and 30 battery.voltage (mV → V), 32 device.temperature, 34 ibutton.code
// (hex), 65 vehicle.mileage (m → km), 78/79/80/74 temperature#0–3 (×0.1 °C),
// 94/197 can.engine.rpm, 95/210 can.vehicle.speed, 96/115
// can.engine.coolant.temperature, 98/207 can.fuel.level, 114/645
// can.vehicle.mileage, 150 gsm.operator.code, 170 battery.current (mA → A),
// 173 movement.status, 203 can.engine.motorhours, 205 can.fuel.volume, 208
// can.fuel.consumed, 409 engine.ignition.status, 410
// towing.event.trigger, 558 sos.event.trigger (panic), 851 gsm.lac, 852
// gsm.cellid. A value the list marks "not available" (65535 mV, J1939
// 0xFE…/0xFF…, 2000–2004 and 850 for temperatures) is kept raw as
// custom.param.<id> rather than read as a value. Every other ID is
// custom.param.<id>: raw, signed where the list says so, and the bytes in
// hex for the list's string and hex IDs (driver and vehicle IDs, VIN parts).
// A record that repeats an ID keeps its first value; where two IDs give the
// same name (OBD and CAN engine speed), the later one in the record wins.
//
// # Commands
//
// [Session.EncodeCommand] builds: "" or [CommandSMS] (an SMS command over
// GPRS, 108), [CommandConfiguration] (102), [CommandVersion] (103),
// [CommandFirmware] (104), [CommandConnection] (105), [CommandOdometer]
// (106), [CommandSetIO] (117), [CommandPhoto] (137, pictures of a source)
// and [CommandPacket] (any command byte and payload). Answers carry no
// command identifier: they arrive in order, as Result.Responses and as
// messages with command.response, also when nobody waits for them.
//
// # Not decoded
//
// The trailing fields of the identification packet after the operator code
// are kept in hex; tachograph file transfers (other sub-commands of 37) are
// kept raw; picture parts are not reassembled.
//
// # Ownership
//
// A session keeps nothing of the packets it decodes; strings are copied.
// Decoding records into a reused [protocol.Result] allocates only the
// strings a message keeps.
package ruptela
