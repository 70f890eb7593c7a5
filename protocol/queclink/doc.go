// Package queclink is the Queclink @Track protocol of the GL (personal),
// GV and GMT (vehicle), GB and CV series trackers: text reports
// "+RESP:GTxxx,…$", their buffered form "+BUFF:GTxxx,…$", command
// acknowledgements "+ACK:GTxxx,…$", and the binary frames ("+RSP", "+BSP",
// "+EVT", "+BVT", "+HBD", "+ACK", "+INF", "+CRD" and the record frames of
// later models that start '+', 0x00), over TCP or UDP. [Codec] frames the
// stream and makes a [Session] per connection; the session decodes the
// frames into flespi-named messages, answers heartbeats (and, when asked,
// every report) and encodes AT+GT… commands. Traccar's usual port for it
// ("gl200") is 5004.
//
// Built from Queclink's "@Track Air Interface Protocol" documents — GL200,
// GL300 (TRACGL300AN001), GL300W, GV200, GV300, GV55, GMT100, GV500, and
// the GL200/GL300W External Battery Kit manuals (GTLSW, GTTSW) — for the
// frame header, the fix block, the report types and their fields, the
// device status, the +ACK and +SACK exchanges and the AT command format;
// Novacom's "GT300 @Track Air Interface Protocol" for the first firmwares'
// frames without a protocol version; and, where those documents stop (the
// device type table of later models, the GTCAN and GTOBD masks, GTERI's
// accessory data, the binary layouts), facts that open decoders and field
// captures show.
//
// # Text frames
//
//	+RESP:GT<type>,<protocol version>,<IMEI>,[<VIN>,]<device name>,<report fields…>,<send time>,<count number>$
//	+BUFF:…          the same report, sent late from the device's buffer   → "message.buffered.status" true
//	+ACK:GT<cmd>,<protocol version>,<IMEI>,<device name>,[<sub command>,]<serial number>,<send time>,<count number>$
//
// The protocol version's first two hex digits (six for ten-digit versions)
// name the model ("060100" GV300, "1A0401" GL300, "8020040200" GV58LAU):
// "device.model", and the layout of the fields after the fixes. Frames
// without a protocol version (the first firmwares) are read too; so are
// frames without the final '$' at the end of a stream or datagram.
//
// A fix is <GPS accuracy>,<speed km/h>,<azimuth>,<altitude>,<longitude>,
// <latitude>,<GPS UTC time>,<MCC>,<MNC>,<LAC hex>,<cell id hex>,<reserved>
// (later models add satellites, a position trigger or jamming state after
// it; Wi-Fi trackers report access points in its place). Every fix of a
// report is one message, in the order sent, dated with its GPS time (with
// the send time when the fix has none); the report's own fields — those
// before and after the fixes — are on the last. Accuracy 0 means no fix
// ("position.valid" false), otherwise it is "position.hdop". A report
// without fix fields (GTINF, GTPNA, GTPFA, GTGSM, …) is one message dated
// with its send time.
//
// Report types decoded by name (others are decoded by field shapes, their
// unnamed fields kept in "custom.packet.head" and "custom.packet.tail"):
//
//	GTFRI GTERI GTGEO GTSPD GTSOS GTRTL GTPNL GTNMR GTDIS GTDOG GTIGL GTHBM GTTOW GTEPS GTAIS GTMAI GTTMP GTTEM
//	          numbered reports: [<external power mV>,]<report id/type>,<number>, then <number> fixes
//	GTIGN GTIGF GTVGN GTVGF   ignition on/off, with its duration         engine.ignition.status
//	GTIDN GTIDF GTSTT         idling, motion state                       custom.motion.state, movement.status
//	GTPNA GTPFA GTEPN GTEPF GTMPN GTMPF GTBPL GTBTC GTSTC               power, battery, charging events
//	GTJDS GTJDR GTCRA GTGIN GTGOT GTLSW GTTSW                           jamming, crash, geofence, inputs
//	GTINF GTVER GTCID GTCSQ GTBAT GTTMZ GTGSM GTWIF                      information reports
//	GTCAN GTOBD               CAN and OBD data by their report mask (GTCAN bits 0–21, GTOBD bits 0–19)
//	GTDAT GTDTT GTIDA GTBAA GTBID GTSTR GTCTN                           serial data, iButton, accessories
//
// The numbered reports' id/type gives "geofence.id" and
// "geofence.inside.status" (GTGEO), "overspeeding.event.trigger" (GTSPD),
// "din#N" (GTDIS), "engine.ignition.status" (GTIGL), "movement.status"
// (GTNMR), the harsh-driving triggers (GTHBM); elsewhere it is
// "custom.report.id" and "custom.report.type". After the fixes the vehicle
// models send <mileage km>,<hour meter>,<analog inputs…>,<backup battery
// %>,<device status>: "vehicle.mileage", "custom.engine.hours" (seconds),
// "ain#N" (V, or "fuel.level" for an "F<percent>" input), "battery.level",
// and the device status: "custom.motion.state" and what it means,
// "din" (the digital inputs byte: bit 0 is input 0, the ignition input of
// vehicle models) and "dout". GTERI adds what its mask announces: a
// digital fuel sensor ("custom.fuel.sensor"), 1-Wire temperature sensors
// ("custom.temperature#N", °C), RS232 fuel sensors ("fuel.level",
// "can.fuel.volume"); CAN data and unknown bits are kept as sent.
//
// # Replies
//
// Heartbeats (+ACK:GTHBD text, +HBD binary) are answered
// "+SACK:GTHBD,<protocol version>,<count number>$" and give no message.
// With [Codec].SACK set every other report is answered "+SACK:<count
// number>$", as devices configured with <SACK Enable> wait for. Devices
// have no refusal: a frame is identified by itself.
//
// # Binary frames
//
// +RSP/+BSP (position reports) and +EVT/+BVT (events) are decoded when
// their report mask is the documented one (bits 13–17 clear, 18–23 set;
// the rest announce optional fields read in order): one message per fix,
// "custom.message.type.enum" their type. +HBD is answered as above, +ACK
// is a command response. +INF, +CRD and frames with masks the documents at
// hand do not lay out are kept whole in "custom.packet.raw" (hex). The
// record frames ('+', 0x00, length) give their GNSS records. The two-byte
// checksum of binary frames is not verified; [Codec].Lenient keeps a
// datagram longer than its length field ("frame.length.invalid").
//
// # Commands
//
// Sessions implement [protocol.CommandEncoder]: named commands
// (position, reboot, version, engine-stop, engine-resume) are AT+GTRTO
// and AT+GTOUT with [Codec].Password (by default the model's factory
// password, "gv300", "gl300", …) and a serial number, Command.ID's low 16
// bits in four hex digits; any other command is sent as its text
// ("AT+GT…$"). The device's +ACK echoes the serial: its
// [protocol.CommandResponse] has that ID, and its message carries
// "command.response" ("GTRTO,REBOOT") and "custom.command.serial".
package queclink
