package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/mochi-mqtt/server/v2/packets"
)

func TestConnectPacket(t *testing.T) {
	// MQTT 3.1.1 §3.1: fixed header, remaining length, "MQTT", level 4,
	// flags (clean session), keep-alive, client id.
	want := []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 1, 'a'}
	if got := connectPacket("a", 60, ""); !bytes.Equal(got, want) {
		t.Errorf("connectPacket(a, 60) = % x, want % x", got, want)
	}
	for _, c := range []struct {
		id string
		ka uint16
	}{{"a", 60}, {"idle-1234abcd-18999", 300}, {strings.Repeat("x", 200), 65535}, {"", 0}} {
		b := connectPacket(c.id, c.ka, "")
		pk := decodeWithMochi(t, b)
		if pk.FixedHeader.Type != packets.Connect || pk.ProtocolVersion != 4 || pk.Connect.ClientIdentifier != c.id ||
			pk.Connect.Keepalive != c.ka || !pk.Connect.Clean || pk.Connect.UsernameFlag || pk.Connect.WillFlag {
			t.Errorf("connectPacket(%.10q, %d) decodes to %+v", c.id, c.ka, pk.Connect)
		}
	}
	// With a username (a gateway's token): the flag and the field after
	// the client id.
	pk := decodeWithMochi(t, connectPacket("a", 60, "tok-123"))
	if !pk.Connect.UsernameFlag || string(pk.Connect.Username) != "tok-123" || pk.Connect.ClientIdentifier != "a" || pk.Connect.PasswordFlag {
		t.Errorf("connectPacket with a username decodes to %+v", pk.Connect)
	}
}

func TestSubscribePacket(t *testing.T) {
	b := subscribePacket(7, "bench/x/idle/3")
	pk := decodeWithMochi(t, b)
	if pk.FixedHeader.Type != packets.Subscribe || pk.PacketID != 7 || len(pk.Filters) != 1 ||
		pk.Filters[0].Filter != "bench/x/idle/3" || pk.Filters[0].Qos != 0 {
		t.Errorf("subscribePacket decodes to %+v", pk)
	}
}

// decodeWithMochi decodes b with an independent MQTT implementation.
func decodeWithMochi(t *testing.T, b []byte) packets.Packet {
	t.Helper()
	pk := packets.Packet{ProtocolVersion: 4}
	if err := pk.FixedHeader.Decode(b[0]); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(bytes.NewReader(b[1:]))
	n, nb, err := packets.DecodeLength(r)
	if err != nil || 1+nb+n != len(b) {
		t.Fatalf("remaining length %d (%d bytes), packet %d bytes: %v", n, nb, len(b), err)
	}
	pk.FixedHeader.Remaining = n
	body := b[1+nb:]
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectDecode(body)
	case packets.Subscribe:
		err = pk.SubscribeDecode(body)
	}
	if err != nil {
		t.Fatalf("% x: %v", b, err)
	}
	return pk
}

func TestAppendLength(t *testing.T) {
	for _, c := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x80, 1}}, {212, []byte{0xd4, 1}},
		{16383, []byte{0xff, 0x7f}}, {16384, []byte{0x80, 0x80, 1}}, {268435455, []byte{0xff, 0xff, 0xff, 0x7f}},
	} {
		got := appendLength(nil, c.n)
		if !bytes.Equal(got, c.want) {
			t.Errorf("appendLength(%d) = % x, want % x", c.n, got, c.want)
		}
		h, body, err := readPacket(bytes.NewReader(append(append([]byte{0x30}, got...), make([]byte, min(c.n, 300))...)), 300)
		if c.n <= 300 && (err != nil || h != 0x30 || len(body) != c.n) {
			t.Errorf("readPacket of length %d: %d bytes, %v", c.n, len(body), err)
		}
		if c.n > 300 && !errors.Is(err, errPacketTooLong) {
			t.Errorf("readPacket of length %d: %v, want errPacketTooLong", c.n, err)
		}
	}
}

