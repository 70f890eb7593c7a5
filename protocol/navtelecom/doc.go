// Package navtelecom is the protocol of Navtelecom's trackers (Signal,
// Smart): NTCB frames with their "@NTC" header and XOR checksums, the
// "*>S" handshake, the "*>FLEX" negotiation and FLEX 1.0/2.0/3.0 records,
// NTCB binary telemetry, the answers devices wait for, and NTCB commands.
//
//	codec := &navtelecom.Codec{}               // zero value: strict, 64 KiB frames
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                        // then send r.Reply
//		return nil
//	})
//
// Built from Navtelecom's protocol documents (NTCB "Текстовый и бинарный
// протоколы передачи данных" v3.5 for Signal/Smart devices, and the FLEX
// 1.0/2.0/3.0 field tables), and checked against real captures. Devices
// connect over TCP, to the port the server is given.
//
// # NTCB frames
//
// A frame is a 16-byte header — a 4-byte prefix ("@NTC"), the receiver's
// and the sender's 32-bit ids, the data length, the data's XOR, the XOR
// of the header's first 15 bytes — then the data, numbers little-endian.
// A wrong XOR is a [protocol.ErrChecksum] error unless the codec is
// Lenient (messages marked "frame.checksum.invalid"). Answers go to the
// device's id from ours, with its prefix.
//
//	data                   what                                 answer
//	*>S:<IMEI>             handshake: the ident                 *<S
//	*>FLEX B0 pv sv n bits FLEX negotiation: versions, the      *<FLEX B0 pv sv
//	                       field set (bit 7 of byte 0 = field 1)
//	*>T <record>           NTCB binary telemetry, one record    *<T <record index>
//	*>A n <records>        NTCB binary telemetry, n records     *<A n
//	*@…                    a command's answer → Responses,      -
//	                       "command.response"
//	(empty)                keep-alive                           -
//
// NTCB binary records (formats F1.0 … F6.0, code in the first byte) give
// "record.seqnum", "event.enum", armed and alarm flags, "gsm.signal.level",
// "din", "dout", voltages, analog inputs, counters and, where the format
// has them, the fix (time, coordinates in radians or 1e-4 minutes, speed,
// course, mileage) and temperatures.
//
// # FLEX records
//
// After "*>FLEX" the device sends FLEX frames, closed by the EGTS CRC-8
// (CRC-8/NRSC-5) of what precedes it; a wrong one is a
// [protocol.ErrChecksum] error unless Lenient:
//
//	~A n <n records> crc    archive records         answer ~A n crc
//	~T <index> <record> crc an out-of-turn record   answer ~T <index> crc
//	~C <record> crc         the current state       answer ~C crc
//	~E n <n × len+ext> crc  FLEX 2.0 extended       answer ~E n crc
//	~X <index> len ext crc  FLEX 2.0 extended       answer ~X <index> crc
//	0x7F                    keep-alive              -
//
// A record holds the negotiated fields in field order; the sizes of all
// 255 fields (FLEX 1.0: 1-69, 2.0: 70-122, 3.0: 123-255) are known, so any
// announced set frames and decodes. Fields with a known meaning get names
// and units: 1 "record.seqnum", 2 "event.enum", 3 "timestamp", 4 device
// status, 7 "gsm.signal.level", 8 "gnss.status", "position.valid",
// "position.satellites", 9 "position.timestamp", 10-11 coordinates (1e-4
// minutes), 12 "position.altitude" (0.1 m), 13 "position.speed", 14
// "position.direction", 15 "vehicle.mileage" (km), 16-18 the last trip,
// 19-20 "external.powersource.voltage" and "battery.voltage" (mV → V),
// 21-28 "ain#1"-"ain#8" (mV → V), 29-32 "din"/"dout" (16 each), 33-36
// counters and frequencies, 37 "engine.motorhours" (s → h), 38-44 fuel
// level sensors, 45-52 temperatures (°C), 53-69 CAN (fuel, "can.engine.rpm",
// coolant, "can.vehicle.mileage", axle loads, pedals, load,
// "can.vehicle.speed"), 71 "position.hdop"/"position.pdop" (0.1). Every
// other field is "custom.flex.<n>": a number for 1, 2, 4 and 8 bytes, hex
// otherwise. From field 21 on, a sensor value of all ones (unsigned) or
// the minimum (signed) means "no data" and is left out. Extended records
// are kept whole ("custom.flex.extended.raw"). Each message also has
// "custom.packet.type" (A, T, C, E, X).
//
// # Commands
//
// [Session.EncodeCommand] sends an NTCB "*!<text>" command ("*!SETOUT
// 1Y"); the device answers "*@…".
//
// # Ownership
//
// A session keeps nothing of the frames it decodes. Decoding a FLEX record
// into a reused [protocol.Result] allocates nothing.
package navtelecom
