// Package galileosky is the Galileosky protocol (Galileosky v2.x, v4.0,
// v5.x, 7.0, Base Block and the other Galileosky terminals): framing,
// decoding the tag-based packets into flespi-named messages, the
// confirmation every packet waits for, and text commands. It runs over TCP
// (a UDP datagram is decoded as one packet); Traccar's usual port for it is
// 5034.
//
//	codec := &galileosky.Codec{}                // zero value: strict, 64 KiB packets
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheDevice, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                         // then send r.Reply
//		return nil
//	})
//
// Built from Galileosky's documents: the "Server exchange protocol" chapter
// and "Table 2. GalileoSky protocol tags" of the GalileoSky GLONASS/GPS v5.1
// and GALILEOSKY GLONASS/GPS Satellite v4.0 user's manuals (packet
// structure, the head and main packets, the confirmation, the command and
// answer packets, the tags and their units) and the "Galileosky protocol"
// (2023), which adds the extended tags behind tag 0xFE. Tag lengths and
// layouts the manual pages at hand do not show (among them 0xFE's u16
// length, the compressed packet's minimal data set and the Iridium
// elements) come from what open decoders (Traccar, pikhovkin/galileosky)
// show, checked on the captures.
//
// # Packets
//
//	header | u16 length (bit 15: archived data left to send) | tags | u16 CRC-16/MODBUS
//
// Little-endian throughout; the CRC covers the whole packet from the
// header. Headers: 0x01 head and main packets and command answers, 0x08
// compressed main packets, 0x07 picture parts, 0x06 Garmin FMI data. Every
// 0x01 and 0x08 packet is confirmed with 0x02 and its CRC ("02 A2 FE"), a
// picture part with 0x07 and its CRC; Garmin data is not confirmed. A
// packet whose CRC is wrong is a [protocol.ErrChecksum] error unless the
// codec is Lenient: then it is confirmed, and its messages are kept and
// marked "frame.checksum.invalid".
//
// An Iridium SBD message relayed by the gateway (header 0x01, a big-endian
// length, information elements 0x01 MO header with the IMEI and time, 0x03
// location, 0x02 payload of Galileosky tags) is decoded too, and not
// confirmed. Galileosky has no refusal reply.
//
// # Records and ident
//
// Within a record tags come in ascending order, so a tag not above the one
// before it starts the next record; each record is one message. The head
// packet (tags 0x01–0x04: hardware and firmware version, IMEI, terminal
// identifier) gives "ident", which the session keeps for the main packets
// that follow (they do not repeat it). A record that holds only the IMEI
// makes no message. The archive bit of the length is
// "custom.archive.pending" on the packet's messages.
//
// # Tags
//
//	0x01, 0x02   custom.hardware.version, custom.firmware.version
//	0x03         IMEI → ident
//	0x04         custom.terminal.id
//	0x10         record.seqnum (archive record number)
//	0x20         timestamp (Unix seconds)
//	0x30         position.satellites (low nibble), position.valid (high nibble 0;
//	             2: cellular, kept as custom.coordinates.source),
//	             position.latitude/longitude (i32 ×10⁻⁶)
//	0x33         position.speed (×0.1 km/h), position.direction (×0.1°)
//	0x34, 0x35   position.altitude (m), position.hdop (×0.1)
//	0x40, 0x48   custom.device.status, custom.device.status.extended (bitmasks)
//	0x41, 0x42   external.powersource.voltage, battery.voltage (mV → V)
//	0x43         device.temperature (°C)
//	0x44         custom.acceleration.x/y/z (three 10-bit axes)
//	0x45, 0x46   dout, din (bitmasks, output/input 0 = bit 0)
//	0x47         EcoDrive: custom.ecodrive.acceleration/braking/cornering/bump (×0.01 g)
//	0x50–0x57, 0x78–0x7D  ain#0–#13 (mV → V; a counter or frequency when the input is so set)
//	0x58, 0x59   rs232.sensor.value#0/1
//	0x60–0x6F    rs485.sensor.value#0–15; 0x63–0x6F and 0x8A–0x8C rs485.sensor.temperature#N
//	0x70–0x77    thermometers: custom.temperature.sensor.id#N and temperature#N (°C;
//	             −128, not connected, is left out)
//	0x80–0x87    DS1923: custom.ds1923.id/temperature/humidity#N
//	0x88, 0x89   custom.rs232.sensor.temperature#0/1
//	0x90, 0xD3   ibutton.code, custom.ibutton2.code (hex); 0xD5 custom.ibuttons.state
//	0xC0         can.fuel.consumed (×0.5 l)
//	0xC1         can.fuel.level (×0.4 %), can.engine.coolant.temperature (−40 °C),
//	             can.engine.rpm (×0.125)
//	0xC2         can.vehicle.mileage (×5 m → km); 0xC3 custom.can.b1
//	0xC4–0xD2, 0xA0–0xAF  can.8bit.value#0–30
//	0xD6–0xDA, 0xB0–0xB9  can.16bit.value#0–14
//	0xDB–0xDF, 0xF0–0xF9  can.32bit.value#0–14
//	0xD4         vehicle.mileage (GPS mileage, m → km)
//	0xE0, 0xE1   a command's number and answer: command.response, Result.Responses
//	0xE2–0xE9    custom.user.data#0–7; 0xEA custom.user.data.array (hex)
//	others       custom.tag.0xNN, the value in hex (0x5A, 0x5C, 0x5D, 0xFA, 0xFD,
//	             0xFE extended tags)
//
// A tag the table does not list has no known length, so the rest of the
// packet cannot be read: it is kept in custom.tags.tail (hex) and the
// packet is still confirmed.
//
// A compressed packet's records are a 10-byte minimal data set (seconds
// since the start of the current year — the codec's clock says which year —,
// a validity bit, 22-bit longitude and 21-bit latitude, an alarm bit
// (alarm.event.trigger)), a count of tags, the tag numbers and their values.
//
// # Commands
//
// [Session.EncodeCommand] sends Command.Text (a Galileosky text command,
// "status", "Out 0,1", "HeadPack 1111") in the document's command packet:
// tags 0x03 IMEI, 0x04 terminal identifier, 0xE0 the command number
// (Command.ID) and 0xE1 the text. The session needs the head packet first.
// The device answers with the same structure and the reply text, which
// becomes a message with command.response and a Result.Responses entry with
// the command's ID (HasID): answers nobody waits for are kept too.
//
// # Ownership
//
// A session keeps nothing of the packets it decodes; strings are copied.
// Decoding a main packet into a reused [protocol.Result] allocates only the
// strings a message keeps.
package galileosky
