package deviceapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
)

var now = time.Unix(1700000000, 250_000_000)

func TestParseTelemetry(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     string // messages as JSON, "" for an error
	}{
		{"object", `{"a":1,"b":"x"}`, `[{"timestamp":1700000000.25,"a":1,"b":"x"}]`},
		{"empty object", `{}`, `[]`},
		{"empty array", `[]`, `[]`},
		{"nulls dropped", `{"a":null,"b":2}`, `[{"timestamp":1700000000.25,"b":2}]`},
		{"reserved keys dropped", `{"ident":"spoof","timestamp":1,"device.id":9,"channel.id":3,"v":1}`, `[{"timestamp":1700000000.25,"v":1}]`},
		{"repeated key keeps the last value", `{"a":1,"a":2}`, `[{"timestamp":1700000000.25,"a":2}]`},
		{"ts as a string", `{"ts":"1451649600512","values":{"a":1}}`, `[{"timestamp":1451649600.512,"a":1}]`},
		{"ts with values and more", `{"ts":1451649600000,"values":{"a":1},"x":5}`, `[{"timestamp":1451649600,"a":1}]`},
		{"ts alone is a value", `{"ts":5,"a":1}`, `[{"timestamp":1700000000.25,"ts":5,"a":1}]`},
		{"same ts merged", `[{"ts":1000,"values":{"a":1}},{"ts":1000,"values":{"b":2}}]`, `[{"timestamp":1,"a":1,"b":2}]`},
		{"mixed", `[{"a":1},{"ts":2000,"values":{"b":2}},{"c":3}]`, `[{"timestamp":1700000000.25,"a":1,"c":3},{"timestamp":2,"b":2}]`},
		{"huge integer stays exact", `{"u":18446744073709551615,"i":-9223372036854775808}`, `[{"timestamp":1700000000.25,"u":18446744073709551615,"i":-9223372036854775808}]`},
		{"beyond 64 bits is a float", `{"f":184467440737095516150}`, `[{"timestamp":1700000000.25,"f":184467440737095500000}]`},
		{"escaped key", `{"t\u00e9mp":1}`, `[{"timestamp":1700000000.25,"témp":1}]`},
		{"not JSON", `{"a":`, ""},
		{"scalar", `"a"`, ""},
		{"array of arrays", `[[{"a":1}]]`, ""},
		{"values array", `{"ts":1,"values":[]}`, ""},
		{"negative ts", `{"ts":-1,"values":{"a":1}}`, ""},
		{"ts object", `{"ts":{},"values":{"a":1}}`, ""},
		{"ts text", `{"ts":"soon","values":{"a":1}}`, ""},
		{"empty key", `{"":1}`, ""},
		{"control character in key", `{"a\nb":1}`, ""},
		{"too deep", strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 70), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			msgs, err := ParseTelemetry([]byte(c.in), now)
			if c.want == "" {
				if err == nil || !errors.Is(err, ErrBadPayload) {
					t.Fatalf("got %v, %v; want an error wrapping ErrBadPayload", msgs, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(protocol.MarshalMessages(msgs)); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

// Many distinct timestamps in one payload stay linear (a map takes over
// from the scan).
func TestParseTelemetryManyTimestamps(t *testing.T) {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < 20000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"ts":%d,"values":{"v":%d}},{"ts":%d,"values":{"w":%d}}`, 1000+i, i, 1000+i, i)
	}
	b.WriteByte(']')
	start := time.Now()
	msgs, err := ParseTelemetry([]byte(b.String()), now)
	if err != nil || len(msgs) != 20000 {
		t.Fatalf("%d messages, %v", len(msgs), err)
	}
	if v, _ := msgs[19999].Int("w"); v != 19999 {
		t.Fatalf("last message %s", msgs[19999].String())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestParseRequests(t *testing.T) {
	r, err := ParseAttributeRequest([]byte(`{"clientKeys":" a, b ,","sharedKeys":["c"]}`))
	if err != nil || strings.Join(r.ClientKeys, "|") != "a|b" || strings.Join(r.SharedKeys, "|") != "c" {
		t.Fatalf("attribute request %+v %v", r, err)
	}
	if r, err := ParseAttributeRequest(nil); err != nil || r.ClientKeys != nil || r.SharedKeys != nil {
		t.Fatalf("empty attribute request %+v %v", r, err)
	}
	for _, bad := range []string{`[]`, `{"clientKeys":5}`, `{"sharedKeys":[1]}`, `x`} {
		if _, err := ParseAttributeRequest([]byte(bad)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("attribute request %s: %v", bad, err)
		}
	}
	rpc, err := ParseRPCRequest([]byte(`{"method":"getTime","params":{"tz":"UTC"}}`))
	if err != nil || rpc.Method != "getTime" || string(rpc.Params) != `{"tz":"UTC"}` {
		t.Fatalf("rpc %+v %v", rpc, err)
	}
	for _, bad := range []string{`{}`, `{"method":1}`, `{"method":""}`, `[]`, ``} {
		if _, err := ParseRPCRequest([]byte(bad)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("rpc %s: %v", bad, err)
		}
	}
	c, err := ParseClaimRequest([]byte(`{"secretKey":123,"durationMs":1500}`))
	if err != nil || c.SecretKey != "123" || c.Duration != 1500*time.Millisecond {
		t.Fatalf("claim %+v %v", c, err)
	}
	for _, bad := range []string{`{"durationMs":-1}`, `{"durationMs":"1"}`, `{"secretKey":{}}`, `1`} {
		if _, err := ParseClaimRequest([]byte(bad)); !errors.Is(err, ErrBadPayload) {
			t.Errorf("claim %s: %v", bad, err)
		}
	}
	p, err := ParseProvisionRequest([]byte(`{"deviceName":"d","provisionDeviceKey":"k","provisionDeviceSecret":"s",` +
		`"credentialsType":"MQTT_BASIC","clientId":"c","username":"u","password":"p","gateway":true}`))
	if err != nil || p.DeviceName != "d" || p.Key != "k" || p.Secret != "s" || p.CredentialsType != CredentialsMQTTBasic ||
		p.ClientID != "c" || p.Username != "u" || p.Password != "p" || !p.Gateway {
		t.Fatalf("provision %+v %v", p, err)
	}
	if _, err := ParseProvisionRequest([]byte(`{"deviceName":"d","provisionDeviceKey":"k"}`)); !errors.Is(err, errMissingField) {
		t.Fatalf("provision without secret: %v", err)
	}
}

func TestProvisionReply(t *testing.T) {
	for _, c := range []struct {
		r    ProvisionResult
		want string
	}{
		{ProvisionResult{Status: ProvisionSuccess, CredentialsType: CredentialsAccessToken, Token: "t"},
			`{"credentialsValue":"t","credentialsType":"ACCESS_TOKEN","status":"SUCCESS"}`},
		{ProvisionResult{Status: ProvisionSuccess, CredentialsType: CredentialsMQTTBasic, ClientID: "c", Username: "u", Password: "p"},
			`{"credentialsValue":{"clientId":"c","userName":"u","password":"p"},"credentialsType":"MQTT_BASIC","status":"SUCCESS"}`},
		{ProvisionResult{Status: ProvisionFailure}, `{"errorMsg":"Failed to provision device!","status":"FAILURE"}`},
	} {
		if got := string(provisionReply(c.r)); got != c.want || !json.Valid([]byte(got)) {
			t.Errorf("got %s, want %s", got, c.want)
		}
	}
}

func TestTopicParsers(t *testing.T) {
	for _, c := range []struct {
		topic     string
		kind      PackageKind
		id        string
		chunk     int
		ok, valid bool
	}{
		{"v2/fw/request/12/chunk/3", Firmware, "12", 3, true, true},
		{"v2/sw/request/1/chunk/0", Software, "1", 0, true, true},
		{"v2/fw/request/x/chunk/3", 0, "", 0, true, false},
		{"v2/fw/request/1/chunk/", 0, "", 0, true, false},
		{"v2/fw/request/1/chunk/99999999999", 0, "", 0, true, false},
		{"v2/fw/request/1", 0, "", 0, true, false},
		{"v2/xw/request/1/chunk/1", 0, "", 0, false, false},
		{"v2/t", 0, "", 0, false, false},
	} {
		kind, id, chunk, ok, valid := otaRequest(c.topic)
		if ok != c.ok || valid != c.valid || valid && (kind != c.kind || id != c.id || chunk != c.chunk) {
			t.Errorf("%s: %v %q %d %v %v", c.topic, kind, id, chunk, ok, valid)
		}
	}
	for in, want := range map[string]bool{"0": true, "2147483647": true, "2147483648": false, "-1": false, "+1": false, "": false, "1a": false} {
		if _, ok := parseRequestID(in); ok != want {
			t.Errorf("parseRequestID(%q) = %v", in, ok)
		}
	}
	if rt, id, ok := matchRequest("v2/a/req/j/5", attrRequestTopics); !ok || id != "5" || rt.reply != TopicAttrReplyShortJ {
		t.Errorf("short JSON form: %+v %q", rt, id)
	}
}

func TestMemoryCredentialsRules(t *testing.T) {
	var m MemoryCredentials
	ctx := context.Background()
	m.SetToken("tok", Device{Ident: "by-token"})
	m.SetBasic("cid", "user", []byte("pw"), Device{Ident: "both"})
	m.SetBasic("solo", "", nil, Device{Ident: "client-only"})
	m.SetBasic("", "u2", []byte("pw2"), Device{Ident: "user-only"})
	for _, c := range []struct {
		c    Credential
		want string
	}{
		{Credential{Username: "tok", Password: []byte("ignored")}, "by-token"},
		{Credential{ClientID: "cid", Username: "user", Password: []byte("pw")}, "both"},
		{Credential{ClientID: "cid", Username: "user", Password: []byte("bad")}, ""},
		{Credential{ClientID: "solo"}, "client-only"},
		{Credential{ClientID: "x", Username: "u2", Password: []byte("pw2")}, "user-only"},
		{Credential{ClientID: "x", Username: "u2"}, ""},
		{Credential{ClientID: "cid", Username: "tok"}, "by-token"},
	} {
		d, err := m.LookupDevice(ctx, c.c)
		if c.want == "" && !errors.Is(err, ErrUnknownDevice) || c.want != "" && (err != nil || d.Ident != c.want) {
			t.Errorf("%+v: %+v %v", c.c, d, err)
		}
	}
	m.Delete("by-token")
	if _, err := m.LookupDevice(ctx, Credential{Username: "tok"}); !errors.Is(err, ErrUnknownDevice) {
		t.Error("deleted token still known")
	}
	for _, bad := range []string{"", "a/b", "a+", "#", "x\n", strings.Repeat("x", 300)} {
		if m.SetToken("t", Device{Ident: bad}) == nil {
			t.Errorf("ident %q accepted", bad)
		}
	}
	if err := m.SetCertificate("AB:CD", Device{Ident: "x"}); err == nil {
		t.Error("short fingerprint accepted")
	}
}

// interceptEnv is a session of a gateway device on an embedded broker with
// no listener: for fuzzing the whole dispatch without sockets.
func interceptEnv(tb testing.TB, h channel.Handler) (*session, func()) {
	srv := embedded.New(&embedded.Config{Logger: slog.New(slog.DiscardHandler)})
	api := &API{Broker: srv, Handler: h, Logger: slog.New(slog.DiscardHandler), MaxChunkSize: 1024}
	api.init()
	api.AssignPackage(context.Background(), "gw", Firmware, NewPackage("fw", "1", firmware(3000)))
	tok := api.deviceToken(Device{Ident: "gw", Gateway: true}, embedded.ConnectInfo{ProtocolVersion: 5})
	return tok.Intercept.(*session), func() { srv.Close() }
}

func TestInterceptWithoutSockets(t *testing.T) {
	s, stop := interceptEnv(t, newCollector())
	defer stop()
	ctx := context.Background()
	v := s.InterceptPublish(ctx, nil, broker.Message{Topic: TopicTelemetry, Payload: []byte(`{"a":1}`), QoS: 1})
	if !v.Handled || v.Code != 0 || v.NoAck {
		t.Fatalf("telemetry: %+v", v)
	}
	m := s.api.Handler.(*collector).next(t)
	wantValue(t, m, "ident", protocol.String("gw"))
}
