package wialonips

import (
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

// Every name the table gives is in the protocol catalogue.
func TestKnownParamsCatalogued(t *testing.T) {
	for raw, d := range knownParams {
		if _, ok := protocol.LookupParam(d.name); !ok {
			t.Errorf("%s → %q is not in the protocol catalogue", raw, d.name)
		}
	}
	for _, p := range indexedParams {
		if _, ok := protocol.LookupParam(p.name + "3"); !ok {
			t.Errorf("%sN → %qN is not in the protocol catalogue", p.prefix, p.name)
		}
	}
}

func TestParamNames(t *testing.T) {
	s := (&Codec{}).NewSession(protocol.TCP)
	var r protocol.Result
	if err := s.Decode([]byte("#L#860000000000000;NA"), &r); err != nil {
		t.Fatal(err)
	}
	// HDOP and the ADC list are fields of #D#; a parameter of the same
	// meaning replaces them rather than repeating the name. gsm and
	// gsm_lvl are aliases: the later wins, once.
	line := "#D#231012;153959;5354.49260;N;02731.44990;E;0;0;300;7;1.1;0;0;5.5,6.6;NA;" +
		"pwr_ext:2:12.7,pwr_int:2:4.1,bat:1:85,gsm:1:3,gsm_lvl:1:4,odometer:2:1234.5,ign:1:0,ignition:1:1," +
		"temp:2:-3.5,temp2:2:21.25,temp0:2:1,temp065:2:2,temp99:2:3,hdop:2:0.9,adc2:2:7.7,fuel_level:1:40," +
		"rpm:1:900,mcc:1:250,mcc2:1:257,cell_id1:1:45542,Battery:2:4.03,can_fls:1:201,fuel:2:45.8"
	r.Reset()
	if err := s.Decode([]byte(line), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Messages) != 1 || string(r.Reply) != "#AD#1\r\n" {
		t.Fatalf("%d messages, reply %q", len(r.Messages), r.Reply)
	}
	m := &r.Messages[0]
	want := map[string]protocol.Value{
		"external.powersource.voltage": protocol.Float(12.7),
		"battery.voltage":              protocol.Float(4.1),
		"battery.level":                protocol.Int(85),
		"gsm.signal.level":             protocol.Int(4),
		"vehicle.mileage":              protocol.Float(1234.5),
		"engine.ignition.status":       protocol.Bool(true),
		"temperature#1":                protocol.Float(-3.5),
		"temperature#2":                protocol.Float(21.25),
		"custom.temp0":                 protocol.Float(1),
		"custom.temp065":               protocol.Float(2),
		"custom.temp99":                protocol.Float(3),
		"position.hdop":                protocol.Float(0.9),
		"ain#1":                        protocol.Float(5.5),
		"ain#2":                        protocol.Float(7.7),
		"fuel.level":                   protocol.Int(40),
		"engine.rpm":                   protocol.Int(900),
		"gsm.mcc":                      protocol.Int(250),
		"gsm.mcc#2":                    protocol.Int(257),
		"gsm.cellid#1":                 protocol.Int(45542),
		"custom.Battery":               protocol.Float(4.03),
		"custom.can_fls":               protocol.Int(201),
		"custom.fuel":                  protocol.Float(45.8),
	}
	for name, v := range want {
		if got, ok := m.Lookup(name); !ok || !got.Equal(v) {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, v)
		}
	}
	seen := map[string]bool{}
	for _, p := range m.Params() {
		if seen[p.Name] {
			t.Errorf("%s appears twice: %s", p.Name, m)
		}
		seen[p.Name] = true
	}
}
