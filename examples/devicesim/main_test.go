package main

import (
	"bytes"
	"context"
	"github.com/gnssgate/gnssgate/internal/syncbuf"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/channel/deviceapi"
	"github.com/gnssgate/gnssgate/protocol"
)

// The simulator against the gnssgate device API on an embedded broker:
// telemetry, RPC, a shared attribute, and a firmware update downloaded in
// chunks and verified.
func TestDeviceAgainstDeviceAPI(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(map[byte]string{4: "mqtt3.1.1", 5: "mqtt5"}[v], func(t *testing.T) { testDevice(t, v) })
	}
}

func testDevice(t *testing.T, v byte) {
	creds := &deviceapi.MemoryCredentials{}
	creds.SetToken("SIM_TOKEN", deviceapi.Device{Ident: "sim-1"})
	msgs := make(chan protocol.Message, 1000)
	api := &deviceapi.API{Credentials: creds, Logger: slog.New(slog.DiscardHandler),
		Handler: channel.HandlerFunc(func(_ context.Context, _ *channel.Conn, ms []protocol.Message) error {
			for _, m := range ms {
				msgs <- m.Clone()
			}
			return nil
		})}
	srv := embedded.New(&embedded.Config{Authenticator: api.Authenticator(nil), Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	api.Broker = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(context.Background(), ln)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncbuf.Buffer{}
	done := make(chan error, 1)
	cfg := config{dial: dialOptions{addr: ln.Addr().String(), version: v, clientID: "sim", username: "SIM_TOKEN",
		keepAlive: 30 * time.Second}, interval: 100 * time.Millisecond, chunk: 700}
	go func() { done <- simulate(ctx, cfg, out) }()

	next := func(what string, ok func(protocol.Message) bool) protocol.Message {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m := <-msgs:
				if ok(m) {
					return m
				}
			case err := <-done:
				t.Fatalf("simulator ended: %v\n%s", err, out)
			case <-deadline:
				t.Fatalf("no %s\n%s", what, out)
			}
		}
	}
	m := next("telemetry", func(m protocol.Message) bool { return m.Has("seq") })
	if m.Ident() != "sim-1" || !m.Has("position.latitude") {
		t.Fatalf("telemetry %s", m.String())
	}

	rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
	defer rcancel()
	res, err := api.Call(rctx, "sim-1", "getTime", nil)
	if err != nil || !strings.HasPrefix(string(res), `{"time":`) {
		t.Fatalf("getTime: %s %v", res, err)
	}
	if err := api.SetShared(ctx, "sim-1", []deviceapi.Attribute{{Key: "interval", Value: protocol.Float(0.05)}}); err != nil {
		t.Fatal(err)
	}

	image := bytes.Repeat([]byte("gnssgate firmware image "), 300) // 7,200 bytes: 11 chunks of 700
	if err := api.AssignPackage(ctx, "sim-1", deviceapi.Firmware, deviceapi.NewPackage("devicesim", "2.0.0", image)); err != nil {
		t.Fatal(err)
	}
	var states []string
	next("fw_state UPDATED", func(m protocol.Message) bool {
		if s, ok := m.Str("fw_state"); ok {
			states = append(states, s)
			if s == "FAILED" {
				e, _ := m.Str("fw_error")
				t.Fatalf("firmware update failed: %s\n%s", e, out)
			}
			if s == "UPDATED" {
				if ver, _ := m.Str("current_fw_version"); ver != "2.0.0" {
					t.Fatalf("updated to %q", ver)
				}
				return true
			}
		}
		return false
	})
	if got := strings.Join(states, ","); got != "DOWNLOADING,DOWNLOADED,VERIFIED,UPDATING,UPDATED" {
		t.Fatalf("fw_state sequence %s", got)
	}
	if res, err := api.Call(rctx, "sim-1", "getFirmware", nil); err != nil || string(res) != `{"title":"devicesim","version":"2.0.0"}` {
		t.Fatalf("getFirmware: %s %v", res, err)
	}
	if s := api.Stats(); s.OTAChunks != 11 {
		t.Errorf("%d chunks sent, want 11", s.OTAChunks)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("simulator: %v", err)
	}
}

func TestUsageAndRefusal(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-mqtt", "3"}, &bytes.Buffer{}, &stderr); code != 2 {
		t.Fatalf("bad -mqtt: exit %d", code)
	}
	api := &deviceapi.API{Credentials: &deviceapi.MemoryCredentials{}}
	srv := embedded.New(&embedded.Config{Authenticator: api.Authenticator(nil), Logger: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(context.Background(), ln)
	stderr.Reset()
	if code := run([]string{"-addr", ln.Addr().String(), "-token", "WRONG"}, &bytes.Buffer{}, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "code 0x05") {
		t.Fatalf("wrong token: exit %d, %s", code, stderr.String())
	}
}
