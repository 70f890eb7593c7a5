// Package watch is the protocol of the 2G/3G/4G children's and elderly
// watches and personal trackers that follow the "[SG*id*len*…]" form
// (SeTracker/Beesure and the many makers of the same platform: Q50, Q90,
// GW100, TD-05, …). It runs over TCP; Traccar's usual port for it is 5093.
//
//	codec := &watch.Codec{}                     // zero value: strict, 64 KiB frames
//	d := protocol.NewStreamDecoder(codec, protocol.TCP, 0)
//	err := d.Feed(bytesFromTheWatch, func(_ []byte, r *protocol.Result) error {
//		store(r.Messages)                         // then send r.Reply
//		return nil
//	})
//
// Built from the Beesure "SeTracker Server Protocol" (frame form, the
// link keep LK and its reply, the length in four ASCII hex digits), with
// the location report's fields, the terminal status bits, the health and
// media reports and the escaping of binary data as open decoders (Traccar)
// read them, checked against the captures in testdata.
//
// # Frames
//
//	[MAKER*ID*LEN*content]          e.g. [SG*8800000015*0002*LK]
//	[MAKER*ID*INDEX*LEN*content]    some makers (ZJ) add a 4-digit index
//
// MAKER is a two-letter code (SG, 3G, CS, ZJ, …), ID the watch's ID
// ("ident"), LEN the content's length in four hex digits. Frames are cut
// from '[' to the matching ']' (brackets nest: Wi-Fi names may hold them);
// a LEN that does not match the content is a [protocol.ErrChecksum] error
// unless the codec is Lenient (the message is then marked
// "frame.length.invalid"). Binary data (voice, pictures) escapes 0x7D,
// '[', ']', ',' and '*' as 0x7D followed by 0x01–0x05; a bad escape is an
// error, or in lenient mode kept and marked "frame.checksum.invalid".
//
// # Content
//
//	LK[,steps,tumbles,battery]   keep-alive; answered LK; custom.steps, custom.tumbles, battery.level
//	UD, UD2, UD3, UD_LTE, UD_WCDMA, WT …   location report (below); not answered
//	AL, AL_LTE …                 alarm with a location report; answered AL
//	INIT                         answered INIT,1
//	TKQ, TKQ2                    the watch asks for voice messages; answered with the same word
//	TK[,AMR data]                voice message (custom.audio.amr.hex); answered TK,1
//	JXTK,n,name,part,parts,data  one part of a voice message; answered JXTKR,1
//	img,time,data                picture (custom.image.jpeg.hex)
//	heart/pulse, bphrt/blood, oxygen, temp, btemp2
//	                             custom.heart.rate, custom.blood.pressure.systolic/diastolic,
//	                             custom.blood.oxygen, custom.body.temperature
//	anything else                the watch's answer to a command (it echoes the
//	                             command's keyword): command.response
//
// Every message carries custom.report.type and custom.manufacturer (the
// maker code).
//
// # Location reports
//
//	date(ddmmyy),time,A|V,lat,N|S,lon,E|W,speed(km/h),course,altitude(m),satellites,
//	GSM signal(0–100),battery(%),steps,tumbles,status(hex),
//	cells,TA,MCC,MNC,{LAC,CID,signal}…,Wi-Fi count,{name,MAC,signal}…[,accuracy]
//
// give timestamp (UTC), position.* (a missing hemisphere letter leaves the
// sign as written), gsm.signal.level, battery.level, custom.steps,
// custom.tumbles, custom.status.bitmask and its flags (bit 0/17 low
// battery → battery.low.status, bits 1/2 and 18/19 geofence →
// geofence.inside.status, bit 4 → movement.status, bit 16 SOS →
// sos.event.trigger, bit 20 watch taken off →
// custom.watch.removed.event.trigger, bits 21/22 fall →
// custom.fall.event.trigger, any alarm bit 16–31 → alarm.event.trigger),
// the serving cell (gsm.mcc, gsm.mnc, gsm.lac, gsm.cellid), gsm.cells,
// wifi.access.points and the last field as custom.position.accuracy.
//
// # Commands
//
// [Session.EncodeCommand] sends the content of a command ("CR" locate now,
// "UPLOAD,600", "SOS1,<number>", "RESET", "POWEROFF", "LZ,<lang>,<zone>",
// …), a text message ("MESSAGE," and UTF-16BE hex) or a voice message
// ("TK," and the escaped AMR data), in a frame with the watch's ID, its
// maker code ("SG" for watches that say "3G", as open decoders send) and
// an index when its frames carry one. The watch echoes the keyword; the
// answer's [protocol.CommandResponse] gets the command's ID (HasID), and
// every answer is also a message with command.response.
//
// # Not decoded
//
// Voice parts are not joined into one recording: each part is a message
// with its number and count. The protocol has no refusal reply.
package watch
