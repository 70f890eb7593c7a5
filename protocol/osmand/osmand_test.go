package osmand

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/protocol/protocoltest"
)

func TestQueryForms(t *testing.T) {
	c := &Codec{}
	for _, tc := range []struct {
		query string
		want  map[string]string // name → JSON value
	}{
		{"id=1&timestamp=1609459200000", map[string]string{"timestamp": "1609459200"}},
		{"id=1&timestamp=1609459200.25", map[string]string{"timestamp": "1609459200.25"}},
		{"id=1&timestamp=2014-06-04+09%3A10%3A11", map[string]string{"timestamp": "1401873011"}},
		{"id=1&timestamp=2021-01-01T01:00:00%2B01:00", map[string]string{"timestamp": "1609459200"}},
		{"id=1&lat=1&lon=2&valid=false", map[string]string{"position.valid": "false"}},
		{"id=a%20b&name=caf%C3%A9&n=-7&f=2.5&x=0x10&b=true", map[string]string{"ident": `"a b"`, "custom.name": `"café"`,
			"custom.n": "-7", "custom.f": "2.5", "custom.x": `"0x10"`, "custom.b": "true"}},
		{"id=1&speed=-1&bearing=-1", map[string]string{}},
		{"deviceid=9&&id=8", map[string]string{"ident": `"8"`}},
	} {
		var r protocol.Result
		if err := c.DecodeQuery(tc.query, &r); err != nil {
			t.Errorf("%s: %v", tc.query, err)
			continue
		}
		m := &r.Messages[0]
		for name, want := range tc.want {
			if v, ok := m.Lookup(name); !ok || v.String() != want {
				t.Errorf("%s: %s = %v, want %s (%s)", tc.query, name, v, want, m.String())
			}
		}
		if strings.Contains(tc.query, "speed=-1") && (m.Has("position.speed") || m.Has("position.direction")) {
			t.Errorf("%s: unknown speed or bearing kept: %s", tc.query, m.String())
		}
	}
	for _, bad := range []string{"lat=1&lon=2", "id=1&lat=100&lon=2", "id=1&timestamp=yesterday", "id=a%zz", "id=1&cell=1,2", "id=1&wifi=zz,1", "id=1&charge=maybe", "id=a/b"} {
		var r protocol.Result
		err := c.DecodeQuery(bad, &r)
		if !errors.Is(err, protocol.ErrMalformed) || len(r.Messages) != 0 {
			t.Errorf("%q: %v, %d messages", bad, err, len(r.Messages))
		}
	}
}

func TestJSONBatchAndErrors(t *testing.T) {
	c := &Codec{}
	batch := `{"device_id":"7","location":[{"timestamp":"2025-06-15T13:45:12Z","coords":{"latitude":1,"longitude":2,"speed":10}},{"timestamp":"2025-06-15T13:45:22Z","coords":{"latitude":1.1,"longitude":2.1,"speed":-1},"alarm":"sos","extras":{"o":{"a": 1}}}]}`
	var r protocol.Result
	if err := c.DecodeJSON([]byte(batch), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Messages) != 2 || r.Ident != "7" {
		t.Fatalf("%d messages, ident %q", len(r.Messages), r.Ident)
	}
	if v, _ := r.Messages[0].Float("position.speed"); v != 36 {
		t.Errorf("speed %v km/h, want 36 (10 m/s)", v)
	}
	m := &r.Messages[1]
	if m.Has("position.speed") || !m.Has("sos.event.trigger") {
		t.Errorf("second location %s", m.String())
	}
	if v, _ := m.Lookup("custom.o"); v.String() != `{"a":1}` {
		t.Errorf("object extra %s", v)
	}
	for _, bad := range []string{``, `{`, `{"location":{}}`, `{"device_id":"7"}`, `{"device_id":"7","location":[1]}`,
		`{"device_id":"7","location":{"coords":{"latitude":"x","longitude":1}}}`, `{"device_id":"a+b","location":{}}`} {
		var r protocol.Result
		if err := c.DecodeJSON([]byte(bad), &r); !errors.Is(err, protocol.ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDecodeRequestForms(t *testing.T) {
	c := &Codec{MaxFrameSize: 100}
	get := &http.Request{Method: "GET", URL: &url.URL{RawQuery: "id=1&lat=2&lon=3"}, Header: http.Header{}}
	msgs, err := c.DecodeRequest(get, nil)
	if err != nil || len(msgs) != 1 || msgs[0].Ident() != "1" {
		t.Fatalf("%v %v", msgs, err)
	}
	post := &http.Request{Method: "POST", URL: &url.URL{}, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}
	if _, err := c.DecodeRequest(post, []byte(`{"device_id":"1","location":{"coords":{"latitude":1,"longitude":2}}}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DecodeRequest(post, bytes.Repeat([]byte(" "), 101)); !errors.Is(err, protocol.ErrFrameTooLarge) {
		t.Errorf("oversized body: %v", err)
	}
	if _, err := c.ReadRequest(strings.NewReader("not http")); protocoltest.CheckError(err) != nil || err == nil {
		t.Errorf("garbage: %v", err)
	}
	if _, err := c.ReadRequest(strings.NewReader("POST / HTTP/1.1\r\nContent-Length: 50\r\n\r\nid=1")); !errors.Is(err, protocol.ErrTruncated) {
		t.Errorf("short body: %v", err)
	}
}

// FuzzReadRequest: no panic, errors are clean sentinel errors, messages
// survive a JSON round trip.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("GET /?id=1&lat=2&lon=3&timestamp=1&cell=1,2,3,4&wifi=00-11-22-33-44-55,-1 HTTP/1.1\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"device_id\":\"1\",\"location\":{\"coords\":{\"latitude\":1,\"longitude\":2}}}"))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 8\r\n\r\nid=1&x=%"))
	paths, _ := filepath.Glob("testdata/*.txtar")
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		if req, ok := protocoltest.ParseArchive(data).Get("request.http"); ok {
			f.Add(req)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range []*Codec{{}, {Lenient: true}} {
			msgs, err := c.ReadRequest(bytes.NewReader(data))
			if err := protocoltest.CheckError(err); err != nil {
				t.Fatal(err)
			}
			for i := range msgs {
				enc := msgs[i].AppendJSON(nil)
				var back protocol.Message
				if err := back.UnmarshalJSON(enc); err != nil {
					t.Fatalf("%s does not read back: %v", enc, err)
				}
				if again := back.AppendJSON(nil); !bytes.Equal(again, enc) {
					t.Fatalf("round trip changed %s to %s", enc, again)
				}
			}
		}
	})
}
