// Package wialonretranslator is Gurtam's Wialon Retranslator 1.0 protocol:
// the binary TCP protocol one Wialon server uses to forward the messages of
// many units to another, over one connection. It decodes (a channel
// protocol: [Codec] frames the stream and makes a [Session] per
// connection) and encodes ([Append], for a stream that forwards messages to
// a Wialon server: stream/wialonsink).
//
// # Packets
//
//	size        u32, little-endian: the bytes after this field
//	controller  the unit's id, ASCII, ending with a zero byte
//	time        u32, big-endian: Unix seconds, UTC
//	flags       u32, big-endian: 0x1 position, 0x2 inputs, 0x4 outputs,
//	            0x10 alarm, 0x20 driver id; other bits are Wialon's
//	blocks      to the end of the packet, each:
//	  type      u16, big-endian: 0x0BBB
//	  size      u32, big-endian: the bytes after this field
//	  hidden    u8: 1 for posinfo and the avl_* blocks, 0 otherwise
//	  data type u8: 1 text (zero-terminated), 2 binary, 3 int32
//	            (big-endian), 4 double (little-endian), 5 int64 (big-endian)
//	  name      ASCII, ending with a zero byte
//	  value     the rest of the block
//
// posinfo is binary: longitude, latitude, altitude (doubles,
// little-endian), speed in km/h and course in degrees (u16, big-endian) and
// satellites (u8). The receiver answers every packet it accepted with one
// byte, [Ack] (0x11); the protocol has no negative answer, so a receiver
// that cannot take a packet closes the connection, and the sender sends
// it again on a new one.
//
// # Parameters
//
// One packet is one message. The blocks Wialon gives a meaning map to
// flespi's parameter names (the renames past the spec's own blocks are
// those flespi's Wialon Retranslator channel documents), both ways:
//
//	Wialon                    gnssgate / flespi                 encoded as
//	controller id             ident                             (header)
//	time                      timestamp (server.timestamp if    (header)
//	                          there is none; whole seconds)
//	flag 0x10                 alarm.event.trigger (true)        (header)
//	posinfo  lon              position.longitude                double
//	         lat              position.latitude                 double
//	         altitude         position.altitude (0 if absent)   double
//	         speed            position.speed, km/h              u16, rounded
//	         course           position.direction                u16, rounded
//	         satellites       position.satellites               u8
//	avl_inputs  (flag 0x2)    din                               int32
//	avl_outputs (flag 0x4)    dout                              int32
//	avl_driver  (flag 0x20)   ibutton.code                      text
//	pwr_ext                   external.powersource.voltage      double
//	pwr_int                   battery.voltage                   double
//	battery                   battery.level                     double
//	adcN                      ain#N                             double
//	gsm                       gsm.signal.level                  int32
//	ign                       engine.ignition.status            int32 0/1
//	hdop                      position.hdop                     double
//	accelerometer             absolute.acceleration             double
//	accel_res                 absolute.deceleration             double
//	axis_weight               can.axle.weight                   double
//	cool_temp                 can.engine.coolant.temperature    double
//	engine_temp               can.engine.temperature            double
//	fuel_volume               can.fuel.volume                   double
//	any other block NAME      custom.NAME, or NAME itself when  by the value:
//	(canN, imag, mileage, …)  it has a dot or is a catalogue    bool → int32 0/1,
//	                          name ("peer", "timezone")         int → int32 (int64
//	                                                            when larger),
//	                                                            float → double,
//	                                                            string → text
//
// Decoding takes any number type for a numeric row; a block whose value
// does not fit its row (a pwr_ext sent as text) is kept under its own name
// rather than dropped. Binary blocks other than posinfo become lowercase
// hex strings; int blocks named after a boolean of the catalogue
// (engine.ignition.status, din#3…) become booleans. A block named "ident"
// or "timestamp" becomes custom.ident or custom.timestamp: it cannot
// replace the header. A repeated block replaces the earlier value.
//
// Encoding writes posinfo first when the message has a latitude and a
// longitude (without them the position.* parameters go out as named blocks
// of their own), then the other parameters in the message's order: a
// mapped parameter whose value does not fit its row (din as a string) goes
// out under its own name, and custom.NAME as NAME, so that decoding gives
// the parameter back. Null values are left out.
//
// # What a round trip keeps
//
// Encoding then decoding gives back every parameter with the same value,
// except: the timestamp loses its fraction; speed, course and satellites
// are rounded to whole numbers (and clamped to the field); an absent
// altitude comes back as 0; alarm.event.trigger false comes back absent
// (the flag cannot say "no alarm"); numbers come back as numbers of the
// same value (an int may come back as a float and the reverse only as the
// value allows); a JSON object or array comes back as its text; a name of
// our own without a dot that is not in the catalogue (say "foo") comes
// back as custom.foo. Wialon itself shows parameters whose names are
// [a-z0-9_]; names with dots reach it as they are.
//
// # Errors
//
// Decode returns a [*protocol.DecodeError] for a packet that breaks the
// layout: a size below the header's or beyond MaxFrameSize (from Split); a
// controller id or block name without its zero byte, with control
// characters or not UTF-8; a block name longer than 1017 bytes (the
// longest "custom." can prefix); a block that runs past the packet; a data
// type outside 1–5; an int or double of the wrong width; a posinfo shorter
// than its 29 bytes (longer ones are read and their extra bytes ignored);
// more than 1024 blocks. Block types other than 0x0BBB are read like
// 0x0BBB: the spec defines no other, and the size field frames them all.
// Doubles that are not finite are left out; a text that is not UTF-8 is
// kept with its invalid bytes replaced by U+FFFD.
//
// [Append] returns an error wrapping [ErrUnencodable] for a message without
// an ident or a time, with a zero byte in a text or a control character in
// a name, or that would exceed [MaxPacketSize].
package wialonretranslator
