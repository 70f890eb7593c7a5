package device

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/gt06"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
	"github.com/gnssgate/gnssgate/protocol/wialonips"
)

// frame is one frame the server-side codec decoded: its messages (cloned)
// and its reply.
type frame struct {
	msgs  []protocol.Message
	reply []byte
	ident string
}

// serverSide decodes what a device sends with this module's codec, as a
// channel does.
type serverSide struct {
	t   *testing.T
	dec *protocol.StreamDecoder
}

func newServerSide(t *testing.T, c protocol.Codec, tr protocol.Transport) *serverSide {
	return &serverSide{t: t, dec: protocol.NewStreamDecoder(c, tr, 0)}
}

// feed decodes b (for UDP, one datagram) and returns its frames.
func (s *serverSide) feed(b []byte) []frame {
	s.t.Helper()
	var out []frame
	err := s.dec.Feed(b, func(_ []byte, r *protocol.Result) error {
		f := frame{reply: bytes.Clone(r.Reply), ident: r.Ident}
		for i := range r.Messages {
			f.msgs = append(f.msgs, r.Messages[i].Clone())
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		s.t.Fatalf("the codec rejects what the device sent: %v\n% x", err, b)
	}
	if n := s.dec.Buffered(); n != 0 {
		s.t.Fatalf("%d bytes left undecoded", n)
	}
	return out
}

// replies joins the replies of frames: what the device reads back.
func replies(fs []frame) []byte {
	var b []byte
	for _, f := range fs {
		b = append(b, f.reply...)
	}
	return b
}

// points gives a varied set of records: a vehicle followed for a few hours
// at irregular intervals, so that driving, junction stops, parking and
// ignition changes all occur.
func points(t *testing.T, seed uint64, n int) []Point {
	t.Helper()
	start := time.Date(2026, 3, 14, 7, 58, 3, 123456789, time.UTC)
	tr := NewTrack(seed, n, Area{}, start)
	var pts []Point
	at := start
	for i := range 600 {
		at = at.Add(time.Duration(1+i%37)*time.Second + time.Duration(i%7)*113*time.Millisecond)
		pts = append(pts, tr.At(at))
	}
	changes := 0
	for _, p := range pts {
		if p.IgnitionChanged {
			changes++
		}
	}
	if changes == 0 {
		t.Logf("seed %d device %d: no ignition change in the sample", seed, n)
	}
	return pts
}

type checker struct {
	t   *testing.T
	m   *protocol.Message
	ctx string
}

func (c checker) num(name string, want, tol float64) {
	c.t.Helper()
	got, ok := c.m.Float(name)
	if !ok {
		c.t.Errorf("%s: %s missing in %s", c.ctx, name, c.m)
		return
	}
	if math.Abs(got-want) > tol {
		c.t.Errorf("%s: %s = %v, want %v ± %g", c.ctx, name, got, want, tol)
	}
}

// numAs checks a number the codec may register under either name: the
// Wialon IPS codec gives common names to more device parameters over time
// ("gsm" → gsm.signal.level), keeping the value as sent.
func (c checker) numAs(names []string, want, tol float64) {
	c.t.Helper()
	for _, name := range names {
		if c.m.Has(name) {
			c.num(name, want, tol)
			return
		}
	}
	c.t.Errorf("%s: none of %q in %s", c.ctx, names, c.m)
}

func (c checker) flag(name string, want bool) {
	c.t.Helper()
	got, ok := c.m.Bool(name)
	if !ok || got != want {
		c.t.Errorf("%s: %s = %v (present %v), want %v", c.ctx, name, got, ok, want)
	}
}

func (c checker) str(name, want string) {
	c.t.Helper()
	if got, ok := c.m.Str(name); !ok || got != want {
		c.t.Errorf("%s: %s = %q (present %v), want %q", c.ctx, name, got, ok, want)
	}
}

func round(f float64) float64 { return math.Round(f) }

func TestTeltonikaDecodesToTheSameValues(t *testing.T) {
	for _, tc := range []struct {
		packet  string
		udp     bool
		records int
	}{{"8", false, 1}, {"8", false, 7}, {"8e", false, 1}, {"8e", false, 5}, {"8", true, 1}, {"8e", true, 4}} {
		t.Run(fmt.Sprintf("codec%s/udp=%v/records=%d", tc.packet, tc.udp, tc.records), func(t *testing.T) {
			imei := IMEI(35000000000000 + uint64(tc.records))
			s, err := New(Teltonika, imei, Options{Packet: tc.packet, UDP: tc.udp})
			if err != nil {
				t.Fatal(err)
			}
			transport := protocol.TCP
			if tc.udp {
				transport = protocol.UDP
			}
			srv := newServerSide(t, &teltonika.Codec{}, transport)
			var p Packet
			if s.Login(&p) == tc.udp {
				t.Fatalf("Login returned %v over udp=%v", !tc.udp, tc.udp)
			}
			if !tc.udp {
				fs := srv.feed(p.Bytes)
				if got := replies(fs); !bytes.Equal(got, p.Ack) || fs[0].ident != imei {
					t.Fatalf("login: codec replies % x for ident %q; the device waits for % x as %s", got, fs[0].ident, p.Ack, imei)
				}
			}
			pts := points(t, 7, tc.records)
			for i := 0; i+tc.records <= len(pts); i += tc.records {
				batch := pts[i : i+tc.records]
				if err := s.Data(&p, batch, false); err != nil {
					t.Fatal(err)
				}
				fs := srv.feed(p.Bytes)
				if len(fs) != 1 || len(fs[0].msgs) != len(batch) {
					t.Fatalf("packet %d: %d frames, want 1 with %d messages", i, len(fs), len(batch))
				}
				if got := replies(fs); !bytes.Equal(got, p.Ack) {
					t.Fatalf("packet %d: codec replies % x, the device waits for % x", i, got, p.Ack)
				}
				for j, pt := range batch {
					c := checker{t, &fs[0].msgs[j], fmt.Sprintf("packet %d record %d", i, j)}
					c.str("ident", imei)
					c.num("timestamp", float64(pt.Time.UnixMilli())/1000, 1e-6)
					c.num("position.latitude", pt.Latitude, 0.51e-7)
					c.num("position.longitude", pt.Longitude, 0.51e-7)
					c.num("position.altitude", round(pt.Altitude), 0)
					c.num("position.direction", math.Mod(round(pt.Heading), 360), 0)
					c.num("position.speed", round(pt.Speed), 0)
					c.num("position.satellites", float64(pt.Satellites), 0)
					c.flag("position.valid", true)
					c.flag("engine.ignition.status", pt.Ignition)
					c.flag("movement.status", pt.Moving)
					c.num("gsm.signal.level", float64(pt.GSMLevel), 0)
					c.num("external.powersource.voltage", pt.ExternalVoltage, 0.0005+1e-9)
					c.num("battery.voltage", pt.BatteryVoltage, 0.0005+1e-9)
					c.num("position.pdop", pt.PDOP, 0.05+1e-9)
					c.num("position.hdop", pt.HDOP, 0.05+1e-9)
					c.num("vehicle.mileage", pt.Odometer/1000, 0.0005+1e-9)
					event := 0.0
					if pt.IgnitionChanged {
						event = avlIgnition
					}
					c.num("event.enum", event, 0)
				}
			}
		})
	}
}

func TestGT06DecodesToTheSameValues(t *testing.T) {
	for _, tc := range []struct {
		packet  string
		records int
		resend  bool
	}{{"", 1, false}, {"0x22", 3, true}, {"0x12", 1, false}, {"0x12", 4, false}} {
		t.Run(fmt.Sprintf("packet%s/records=%d/resend=%v", tc.packet, tc.records, tc.resend), func(t *testing.T) {
			imei := IMEI(86000000000000 + uint64(tc.records))
			s, err := New(GT06, imei, Options{Packet: tc.packet})
			if err != nil {
				t.Fatal(err)
			}
			proto := 0x22
			if tc.packet == "0x12" {
				proto = 0x12
			}
			srv := newServerSide(t, &gt06.Codec{}, protocol.TCP)
			var p Packet
			if !s.Login(&p) {
				t.Fatal("no login over TCP")
			}
			fs := srv.feed(p.Bytes)
			if got := replies(fs); !bytes.Equal(got, p.Ack) || fs[0].ident != imei {
				t.Fatalf("login: codec replies % x for ident %q; the device waits for % x as %s", got, fs[0].ident, p.Ack, imei)
			}
			lastSerial := 1.0
			pts := points(t, 11, tc.records)
			for i := 0; i+tc.records <= len(pts); i += tc.records {
				batch := pts[i : i+tc.records]
				if err := s.Data(&p, batch, tc.resend); err != nil {
					t.Fatal(err)
				}
				fs := srv.feed(p.Bytes)
				if len(fs) != len(batch)+1 {
					t.Fatalf("packet %d: %d frames, want %d locations and a heartbeat", i, len(fs), len(batch))
				}
				// The device reads back exactly one reply: the heartbeat's.
				if got := replies(fs); !bytes.Equal(got, p.Ack) {
					t.Fatalf("packet %d: codec replies % x, the device waits for % x", i, got, p.Ack)
				}
				for j, pt := range batch {
					if len(fs[j].msgs) != 1 {
						t.Fatalf("packet %d frame %d: %d messages", i, j, len(fs[j].msgs))
					}
					c := checker{t, &fs[j].msgs[0], fmt.Sprintf("packet %d record %d", i, j)}
					c.str("ident", imei)
					c.num("custom.packet.type", float64(proto), 0)
					lastSerial++
					c.num("record.seqnum", lastSerial, 0)
					c.num("timestamp", float64(pt.Time.Unix()), 0)
					c.num("position.latitude", pt.Latitude, 0.51/1800000)
					c.num("position.longitude", pt.Longitude, 0.51/1800000)
					c.num("position.speed", round(pt.Speed), 0)
					c.num("position.direction", math.Mod(round(pt.Heading), 360), 0)
					c.num("position.satellites", float64(min(pt.Satellites, 15)), 0)
					c.flag("position.valid", true)
					c.num("gsm.mcc", gt06MCC, 0)
					c.num("gsm.mnc", gt06MNC, 0)
					lac, cell := cellAt(&pt)
					c.num("gsm.lac", float64(lac), 0)
					c.num("gsm.cellid", float64(cell), 0)
					if proto == 0x22 {
						c.flag("engine.ignition.status", pt.Ignition)
						c.flag("message.buffered.status", tc.resend)
					}
				}
				last := batch[len(batch)-1]
				c := checker{t, &fs[len(batch)].msgs[0], fmt.Sprintf("packet %d heartbeat", i)}
				lastSerial++
				c.num("record.seqnum", lastSerial, 0)
				c.num("custom.packet.type", 0x13, 0)
				c.flag("engine.ignition.status", last.Ignition)
				c.flag("gnss.status", true)
				c.flag("battery.charging.status", last.ExternalVoltage > 9)
				c.num("battery.level.enum", float64(voltageLevel(last.BatteryVoltage)), 0)
				c.num("gsm.signal.level", float64(min(last.GSMLevel, 4)), 0)
			}
		})
	}
}

func TestWialonIPSDecodesToTheSameValues(t *testing.T) {
	for _, tc := range []struct {
		udp      bool
		records  int
		password string
	}{{false, 1, ""}, {false, 6, "secret"}, {true, 1, ""}, {true, 3, ""}} {
		t.Run(fmt.Sprintf("udp=%v/records=%d", tc.udp, tc.records), func(t *testing.T) {
			imei := IMEI(35999000000000 + uint64(tc.records))
			s, err := New(WialonIPS, imei, Options{UDP: tc.udp, Password: tc.password})
			if err != nil {
				t.Fatal(err)
			}
			transport := protocol.TCP
			if tc.udp {
				transport = protocol.UDP
			}
			var gotPassword string
			codec := &wialonips.Codec{CheckPassword: func(ident, password string) bool {
				gotPassword = password
				return ident == imei
			}}
			srv := newServerSide(t, codec, transport)
			var p Packet
			if s.Login(&p) == tc.udp {
				t.Fatalf("Login returned %v over udp=%v", !tc.udp, tc.udp)
			}
			if !tc.udp {
				fs := srv.feed(p.Bytes)
				if got := replies(fs); !bytes.Equal(got, p.Ack) || fs[0].ident != imei {
					t.Fatalf("login: codec replies %q for ident %q; the device waits for %q as %s", got, fs[0].ident, p.Ack, imei)
				}
				if gotPassword != tc.password {
					t.Errorf("the server saw password %q, want %q", gotPassword, tc.password)
				}
			}
			pts := points(t, 13, tc.records)
			for i := 0; i+tc.records <= len(pts); i += tc.records {
				batch := pts[i : i+tc.records]
				if err := s.Data(&p, batch, false); err != nil {
					t.Fatal(err)
				}
				fs := srv.feed(p.Bytes)
				if len(fs) != 1 || len(fs[0].msgs) != len(batch) {
					t.Fatalf("packet %d: %d frames, want 1 with %d messages: %q", i, len(fs), len(batch), p.Bytes)
				}
				if got := replies(fs); !bytes.Equal(got, p.Ack) {
					t.Fatalf("packet %d: codec replies %q, the device waits for %q", i, got, p.Ack)
				}
				for j, pt := range batch {
					c := checker{t, &fs[0].msgs[j], fmt.Sprintf("packet %d record %d", i, j)}
					c.str("ident", imei)
					c.num("timestamp", float64(pt.Time.Unix()), 0)
					c.num("position.latitude", pt.Latitude, 0.51e-5/60)
					c.num("position.longitude", pt.Longitude, 0.51e-5/60)
					c.num("position.speed", round(pt.Speed), 0)
					c.num("position.direction", math.Mod(round(pt.Heading), 360), 0)
					c.num("position.altitude", round(pt.Altitude), 0)
					c.num("position.satellites", float64(pt.Satellites), 0)
					c.num("position.hdop", pt.HDOP, 0.05+1e-9)
					c.num("din", float64(boolByte(pt.Ignition)), 0)
					c.num("dout", 0, 0)
					c.num("external.powersource.voltage", pt.ExternalVoltage, 0.005+1e-9)
					c.num("battery.voltage", pt.BatteryVoltage, 0.005+1e-9)
					c.numAs([]string{"gsm.signal.level", "custom.gsm"}, float64(pt.GSMLevel), 0)
					c.numAs([]string{"vehicle.mileage", "custom.odometer"}, pt.Odometer/1000, 0.0005+1e-9)
					c.numAs([]string{"position.pdop", "custom.pdop"}, pt.PDOP, 0.05+1e-9)
				}
			}
		})
	}
}

// The protocol names are the codecs' own, so that one name picks both
// sides.
func TestProtocolNamesAreTheCodecs(t *testing.T) {
	for _, pair := range [][2]string{{Teltonika, teltonika.Name}, {GT06, gt06.Name}, {WialonIPS, wialonips.Name}} {
		if pair[0] != pair[1] {
			t.Errorf("device name %q, codec name %q", pair[0], pair[1])
		}
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		protocol, ident string
		o               Options
		want            error
	}{
		{"nmea", IMEI(1), Options{}, ErrProtocol},
		{GT06, IMEI(1), Options{UDP: true}, ErrUDP},
		{Teltonika, "12345", Options{}, ErrIdent},
		{Teltonika, "35000000000000x", Options{}, ErrIdent},
		{GT06, "12345678901234567", Options{}, ErrIdent},
		{WialonIPS, "a;b", Options{}, ErrIdent},
		{WialonIPS, IMEI(1), Options{Password: "a;b"}, ErrIdent},
		{Teltonika, IMEI(1), Options{Packet: "16"}, ErrPacket},
		{GT06, IMEI(1), Options{Packet: "0xA0"}, ErrPacket},
		{WialonIPS, IMEI(1), Options{Packet: "SD"}, ErrPacket},
	} {
		if _, err := New(tc.protocol, tc.ident, tc.o); !errors.Is(err, tc.want) {
			t.Errorf("New(%q, %q, %+v) = %v, want %v", tc.protocol, tc.ident, tc.o, err, tc.want)
		}
	}
	for _, name := range Protocols() {
		s, err := New(name, IMEI(2), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var p Packet
		if err := s.Data(&p, nil, false); !errors.Is(err, ErrTooMany) {
			t.Errorf("%s: Data of no records = %v", name, err)
		}
		if err := s.Data(&p, make([]Point, s.MaxRecords()+1), false); !errors.Is(err, ErrTooMany) {
			t.Errorf("%s: Data of %d records = %v", name, s.MaxRecords()+1, err)
		}
	}
}

func TestIMEI(t *testing.T) {
	// Check digits of IMEIs printed in public documents.
	for _, imei := range []string{"490154203237518", "356938035643809", "352099001761481"} {
		if !ValidIMEI(imei) {
			t.Errorf("ValidIMEI(%s) = false", imei)
		}
		var body uint64
		fmt.Sscan(imei[:14], &body)
		if got := IMEI(body); got != imei {
			t.Errorf("IMEI(%d) = %s, want %s", body, got, imei)
		}
	}
	for _, bad := range []string{"490154203237517", "49015420323751", "4901542032375180", "49015420323751x"} {
		if ValidIMEI(bad) {
			t.Errorf("ValidIMEI(%s) = true", bad)
		}
	}
	if got := IMEI(42); got != "000000000000422" || !ValidIMEI(got) {
		t.Errorf("IMEI(42) = %s", got)
	}
	for i := range uint64(1000) {
		if imei := IMEI(35000000000000 + i*7919); !ValidIMEI(imei) {
			t.Fatalf("IMEI made %s, not valid", imei)
		}
	}
}
