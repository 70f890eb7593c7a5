package device

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/teltonika"
)

// Source: Teltonika wiki "SMS/GPRS command - getparam" and "SMS/GPRS
// command - setparam" (requests and responses tables).
func TestParamsAnswerAsDocumented(t *testing.T) {
	p := NewParams(map[string]string{"2001": "wap", "1000": "30", "13000": "fm.teltonika.lt"})
	for _, tc := range []struct{ cmd, answer string }{
		{"getparam 13000", "Param ID:13000 Value:fm.teltonika.lt"},
		{"getparam 2001;1000", "Param ID:2001 Value:wap;1000:30"},
		{"getparam 99999", "Param ID:99999 doesn’t exist"},
		{"getparam 99999999", "Invalid parameter id provided"},
		{"setparam 001:wap", "WARNING: Not supported Param ID or Value detected"},
		{"setparam 2001:internet", "New value 2001:internet"},
		{"getparam 2001", "Param ID:2001 Value:internet"},
	} {
		if got, ok := p.Answer(tc.cmd); !ok || got != tc.answer {
			t.Errorf("%q: %q, %v; want %q", tc.cmd, got, ok, tc.answer)
		}
	}
	if _, ok := p.Answer("getinfo"); ok {
		t.Error("getinfo answered as a parameter command")
	}
	if v, _ := p.Get("2001"); v != "internet" {
		t.Errorf("2001 = %q", v)
	}
}

// The server's side (protocol/teltonika) and the device's side (Params)
// understand each other over Codec 12.
func TestParamsOverCodec12(t *testing.T) {
	codec := &teltonika.Codec{}
	server := codec.NewSession(protocol.TCP)
	p := NewParams(map[string]string{"2001": "wap"})
	for _, step := range []struct {
		write bool
		value string
		want  string
	}{{false, "", "wap"}, {true, "m2m.example", "m2m.example"}, {false, "", "m2m.example"}} {
		cmd, _ := codec.ReadSetting("2001")
		if step.write {
			cmd, _ = codec.WriteSetting("2001", step.value)
		}
		wire, err := server.(protocol.CommandEncoder).EncodeCommand(nil, cmd)
		if err != nil {
			t.Fatal(err)
		}
		// Split, at every cut of the stream, as a device reads it.
		for cut := range len(wire) {
			if adv, _, err := SplitTeltonikaCommand(wire[:cut]); adv != 0 || err != nil {
				t.Fatalf("a command cut at %d: %d, %v", cut, adv, err)
			}
		}
		adv, text, err := SplitTeltonikaCommand(append(wire, 0, 0, 0, 1))
		if err != nil || adv != len(wire) || text != cmd.Text {
			t.Fatalf("split: %d %q %v", adv, text, err)
		}
		answer, _ := p.Answer(text)
		var r protocol.Result
		if err := server.Decode(AppendTeltonikaAnswer(nil, answer), &r); err != nil {
			t.Fatal(err)
		}
		v, err := codec.SettingValue("2001", r.Responses[0])
		if err != nil || v != step.want {
			t.Fatalf("%q: %q, %v; want %q", cmd.Text, v, err, step.want)
		}
	}
	if IsTeltonikaCommand([]byte{0, 0, 0, 1}) || !IsTeltonikaCommand([]byte{0, 0, 0, 0}) {
		t.Fatal("IsTeltonikaCommand")
	}
}

func FuzzSplitTeltonikaCommand(f *testing.F) {
	codec := &teltonika.Codec{}
	wire, _ := codec.NewSession(protocol.TCP).(protocol.CommandEncoder).EncodeCommand(nil, protocol.Command{Text: "getparam 2001"})
	f.Add(wire)
	f.Add(AppendTeltonikaAnswer(nil, "Param ID:2001 Value:wap"))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		adv, text, err := SplitTeltonikaCommand(data)
		if err != nil {
			if !errors.Is(err, ErrNotCommand) {
				t.Fatal(err)
			}
			return
		}
		if adv > len(data) || adv < 0 || (adv == 0 && text != "") {
			t.Fatalf("advance %d of %d, %q", adv, len(data), text)
		}
		if adv > 0 && !bytes.Contains(data[:adv], []byte(text)) {
			t.Fatalf("text %q not in the packet", text)
		}
	})
}
