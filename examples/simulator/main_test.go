package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/simulator/fleet"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/store/memory"
)

// serveTeltonika runs a Teltonika channel into memory; once stopAfter
// messages are stored it stops storing, and so acknowledging.
func serveTeltonika(t *testing.T, stopAfter int64) (string, *memory.Store) {
	t.Helper()
	st := memory.New(nil)
	logH := channel.LogHandler(st.Log())
	var stored atomic.Int64
	h := channel.HandlerFunc(func(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
		if stopAfter > 0 && stored.Load() >= stopAfter {
			return errors.New("test: store down")
		}
		stored.Add(int64(len(msgs)))
		return logH.HandleMessages(ctx, c, msgs)
	})
	t.Cleanup(func() { st.Close() })
	return serveHandler(t, h), st
}

// serveHandler runs a Teltonika channel with h until the test ends.
func serveHandler(t *testing.T, h channel.Handler) string {
	t.Helper()
	srv := &channel.Server{Codec: &teltonika.Codec{}, Handler: h, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = mainRun(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestJSONSummary(t *testing.T) {
	addr, st := serveTeltonika(t, 0)
	code, out, errs := run(t, "-p", "teltonika", "-addr", addr, "-devices", "5", "-rate", "10", "-records", "2",
		"-duration", "1s", "-progress", "200ms", "-json")
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	var sum fleet.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("stdout has more than one line:\n%s", out)
	}
	if sum.Devices != 5 || sum.Connected != 5 || sum.Records != 2 || sum.Acked == 0 || sum.Unacked != 0 || sum.AckP99 <= 0 || sum.AckMax < sum.AckP99 {
		t.Fatalf("summary %+v", sum)
	}
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	for _, k := range []string{"sent", "acked", "unacked", "errors", "msgs_per_sec", "ack_p50_ms", "ack_p99_ms", "ack_max_ms"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, out)
		}
	}
	stats, _ := st.Log().Stats(context.Background())
	if stats.Count < sum.Acked {
		t.Errorf("the log holds %d messages, %d were acknowledged", stats.Count, sum.Acked)
	}
	// The progress lines went to stderr.
	if !strings.Contains(errs, "msgs/s") || !strings.Contains(errs, "ack p99") {
		t.Errorf("no progress line on stderr:\n%s", errs)
	}
}

func TestTextSummary(t *testing.T) {
	addr, _ := serveTeltonika(t, 0)
	code, out, errs := run(t, "-addr", addr, "-devices", "2", "-rate", "5", "-duration", "500ms", "-progress", "0")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	for _, want := range []string{"teltonika over tcp", "acknowledged", "never acknowledged 0", "msgs/s", "p50", "p99", "max"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// A server that stops acknowledging: the devices resend, then the run
// exits 1 with the never-acknowledged records in the JSON.
func TestUnacknowledgedExitsOne(t *testing.T) {
	addr, _ := serveTeltonika(t, 10)
	code, out, errs := run(t, "-addr", addr, "-devices", "3", "-rate", "10", "-duration", "1s",
		"-ack-timeout", "150ms", "-retries", "1", "-reconnect-delay", "50ms", "-drain", "400ms", "-progress", "0", "-json")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %s stderr %s", code, out, errs)
	}
	var sum fleet.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Unacked == 0 || sum.Resent == 0 || sum.ErrorKinds["ack timeout"] == 0 {
		t.Fatalf("summary %+v", sum)
	}
	if !strings.Contains(errs, "never acknowledged") {
		t.Errorf("stderr does not say why: %s", errs)
	}
}

func TestUsage(t *testing.T) {
	code, _, errs := run(t, "-h")
	if code != 0 {
		t.Fatalf("-h exits %d", code)
	}
	// Every flag is documented.
	for _, name := range []string{"p", "addr", "udp", "packet", "password", "devices", "rate", "records", "duration",
		"ramp", "ack-timeout", "retries", "reconnect-delay", "drain", "ident-base", "seed", "center", "radius",
		"json", "progress", "v"} {
		if !strings.Contains(errs, "  -"+name+" ") && !strings.Contains(errs, "  -"+name+"\n") && !strings.Contains(errs, "  -"+name+"\t") {
			t.Errorf("-h does not document -%s", name)
		}
	}
	for _, bad := range [][]string{
		{"-devices", "0"}, {"-p", "nmea"}, {"-p", "gt06", "-udp"}, {"-center", "north"}, {"-records", "300"},
		{"-no-such-flag"}, {"extra"},
	} {
		if code, _, _ := run(t, append(bad, "-duration", "10ms", "-addr", "127.0.0.1:1")...); code != 2 {
			t.Errorf("%q exits %d, want 2", bad, code)
		}
	}
}

func TestInterruptPrintsTheSummary(t *testing.T) {
	addr, _ := serveTeltonika(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	code := mainRun(ctx, []string{"-addr", addr, "-devices", "2", "-rate", "10", "-duration", "1h", "-progress", "0", "-json"}, &out, io.Discard)
	var sum fleet.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil || code != 1 || sum.Acked == 0 {
		t.Fatalf("exit %d, summary %+v (%v)", code, sum, err)
	}
}

// -cpuprofile writes a profile pprof reads (gzip: it starts 1f 8b); a
// file that cannot be made is bad usage.
func TestCPUProfile(t *testing.T) {
	addr, _ := serveTeltonika(t, 0)
	file := filepath.Join(t.TempDir(), "cpu.prof")
	if code, _, errs := run(t, "-addr", addr, "-duration", "300ms", "-progress", "0", "-cpuprofile", file); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("profile: %v, %d bytes", err, len(b))
	}
	if code, _, errs := run(t, "-addr", addr, "-cpuprofile", filepath.Join(file, "no", "such")); code != 2 || !strings.Contains(errs, "-cpuprofile") {
		t.Fatalf("exit %d; stderr:\n%s", code, errs)
	}
}
