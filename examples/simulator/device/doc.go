// Package device is the tracker's side of the protocols gnssgate's
// channels speak: it makes the bytes a GPS tracker sends and recognises the
// answers it waits for, so that a simulated fleet (package
// examples/simulator/fleet) or a test can play the device against a real
// server.
//
//	s, _ := device.New("teltonika", device.IMEI(35000000000000), device.Options{})
//	tr := device.NewTrack(1, 0, device.Area{})        // a vehicle driving a route
//	var p device.Packet
//	s.Login(&p)                                       // p.Bytes: 00 0F + IMEI; p.Ack: 01
//	conn.Write(p.Bytes); wait for p.Ack
//	s.Data(&p, []device.Point{tr.At(time.Now())}, false) // a Codec 8 packet; p.Ack: 00 00 00 01
//	conn.Write(p.Bytes); wait for p.Ack (s.SplitReply cuts it from the stream)
//
// # Protocols
//
//   - teltonika: the IMEI login (00 0F + 15 digits, answered 01), then Codec
//     8 (Options.Packet "8", the default) or Codec 8 Extended ("8e") AVL
//     packets of one or more records with their CRC-16/ARC, answered with
//     the record count (u32). Over UDP (Options.UDP) each packet is a
//     datagram with a packet id and an AVL packet id and no login; the
//     answer echoes both ids with the count. Each record carries ignition
//     (AVL ID 239), movement (240), GSM level (21), external and battery
//     voltage (66, 67, mV), PDOP and HDOP (181, 182) and the odometer (16,
//     m); its event ID is 239 when the ignition changed, 0 otherwise.
//   - gt06: the login (0x01, the IMEI in BCD with a leading 0), then one
//     GPS location packet per record, 0x22 (the default, with ACC, upload
//     mode and the re-upload flag) or 0x12 (Options.Packet "0x12"), with
//     the cell, serial numbers and the CRC-16/X-25. GT06 does not answer
//     location packets: a device cannot know one was stored. Each Data
//     packet therefore ends with a heartbeat (0x13, terminal information,
//     voltage level, GSM level), which the server answers after handling
//     it, and so after the locations before it; its ACK is what Data asks
//     the caller to wait for. It proves that the server read the locations
//     and stored the heartbeat; it cannot prove it stored the locations.
//     A resent packet has fresh serial numbers and, in 0x22, the
//     re-upload flag set. TCP only.
//   - wialon-ips: Wialon IPS 2.0, the login "#L#2.0;IMEI;password;CRC16"
//     (answered #AL#1), then "#D#" extended data packets (one record,
//     answered #AD#1) or "#B#" black-box packets (several, answered #AB#n),
//     with the CRC-16/ARC in hex. Over UDP each packet carries the
//     "2.0;IMEI" prefix and there is no login. Inputs bit 0 is the
//     ignition; the parameters are pwr_ext and pwr_int (external and
//     battery voltage), gsm, odometer (km) and pdop.
//
// The tests check each encoding against this module's own codecs
// (protocol/teltonika, protocol/gt06, protocol/wialonips): what a Session
// encodes decodes to the Point's values at the protocol's resolution, and
// the reply the codec produces is the Packet.Ack the device waits for.
//
// # Tracks
//
// [Track] drives a vehicle round a closed route of waypoints near its
// home, deterministically from a seed and the device's number: it
// accelerates, cruises at a speed chosen per leg, slows for corners, stops
// at junctions with the engine running and now and then parks with the
// ignition off; altitude follows the terrain under it; satellites, HDOP,
// GSM level and voltages drift as they do on a real device. [Track.At]
// gives the vehicle's state at a time; the state at a given time does not
// depend on which earlier times were asked for.
//
// # Concurrency and ownership
//
// A Session and a Track belong to one device and are not safe for
// concurrent use. Sessions append into the caller's Packet, reusing its
// storage.
package device
