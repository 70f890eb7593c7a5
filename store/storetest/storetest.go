// Package storetest is the conformance suite for [store] engines, in the
// shape of testing/slogtest: an engine's test calls [Run] with a function
// that opens the engine in a directory, and [Crash] to kill a writer process
// mid-stream and check that everything it acknowledged survived.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, dir string, cfg store.Config) store.Store {
//			db, err := pebble.Open(dir, &pebble.Options{Config: cfg})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		}, storetest.Options{Durable: true})
//	}
//
// The suite closes the stores it opens. Parts an engine does not provide
// (nil from Store.Messages, …) are skipped.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// Opener opens the engine under test in dir with cfg. Opening the same dir
// again after Close must find the data of a durable engine.
type Opener func(t *testing.T, dir string, cfg store.Config) store.Store

// Options says what the engine promises.
type Options struct {
	// Durable engines keep everything across Close and reopen.
	Durable bool
}

// Run runs every conformance test as a subtest.
func Run(t *testing.T, open Opener, opts Options) {
	h := &harness{open: open, durable: opts.Durable}
	t.Run("Log", func(t *testing.T) {
		for _, c := range logTests {
			t.Run(c.name, func(t *testing.T) {
				if c.durable && !h.durable {
					t.Skip("engine is not durable")
				}
				c.fn(t, h)
			})
		}
	})
	t.Run("Messages", func(t *testing.T) {
		for _, c := range historyTests {
			t.Run(c.name, func(t *testing.T) {
				if c.durable && !h.durable {
					t.Skip("engine is not durable")
				}
				c.fn(t, h)
			})
		}
	})
	t.Run("Telemetry", func(t *testing.T) {
		for _, c := range telemetryTests {
			t.Run(c.name, func(t *testing.T) {
				if c.durable && !h.durable {
					t.Skip("engine is not durable")
				}
				c.fn(t, h)
			})
		}
	})
}

type testCase struct {
	name    string
	durable bool // needs reopen
	fn      func(t *testing.T, h *harness)
}

type harness struct {
	open    Opener
	durable bool
}

// instance is one open engine in one directory, reopenable.
type instance struct {
	t   *testing.T
	h   *harness
	dir string
	cfg store.Config
	s   store.Store
}

func (h *harness) start(t *testing.T, cfg store.Config) *instance {
	t.Helper()
	in := &instance{t: t, h: h, dir: t.TempDir(), cfg: cfg}
	in.s = h.open(t, in.dir, cfg)
	t.Cleanup(func() { in.s.Close() })
	return in
}

func (in *instance) reopen() {
	in.t.Helper()
	if err := in.s.Close(); err != nil {
		in.t.Fatalf("Close: %v", err)
	}
	in.s = in.h.open(in.t, in.dir, in.cfg)
}

func (in *instance) log() store.Log {
	l := in.s.Log()
	if l == nil {
		in.t.Skip("engine has no log")
	}
	return l
}

func (in *instance) messages() store.Messages {
	m := in.s.Messages()
	if m == nil {
		in.t.Skip("engine has no message history")
	}
	return m
}

func (in *instance) telemetry() store.Telemetry {
	m := in.s.Telemetry()
	if m == nil {
		in.t.Skip("engine has no telemetry")
	}
	return m
}

// clock is a settable time source for retention tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Message returns a deterministic test message of about 300 bytes (13
// parameters; 290 bytes in the engines' binary form, 345 as JSON with a
// 15-digit ident): n identifies it, ident and ts place it.
func Message(ident string, ts float64, n int) protocol.Message {
	var m protocol.Message
	m.SetString(protocol.ParamIdent, ident)
	m.SetFloat(protocol.ParamTimestamp, ts)
	m.SetFloat(protocol.ParamServerTimestamp, ts+0.25)
	m.SetInt("channel.id", 1234)
	m.SetFloat(protocol.ParamLatitude, 54.6872+float64(n%1000)/1e5)
	m.SetFloat(protocol.ParamLongitude, 25.2797-float64(n%777)/1e5)
	m.SetFloat(protocol.ParamAltitude, 112.5)
	m.SetFloat(protocol.ParamSpeed, float64(n%120))
	m.SetInt(protocol.ParamDirection, int64(n%360))
	m.SetInt(protocol.ParamSatellites, 11)
	m.SetBool(protocol.ParamValid, true)
	m.SetInt("test.n", int64(n))
	m.SetString("peer", "192.0.2.17:50122")
	return m
}

