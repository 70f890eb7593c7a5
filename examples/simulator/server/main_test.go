package main

import (
	"context"
	"github.com/gnssgate/gnssgate/internal/syncbuf"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/simulator/fleet"
)

func freeAddr(t *testing.T, network string) string {
	t.Helper()
	if network == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().String()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// The server stores what a simulated fleet sends and reports it.
func TestServerStoresAndReports(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		protocol string
		udp      bool
	}{
		{[]string{"-p", "teltonika"}, "teltonika", false},
		{[]string{"-p", "wialon-ips", "-udp", "-store", "memory"}, "wialon-ips", true},
		{[]string{"-p", "gt06", "-store", "discard"}, "gt06", false},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			network := "tcp"
			if tc.udp {
				network = "udp"
			}
			addr := freeAddr(t, network)
			ctx, cancel := context.WithCancel(context.Background())
			var stdout, stderr syncbuf.Buffer
			done := make(chan int, 1)
			go func() {
				done <- mainRun(ctx, append(tc.args, "-addr", addr, "-stats", "100ms"), &stdout, &stderr)
			}()
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(stdout.String(), "listening") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			sum, err := fleet.Run(context.Background(), fleet.Config{
				Protocol: tc.protocol, Addr: addr, UDP: tc.udp, Devices: 3, Rate: 10, Duration: 500 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			time.Sleep(150 * time.Millisecond) // a report line with connections
			cancel()
			if code := <-done; code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			if err != nil || !sum.OK() {
				t.Fatalf("fleet: %v %+v", err, sum)
			}
			out := stderr.String()
			if !strings.Contains(out, "final:") || !strings.Contains(out, "KB/conn") || !strings.Contains(out, "handler errors 0") {
				t.Errorf("report:\n%s", out)
			}
		})
	}
}

func TestServerUsage(t *testing.T) {
	for _, args := range [][]string{{"-p", "nmea"}, {"-store", "tape"}, {"-stats", "0s"}, {"-bogus"}} {
		if code := mainRun(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%q exits %d", args, code)
		}
	}
}
