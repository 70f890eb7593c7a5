package filter

import (
	"strings"
	"testing"
)

// benchMessage is a 1 KB flespi-style message: flat dotted keys, the three
// fields the benchmark filter reads spread through it.
var benchMessage = []byte(`{"ident":"352625066004561","timestamp":1700000000.25,"server.timestamp":1700000001.5,` +
	`"channel.id":1134,"protocol.id":1,"device.id":4423,"device.type.id":26,"peer":"93.184.216.34:40312",` +
	`"position.latitude":54.687157,"position.longitude":25.279652,"position.altitude":112.5,` +
	`"position.direction":270,"position.satellites":14,"position.valid":true,"position.hdop":0.7,` +
	`"gsm.signal.level":4,` +
	`"battery.voltage":4.087,"battery.level":92,"external.powersource.voltage":13.8,` +
	`"din":5,"dout":0,"din.1.status":true,"din.2.status":false,` +
	`"position.speed":72,"movement.status":true,"can.vehicle.mileage":182734.5,"can.fuel.level":61.2,` +
	`"can.engine.rpm":2150,"can.engine.temperature":88,"can.throttle.pedal.level":23,` +
	`"vehicle.mileage":182736.9,"engine.ignition.status":true,"engine.motorhours":5121.5,` +
	`"ain.1":12.3,"ain.2":0.02,"custom.param.239":1,"custom.param.240":1,` +
	`"sleep.mode.enum":0,"gnss.status":true,"gnss.type.enum":1,"event.enum":0,` +
	`"report.reason":"periodic","ibutton.code":"01A2B3C4D5E6F708","device.name":"car-0042",` +
	`"bluetooth.beacons.count":0}`)

// benchMessageSpread is benchMessage with device.name moved next to the
// other device.* members: the three fields sit at about 10%, 55% and 70% of
// the message instead of one of them being the last member.
var benchMessageSpread = func() []byte {
	s := strings.Replace(string(benchMessage), `"device.name":"car-0042",`, "", 1)
	s = strings.Replace(s, `"device.type.id":26,`, `"device.type.id":26,"device.name":"car-0042",`, 1)
	return []byte(s)
}()

func benchMatchJSON(b *testing.B, msg []byte) {
	x := MustCompile(`position.speed>60 && engine.ignition.status==true && device.name=="car*"`)
	if len(msg) < 1000 || len(msg) > 1100 {
		b.Fatalf("message is %d bytes, want about 1 KB", len(msg))
	}
	if !x.MatchJSON(msg, nil) {
		b.Fatal("no match")
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if !x.MatchJSON(msg, nil) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkMatchJSON3Clause is the worst case: device.name is the last
// member but one, so the pass reads the whole message.
func BenchmarkMatchJSON3Clause(b *testing.B) { benchMatchJSON(b, benchMessage) }

// BenchmarkMatchJSON3ClauseSpread: the last field read is at about 70%.
func BenchmarkMatchJSON3ClauseSpread(b *testing.B) { benchMatchJSON(b, benchMessageSpread) }

// structEnv is the canonical benchmark's environment as a struct-backed
// Source: the fair counterpart of expr-lang/expr's struct or map env.
type structEnv struct {
	Origin, Country string
	Value, Adults   float64
}

func (s *structEnv) Lookup(name string) (Value, bool) {
	switch name {
	case "Origin":
		return String(s.Origin), true
	case "Country":
		return String(s.Country), true
	case "Value":
		return Number(s.Value), true
	case "Adults":
		return Number(s.Adults), true
	}
	return Value{}, false
}

// canonical is the expression of the published Go expression-engine
// comparison (antonmedv/golang-expression-evaluation-comparison). The
// yardstick is github.com/expr-lang/expr v1.17.8, which is not a dependency
// of this module: it was measured on the same machine from a scratch module
// outside the repository, with a reused vm.VM and env struct
// {Origin, Country string; Value, Adults int} compiled with expr.Env(env):
//
//	p, _ := expr.Compile(canonical, expr.Env(env)); var m vm.VM
//	for b.Loop() { out, _ := m.Run(p, env); _ = out.(bool) }
//
// BenchmarkCanonicalStruct is the counterpart: a struct behind the Source
// interface; BenchmarkCanonicalMap uses a MapSource.
const canonical = `(Origin == "MOW" || Country == "RU") && (Value >= 100 || Adults == 1)`

func BenchmarkCanonicalStruct(b *testing.B) {
	x := MustCompile(canonical)
	env := &structEnv{Origin: "MOW", Country: "RU", Value: 100, Adults: 1}
	if !x.Match(env, nil) {
		b.Fatal("no match")
	}
	b.ReportAllocs()
	for b.Loop() {
		if !x.Match(env, nil) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCanonicalMap(b *testing.B) {
	x := MustCompile(canonical)
	env := MapSource{"Origin": String("MOW"), "Country": String("RU"), "Value": Number(100), "Adults": Number(1)}
	if !x.Match(env, nil) {
		b.Fatal("no match")
	}
	b.ReportAllocs()
	for b.Loop() {
		if !x.Match(env, nil) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCanonicalJSON(b *testing.B) {
	x := MustCompile(canonical)
	data := []byte(`{"Origin":"MOW","Country":"RU","Value":100,"Adults":1}`)
	b.ReportAllocs()
	for b.Loop() {
		if !x.MatchJSON(data, nil) {
			b.Fatal("no match")
		}
	}
}

// expr200 is a 200-character expression with calls, strings and nesting.
var expr200 = `(position.speed > 60 && engine.ignition.status == true) || (device.name == "car*" && ` +
	`abs($can.engine.temperature - 90) < 15 && hour(timestamp)>6 && if(exists('din'), din & 0x4, 0)) || battery.level <= 20`

func BenchmarkCompile200(b *testing.B) {
	if n := len(expr200); n < 195 || n > 205 {
		b.Fatalf("expression is %d characters", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(expr200); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGlobHostile(b *testing.B) {
	s := strings.Repeat("a", 1024)
	p := strings.Repeat("*a", 100) + "b"
	b.ReportAllocs()
	for b.Loop() {
		if Glob(p, s) {
			b.Fatal("matched")
		}
	}
}
