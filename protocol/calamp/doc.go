// Package calamp is CalAmp's LM Direct protocol, spoken by the LMU family
// (LMU-700/800/1100/1200/2600/2620/2630/3030/3640/4200/4230/5530 and the
// TTU/CalAmp 2G–4G units): the options header with the mobile ID and its
// type, the message header, event, locate, mini event, user, application
// and ID reports, the acknowledgement a unit retransmits its message
// without, and commands. It runs over UDP only; Traccar's usual port for
// it is 5082 (CalAmp's own default is 20500).
//
//	codec := &calamp.Codec{}                    // zero value: strict, 64 KiB datagrams
//	d := protocol.NewStreamDecoder(codec, protocol.UDP, 0)
//	err := d.Feed(datagram, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                         // then send r.Reply, the ACK
//		return nil
//	})
//
// Built from CalAmp's documents: the LM Direct message structure (options
// header and its bits, message header, service types) as the LMU-1200
// tutorial and the LM Direct Reference Guide give it, the LMU Users Guide
// V1.0.6 (event report fields: inputs, unit status, event index and code,
// accumulators; user message routing and IDs; the Inbound Event Report
// Contents parameter). The mini event report's fix byte and the ID
// report's extension strings are as open decoders (Traccar) and the
// captures in testdata show them.
//
// # Messages
//
// A datagram is an optional options header (first byte with bit 7 set:
// mobile ID, mobile ID type, authentication, routing, forwarding, response
// redirection, each with a length byte), then service type, message type
// and sequence number, then the message. The mobile ID (its bytes as hex
// digits, F padding dropped: an IMEI or ESN reads as digits) is "ident"
// and [protocol.Result.Ident]; a unit may leave it out of later messages,
// which the session then attributes to the mobile ID it last saw.
//
//	type 0  null (keep-alive)                  no message
//	type 1  ACK/NAK of a command               command.response ("ACK", "NAK: …")
//	type 2  event report, 8 locate report      full location header, custom.event.index,
//	                                           event.enum, custom.accumulator#N
//	type 3  ID report                          firmware, ESN, IMEI, IMSI, MIN, ICCID, VIN,
//	                                           the extension strings (custom.id.extension)
//	type 4  user message, 9 with accumulators  full location header, route, ID and data
//	                                           (custom.user.message, or .hex when binary)
//	type 5  application message, 14 with accumulators
//	                                           full location header, type and data in hex
//	type 10 mini event report                  time, position, heading, speed (km/h),
//	                                           satellites, inputs, event.enum, accumulators
//	others                                     custom.message.type.enum and the contents in hex
//
// The full location header gives timestamp (update time),
// position.timestamp (time of fix, when it differs), latitude and
// longitude (1e-7 degrees), altitude (cm → m), speed (cm/s → km/h),
// heading, satellites, position.valid (the fix status's "invalid fix" bit
// clear; the whole byte in custom.fix.status.bitmask), the carrier, RSSI
// (gsm.signal.dbm), comm state, HDOP (tenths), inputs (bit 0
// engine.ignition.status, bits 1–7 din with input 1 as bit 0) and unit
// status. Every message also carries record.seqnum (its sequence number)
// and custom.message.type.enum.
//
// # Acknowledgements and refusal
//
// A message sent with the acknowledged service (type 1) is repeated by the
// unit until it gets an acknowledgement: the session's reply is service
// type 2, message type 1, the same sequence number, the acknowledged type,
// ACK code 0, a spare byte and three bytes of application version (zero).
// [Session.Refusal] is the NAK "mobile ID look-up failure" (code 6) for
// the last message, which a channel sends to a unit it will not serve.
// LM Direct has no checksum; a length field that runs past the datagram is
// a [protocol.ErrChecksum] error unless the codec is Lenient (the message
// is then kept and marked "frame.length.invalid").
//
// # Commands
//
// [Session.EncodeCommand] sends a user message to the device on the unit's
// serial port (Command.Name "" or "user"), or a unit request ("unit") or
// configuration parameter message ("parameter") whose contents the caller
// gives in Command.Data, with the acknowledged service and the session's
// sequence numbers; the unit's ACK/NAK carries the sequence number back,
// which gives the [protocol.CommandResponse] the command's ID (HasID).
// Replies go to the unit's address; a response redirection address in the
// options header is kept as custom.response.redirection but not followed.
//
// # Ownership
//
// A session keeps nothing of the datagrams it decodes; strings are copied.
// Decoding an event report into a reused [protocol.Result] allocates
// nothing beyond the strings a message keeps.
package calamp
