package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/gt06"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/store/pebble"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func codecOf(t testing.TB, name string) protocol.Codec {
	switch name {
	case device.Teltonika:
		return &teltonika.Codec{}
	case device.GT06:
		return &gt06.Codec{}
	case device.WialonIPS:
		return &wialonips.Codec{}
	}
	t.Fatalf("no codec %q", name)
	return nil
}

// serve runs a channel.Server for the protocol on a fresh 127.0.0.1 port
// (UDP when udp is set) with handler h, until the test ends.
func serve(t testing.TB, name string, udp bool, h channel.Handler) string {
	t.Helper()
	srv := &channel.Server{Codec: codecOf(t, name), Handler: h, Logger: quiet()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var addr string
	if udp {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = pc.LocalAddr().String()
		go func() { defer close(done); srv.ServePacket(ctx, pc) }()
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		go func() { defer close(done); srv.Serve(ctx, ln) }()
	}
	t.Cleanup(func() {
		cancel()
		<-done
		sctx, stop := context.WithTimeout(context.Background(), 5*time.Second)
		defer stop()
		srv.Shutdown(sctx)
	})
	return addr
}

// acks collects what Config.OnAck reports.
type acks struct {
	mu      sync.Mutex
	byIdent map[string][]device.Point
	n       int64
}

func (a *acks) add(x Ack) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byIdent == nil {
		a.byIdent = map[string][]device.Point{}
	}
	a.byIdent[x.Ident] = append(a.byIdent[x.Ident], x.Points...)
	a.n += int64(len(x.Points))
}

// resolution is what a protocol keeps of a point: time, degrees.
func resolution(name string) (ts, deg float64) {
	switch name {
	case device.Teltonika:
		return 0.001, 0.51e-7
	case device.GT06:
		return 1, 0.51 / 1800000
	}
	return 1, 0.51e-5 / 60
}

