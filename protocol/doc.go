// Package protocol holds what every tracker protocol shares: the [Message]
// (flat parameters with flespi names), the [Codec] and [Session] contract, the
// errors decoders return, and the parameter-name [Catalogue]. One
// sub-package per protocol (protocol/teltonika, protocol/gt06,
// protocol/wialonips, …) implements the contract; protocol/protocoltest tests
// any codec against captured traffic.
//
// # Messages
//
// A [Message] is an ordered set of parameters. Names follow flespi
// ("position.speed" is km/h in every protocol, "ain#2" is the second analog
// input, "custom.param.239" an IO element without a common name; see
// [LookupParam]). Values are typed ([Value]): integers stay exact, objects and
// arrays are kept as raw JSON. JSON encoding is deterministic: parameters in
// the order they were set, numbers formatted as ECMAScript does, so that
// golden files and hashes are stable.
//
// # Codecs, sessions and replies
//
// A [Codec] frames a TCP stream ([Codec.Split], a bufio.SplitFunc) and makes
// a [Session] per connection. The session decodes a frame into a [Result]:
// messages, the device's ident once known, answers to commands, and the exact
// reply bytes the device expects. The reply is returned, never written: a
// channel sends it only after the messages are stored, so an acknowledged
// message is a durable one and a device whose reply never came resends.
// Over UDP each datagram is one frame.
//
// [StreamDecoder] runs a codec over a byte stream exactly as a channel does;
// the decode tool and protocoltest use it too.
//
// Optional interfaces add what not every protocol has: [CommandEncoder]
// (commands to the device), [Refuser] (a refusal to send before closing),
// [Splitter] (framing that depends on the session), [Settings] (reading and
// writing the device's named parameters through commands).
//
// # Errors and lenient mode
//
// Decoders return [*DecodeError] carrying the protocol, the byte offset and a
// cause wrapping one of [ErrTruncated], [ErrChecksum], [ErrUnsupported],
// [ErrFrameTooLarge] or [ErrMalformed]. A frame whose checksum or length
// field is wrong is an [ErrChecksum] error unless the codec is lenient: some
// devices really send such frames, so a lenient codec keeps their messages
// and marks them with "frame.checksum.invalid" or "frame.length.invalid".
//
// # Ownership
//
// A [Result] and its messages are reused frame after frame; a caller that
// keeps a message past the next Decode call clones it ([Message.Clone]).
// Sessions never retain the frame they were given.
package protocol
