// Package arnavi is the protocol of Arnavi trackers (Arusnavi): the binary
// protocol of Arnavi 4/5 devices — HEADER, PACKAGE of tagged records, the
// server's confirmations — and the "$AV" text protocol of older devices,
// both on one port, told apart by the first byte.
//
//	codec := &arnavi.Codec{}                   // zero value: strict
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                        // then send r.Reply
//		return nil
//	})
//
// Built from Arnavi's binary protocol description for Arnavi 4/5 (the
// HEADER/PACKAGE/SERVER_COM frames and the tag table, as Arusnavi
// publishes it for integrators) and the text protocol's sentence layout;
// where the public material is thin, from what open decoders show the
// fields send (facts, not code), and checked against real captures.
// Devices connect over TCP, to the port the server is given.
//
// # Binary frames
//
//	frame                                   answer
//	FF ver IMEI(8, LE) [ext id(8), ver 24]  ver 22: 7B 00 00 7D
//	                                        later: 7B 04 00 CS time(4, LE) 7D
//	5B num {type len(2) time(4) data CS} 5D 7B 00 num 7D (none for num FD)
//
// A packet's checksum is the sum of its time and data bytes; a wrong one
// is a [protocol.ErrChecksum] error unless the codec is Lenient (messages
// marked "frame.checksum.invalid"). The HEADER answer's CS is the sum of
// the time bytes; the time is [Codec].Now. Packet types: 0x01 a record of
// tags (a message), 0x03 text (a device's answer: "command.response", and
// a [protocol.CommandResponse] in a package numbered 0xFD), 0x00 ping,
// others (file, binary) kept as "custom.packet.raw".
//
// Each tag is a number and a 4-byte little-endian value:
//
//	tag        parameters
//	0x01       battery.voltage, external.powersource.voltage (mV → V)
//	0x03 0x04  position.latitude, position.longitude (single precision)
//	0x05       position.direction (×2), position.altitude (×10 m),
//	           position.satellites (GPS + GLONASS), position.speed (knots → km/h);
//	           satellites 0xFE/0xFF: a cell or Wi-Fi position, not valid
//	0x06       an input: discrete (din), pulses, frequency, voltage (ain#N)
//	0x07 0x08  gsm.cellid, gsm.lac; gsm.mnc, gsm.mcc, gsm.signal.level
//	0x09       device status: din, dout, GSM/GNSS state, movement.status,
//	           armed, alarm (alarm.event.trigger, sos.event.trigger)
//	0x14-0x1B  frequency on IN0-IN7 (Hz); 0x1E-0x25 voltage on IN0-IN7 (ain#N)
//	0x33-0x45  CAN: flags, can.engine.motorhours, can.vehicle.mileage,
//	           can.fuel.consumed, can.fuel.level, can.fuel.volume,
//	           can.engine.rpm, can.engine.temperature, can.vehicle.speed,
//	           can.axle.weight#1-5, pedal and engine load
//	0x5B-0x60  fuel level sensors 1-6: level, temperature ((raw - 100) / 10 °C)
//	0x63       device status 2; 0x96 gps.vehicle.mileage (km × 100);
//	           0x97 position.hdop (× 100); 0xFB hardware and firmware versions
//	other      custom.tag.<n>, the value as a number
//
// # Text sentences
//
// "$AV,<type>,<id>,…*XX", XX the XOR of the bytes between '$' and '*' (a
// wrong one: [protocol.ErrChecksum] unless Lenient). The id is the ident.
// Position sentences (V3, V4, …) give the index ("record.seqnum"), power
// and battery voltages (0.01 V), movement, ignition, inputs, the fix type
// ("position.valid"), satellites, from V4 the altitude, then time,
// latitude and longitude (ddmm.mmmm), speed (knots → km/h), course and
// date; a date of 06.01.80 (no fix yet) gives no timestamp. Other types
// (V3DI device information, V3GSMINFO, V6SD) keep their fields in
// "custom.fields", with "device.imei" and "gsm.sim.iccid" taken out.
// Sentences are not answered; CR and LF between them are skipped.
//
// # Commands
//
// [Session.EncodeCommand] sends a SERVER_COM frame: 7B, length, command
// number, checksum, the payload (the Arnavi command text), 7D.
//
// # Ownership
//
// A session keeps nothing of the frames it decodes. Decoding a PACKAGE
// into a reused [protocol.Result] allocates nothing.
package arnavi
