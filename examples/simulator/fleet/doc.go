// Package fleet simulates a fleet of GPS trackers against a server: each
// device has its own connection and IMEI, logs in as its protocol
// requires, drives a route (package examples/simulator/device) and sends
// its records at a rate, waiting for each acknowledgement as a real
// device does. It is the engine of the simulator command and of the
// gateway's end-to-end tests, which run it in process:
//
//	sum, err := fleet.Run(ctx, fleet.Config{
//		Protocol: "teltonika", Addr: "127.0.0.1:5027",
//		Devices: 100, Rate: 1, Records: 1, Duration: time.Minute,
//		OnAck: func(a fleet.Ack) { … a.Ident, a.Points were stored … },
//	})
//	if err != nil || !sum.OK() { … }
//
// # How a device behaves
//
// Device i starts at i/Devices of the Ramp, connects, logs in (resending
// the login on a timeout), then makes a packet of Records points every
// 1/Rate seconds and sends it. It waits for the packet's reply up to
// AckTimeout, resends it up to Retries times on the same connection,
// then closes the connection, waits ReconnectDelay (±50 %), reconnects,
// logs in and sends it again: a device keeps its records until they are
// acknowledged, and sends the next packet only then. A packet that falls
// due while the device still waits is not made (counted in
// [Summary.Late]): the fleet slows down with the server, and
// [Summary.MsgsPerSec] against [Summary.TargetMsgsPerSec] shows it. A
// login is resent on timeouts in the same way.
//
// When Duration is over, devices make no new packets and have Drain to
// get the last one acknowledged; what is still unacknowledged then is
// counted in [Summary.Unacked].
//
// Replies are matched exactly: a reply a device did not expect is an
// error and closes the connection. A Teltonika or Wialon IPS reply does
// not say which transmission it answers, so after a packet that was sent
// twice on one connection is acknowledged, the answer to its other copy
// may still come and would read as the next packet's ACK: the device then
// reconnects before sending the next packet. GT06 (the heartbeat's
// serial) and Teltonika UDP (the packet id) replies do say, and late
// answers are recognised and skipped.
//
// GT06 does not acknowledge location packets; a GT06 device confirms them
// with a heartbeat (see package device), and counts them acknowledged
// when the heartbeat's ACK comes.
//
// # Figures
//
// The ACK latency is a packet's, from its first transmission to its
// acknowledgement, kept in a histogram (within 3 %). MsgsPerSec counts
// the records acknowledged while all devices were running (between the
// end of the ramp and the end of Duration), so ramp and drain do not
// dilute it.
//
// Every device is a socket: [Run] refuses more devices than this process
// may open files ([ErrFileLimit]); run several processes for more. Over
// TCP on Linux the devices are the state of a few epoll loops (one per
// 5,000 devices, at most GOMAXPROCS), each a goroutine, so that a packet
// costs its write and its read rather than two goroutine wake-ups;
// Config.OnAck is then called from a loop, and a slow one holds up the
// loop's other devices. Over UDP, and elsewhere than Linux, each device is
// a goroutine.
package fleet
