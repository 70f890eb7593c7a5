package device_test

import (
	"fmt"
	"time"

	"github.com/gnssgate/gnssgate/examples/simulator/device"
)

// A Teltonika device's login and first packet, and the replies it waits
// for.
func ExampleNew() {
	s, err := device.New(device.Teltonika, device.IMEI(35630704244101), device.Options{})
	if err != nil {
		panic(err)
	}
	var p device.Packet
	s.Login(&p)
	fmt.Printf("login % x\nwaits % x\n", p.Bytes, p.Ack)

	tr := device.NewTrack(1, 0, device.Area{}, time.Date(2026, 1, 2, 8, 0, 0, 0, time.UTC))
	pt := tr.At(time.Date(2026, 1, 2, 8, 0, 30, 0, time.UTC))
	if err := s.Data(&p, []device.Point{pt}, false); err != nil {
		panic(err)
	}
	fmt.Printf("codec 8 packet of %d bytes\nwaits % x\n", len(p.Bytes), p.Ack)
	// Output:
	// login 00 0f 33 35 36 33 30 37 30 34 32 34 34 31 30 31 33
	// waits 01
	// codec 8 packet of 68 bytes
	// waits 00 00 00 01
}
