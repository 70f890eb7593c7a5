package channel

import (
	"errors"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

func TestJSONRulesTimestamps(t *testing.T) {
	now := time.Unix(1700000000, 250000000)
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{`{"ident":"a","timestamp":1702366832.965264}`, 1702366832.965264},
		{`{"ident":"a","timestamp":1702366832}`, 1702366832},
		{`{"ident":"a","timestamp":"1702366832.5"}`, 1702366832.5},
		{`{"ident":"a","timestamp":"2023-12-12T07:40:32Z"}`, 1702366832},
		{`{"ident":"a","timestamp":"2023-12-12T09:40:32+02:00"}`, 1702366832},
		{`{"ident":"a","timestamp":"2023-12-12T07:40:32.25"}`, 1702366832.25},
		{`{"ident":"a","timestamp":"2023-12-12 07:40:32"}`, 1702366832},
		{`{"ident":"a"}`, 1700000000.25},
		{`{"ident":"a","timestamp":null}`, 1700000000.25},
	} {
		msgs, err := jsonRules{}.decode([]byte(tc.in), "", now)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got, _ := msgs[0].Float("timestamp"); got != tc.want {
			t.Errorf("%s: timestamp %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "a/b", "a+b", "#", "a\x00b", string(make([]byte, MaxIdentLen+1))} {
		if ValidIdent(in) == nil {
			t.Errorf("ValidIdent(%q) accepted", in)
		}
	}
}

// FuzzJSONRules feeds arbitrary payloads to the HTTP/MQTT JSON rules: no
// panic; every error wraps ErrBadMessage; every accepted message has a
// valid ident and a numeric timestamp and survives a JSON round trip.
func FuzzJSONRules(f *testing.F) {
	for _, s := range []string{
		`[{"ident":"device-ident","timestamp":1702366832.965264,"message.type":"example"}]`,
		`{"ident":356307042441013,"timestamp":"2023-12-12T07:40:32.5Z","a":[1,{"b":null}]}`,
		`[{"imei":"x"},{"ident":"y","timestamp":"1e3"}]`,
		`{"ident":"a/b"}`, `[]`, `{}`, `[1]`, `{"ident":true}`, `{"ident":"z","timestamp":-1}`,
	} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "topic-ident")
	}
	now := time.Unix(1700000000, 0)
	f.Fuzz(func(t *testing.T, data []byte, forced string) {
		msgs, err := jsonRules{maxMsgs: 100}.decode(data, forced, now)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error %v does not wrap ErrBadMessage", err)
			}
			return
		}
		for i := range msgs {
			m := &msgs[i]
			if err := ValidIdent(m.Ident()); err != nil {
				t.Fatalf("accepted %s: %v", m, err)
			}
			if forced != "" && m.Ident() != forced {
				t.Fatalf("ident %q, forced %q", m.Ident(), forced)
			}
			if _, ok := m.Float("timestamp"); !ok {
				t.Fatalf("accepted %s without a numeric timestamp", m)
			}
			enc := m.AppendJSON(nil)
			var back protocol.Message
			if err := back.UnmarshalJSON(enc); err != nil || !back.Equal(m) {
				t.Fatalf("round trip of %s: %v", enc, err)
			}
		}
	})
}
