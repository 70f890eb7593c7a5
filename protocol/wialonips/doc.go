// Package wialonips is the Wialon IPS protocol, versions 1.1 and 2.0: a
// text protocol by Gurtam that many trackers and phone apps speak over TCP
// and UDP. [Codec] frames the stream and makes a [Session] per connection;
// the session decodes packets into flespi-named messages and returns the
// exact answer each packet expects.
//
// # Packets
//
//	#L#imei;password                      login, v1.1        → #AL#1 | 0 | 01
//	#L#2.0;imei;password;CRC16            login, v2.0        → #AL#1 | 0 | 01 | 10
//	#SD#date;time;lat;N;lon;E;speed;course;alt;sats[;CRC16]
//	                                                         → #ASD#1 | -1 | 0 | 10..13
//	#D#…SD fields…;hdop;inputs;outputs;adc;ibutton;params[;CRC16]
//	                                                         → #AD#1 | -1 | 0 | 10..16
//	#B#record|record|…[|CRC16]           black box          → #AB#count, #AB# on CRC error
//	#P#                                   ping               → #AP#
//	#M#text[;CRC16]                       driver message     → #AM#1 | 0 | 01
//	#AM#code                              answer to a #M# command (Result.Responses)
//	#I#size;ind;last;date;time;name[;CRC16]\r\nBIN           → #AI#ind;1 | ;0 | ;01, #AI#1 when complete
//	#IT#… / #T#…                          tachograph files: answered "error receiving"
//
// A line ends with "\r\n" (a bare "\n" is accepted). The version is learnt
// from the login (or, over UDP, from the "IMEI#" or "2.0;IMEI#" prefix of
// every datagram; the prefix is accepted over TCP too). The CRC16 is
// CRC-16/ARC over the text between "#TYPE#" and the CRC, written as hex;
// devices drop leading zeros ("8A7") and some write "0x9b0", both accepted.
// A packet's layout says whether it carries a CRC16 (an SD record has 10
// fields, 11 with the CRC); a 2.0 session that omits it is treated as a
// checksum error. Compressed packets (0xFF, u16 little-endian length, zlib
// or raw DEFLATE data holding one packet) are accepted over TCP and UDP;
// decompression stops at 16 times the frame limit, so a zip bomb costs
// nothing but an error.
//
// # Errors and replies
//
// A malformed packet of a kind the spec answers gets the spec's error code
// and no messages, and Decode returns nil: the device needs the answer to
// go on (a Wialon device waits for it, then resends or drops the packet),
// and a channel sends a reply only when Decode succeeded. The code is the
// one of the first field that is wrong: -1 for a wrong number of fields,
// 0 for the date or time, 10 coordinates, 11 speed, course or altitude, 12
// satellites or HDOP, 13 inputs or outputs, 14 ADC, 15 parameters, 16 (13
// for SD, 10 for L, 01 for M) for the CRC16.
//
// A CRC16 mismatch is therefore not a [protocol.ErrChecksum] error: in strict
// mode (the default) the packet is answered with its checksum code and
// registers nothing, which is what "strict rejects" means on a protocol
// that has an answer for it. With Codec.Lenient the packet's messages are
// kept, marked "frame.checksum.invalid", and answered as successful.
// ErrChecksum is returned only when the zlib checksum of a compressed
// container fails, where no packet can be answered.
//
// Decode returns a [*protocol.DecodeError] for what the spec has no answer
// for: text that is not "#TYPE#…" ([protocol.ErrMalformed]), an unknown or
// server-only packet type ([protocol.ErrUnsupported]), a container that does
// not inflate, and (with Codec.CheckPassword set) a TCP packet before an
// accepted login. The channel then decides whether to drop the connection.
// A rejected login (#AL#0, #AL#01) sets Result.Close.
//
// # Messages
//
// Each SD/D record, and each record of a black box, is one message:
//
//	ident                      from the login or UDP prefix (never the password)
//	timestamp                  DDMMYY + HHMMSS[.fff], UTC; absent when both are NA
//	position.latitude/longitude NMEA DDMM.MMMM;N and DDDMM.MMMM;E, S and W negative
//	position.speed (km/h), position.direction, position.altitude (m),
//	position.satellites, position.hdop
//	din, dout                  bitmasks, input 1 = bit 0
//	ain#N                      the N-th ADC value (1-based; NA holes keep the numbering)
//	ibutton.code               the driver key, as sent
//	custom.<name>              each "name:type:value" parameter, typed:
//	                           1 integer, 2 double, 3 string
//
// NA and empty fields are left out. Numbers may use a decimal comma
// ("79,8"); in the parameter list a piece without its own "name:type:"
// continues the previous double or string ("fuel:2:45,8", "note:3:a,b").
// A value that does not fit its type is not registered, as the spec says;
// integers written with a fraction are kept as numbers.
//
// Parameters with a common meaning get the catalogue's names; the others
// keep their own name under "custom." (flespi's rule for this protocol).
// Values are kept as sent, in the unit the name's convention uses; names
// match exactly (the spec says lowercase: a device's "Battery" of 4.03 V is
// not the level "battery" names).
//
//	device name         message name                      unit    source
//	SOS                 alarm.event.trigger (boolean)             spec: 1 = alarm
//	text                driver.message                            spec: driver chat
//	mcc, mnc, lac,      gsm.mcc, gsm.mnc, gsm.lac,                spec: LBS
//	cell_id             gsm.cellid
//	mccN, mncN, lacN,   gsm.mcc#N, gsm.mnc#N, gsm.lac#N,          spec: several cells
//	cell_idN            gsm.cellid#N
//	pwr_ext             external.powersource.voltage      V       flespi, Wialon device pages
//	pwr_int             battery.voltage                   V       flespi, Wialon device pages
//	battery, bat        battery.level                     %       flespi
//	accelerometer       absolute.acceleration             g       flespi
//	accel_res           absolute.deceleration             g       flespi
//	axis_weight         can.axle.weight                   kg      flespi
//	cool_temp           can.engine.coolant.temperature    °C      flespi
//	engine_temp         can.engine.temperature            °C      flespi
//	fuel_volume         can.fuel.volume                   l       flespi
//	fuel_level          fuel.level                        %
//	gsm, gsm_lvl        gsm.signal.level                          as reported
//	odometer, mileage   vehicle.mileage                   km
//	ign, ignition       engine.ignition.status (boolean)
//	temp, tempN         temperature#1, temperature#N      °C      temp is sensor 1
//	hdop                position.hdop                             replaces the HDOP field
//	adcN                ain#N                             V       Wialon device pages; replaces the ADC field's
//	rpm                 engine.rpm                        rpm
//
// N runs from 1 to 64 without a leading zero. Names no document gives a
// meaning or unit for stay custom: fuel and fuelN (raw level-sensor
// readings, litres or percent depending on calibration), the can_* family
// (can_mileage, can_fls, can_taho arrive as raw J1939 values whose scale
// the device decides), and the rest. A #M# from the device is a message
// with driver.message; a completed snapshot is a message with image.name,
// image.timestamp and image.bin.jpeg (base64). Pings, logins and answers
// make no messages.
//
// Messages have no timestamp when the device sends NA for date and time:
// the spec says the server's time applies, and the channel stamps
// server.timestamp. Messages decoded before any login have no ident unless
// the packet carries the UDP prefix; what to do with them is the channel's
// choice.
//
// # Commands
//
// Sessions implement [protocol.CommandEncoder] over TCP: Command.Name ""
// (or [CommandMessage]) sends #M#text to the driver, with a CRC16 in a 2.0
// session; [CommandCustom] sends the text as it is; [CommandSnapshot],
// [CommandTachograph], [CommandFirmware] and [CommandConfig] send #QI#,
// #QT#, #US# and #UC#. The device's #AM# answers arrive in
// Result.Responses, in order (the protocol has no command ids). UDP has no
// way to reach the device: EncodeCommand returns [protocol.ErrNoCommands].
//
// # Limits
//
// MaxFrameSize (64 KiB by default) bounds a line, a compressed container
// and a snapshot block; a longer one is [protocol.ErrFrameTooLarge] from
// Split. A message holds at most 1024 ADC values and parameters (Wialon
// registers 200), a black box at most 5000 records (the spec's maximum);
// more parameters are answered with code 15, further records are not
// counted. A snapshot is assembled up to 16 times the frame limit.
package wialonips