// SetTrackerMessage sets m (reset, its storage reused) to a deterministic
// message in the shape of a Teltonika tracker's (32 parameters: position, the device's own state and
// I/O elements with their catalogue names): n identifies it, ident and ts
// place it. Like a tracker's, most values move from one message to the
// next (position, counters, voltages) and the rest hold (digital inputs,
// states). The names are constants, as a decoder's or codec.Decoder's
// interned names are. Benchmarks refill the same messages batch after
// batch, so that making them allocates nothing.
func SetTrackerMessage(m *protocol.Message, ident string, ts float64, n int) {
	m.Reset()
	m.Grow(32)
	m.Add(protocol.ParamIdent, protocol.String(ident))
	m.Add(protocol.ParamTimestamp, protocol.Float(ts))
	m.Add(protocol.ParamServerTimestamp, protocol.Float(ts+0.25))
	m.Add("channel.id", protocol.Int(1234))
	m.Add("peer", protocol.String("192.0.2.17:50122"))
	m.Add(protocol.ParamLatitude, protocol.Float(54.6872+float64(n%1000)/1e5))
	m.Add(protocol.ParamLongitude, protocol.Float(25.2797-float64(n%777)/1e5))
	m.Add(protocol.ParamAltitude, protocol.Float(float64(100+n%25)))
	m.Add(protocol.ParamDirection, protocol.Int(int64(n%360)))
	m.Add(protocol.ParamSatellites, protocol.Int(int64(9+n%4)))
	m.Add(protocol.ParamSpeed, protocol.Int(int64(n%120)))
	m.Add(protocol.ParamValid, protocol.Bool(true))
	m.Add("event.priority.enum", protocol.Int(0))
	m.Add("event.enum", protocol.Int(0))
	m.Add("engine.ignition.status", protocol.Bool(true))
	m.Add("movement.status", protocol.Bool(n%60 != 0))
	m.Add("din#1", protocol.Bool(false))
	m.Add("din#2", protocol.Bool(true))
	m.Add("dout#1", protocol.Bool(false))
	m.Add("gsm.signal.level", protocol.Int(int64(3+n%3)))
	m.Add("gnss.state.enum", protocol.Int(3))
	m.Add("data.mode.enum", protocol.Int(0))
	m.Add("external.powersource.voltage", protocol.Float(12.6+float64(n%7)/100))
	m.Add("battery.voltage", protocol.Float(4.1+float64(n%5)/1000))
	m.Add("battery.current", protocol.Float(0))
	m.Add("ain#1", protocol.Float(float64(n%50)/1000))
	m.Add("gnss.pdop", protocol.Float(1+float64(n%10)/10))
	m.Add("gnss.hdop", protocol.Float(0.8+float64(n%10)/10))
	m.Add("vehicle.mileage", protocol.Int(int64(100000+n*12)))
	m.Add("gsm.operator.code", protocol.Int(24601))
	m.Add("device.temperature", protocol.Float(float64(30+n%5)))
	m.Add("can.fuel.level", protocol.Int(int64(60-n%60)))
}

// msgN returns the "test.n" of a message made by [Message], or -1.
func msgN(m *protocol.Message) int {
	n, ok := m.Int("test.n")
	if !ok {
		return -1
	}
	return int(n)
}

func batch(ident string, from, n int) []protocol.Message {
	out := make([]protocol.Message, n)
	for i := range out {
		out[i] = Message(ident, 1.7e9+float64(from+i), from+i)
	}
	return out
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// check(f())(t) fails t if f returned an error, else returns f's value.
func check[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func sameMessage(t *testing.T, got, want *protocol.Message, what string) {
	t.Helper()
	if !got.Equal(want) || got.String() != want.String() {
		t.Fatalf("%s: got %s\nwant %s", what, got.String(), want.String())
	}
}

func describe(rs []store.Record) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%d:%d ", r.Seq, msgN(&r.Message))
	}
	return b.String()
}
