// Package teltonika implements the Teltonika AVL protocol (FM/FMB/FMC/FMM
// trackers) as a [protocol.Codec]: the TCP IMEI handshake, Codec 8, Codec 8
// Extended and Codec 16 records (and GH3000 Codec 7) over TCP and UDP with
// the acknowledgements the devices wait for, the Codec 12/13/14/15 GPRS
// messages that carry commands to a device and its answers back (over TCP
// and UDP), and the 0xFF keep-alive byte FMB devices send on an idle TCP
// link.
//
// Sources: the Teltonika wiki pages "Teltonika Data Sending Protocols" and
// "Codec", the per-model "Teltonika Data Sending Parameters ID" (AVL ID)
// lists, and the worked examples and captures in testdata, each of which
// names where it comes from.
//
// # Use
//
//	codec := &teltonika.Codec{}          // zero value: strict, 64 KiB frames
//	s := codec.NewSession(protocol.TCP)  // one per connection
//	var r protocol.Result
//	for each frame cut by codec.Split {
//		r.Reset()
//		if err := s.Decode(frame, &r); err != nil { … }
//		store(r.Messages)                // then, and only then:
//		conn.Write(r.Reply)              // 01 for a login, u32 record count for data
//	}
//	cmd, _ := s.(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Text: "getinfo"})
//
// A channel does all of this through [protocol.StreamDecoder]; see the
// examples.
//
// # Wire formats
//
// Over TCP a device first sends its IMEI (00 0F and 15 ASCII digits); the
// server answers 01 to accept it, or 00 and the session asks the caller to
// close the connection ([protocol.Result.Close]). Every later packet is
// 00000000 | u32 length | codec id | N1 | records | N2 | u32 CRC, the CRC
// being CRC-16/ARC (Teltonika's "CRC-16/IBM") of codec id .. N2. The reply to
// records is the number of records accepted, u32 big-endian.
//
// Over UDP each datagram is u16 length | u16 packet id | 01 | u8 AVL packet
// id | u16 IMEI length | IMEI | codec id .. N2, with no CRC; the reply is
// 00 05 | packet id | 01 | AVL packet id | u8 records accepted. The IMEI
// must be 15 digits. A session's commands (Codec 12 and 14) are the same
// bytes over both transports; a device's answers over UDP arrive either in
// that TCP form or as a GPRS body after the UDP channel header, and both are
// read.
//
// Between packets an FMB device may send single 0xFF bytes to keep an idle
// TCP link open: [Codec.Split] consumes them; they make no message and get
// no reply.
//
// A record is u64 milliseconds | priority | longitude, latitude (i32,
// ×1e-7 degrees) | altitude (i16, m) | angle | satellites | speed (km/h) |
// IO elements. Codec 8 has 1-byte AVL IDs and counts; Codec 8 Extended
// 2-byte IDs and counts and a last group of variable-length elements;
// Codec 16 2-byte IDs, 1-byte counts and a generation-type byte after the
// event ID. Some FM63xx-family firmware adds a group of 16-byte elements to
// Codec 8 without changing the codec id; that layout is tried when the
// standard one does not fit the packet. GH3000 Codec 7 records (bit-mask
// driven GPS fields, float coordinates, time in seconds since 2007) are
// decoded too; their IO IDs are kept as custom.param.<id>, since GH3000 IDs
// do not mean what FM/FMB IDs mean.
//
// # Messages
//
// One message per record, with flespi's names: ident (once the IMEI is
// known), timestamp (seconds with the milliseconds as fraction),
// position.latitude, .longitude, .altitude (m), .direction, .speed (km/h),
// .satellites, .valid (satellites > 0 and coordinates in range; Teltonika
// sends zeros and 0 satellites when it has no fix), event.priority.enum (0
// low, 1 high, 2 panic), event.enum (the AVL ID that triggered the record, 0
// for a periodic one) and, for Codec 16, event.generation.enum (0 on exit, 1
// on entrance, 2 on both, 3 reserved, 4 hysteresis, 5 on change, 6
// eventual, 7 periodical).
//
// IO elements are named from one table (iotable.go), built from Teltonika's
// per-model AVL ID lists. Teltonika numbers IDs in two ways: the FMB
// firmware lists (FMB0/1/2/9xx, FMC and FMM 0/1/2/8/9xx, FMT, FMP, FMU,
// MSP) share one numbering, and the FMX6 lists (FMB64x, FMC64x, FMC650,
// FMM64x, FMM650) another, which gives about 230 IDs a different meaning.
// [Codec.Family] selects one: [FamilyFMB] (the default), [FamilyFMX6], or
// [FamilyBoth] for a mixed fleet, which names only what both lists agree
// on. Within a family an ID gets a catalogue name when its meaning is the
// same on every list of the family, with its scale turned into the
// catalogue's unit: 239 → engine.ignition.status, 240 → movement.status,
// 66 → external.powersource.voltage (mV → V), 67 → battery.voltage, 1..3 →
// din#N, 179/180 → dout#N, 9/6 → ain#N (V), 16 → vehicle.mileage (m →
// km), 199 → vehicle.trip.mileage, 21 → gsm.signal.level, 69 →
// gnss.state.enum, 80 → data.mode.enum, 200 → sleep.mode.enum, 241 →
// gsm.operator.code ("24602"), 72..75 → temperature#N
// (0.1 °C → °C), 25..28 → ble.sensor.temperature#N, the OBD-II elements
// (30..60) → obd.*, the LV-CAN/ALL-CAN elements (81..90, 102, 110..122) →
// can.*, EYE sensors (10800..) → eye.sensor.*, and so on: about 100 IDs on
// the FMB lists and 50 on the FMX6 lists. Every other element is kept as
// custom.param.<id> with its raw value, unsigned or, where the list types
// it signed (accelerometer axes 17..19, for instance), two's complement.
// Variable-length (Codec 8E NX) elements are numbers when the table names
// them with a numeric type, text for the ASCII ones (256 → vehicle.vin, 264
// → barcode.id) and lowercase hex otherwise; 16-byte elements are hex.
//
// # Commands and answers
//
// Sessions implement [protocol.CommandEncoder]: Command.Name "" or
// "codec12" sends a Codec 12 command (Text, or Data when Text is empty);
// "codec14" sends Codec 14 addressed to the session's IMEI ([ErrNoIMEI]
// before the device has logged in). Device answers are returned in
// [protocol.Result.Responses], in order (Teltonika carries no command id):
// Codec 12 and 14 answers (type 6) and Codec 13 and 15 messages as Text,
// with Codec 13/15's timestamp; other packet types (a camera's type 0x0D
// file packets, a Codec 14 "not my IMEI" type 0x11) as Data. GPRS packets
// get no reply.
//
// A text answer is also a message, so that it is stored when nobody waits
// for it (a command sent by SMS or by another server, text a device sends
// on its own with Codec 13 or 15): ident (once the IMEI is known),
// command.response, and timestamp when the packet carries a plausible one
// (Codec 13 and 15, 2000 to 2100); Codec 12 and 14 carry no time, so the
// channel stamps the time of reception. The channel matches the Response
// to a pending command when there is one.
//
// # Settings
//
// The Codec implements [protocol.Settings]: a setting is a parameter ID of
// the device's configuration, read with "getparam ID" and written with
// "setparam ID:VALUE" over Codec 12, and [Codec.SettingValue] reads the
// device's answer ("Param ID:2001 Value:wap", "New value 2001:wap") or its
// refusal ([protocol.ErrSettingRefused]).
//
// # Strict and lenient
//
// A packet whose CRC or length field is wrong is a [protocol.ErrChecksum]
// error. With Codec.Lenient its records are kept and marked
// frame.checksum.invalid / frame.length.invalid, and acknowledged. Either
// way [Codec.Split] cuts such a packet where its records end rather than
// where its length field says, so one bad packet does not swallow the
// next. Record and element counts are checked against the bytes present
// before anything is read, and N1 must equal N2: a hostile packet gets an
// error, never a large allocation.
//
// # Performance
//
// A Codec 8 Extended packet with one record and 20 IO elements decodes
// into a reused Result in under 400 ns with no allocations
// (BenchmarkDecode): names and conversions come from a table built once per
// family, each group of fixed-width elements is read by a loop
// instantiated for its widths with the common conversions inline,
// parameters are appended without a search, and the CRC is computed eight
// bytes at a time. BENCHMARKS.md compares it with the fastest public Go
// decoder, instruction for instruction.
package teltonika
