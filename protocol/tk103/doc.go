// Package tk103 is the TK103 protocol: the parenthesised text frames of
// the TK103 family of vehicle trackers ("(088046338039BR00…)") and the
// comma-separated frames of later models ("(864768011069660,ZC17,…)").
// [Codec] frames the stream and makes a [Session] per connection; the
// session decodes frames into flespi-named messages, answers the
// handshake and the log-in, and encodes the downlink commands. Traccar's
// usual port for it is 5002.
//
// Built from the TK103 GPRS communication protocol as the KX402 "GPRS
// Communication Protocol" V1.5 document describes its working (an
// enrolling message answered by the server, then continuous feedback
// messages and periodic hand-shaking), and, for the field layouts and the
// later models' event codes, from what open decoders show devices sending
// and real captures confirm.
//
// # Frames
//
//	(<id><cmd><body>)          id: the device's serial (12 digits, 11 on some units)
//	(<id>,<cmd>,<field>,…)     later models; id the IMEI
//
// [Codec.Split] cuts from '(' to ')'. Bytes before a '(' are skipped
// (line ends, and the noise some units send after connecting). A ')' inside
// "$…$" — the text of a query's answer, which may hold parentheses and line
// ends — does not end the frame. Frames carry no checksum (Lenient
// changes nothing) and no refusal exists: every frame names its device.
//
// # Commands from the device
//
//	BP00  hand-shake: device id, "HSO"                         → (<id>AP01HSO)
//	BP05  log-in: 15-character device id, position              → (<id>AP05)
//	BR00 BR01 BR02 BP04 …  position report (BP04 answers AP00)
//	BO01  alarm: type digit, position  (→ (<id>AS01<type>) with Codec.AnswerAlarms)
//	BQ81  alarm with a numeric type, position
//	BZ00  cell: ,mcc,mnc,lac,cid,rssi[,lac,cid,rssi…] (LAC and cell id hex)
//	BV00  the vehicle's VIN (17 characters), else a command answer
//	other the answer to a command (BS…, BN…, …): command.response
//
// The classic position block is
//
//	yyMMdd A ddmm.mmmmN dddmm.mmmmE speed(km/h) hhmmss course IO(8) L<mileage hex, m> [±temperature]
//
// with the course six characters ("323.87") or, from some units, two, and
// an optional ',' after it. The I/O state's first character is the main
// power ('0' connected: "external.powersource.status"), the second ACC
// ("engine.ignition.status"), the third a hex digit of input 2 ("din#2"),
// panic ("sos.event.trigger"), output 2 ("dout#2") and oil cut, the
// fourth's bit 3 the door, the last three the fuel sensor's raw value
// ("custom.fuel.raw"); the whole is kept in "custom.io.state". Mileage is
// "vehicle.mileage" in km. BO01 alarm types: 0 power off, 1 accident, 2
// robbery (SOS), 3 anti-theft (shock), 4 low speed, 5 overspeed, 6 out of
// the geofence, each "event.enum" and "alarm.event.trigger".
//
// Comma frames carry a position (ddmmyy, A, latitude, longitude, speed
// km/h, hhmmss, course, then altitude and satellites), cells and Wi-Fi
// access points (DW5x: mcc, mnc, lac, cid, count, "mac*rssi*channel"…,
// date, time), the battery (ZC20: level 1–6 as 10–100 %, battery voltage
// in 10 mV, power voltage in 100 mV) or the text answer to a query (ZC03).
// Their command names an event: ZC11 movement, ZC12 low battery, ZC13
// power cut, ZC15/ZC29 ignition on, ZC16 off, ZC17 removal, ZC25 SOS,
// ZC26 tampering, ZC27 low power, and the DW3x/DW5x/DW6x forms of the
// same. Every message ends with "custom.packet.type", the command.
//
// Dates and times are read as UTC, less [Codec].UTCOffset for units whose
// clock is set to local time.
//
// # Commands to the device
//
// Sessions implement [protocol.CommandEncoder] once they have seen the
// device's id: AP00 position, AR00 periodic reports (interval in 4 hex
// digits), AV01 engine stop and resume, AV00 output, AT00 reboot, AP07
// version, and any other as text. Answers come back as messages with
// "command.response" and in Result.Responses.
package tk103
