package deviceapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/internal/mqtt311"
	"github.com/gnssgate/gnssgate/internal/testcert"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
	"github.com/gnssgate/gnssgate/protocol"
)

func refusedCode(t *testing.T, err error) byte {
	t.Helper()
	var re *mqtt311.RefusedError
	if !errors.As(err, &re) {
		t.Fatalf("want a refused CONNECT, got %v", err)
	}
	return re.Code
}

// Wrong credentials are refused at CONNECT with ThingsBoard's codes
// (MqttTransportHandler.onValidateDeviceResponse and ReturnCodeResolver).
func TestWrongCredentialsRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	for _, c := range []struct {
		name   string
		o      connOpts
		v4, v5 byte
	}{
		{"wrong token", connOpts{clientID: "c", username: "WRONG"}, 5, 0x86},
		{"wrong user and password", connOpts{clientID: "c", username: "u", password: []byte("p")}, 5, 0x86},
		{"unknown client ID alone", connOpts{clientID: "lonely"}, 2, 0x85},
		{"nothing at all", connOpts{}, 5, 0x87},
	} {
		for _, v := range []byte{4, 5} {
			_, err := dialDevice(t, v, e.addr, c.o)
			want := map[byte]byte{4: c.v4, 5: c.v5}[v]
			if got := refusedCode(t, err); got != want {
				t.Errorf("%s, MQTT %d: code 0x%02x, want 0x%02x", c.name, v, got, want)
			}
		}
	}
	if s := e.api.Stats(); s.Refused != 8 {
		t.Errorf("Refused = %d, want 8", s.Refused)
	}
}

// A device sees its own topics only: subscriptions outside the device
// API's downlink topics are refused, and what is published for one device
// never reaches another.
func TestDeviceIsolation(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "A", Device{Ident: "dev-a"})
	e.addToken(t, "B", Device{Ident: "dev-b"})
	ctx := context.Background()
	versions(t, func(t *testing.T, v byte) {
		a := mustDial(t, v, e.addr, connOpts{username: "A"})
		b := mustDial(t, v, e.addr, connOpts{username: "B"})
		for _, f := range []string{"#", "+/#", "v1/devices/+/telemetry", "v1/devices/me/#", "$devices/dev-b/#",
			"v1/devices/me/telemetry", "$filter/cid=1/#", "v1/gateway/rpc"} {
			if codes := a.sub(t, f); codes[0] < 0x80 {
				t.Errorf("device subscribed to %q: %v", f, codes)
			}
		}
		a.sub(t, TopicRPCRequest+"+", TopicAttributes)
		b.sub(t, TopicRPCRequest+"+", TopicAttributes)
		go e.api.Call(ctx, "dev-b", "forB", nil)
		if m := b.next(t); !strings.Contains(m.payload, "forB") {
			t.Fatalf("B got %s", m.payload)
		}
		attrs, _ := ParseAttributes([]byte(`{"x":1}`))
		e.api.SetShared(ctx, "dev-b", attrs)
		b.next(t)
		a.none(t)
		// A's publishes never reach B, nor an in-process subscriber of
		// the namespaces: they are served, not routed.
		seen := inproc(t, e.srv, "$devices/+/v1/devices/me/telemetry,attributes")
		a.pub(TopicTelemetry, `{"y":1}`, 1)
		a.pub(TopicAttributes, `{"y":2}`, 1)
		e.handler.next(t)
		b.none(t)
		select {
		case m := <-seen:
			t.Fatalf("device publish routed: %s", m.Topic)
		case <-time.After(100 * time.Millisecond):
		}
	})
}

