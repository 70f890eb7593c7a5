//go:build linux

package fleet

import (
	"net"
	"testing"
	"time"
)

// A fleet in loops reports its ACK latencies: positive, and below the
// ACK timeout.
func TestLoopLatencies(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a Teltonika server that answers at once: 01 to the IMEI, the count to data
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				buf := make([]byte, 4096)
				for {
					n, err := nc.Read(buf)
					if err != nil {
						return
					}
					if n == 17 && buf[0] == 0 && buf[1] == 15 {
						nc.Write([]byte{1})
					} else if n > 10 {
						nc.Write([]byte{0, 0, 0, buf[9]})
					}
				}
			}()
		}
	}()
	sum, err := Run(t.Context(), Config{Addr: ln.Addr().String(), Devices: 5, Rate: 20, Duration: 500 * time.Millisecond, Logger: quiet()})
	if err != nil || !sum.OK() {
		t.Fatalf("%v: %+v", err, sum)
	}
	if sum.AckP50 <= 0 || sum.AckMax >= time.Second {
		t.Fatalf("latencies p50 %v max %v", sum.AckP50, sum.AckMax)
	}
}