func TestReadPacket(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []byte
		err  error  // nil: accepted
		ack  string // connackError's verdict on an accepted packet, "" = nil
	}{
		{"connack ok", []byte{0x20, 2, 0, 0}, nil, ""},
		{"connack not authorized", []byte{0x20, 2, 0, 5}, nil, "return code 0x05"},
		{"suback instead", []byte{0x90, 3, 0, 1, 0}, nil, "expected CONNACK"},
		{"empty", nil, io.EOF, ""},
		{"truncated length", []byte{0x20}, io.ErrUnexpectedEOF, ""},
		{"truncated body", []byte{0x20, 2, 0}, io.ErrUnexpectedEOF, ""},
		{"five length bytes", []byte{0x20, 0x80, 0x80, 0x80, 0x80, 1}, errBadLength, ""},
		{"too long", []byte{0x30, 0x80, 0x80, 0x80, 0x7f}, errPacketTooLong, ""},
	} {
		h, body, err := readPacket(bytes.NewReader(c.in), maxIdlePacket)
		if !errors.Is(err, c.err) || (c.err == nil) != (err == nil) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.err)
			continue
		}
		if err != nil {
			continue
		}
		aerr := connackError(h, body)
		if (c.ack == "") != (aerr == nil) || aerr != nil && !strings.Contains(aerr.Error(), c.ack) {
			t.Errorf("%s: connackError = %v, want %q", c.name, aerr, c.ack)
		}
	}
	if err := subackError(0x90, []byte{0, 1, 0x80}, 1); err == nil {
		t.Error("SUBACK 0x80 accepted")
	}
	if err := subackError(0x90, []byte{0, 2, 0}, 1); err == nil {
		t.Error("SUBACK for another packet id accepted")
	}
	if err := subackError(0x90, []byte{0, 1, 1}, 1); err != nil {
		t.Errorf("SUBACK granting QoS 1 refused: %v", err)
	}
}

func FuzzReadPacket(f *testing.F) {
	for _, seed := range [][]byte{{0x20, 2, 0, 0}, {0x90, 3, 0, 1, 0x80}, {0xd0, 0}, {0x30, 0xff, 0xff, 0xff, 0x7f}, {0x20, 0x80}} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		h, body, err := readPacket(r, maxIdlePacket)
		if err != nil {
			return
		}
		if len(body) > maxIdlePacket {
			t.Fatalf("body of %d bytes accepted", len(body))
		}
		used := len(in) - r.Len()
		if in[0] != h || used < 2+len(body) || used > 5+len(body) || !bytes.Equal(in[used-len(body):used], body) {
			t.Fatalf("% x: header %x, body % x, %d bytes used", in, h, body, used)
		}
		connackError(h, body)
		subackError(h, body, 1)
	})
}

func TestSlope(t *testing.T) {
	for _, c := range []struct {
		steps []idleStep
		want  float64
		ok    bool
	}{
		{[]idleStep{{1000, 11e6}, {2000, 12e6}, {3000, 13e6}}, 1000, true},
		{[]idleStep{{1000, 11e6}, {2000, 11e6}}, 0, true},
		{[]idleStep{{0, 5e6}, {100, 5e6 + 1e5 + 10}, {200, 5e6 + 2e5 - 10}, {300, 5e6 + 3e5}}, 1000 - 0.02, true},
		{[]idleStep{{1000, 11e6}}, 0, false},
		{[]idleStep{{1000, 11e6}, {1000, 12e6}}, 0, false},
		{nil, 0, false},
	} {
		got, ok := slope(c.steps)
		if ok != c.ok || got < c.want-1e-6 || got > c.want+1e-6 {
			t.Errorf("slope(%v) = %v, %v; want %v, %v", c.steps, got, ok, c.want, c.ok)
		}
	}
}