// Bad input gets ThingsBoard's answer and never affects other devices.
func TestBadInput(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	e.addToken(t, "GOOD", Device{Ident: "dev-good"})
	cases := []struct {
		name, topic, payload string
		v5                   byte // PUBACK reason for MQTT 5
		v4Closed             bool // MQTT 3.1.1: connection closed (else plain PUBACK)
	}{
		{"not JSON", TopicTelemetry, `{"temperature":`, codePayloadInvalid, true},
		{"scalar", TopicTelemetry, `42`, codePayloadInvalid, true},
		{"array of scalars", TopicTelemetry, `[1,2]`, codePayloadInvalid, true},
		{"values not an object", TopicTelemetry, `{"ts":1,"values":[1]}`, codePayloadInvalid, true},
		{"bad ts", TopicTelemetry, `{"ts":"yesterday","values":{"a":1}}`, codePayloadInvalid, true},
		{"deep nesting", TopicTelemetry, `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, codePayloadInvalid, true},
		{"attributes array", TopicAttributes, `[{"a":1}]`, codePayloadInvalid, true},
		{"unknown topic", "v1/devices/me/nothing", `{}`, codeTopicInvalid, false},
		{"unknown top level", "some/topic", `{}`, codeTopicInvalid, false},
		{"protobuf form", "v2/t/p", `{}`, codeTopicInvalid, false},
		{"request id not a number", TopicAttributesRequest + "abc", `{}`, codePayloadInvalid, true},
		{"RPC reply id not a number", TopicRPCResponse + "1x", `{}`, codePayloadInvalid, true},
		{"RPC request without method", TopicRPCRequest + "1", `{"params":{}}`, codePayloadInvalid, true},
		{"OTA chunk not a number", "v2/fw/request/1/chunk/x", ``, codePayloadInvalid, true},
		{"OTA chunk size not a number", "v2/fw/request/1/chunk/0", `lots`, codePayloadInvalid, true},
		{"claim not an object", TopicClaim, `"key"`, codePayloadInvalid, true},
	}
	versions(t, func(t *testing.T, v byte) {
		good := mustDial(t, v, e.addr, connOpts{username: "GOOD"})
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
				code, err := d.pub(c.topic, c.payload, 1)
				switch {
				case v == 5 && (err != nil || code != c.v5):
					t.Errorf("PUBACK 0x%02x (%v), want 0x%02x", code, err, c.v5)
				case v == 4 && c.v4Closed && !d.closed():
					t.Error("connection not closed")
				case v == 4 && !c.v4Closed && err != nil:
					t.Errorf("no PUBACK: %v", err)
				}
				// The other device is unaffected.
				if code, err := good.pub(TopicTelemetry, `{"ok":1}`, 1); err != nil || code != 0 {
					t.Fatalf("other device: 0x%02x %v", code, err)
				}
				wantValue(t, e.handler.next(t), "ident", protocol.String("dev-good"))
			})
		}
	})
	// OTA chunk past the end: an empty chunk.
	if err := e.api.AssignPackage(context.Background(), "dev-1", Firmware, NewPackage("fw", "1", firmware(100))); err != nil {
		t.Fatal(err)
	}
	d := mustDial(t, 5, e.addr, connOpts{username: "T0KEN"})
	d.sub(t, "v2/fw/response/+/chunk/+")
	d.pub("v2/fw/request/3/chunk/99", "64", 1)
	if m := d.next(t); m.topic != "v2/fw/response/3/chunk/99" || m.payload != "" {
		t.Fatalf("past the end: %s %q", m.topic, m.payload)
	}
	if s := e.api.Stats(); s.Invalid == 0 || s.UnknownTopics == 0 {
		t.Errorf("refusals not counted: %+v", s)
	}
	// AckInvalid: ThingsBoard's "send PUBACK on validation failure".
	e2 := newEnv(t, func(a *API) { a.AckInvalid = true })
	e2.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	d4 := mustDial(t, 4, e2.addr, connOpts{username: "T0KEN"})
	if _, err := d4.pub(TopicTelemetry, `nope`, 1); err != nil {
		t.Fatalf("AckInvalid: %v", err)
	}
}

// The three ways a device authenticates (ThingsBoard Edge's device
// credentials), each over a real TLS handshake.
func TestCredentialsOverTLS(t *testing.T) {
	ca := testcert.NewCA(t)
	srvPair := ca.Server()
	devCert := ca.Client("dev-x509")
	strangerCert := ca.Client("stranger")
	serverTLS, err := tlsconf.Files{Cert: srvPair.CertFile, Key: srvPair.KeyFile}.Server()
	if err != nil {
		t.Fatal(err)
	}
	// Devices bring certificates the server identifies by fingerprint
	// (ThingsBoard accepts self-signed ones): request, do not verify.
	serverTLS.ClientAuth = tls.RequestClientCert

	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-token"})
	if err := e.creds.SetBasic("client-7", "user-7", []byte("pw-7"), Device{Ident: "dev-basic"}); err != nil {
		t.Fatal(err)
	}
	if err := e.creds.SetCertificate(devCert.Fingerprint, Device{Ident: "dev-x509"}); err != nil {
		t.Fatal(err)
	}
	addr := e.serveTLS(t, serverTLS)
	clientTLS := func(p *testcert.Pair) *tls.Config {
		c, err := tlsconf.Files{CA: ca.File}.Client()
		if err != nil {
			t.Fatal(err)
		}
		if p != nil {
			c.Certificates = []tls.Certificate{p.TLS}
		}
		return c
	}
	versions(t, func(t *testing.T, v byte) {
		for _, c := range []struct {
			name  string
			o     connOpts
			ident string
		}{
			{"access token", connOpts{clientID: "any", username: "T0KEN", tlsConfig: clientTLS(nil)}, "dev-token"},
			{"basic", connOpts{clientID: "client-7", username: "user-7", password: []byte("pw-7"), tlsConfig: clientTLS(nil)}, "dev-basic"},
			{"X.509", connOpts{clientID: "whatever", tlsConfig: clientTLS(&devCert)}, "dev-x509"},
		} {
			t.Run(c.name, func(t *testing.T) {
				d := mustDial(t, v, addr, c.o)
				if code, err := d.pub(TopicTelemetry, `{"via":"tls"}`, 1); err != nil || code != 0 {
					t.Fatalf("publish: 0x%02x %v", code, err)
				}
				wantValue(t, e.handler.next(t), "ident", protocol.String(c.ident))
			})
		}
		for _, c := range []struct {
			name   string
			o      connOpts
			v4, v5 byte
		}{
			{"basic, wrong password", connOpts{clientID: "client-7", username: "user-7", password: []byte("nope"), tlsConfig: clientTLS(nil)}, 5, 0x86},
			{"basic, wrong client ID", connOpts{clientID: "client-8", username: "user-7", password: []byte("pw-7"), tlsConfig: clientTLS(nil)}, 5, 0x86},
			{"unknown certificate", connOpts{clientID: "c", tlsConfig: clientTLS(&strangerCert)}, 5, 0x87},
		} {
			_, err := dialDevice(t, v, addr, c.o)
			if got, want := refusedCode(t, err), map[byte]byte{4: c.v4, 5: c.v5}[v]; got != want {
				t.Errorf("%s: code 0x%02x, want 0x%02x", c.name, got, want)
			}
		}
	})
}

// The embedding program's own clients pass through to its Authenticator;
// devices come first.
func TestAuthenticatorChain(t *testing.T) {
	creds := &MemoryCredentials{}
	creds.SetToken("DEVICE", Device{Ident: "dev-1"})
	api := &API{Credentials: creds, Handler: newCollector()}
	var tokens embedded.TokenStore
	tokens.Set("flespi-token", &embedded.Token{Name: "app", Publish: []string{"#"}, Subscribe: []string{"#"}})
	auth := api.Authenticator(&tokens)
	ctx := context.Background()
	if tok, err := auth.Authenticate(ctx, embedded.ConnectInfo{Username: "flespi-token", ProtocolVersion: 5}); err != nil || tok.Name != "app" {
		t.Fatalf("next's client: %+v %v", tok, err)
	}
	tok, err := auth.Authenticate(ctx, embedded.ConnectInfo{Username: "DEVICE", ProtocolVersion: 4})
	if err != nil || tok.Namespace != "$devices/dev-1/" || tok.Intercept == nil {
		t.Fatalf("device: %+v %v", tok, err)
	}
	_, err = auth.Authenticate(ctx, embedded.ConnectInfo{Username: "neither", ProtocolVersion: 4})
	var re *embedded.RefuseError
	if !errors.As(err, &re) || re.Code != 0x87 {
		t.Fatalf("unknown: %v", err)
	}
	// A failing credentials store: "server unavailable".
	failing := &API{Credentials: credentialsFunc(func(context.Context, Credential) (Device, error) {
		return Device{}, errors.New("database down")
	})}
	_, err = failing.Authenticator(nil).Authenticate(ctx, embedded.ConnectInfo{Username: "x"})
	if !errors.As(err, &re) || re.Code != 0x88 {
		t.Fatalf("failing store: %v", err)
	}
}

type credentialsFunc func(context.Context, Credential) (Device, error)

func (f credentialsFunc) LookupDevice(ctx context.Context, c Credential) (Device, error) {
	return f(ctx, c)
}

// The embedding program publishes into a device's namespace like any
// in-process publisher; the device sees its own topic names.
func TestDeviceNamespaceFromInProcess(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	d := mustDial(t, 5, e.addr, connOpts{username: "T0KEN"})
	d.sub(t, TopicAttributes)
	err := e.srv.Publish(context.Background(), broker.Message{Topic: e.api.DeviceNamespace("dev-1") + TopicAttributes,
		Payload: []byte(`{"direct":true}`), QoS: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.next(t); m.topic != TopicAttributes || m.payload != `{"direct":true}` {
		t.Fatalf("got %s %s", m.topic, m.payload)
	}
	if got := fmt.Sprint(e.api.DeviceNamespace("x")); got != "$devices/x/" {
		t.Fatalf("namespace %q", got)
	}
}
