// Package gps103 is the Coban protocol of the GPS102/GPS103/GPS104 and
// TK102B/TK103-2 trackers and their many clones: "imei:…,keyword,…;" text
// messages over TCP (and UDP). [Codec] frames the stream and makes a
// [Session] per connection; the session decodes messages into
// flespi-named messages, answers the log-on and the heartbeat, and encodes
// the "**,imei:…" commands. Traccar's usual port for it is 5001.
//
// Built from Coban's documents — the "GPS102, GPS103, GPS104 GPRS data
// protocol" (TK102/TK103 GPRS Data Protocol) examples of what the tracker
// sends, and the "GPRS PROTOCOL" of Shenzhen Coban Electronics (2014),
// whose commands are single and timed locating, cancelling alarms,
// overspeed, cutting and restoring oil and power, arming and disarming —
// with the fields later firmware added (altitude, ACC, door, fuel,
// temperature, OBD and the layout ending in '*') as open decoders show
// devices sending them.
//
// # Messages
//
//	##,imei:359586015829802,A;            log on                 → LOAD
//	359586015829802;                      heartbeat              → ON
//	imei:<IMEI>,<keyword>,<local time>,<phone>,F,<hhmmss.sss UTC>,A,<lat>,N,<lon>,E,<knots>,<course>[,<altitude>,<acc>,<door>,<fuel1>,<fuel2>,<temperature>];
//	imei:<IMEI>,<keyword>,<local time>,<phone>,L,,,<lac hex>,,<cid hex>,…;     no GPS
//	imei:<IMEI>,OBD,<yyMMddhhmmss>,<odometer>,<fuel instant>,<fuel average>,<hours>,<km/h>,<load%>,<coolant>,<throttle%>,<rpm>,<battery V>,<DTCs>;
//	imei:<IMEI>,…,<hhmmss>,<ddmmyy>,…,<decimal lat>,<decimal lon>,<km/h>,…*  the alternative layout
//
// [Codec.Split] ends a message at ';', '*', CR or LF (Traccar's framing of
// this protocol) and skips empty ones; at the end of the stream an
// unterminated message is decoded. Every message carries the IMEI, so
// there is no refusal: a message is identified by itself. Coban messages
// have no checksum; Lenient changes nothing. Text that is none of the
// above, from a connection that has identified itself, is kept as a
// command answer ("command.response", and Result.Responses): Coban devices
// answer some commands in plain text. From an unidentified connection it
// is a [protocol.ErrMalformed] error.
//
// # Time
//
// A report carries the device's local date and time (yyMMddhhmm,
// yyMMddhhmmss or "yy/MM/dd hh:mm", set by its time zone command) and,
// with a fix, the GPS's UTC time of day with milliseconds. "timestamp" is
// the UTC time of day on the UTC date that is within 14 hours of the
// local one, so a report sent at 02:59 local for 23:59 UTC is dated the
// day before. The session learns the device's offset from such a report
// (rounded to a quarter hour) and dates reports without a fix (L) and OBD
// reports, which carry only local time, with it; before that, with
// [Codec].UTCOffset. A local time of "000000000" gives no timestamp.
//
// # Parameters
//
// Speeds are knots in the message and km/h in "position.speed".
// Coordinates are DDMM.MMMM with their hemisphere after (or, on some
// firmware, before) them. ACC is "engine.ignition.status", door
// "door.open.status", fuel 1 "fuel.level" (%), fuel 2
// "custom.fuel2.level", temperature "custom.temperature" (°C). The phone
// field is "custom.phone", the card of an "rfid" message "custom.rfid",
// and a percentage there (newer firmware) "battery.level". An L message
// gives "gsm.lac" and "gsm.cellid". The keyword is "custom.packet.type";
// alarms set "alarm.event.trigger" and, where a common name exists, more:
// "help me" "sos.event.trigger", "low battery" "battery.low.status",
// "speed" "overspeeding.event.trigger", "ac alarm"
// "external.powersource.status" false, "door alarm" "door.open.status",
// "bonnet alarm" "hood.open.status", "sensor alarm" "shock.event.trigger";
// "acc on"/"acc off" set "engine.ignition.status"; "T:<°C>" is a
// temperature alarm, "oil <level>" a fuel level. stockade (geofence),
// move, accident, footbrake, acc alarm and DTC are alarms by their
// keyword alone. A photo announcement "vt<N>" gives "custom.photo.packets"
// and each "vr" chunk arrives as "custom.photo.chunk" (hex, as sent).
//
// # Commands
//
// Sessions implement [protocol.CommandEncoder] once the IMEI is known:
// "**,imei:<IMEI>,B;" position, "C,30s" periodic (s, m or h), "E" cancel
// alarm, "H,080" overspeed, "J"/"K" engine stop and resume, "L"/"M" arm
// and disarm, "160" photo, and any other as text. [Codec].AcknowledgeSOS
// answers an SOS with the cancel-alarm command, so the device stops
// repeating it.
package gps103