func TestParseKB(t *testing.T) {
	status := []byte("Name:\tmosquitto\nVmHWM:\t   10188 kB\nVmRSS:\t    9000 kB\nThreads:\t1\n")
	got := parseKB(status, "VmRSS:", "VmHWM:", "VmSwap:")
	if got[0] != 9000*1024 || got[1] != 10188*1024 || got[2] != 0 {
		t.Errorf("parseKB = %v", got)
	}
	m, err := readMem(os.Getpid())
	if err != nil || m.RSS <= 0 || m.HWM < m.RSS {
		t.Errorf("readMem(self) = %+v, %v", m, err)
	}
	if _, err := readMem(1 << 30); err == nil {
		t.Error("readMem of a process that cannot exist succeeded")
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// startEmbedded serves the in-process broker on 127.0.0.1:0.
func startEmbedded(t *testing.T, cfg *embedded.Config) (*embedded.Server, string) {
	t.Helper()
	cfg.AllowAnonymous = true
	cfg.Logger = quiet()
	srv := embedded.New(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(context.Background(), ln)
	t.Cleanup(func() { srv.Close() })
	return srv, ln.Addr().String()
}

// 50 idle clients against the in-process broker, with a 2 s keep-alive
// and a 4 s hold (past the broker's 1.5 × keep-alive): they stay connected
// only if the scenario pings, also while it is still connecting (3 steps of
// 0.7 s). A 1 s keep-alive dropped clients on a machine loaded by -race
// and other processes. The memory sampled is
// this test process's own (broker and clients).
func TestRunIdleEmbedded(t *testing.T) {
	_, addr := startEmbedded(t, &embedded.Config{})
	for _, subscribe := range []bool{false, true} {
		t.Run(fmt.Sprint("subscribe=", subscribe), func(t *testing.T) {
			t.Parallel()
			testRunIdleEmbedded(t, addr, subscribe)
		})
	}
}

func testRunIdleEmbedded(t *testing.T, addr string, subscribe bool) {
	steps := 1
	if !subscribe {
		steps = 3
	}
	res, err := runIdle(context.Background(), idleConfig{Addr: addr, N: 50, KeepAlive: 2, Subscribe: subscribe,
		Steps: steps, StepSettle: 700 * time.Millisecond,
		Hold: 4 * time.Second, PID: os.Getpid(), SourceIPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(127, 0, 0, 2)},
		Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 50 || res.Failed != 0 || res.Alive != 50 || res.Dropped != 0 || len(res.Failures) != 0 {
		t.Errorf("subscribe=%v: %+v", subscribe, res)
	}
	if res.Before == nil || res.After == nil || res.Before.RSS <= 0 || res.After.RSS <= 0 || res.PeakRSS < res.After.RSS ||
		res.BytesPerConn == nil || res.Extrapolated50k == nil || *res.Extrapolated50k != res.Before.RSS+int64(*res.BytesPerConn*50000) {
		t.Errorf("subscribe=%v: memory %+v %+v peak %d", subscribe, res.Before, res.After, res.PeakRSS)
	}
	if steps == 3 {
		if len(res.Steps) != 3 || res.Steps[0].Conns != 16 || res.Steps[1].Conns != 33 || res.Steps[2].Conns != 50 ||
			res.MarginalBytesPerConn == nil || res.ExtrapolatedMarginal50k == nil ||
			*res.ExtrapolatedMarginal50k != res.Steps[2].RSS+int64(*res.MarginalBytesPerConn*(50000-50)) {
			t.Errorf("steps %+v", res.Steps)
		}
	} else if len(res.Steps) != 0 || res.MarginalBytesPerConn != nil {
		t.Errorf("one step: steps %+v, marginal %v", res.Steps, res.MarginalBytesPerConn)
	}
}

// Connections the broker refuses or closes are counted, not hidden.
func TestRunIdleFailuresAndDrops(t *testing.T) {
	_, addr := startEmbedded(t, &embedded.Config{MaxConnections: 10})
	res, err := runIdle(context.Background(), idleConfig{Addr: addr, N: 20, Hold: 100 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 10 || res.Failed != 10 || res.Alive != 10 || res.Before != nil || res.BytesPerConn != nil {
		t.Errorf("MaxConnections 10, 20 clients: %+v", res)
	}

	srv, addr := startEmbedded(t, &embedded.Config{})
	time.AfterFunc(300*time.Millisecond, func() { srv.Close() })
	res, err = runIdle(context.Background(), idleConfig{Addr: addr, N: 5, Hold: time.Second, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 5 || res.Alive != 0 || res.Dropped != 5 {
		t.Errorf("broker closed during the hold: %+v", res)
	}
}

func TestRunIdleMosquitto(t *testing.T) {
	addr := testenv.MQTTAddr(t)
	res, err := runIdle(context.Background(), idleConfig{Addr: addr, N: 50, KeepAlive: 60, Subscribe: true,
		Hold: 200 * time.Millisecond, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Connected != 50 || res.Failed != 0 || res.Alive != 50 {
		t.Errorf("%+v", res)
	}
}

func TestMainIdle(t *testing.T) {
	_, addr := startEmbedded(t, &embedded.Config{})
	pid := os.Getpid()
	var out, errOut bytes.Buffer
	args := []string{"-scenario", "idle", "-addr", addr, "-n", "10", "-pid", itoa(pid), "-hold", "100ms", "-steps", "1"}
	if code := mainRun(context.Background(), append(args, "-json"), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var res idleResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if res.Scenario != "idle" || res.Connected != 10 || res.PID != pid || res.After == nil {
		t.Errorf("%+v", res)
	}
	out.Reset()
	if code := mainRun(context.Background(), args, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "EXTRAPOLATION, not measured: 50,000") || !strings.Contains(out.String(), "connected 10") {
		t.Errorf("exit %d, text report:\n%s", code, out.String())
	}
	for _, bad := range [][]string{{"-source-ips", "127.0.0.1,nope"}, {"-keepalive", "70000"}, {"-steps", "0"}} {
		if code := mainRun(context.Background(), append([]string{"-scenario", "idle", "-addr", addr}, bad...), &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	if code := mainRun(context.Background(), []string{"-scenario", "idle", "-addr", addr, "-n", "100000000"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "open files") {
		t.Errorf("-n beyond the fd limit: exit %d, %s", code, errOut.String())
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The idle scenario over TLS and over WebSocket, against the embedded
// broker's TLS listener and WebSocket handler: every client connects and is
// alive, pinging, after a hold past its keep-alive.
func TestRunIdleTransports(t *testing.T) {
	srv, err := embedded.Open(&embedded.Config{AllowAnonymous: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln
	}
	ca := testcert.NewCA(t)
	tlsLn := listen()
	go srv.Serve(context.Background(), tls.NewListener(tlsLn, &tls.Config{Certificates: []tls.Certificate{ca.Server().TLS}}))
	wsLn := listen()
	mux := http.NewServeMux()
	mux.Handle("/mqtt", srv.WebSocketHandler())
	hs := &http.Server{Handler: mux}
	go hs.Serve(wsLn)
	t.Cleanup(func() { hs.Close() })
	for transport, addr := range map[string]string{"tls": tlsLn.Addr().String(), "ws": wsLn.Addr().String()} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			res, err := runIdle(context.Background(), idleConfig{Addr: addr, Transport: transport, N: 20, KeepAlive: 2,
				Subscribe: true, Hold: 3 * time.Second, Logger: quiet()})
			if err != nil {
				t.Fatal(err)
			}
			if res.Transport != transport || res.Connected != 20 || res.Alive != 20 || res.Dropped != 0 || len(res.Failures) != 0 {
				t.Errorf("%+v", res)
			}
		})
	}
	if _, err := runIdle(context.Background(), idleConfig{Addr: tlsLn.Addr().String(), Transport: "quic", N: 1, Logger: quiet()}); err == nil {
		t.Error("unknown transport accepted")
	}
}
