package device

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"
)

func TestTrackIsDeterministic(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := NewTrack(42, 3, Area{}, start)
	b := NewTrack(42, 3, Area{}, start)
	other := NewTrack(42, 4, Area{}, start)
	differs := false
	for i := 1; i <= 3600; i++ {
		at := start.Add(time.Duration(i) * 1500 * time.Millisecond)
		// b is asked less often: the state at a time must not depend on
		// the times asked before it.
		pa := a.At(at)
		if i%7 != 0 {
			continue
		}
		pb := b.At(at)
		pa.IgnitionChanged, pb.IgnitionChanged = false, false
		if pa != pb {
			t.Fatalf("step %d: %+v != %+v", i, pa, pb)
		}
		if po := other.At(at); po.Latitude != pa.Latitude {
			differs = true
		}
	}
	if !differs {
		t.Error("devices 3 and 4 drive the same route")
	}
}

// A vehicle drives like one: speeds and accelerations a car reaches,
// positions that move as far as the speed says, headings that point where
// it goes, stops and parking with the ignition off, and sensor values in
// their ranges.
func TestTrackIsPlausible(t *testing.T) {
	start := time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC)
	area := Area{}.withDefaults()
	var parked, halted, moving, changes int
	for n := range 20 {
		tr := NewTrack(1, n, Area{}, start)
		prev := tr.At(start)
		for i := 1; i <= 4*3600; i++ {
			p := tr.At(start.Add(time.Duration(i) * time.Second))
			if p.Speed < 0 || p.Speed > 100 {
				t.Fatalf("device %d at %ds: speed %.1f km/h", n, i, p.Speed)
			}
			if dv := (p.Speed - prev.Speed) / 3.6; dv > accel+1 || dv < -brake-1 {
				t.Fatalf("device %d at %ds: speed %.1f -> %.1f km/h in a second", n, i, prev.Speed, p.Speed)
			}
			d := distance(latLon{prev.Latitude, prev.Longitude}, latLon{p.Latitude, p.Longitude})
			if d > max(prev.Speed, p.Speed)/3.6+0.5 {
				t.Fatalf("device %d at %ds: moved %.1f m at %.1f km/h", n, i, d, p.Speed)
			}
			if math.Abs(p.Odometer-prev.Odometer-d) > 0.5 {
				t.Fatalf("device %d at %ds: odometer +%.1f m for %.1f m driven", n, i, p.Odometer-prev.Odometer, d)
			}
			if d > 5 {
				h := bearing(latLon{prev.Latitude, prev.Longitude}, latLon{p.Latitude, p.Longitude})
				if diff := math.Abs(math.Mod(h-p.Heading+540, 360) - 180); diff > 30 && diff < 330 {
					// Corners turn the heading at once; allow them.
					if math.Abs(math.Mod(h-prev.Heading+540, 360)-180) > 30 {
						t.Fatalf("device %d at %ds: heading %.0f, moved towards %.0f", n, i, p.Heading, h)
					}
				}
			}
			if distance(latLon{area.Latitude, area.Longitude}, latLon{p.Latitude, p.Longitude}) > area.Radius*1000*1.2 {
				t.Fatalf("device %d left the area: %.5f, %.5f", n, p.Latitude, p.Longitude)
			}
			if p.Altitude < 30 || p.Altitude > 270 || p.Satellites < 5 || p.Satellites > 14 ||
				p.GSMLevel < 1 || p.GSMLevel > 5 || p.BatteryVoltage < 3.9 || p.BatteryVoltage > 4.2 ||
				p.ExternalVoltage < 12 || p.ExternalVoltage > 14.6 || p.HDOP < 0.5 || p.HDOP > 2 {
				t.Fatalf("device %d at %ds: out of range: %+v", n, i, p)
			}
			switch {
			case !p.Ignition:
				parked++
				if p.Speed != 0 {
					t.Fatalf("device %d at %ds: moving with the ignition off", n, i)
				}
			case p.Speed == 0:
				halted++
			default:
				moving++
			}
			if p.IgnitionChanged {
				changes++
			}
			prev = p
		}
	}
	total := parked + halted + moving
	t.Logf("%d s: %.0f%% moving, %.0f%% halted, %.0f%% parked; %d ignition changes",
		total, 100*float64(moving)/float64(total), 100*float64(halted)/float64(total), 100*float64(parked)/float64(total), changes)
	if moving < total/2 || halted == 0 || parked == 0 || changes < 10 {
		t.Errorf("a fleet that does not drive like one: %d moving, %d halted, %d parked, %d ignition changes", moving, halted, parked, changes)
	}
}

