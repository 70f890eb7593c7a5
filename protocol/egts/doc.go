// Package egts is EGTS, the ERA-GLONASS telematics standard of the Russian
// Federation (GOST R 54619-2011, GOST 33472-2015; for commercial transport
// Order No. 285 of the Ministry of Transport, 31 July 2012): the transport
// layer with its checks, the service layer's records and subrecords
// decoded into flespi-named messages, the confirmations terminals wait
// for, and commands.
//
//	codec := &egts.Codec{}                     // zero value: strict, 64 KiB packets
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheTerminal, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                        // then send r.Reply
//		return nil
//	})
//
// Built from the Order 285 annex (transport and service layer tables, the
// authentication, teledata and commands services) and the GOST text for
// the checks; checked against the EGTS validator's output (JSC
// Navigation-information systems) and real captures. Terminals connect
// over TCP to the port the platform gives them (there is no standard one).
//
// # Transport layer
//
// A packet is a header — protocol version 1, security key id, flags
// (prefix, routing, encryption, compression, priority), header length (11,
// or 16 with routing), header encoding, frame data length (FDL), packet id
// (PID), packet type — closed by a CRC-8 (CRC-8/NRSC-5: poly 0x31, init
// 0xFF, package crc8), then FDL bytes of frame data closed by a CRC-16
// (CRC-16/CCITT-FALSE, crc16.CCITTFalse). Numbers are little-endian.
// [Codec.Split] cuts packets by HL and FDL; a first byte other than 1 or a
// header length other than 11 or 16 is a [protocol.ErrMalformed] error. A
// wrong CRC is a [protocol.ErrChecksum] error unless the codec is Lenient:
// then the messages are kept and marked "frame.checksum.invalid".
//
// Packet types: EGTS_PT_APPDATA (service records), EGTS_PT_SIGNED_APPDATA
// (a signature, then records) and EGTS_PT_RESPONSE (the other side
// confirming a packet: RPID, result, then records, whose record responses
// need nothing). An encrypted or compressed body (the standard leaves the
// algorithms to the parties) is kept whole as "custom.packet.raw".
//
// # Answers
//
// Every EGTS_PT_APPDATA packet is answered with an EGTS_PT_RESPONSE: the
// packet's PID, result 0 (EGTS_PC_OK), and for each record a record
// holding EGTS_SR_RECORD_RESPONSE (the record's number, status 0) in the
// record's service. After a terminal identification (EGTS_SR_TERM_IDENT)
// the session also sends the authentication service's
// EGTS_SR_RESULT_CODE with 0, which terminals wait for before sending
// data. Packet ids and record numbers count from 1 per connection.
// [Session.Refusal] is EGTS_SR_RESULT_CODE 151 (EGTS_PC_AUTH_DENIED).
//
// # Ident
//
// The ident is the IMEI of EGTS_SR_TERM_IDENT when it sends one (not all
// zeros), else its terminal id (TID); before any identification, the
// object id (OID) of the records, as terminals that skip authentication
// send it.
//
// # Records and subrecords
//
// Each record of the teledata service is a message with "record.seqnum"
// (RN), "custom.service.type" and, when the record has one, its time
// ("timestamp"; EGTS times count seconds from 2010-01-01 UTC). A second
// EGTS_SR_POS_DATA in one record starts another message.
//
//	subrecord                  parameters
//	EGTS_SR_TERM_IDENT (1)     ident, custom.terminal.id, device.imei, gsm.sim.imsi, …
//	EGTS_SR_MODULE_DATA (2)    module type, vendor, device.firmware.version, serial
//	EGTS_SR_VEHICLE_DATA (3)   vehicle.vin, vehicle type, propulsion
//	EGTS_SR_AUTH_INFO (7)      custom.auth.user (the password is not kept)
//	EGTS_SR_POS_DATA (16)      timestamp, position.latitude/longitude (the modulus
//	                           scaled to 0xFFFFFFFF for 90°/180°, hemisphere flags),
//	                           position.speed (0.1 km/h), position.direction (9 bits),
//	                           position.valid, position.altitude (sign in SPD),
//	                           vehicle.mileage (0.1 km), din (inputs 1-8),
//	                           event.enum (SRC), movement.status,
//	                           message.buffered.status (black box)
//	EGTS_SR_EXT_POS_DATA (17)  position.vdop/hdop/pdop (0.01), position.satellites,
//	                           custom.gnss.systems.bitmask
//	EGTS_SR_AD_SENSORS (18)    din (additional inputs from bit 8), dout, custom.ain#N
//	EGTS_SR_COUNTERS (19)      custom.counter#N
//	EGTS_SR_STATE_DATA (21)    custom.state.enum, external.powersource.voltage,
//	                           battery.voltage, backup voltage (0.1 V), gnss.status;
//	                           also under type 20 with 5 bytes, as some terminals send it
//	EGTS_SR_ABS_DIG_SENS (23)  din#N
//	EGTS_SR_ABS_AN_SENS (24)   custom.ain#N
//	EGTS_SR_ABS_CNTR (25)      custom.counter#N
//	EGTS_SR_ABS_LOOPIN (26)    custom.loopin#N
//	EGTS_SR_LIQUID_LEVEL (27)  custom.lls.level#N (0.1 %), .volume#N (0.1 l),
//	                           .value#N (raw), .error#N
//	EGTS_SR_COMMAND_DATA (51)  confirmations → Responses and command.response;
//	                           messages from the driver → driver.message
//	other                      custom.subrecord.<type>, hex
//
// Analog inputs, counters and loop inputs are kept raw: the standard gives
// them no unit.
//
// # Commands
//
// [Session.EncodeCommand] sends EGTS_SR_COMMAND_DATA in the commands
// service: CT_COM with code EGTS_RAW_DATA and the text (the default), CT_COM
// with a given code ("code"), or CT_MSGTO, a message for the driver
// ("message"). The command id is Command.ID; the terminal's CT_COMCONF
// carries it back as a [protocol.CommandResponse] with HasID set.
//
// # Ownership
//
// A session keeps nothing of the packets it decodes. Decoding a position
// record into a reused [protocol.Result] allocates nothing.
package egts
