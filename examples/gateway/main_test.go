package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/syncbuf"
)

func newBuf() *syncbuf.Buffer { return &syncbuf.Buffer{} }

func TestUsageAndBadFlags(t *testing.T) {
	out := newBuf()
	if code := run(context.Background(), []string{"-h"}, out, out); code != 0 || !strings.Contains(out.String(), "-channel PROTOCOL=ADDR") {
		t.Fatalf("-h: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"-nope"}, {"-log-format", "xml"}, {"-channel", "teltonika"}, {"-channel", "nosuch=:1"}, {"stray"}} {
		out := newBuf()
		if code := run(context.Background(), args, out, out); code != 2 {
			t.Errorf("%q: exit %d, want 2 (bad usage)\n%s", args, code, out)
		}
	}
}

// A port given explicitly that cannot be bound stops the gateway with exit
// status 1 and one line saying why; a taken default port does not.
func TestTakenPorts(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	stderr := newBuf()
	code := run(context.Background(), []string{"-data", t.TempDir(), "-http", taken.Addr().String(), "-mqtt", "", "-mqtt-ws", "",
		"-channel", "teltonika=127.0.0.1:0"}, newBuf(), stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	last := lines[len(lines)-1]
	if code != 1 || !strings.Contains(last, "cannot listen on "+taken.Addr().String()) {
		t.Fatalf("exit %d, last line %q", code, last)
	}
}

// The gateway starts, prints its banner, serves runtime profiles where
// -pprof says, and shuts down cleanly on its signal (ctx).
func TestStartAndStop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := newBuf(), newBuf()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-data", t.TempDir(), "-http", "127.0.0.1:0", "-mqtt", "127.0.0.1:0", "-mqtt-ws", "",
			"-channel", "teltonika=127.0.0.1:0", "-channel", "teltonika=udp://127.0.0.1:0", "-pprof", "127.0.0.1:0"}, stdout, stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "channels:") {
		if time.Now().After(deadline) {
			t.Fatalf("no banner:\n%s\n%s", stdout, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := stdout.String()
	for _, want := range []string{"master token", "REST API", "MQTT broker", "teltonika (channel 1)", "udp 127.0.0.1:"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	_, profiles, ok := strings.Cut(stderr.String(), `msg="runtime profiles" url=`)
	profiles, _, _ = strings.Cut(profiles, "\n")
	if !ok {
		t.Fatalf("no profiles address logged:\n%s", stderr)
	}
	resp, err := http.Get(profiles + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile:") {
		t.Fatalf("%sgoroutine: %d %.200s", profiles, resp.StatusCode, body)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after a clean shutdown\n%s", code, stderr)
	}
}