func TestSplitReply(t *testing.T) {
	split := func(name string, data []byte, wants ...[]byte) []string {
		t.Helper()
		s, err := New(name, IMEI(1), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := 0; ; i++ {
			var want []byte
			if i < len(wants) {
				want = wants[i]
			}
			n, r, err := s.SplitReply(data, want)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if n == 0 {
				return got
			}
			got = append(got, string(r))
			data = data[n:]
		}
	}
	check := func(name string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: replies %q, want %q", name, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: replies %q, want %q", name, got, want)
			}
		}
	}
	// Teltonika: as long as the reply awaited (the login's 01, then a u32);
	// the last two bytes are not a whole reply yet.
	check(Teltonika, split(Teltonika, []byte{1, 0, 0, 0, 3, 0, 0}, []byte{1}, []byte{0, 0, 0, 3}, []byte{0, 0, 0, 3}),
		"\x01", "\x00\x00\x00\x03")
	// A late login reply (01, a resent IMEI's) before a data ACK is a
	// reply of its own, whatever the device waits for.
	check(Teltonika, split(Teltonika, []byte{1, 0, 0, 0, 3}, []byte{0, 0, 0, 3}, []byte{0, 0, 0, 3}),
		"\x01", "\x00\x00\x00\x03")
	check(GT06, split(GT06, []byte("\x78\x78\x05\x13\x00\x03\xca\xe3\r\n\x79\x79\x00\x05\x13\x00\x04\x01\x02\r\n\x78")),
		"\x78\x78\x05\x13\x00\x03\xca\xe3\r\n", "\x79\x79\x00\x05\x13\x00\x04\x01\x02\r\n")
	check(WialonIPS, split(WialonIPS, []byte("#AL#1\r\n#AD#1\r\n#AB#")), "#AL#1\r\n", "#AD#1\r\n")
	for _, name := range []string{GT06, WialonIPS} {
		s, _ := New(name, IMEI(1), Options{})
		if _, _, err := s.SplitReply(bytes.Repeat([]byte{'z'}, 2000), nil); !errors.Is(err, ErrReplyFormat) {
			t.Errorf("%s: garbage split: %v", name, err)
		}
	}
}

// FuzzSplitReply: whatever a server sends, splitting stays in bounds and
// never panics.
func FuzzSplitReply(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 1}, 4)
	f.Add([]byte("\x78\x78\x05\x13\x00\x03\xca\xe3\r\n"), 10)
	f.Add([]byte("\x79\x79\xff\xff"), 10)
	f.Add([]byte("#AD#1\r\n#AB#17\r\n"), 7)
	f.Fuzz(func(t *testing.T, data []byte, wantLen int) {
		want := make([]byte, max(0, min(wantLen, 64)))
		for _, name := range Protocols() {
			s, err := New(name, IMEI(1), Options{})
			if err != nil {
				t.Fatal(err)
			}
			rest := data
			for len(rest) > 0 {
				n, r, err := s.SplitReply(rest, want)
				if err != nil || n == 0 {
					break
				}
				if n < 0 || n > len(rest) || len(r) > n {
					t.Fatalf("%s: advance %d, reply %d bytes, of %d", name, n, len(r), len(rest))
				}
				rest = rest[n:]
			}
		}
	})
}