// checkLogged checks that every acknowledged point is in the log, each as a
// message of its own, with the device's ident and the point's time,
// position, speed, heading and satellites at the protocol's resolution.
func checkLogged(t *testing.T, name string, l store.Log, got *acks) {
	t.Helper()
	recs, err := l.Read(context.Background(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	byIdent := map[string][]*protocol.Message{}
	for i := range recs {
		m := &recs[i].Message
		byIdent[m.Ident()] = append(byIdent[m.Ident()], m)
	}
	tsRes, degRes := resolution(name)
	total := 0
	for ident, pts := range got.byIdent {
		if !device.ValidIMEI(ident) {
			t.Errorf("ident %q is not a valid IMEI", ident)
		}
		msgs := byIdent[ident]
		used := make([]bool, len(msgs))
		for _, p := range pts {
			total++
			found := false
			for i, m := range msgs {
				if used[i] || !matches(m, p, tsRes, degRes) {
					continue
				}
				used[i], found = true, true
				break
			}
			if !found {
				t.Errorf("%s: acknowledged point %+v is not in the log (%d messages of the device)", ident, p, len(msgs))
				return
			}
		}
	}
	if total == 0 {
		t.Fatal("nothing was acknowledged")
	}
}

func matches(m *protocol.Message, p device.Point, tsRes, degRes float64) bool {
	near := func(name string, want, tol float64) bool {
		v, ok := m.Float(name)
		return ok && math.Abs(v-want) <= tol+1e-9
	}
	ts := float64(p.Time.UnixMilli()) / 1000
	if tsRes == 1 {
		ts = float64(p.Time.Unix())
	}
	return near(protocol.ParamTimestamp, ts, 0) &&
		near(protocol.ParamLatitude, p.Latitude, degRes) &&
		near(protocol.ParamLongitude, p.Longitude, degRes) &&
		near(protocol.ParamSpeed, math.Round(p.Speed), 0) &&
		near(protocol.ParamDirection, math.Mod(math.Round(p.Heading), 360), 0) &&
		near(protocol.ParamSatellites, float64(min(p.Satellites, 15)), 0)
}

// TestFleetAgainstChannelServer runs small fleets of every protocol and
// transport against a channel.Server storing into store/memory through
// channel.LogHandler: everything made is acknowledged, and everything
// acknowledged is in the log.
func TestFleetAgainstChannelServer(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		udp      bool
		records  int
		packet   string
	}{
		{device.Teltonika, false, 1, ""},
		{device.Teltonika, false, 10, "8e"},
		{device.Teltonika, true, 3, ""},
		{device.GT06, false, 1, ""},
		{device.GT06, false, 3, "0x12"},
		{device.WialonIPS, false, 1, ""},
		{device.WialonIPS, false, 4, ""},
		{device.WialonIPS, true, 1, ""},
	} {
		t.Run(fmt.Sprintf("%s/udp=%v/records=%d/%s", tc.protocol, tc.udp, tc.records, tc.packet), func(t *testing.T) {
			t.Parallel()
			st := memory.New(nil)
			defer st.Close()
			addr := serve(t, tc.protocol, tc.udp, channel.LogHandler(st.Log()))
			var got acks
			sum, err := Run(context.Background(), Config{
				Protocol: tc.protocol, Addr: addr, UDP: tc.udp, Packet: tc.packet,
				Devices: 4, Rate: 10, Records: tc.records, Duration: time.Second,
				AckTimeout: 5 * time.Second, Seed: 3, OnAck: got.add, Logger: quiet(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !sum.OK() || sum.Acked != got.n || sum.Acked == 0 || sum.Sent != sum.Generated {
				t.Fatalf("summary %+v; OnAck saw %d records", sum, got.n)
			}
			if len(got.byIdent) != 4 {
				t.Fatalf("acknowledged devices: %d, want 4", len(got.byIdent))
			}
			checkLogged(t, tc.protocol, st.Log(), &got)
		})
	}
}

// TestFleetOnPebble is the same against the durable store.
func TestFleetOnPebble(t *testing.T) {
	db, err := pebble.Open(t.TempDir(), &pebble.Options{Config: store.Config{Logger: quiet()}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	addr := serve(t, device.Teltonika, false, channel.LogHandler(db.Log()))
	var got acks
	sum, err := Run(context.Background(), Config{
		Addr: addr, Devices: 20, Rate: 5, Records: 2, Duration: time.Second,
		AckTimeout: 5 * time.Second, OnAck: got.add, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sum.OK() || sum.Acked != got.n || sum.Connected != 20 {
		t.Fatalf("summary %+v; OnAck saw %d records", sum, got.n)
	}
	checkLogged(t, device.Teltonika, db.Log(), &got)
}

// failing wraps a handler that stops storing (and so acknowledging) once
// limit messages are stored.
type failing struct {
	h      channel.Handler
	limit  int64
	stored atomic.Int64
}

var errStoreDown = errors.New("test: the store is down")

func (f *failing) HandleMessages(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
	if f.stored.Load() >= f.limit {
		return errStoreDown
	}
	f.stored.Add(int64(len(msgs)))
	return f.h.HandleMessages(ctx, c, msgs)
}

// A server that stops acknowledging makes the devices resend, reconnect,
// and finally report what was never acknowledged; what was acknowledged
// before is in the log.
func TestServerThatStopsAcknowledging(t *testing.T) {
	for _, tc := range []struct {
		name string
		udp  bool
	}{{device.Teltonika, false}, {device.GT06, false}, {device.WialonIPS, false}, {device.Teltonika, true}, {device.WialonIPS, true}} {
		name := tc.name
		t.Run(fmt.Sprintf("%s/udp=%v", name, tc.udp), func(t *testing.T) {
			t.Parallel()
			st := memory.New(nil)
			defer st.Close()
			h := &failing{h: channel.LogHandler(st.Log()), limit: 6} // well under what a slow machine generates in the second
			addr := serve(t, name, tc.udp, h)
			var got acks
			sum, err := Run(context.Background(), Config{
				Protocol: name, Addr: addr, UDP: tc.udp, Devices: 3, Rate: 10, Duration: time.Second,
				AckTimeout: 150 * time.Millisecond, Retries: 1, ReconnectDelay: 50 * time.Millisecond,
				Drain: 500 * time.Millisecond, OnAck: got.add, Logger: quiet(),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", sum)
			if sum.OK() || sum.Unacked == 0 || sum.Resent == 0 || sum.Reconnects == 0 || sum.ErrorKinds["ack timeout"] == 0 {
				t.Fatalf("summary %+v", sum)
			}
			if sum.Unacked != sum.Generated-sum.Acked || sum.Acked != got.n {
				t.Fatalf("counts do not add up: %+v, OnAck saw %d", sum, got.n)
			}
			if got.n > 0 {
				checkLogged(t, name, st.Log(), &got)
			}
		})
	}
}

// slowFirst delays the first data batch of each connection past the
// devices' ACK timeout, so that the ACK of the first transmission comes
// after the device resent; and fails the batch after the resent copy, so
// that a device taking the copy's late ACK for the next packet's would
// count a packet that was never stored.
type slowFirst struct {
	h     channel.Handler
	delay time.Duration
	mu    sync.Mutex
	calls map[*channel.Conn]int
	want  func([]protocol.Message) bool // the batches counted
}

func (s *slowFirst) HandleMessages(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
	if s.want != nil && !s.want(msgs) {
		return s.h.HandleMessages(ctx, c, msgs)
	}
	s.mu.Lock()
	s.calls[c]++
	n := s.calls[c]
	s.mu.Unlock()
	switch n {
	case 1:
		time.Sleep(s.delay)
	case 3:
		return errStoreDown
	}
	return s.h.HandleMessages(ctx, c, msgs)
}

func TestLateAcksAreNotTakenForTheNextPacket(t *testing.T) {
	for _, tc := range []struct {
		protocol   string
		reconnects bool // whether the device has to reconnect to tell ACKs apart
		want       func([]protocol.Message) bool
	}{
		{device.Teltonika, true, nil},
		{device.WialonIPS, true, nil},
		// GT06 heartbeats carry serials: late ACKs are recognised. Only
		// heartbeats are delayed or failed (custom.packet.type 0x13).
		{device.GT06, false, func(msgs []protocol.Message) bool {
			typ, _ := msgs[0].Int("custom.packet.type")
			return typ == 0x13
		}},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			t.Parallel()
			st := memory.New(nil)
			defer st.Close()
			h := &slowFirst{h: channel.LogHandler(st.Log()), delay: 400 * time.Millisecond, calls: map[*channel.Conn]int{}, want: tc.want}
			addr := serve(t, tc.protocol, false, h)
			var got acks
			sum, err := Run(context.Background(), Config{
				Protocol: tc.protocol, Addr: addr, Devices: 2, Rate: 5, Duration: 1500 * time.Millisecond,
				// Many retries: only a reply that could be taken for another
				// packet's, never a run of timeouts, makes a device reconnect.
				AckTimeout: 200 * time.Millisecond, Retries: 10, ReconnectDelay: 20 * time.Millisecond,
				Drain: 3 * time.Second, OnAck: got.add, Logger: quiet(),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", sum)
			if sum.Resent == 0 || sum.Acked == 0 {
				t.Fatalf("the scenario did not happen: %+v", sum)
			}
			if tc.reconnects != (sum.Reconnects > 0) {
				t.Errorf("reconnects %d; want some: %v", sum.Reconnects, tc.reconnects)
			}
			checkLogged(t, tc.protocol, st.Log(), &got)
		})
	}
}

// slowProxy forwards TCP connections to addr, holding back the first bytes
// the server sends on each connection (the login's answer) for delay: long
// enough for the device to resend its login, so that two answers come.
func slowProxy(t *testing.T, addr string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			dev, err := ln.Accept()
			if err != nil {
				return
			}
			srv, err := net.Dial("tcp", addr)
			if err != nil {
				dev.Close()
				continue
			}
			go func() { io.Copy(srv, dev); srv.Close() }()
			go func() {
				defer dev.Close()
				buf := make([]byte, 4096)
				n, err := srv.Read(buf)
				if err != nil {
					return
				}
				time.Sleep(delay)
				dev.Write(buf[:n])
				io.Copy(dev, srv)
			}()
		}
	}()
	return ln.Addr().String()
}

// A login answered late is resent; the second answer, when it comes, is
// not taken for the first packet's ACK.
func TestLateLoginReplies(t *testing.T) {
	for _, name := range device.Protocols() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := memory.New(nil)
			defer st.Close()
			addr := slowProxy(t, serve(t, name, false, channel.LogHandler(st.Log())), 500*time.Millisecond)
			var got acks
			sum, err := Run(context.Background(), Config{
				Protocol: name, Addr: addr, Devices: 2, Rate: 5, Duration: time.Second,
				AckTimeout: 300 * time.Millisecond, Retries: 10, Drain: 4 * time.Second, OnAck: got.add, Logger: quiet(),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", sum)
			if !sum.OK() || sum.ErrorKinds["login timeout"] == 0 || sum.Reconnects != 0 || sum.ErrorKinds["unexpected reply"] != 0 {
				t.Fatalf("summary %+v", sum)
			}
			checkLogged(t, name, st.Log(), &got)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Protocol: "nmea"},
		{Protocol: device.GT06, UDP: true},
		{Addr: "nowhere"},
		{Rate: -1},
		{Records: 300},
		{Packet: "16"},
		{IdentBase: device.MaxIMEIBody, Devices: 2},
		{Duration: -time.Second},
	} {
		if _, err := Run(context.Background(), c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := Run(context.Background(), Config{Devices: 1 << 30, Addr: "127.0.0.1:1"}); !errors.Is(err, ErrFileLimit) {
		t.Errorf("a billion devices: %v", err)
	}
}

// Nothing listening: the device never logs in, nothing is acknowledged,
// the summary says why.
func TestNoServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	sum, err := Run(context.Background(), Config{
		Addr: addr, Duration: 300 * time.Millisecond, AckTimeout: 100 * time.Millisecond,
		ReconnectDelay: 50 * time.Millisecond, Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK() || sum.Connected != 0 || sum.Sent != 0 || sum.Unacked == 0 || sum.ErrorKinds["dial"] == 0 || sum.FirstErrors["dial"] == "" {
		t.Fatalf("%+v", sum)
	}
}

func TestInterrupted(t *testing.T) {
	st := memory.New(nil)
	defer st.Close()
	addr := serve(t, device.Teltonika, false, channel.LogHandler(st.Log()))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	sum, err := Run(ctx, Config{Addr: addr, Devices: 3, Rate: 10, Duration: time.Hour, Logger: quiet()})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("Run returned %v after %v", err, time.Since(start))
	}
	if sum.Acked == 0 || sum.Devices != 3 {
		t.Fatalf("summary so far: %+v", sum)
	}
}

// The goroutine engine (UDP devices, and TCP ones elsewhere than on
// Linux) passes the TCP tests the event loops pass.
func TestGoroutineEngine(t *testing.T) {
	if !useLoops {
		t.Skip("the goroutine engine is the only one here, tested by the other tests")
	}
	useLoops = false
	defer func() { useLoops = true }()
	for name, test := range map[string]func(*testing.T){
		"FleetAgainstChannelServer":     TestFleetAgainstChannelServer,
		"ServerThatStopsAcknowledging":  TestServerThatStopsAcknowledging,
		"LateAcksAreNotTakenForTheNext": TestLateAcksAreNotTakenForTheNextPacket,
		"LateLoginReplies":              TestLateLoginReplies,
		"NoServer":                      TestNoServer,
		"Interrupted":                   TestInterrupted,
	} {
		t.Run(name, test)
	}
}
