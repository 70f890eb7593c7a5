package channel

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHTTPChannel(t *testing.T) {
	k := newSink()
	h := &HTTP{Handler: k, ChannelID: 5, MaxBodySize: 4096, Logger: quietLogger()}
	ts := httptest.NewServer(h)
	defer ts.Close()

	// flespi's documented example, plus an ISO-8601 time, a numeric ident
	// and a message without a timestamp.
	code, body := postJSON(t, ts.URL, `[{"ident":"device-ident","timestamp":1702366832.965264,"message.type":"example"},
		{"ident":"d2","timestamp":"2023-12-12T07:40:32.5Z","custom.x":[1,2]},
		{"ident":356307042441013,"position.speed":12}]`)
	if code != 200 || !strings.Contains(body, `"accepted":3`) {
		t.Fatalf("%d %s", code, body)
	}
	msgs := k.messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	if ts, _ := msgs[0].Float("timestamp"); ts != 1702366832.965264 {
		t.Errorf("timestamp %v", ts)
	}
	if v, _ := msgs[0].Str("message.type"); v != "example" {
		t.Errorf("unknown parameter lost: %s", &msgs[0])
	}
	if ts, _ := msgs[1].Float("timestamp"); ts != 1702366832.5 {
		t.Errorf("ISO timestamp %v", ts)
	}
	if raw, _ := msgs[1].Lookup("custom.x"); raw.String() != "[1,2]" {
		t.Errorf("custom.x %v", raw)
	}
	if msgs[2].Ident() != "356307042441013" || !msgs[2].Has("timestamp") {
		t.Errorf("message 2 %s", &msgs[2])
	}
	for i := range msgs {
		for _, p := range []string{"server.timestamp", "channel.id", "peer"} {
			if !msgs[i].Has(p) {
				t.Errorf("message %d lacks %s", i, p)
			}
		}
	}

	// One object is a batch of one.
	if code, body := postJSON(t, ts.URL, `{"ident":"one"}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}

	for _, tc := range []struct{ body, contains string }{
		{`[{"timestamp":1}]`, `\"ident\" is required`},
		{`[{"ident":"ok"},{"ident":"a/b"}]`, "message 1"},
		{`{"ident":"x","timestamp":"yesterday"}`, "neither Unix seconds nor ISO-8601"},
		{`{"ident":"x","timestamp":-5}`, "not a Unix time"},
		{`[1,2]`, "bad message"},
		{`not json`, "bad message"},
		{`[]`, "no messages"},
		{`{"ident":true}`, "want a string or a whole number"},
	} {
		code, body := postJSON(t, ts.URL, tc.body)
		if code != 400 || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want 400 containing %q", tc.body, code, body, tc.contains)
		}
	}
	if n := len(k.messages()); n != 4 {
		t.Fatalf("bad requests stored messages: %d", n)
	}

	big := `[` + strings.Repeat(`{"ident":"x"},`, 400) + `{"ident":"x"}]`
	if code, _ := postJSON(t, ts.URL, big); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d", code)
	}
	resp, _ := http.Get(ts.URL)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %d", resp.StatusCode)
	}

	k.setErr(errors.New("store down"))
	if code, body := postJSON(t, ts.URL, `{"ident":"x"}`); code != http.StatusServiceUnavailable {
		t.Fatalf("handler error: %d %s", code, body)
	}
	if st := h.Stats(); st.MessagesAcked != 4 || st.HandlerErrors != 1 || st.Rejected != 10 {
		t.Fatalf("stats %+v", st)
	}
}

// queryDecoder reads id, lat and lon from the query string: the shape of
// the OsmAnd protocol, here only to show the extension point works.
type queryDecoder struct{}

func (queryDecoder) DecodeRequest(r *http.Request, _ []byte) ([]protocol.Message, error) {
	q := r.URL.Query()
	var m protocol.Message
	m.SetString("ident", q.Get("id"))
	for _, p := range []string{"lat", "lon"} {
		f, err := strconv.ParseFloat(q.Get(p), 64)
		if err != nil {
			return nil, protocol.ErrMalformed
		}
		m.SetFloat("position."+map[string]string{"lat": "latitude", "lon": "longitude"}[p], f)
	}
	return []protocol.Message{m}, nil
}

func TestHTTPDecoderExtensionPoint(t *testing.T) {
	var got []protocol.Message
	h := &HTTP{Decoder: queryDecoder{}, Logger: quietLogger(), Handler: HandlerFunc(func(_ context.Context, c *Conn, msgs []protocol.Message) error {
		if c.Ident() != "42" || c.Network() != "http" {
			t.Errorf("conn %q %q", c.Ident(), c.Network())
		}
		got = append(got, msgs[0].Clone())
		return nil
	})}
	ts := httptest.NewServer(h)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/?" + url.Values{"id": {"42"}, "lat": {"1.5"}, "lon": {"2.5"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(got) != 1 || !got[0].Has("timestamp") {
		t.Fatalf("%d %v", resp.StatusCode, got)
	}
	resp, _ = http.Get(ts.URL + "/?id=42&lat=x&lon=1")
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad query: %d", resp.StatusCode)
	}
	resp, _ = http.Get(ts.URL + "/?lat=1&lon=1")
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("no ident: %d", resp.StatusCode)
	}
}

func TestHTTPMessagesPath(t *testing.T) {
	k := newSink()
	ts := httptest.NewServer(&HTTP{Handler: k, MessagesPath: "payload.items", Logger: quietLogger()})
	defer ts.Close()
	if code, body := postJSON(t, ts.URL, `{"payload":{"items":[{"ident":"a"},{"ident":"b"}]},"meta":1}`); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	if n := len(k.messages()); n != 2 {
		t.Fatalf("%d messages", n)
	}
	if code, body := postJSON(t, ts.URL, `{"payload":{}}`); code != 400 || !strings.Contains(body, "nothing at") {
		t.Fatalf("%d %s", code, body)
	}
	if code, _ := postJSON(t, ts.URL, `{"payload":`); code != 400 {
		t.Fatalf("truncated body: %d", code)
	}
}
