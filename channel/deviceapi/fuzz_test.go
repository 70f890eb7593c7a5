package deviceapi

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
)

// Seeds are the payloads of ThingsBoard's MQTT API documentation
// (thingsboard.io/docs/reference/mqtt-api, gateway-mqtt-api) and the bad
// inputs of TestBadInput; testdata/fuzz holds the same as corpus files.

// FuzzParseTelemetry: no panic; errors wrap ErrBadPayload; every message
// has a numeric timestamp, no reserved key besides it, and survives a
// JSON round trip.
func FuzzParseTelemetry(f *testing.F) {
	for _, s := range []string{
		`{"temperature":42,"humidity":73}`, `[{"key1":"value1"},{"key2":true}]`,
		`{"ts":1451649600512,"values":{"key1":"value1","key2":"value2"}}`,
		`[{"ts":1451649600512,"values":{"a":1}},{"ts":1451649601512,"values":{"a":2}}]`,
		`{"stringKey":"value1","booleanKey":true,"doubleKey":42.0,"longKey":73,"jsonKey":{"someNumber":42,"someArray":[1,2,3],"someNestedObject":{"key":"value"}}}`,
		`{"ts":"1","values":{}}`, `{"a":null}`, `[1]`, `{"ident":"x"}`, `{"ts":-1,"values":{"a":1}}`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, err := ParseTelemetry(data, now)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		for i := range msgs {
			m := &msgs[i]
			if _, ok := m.Float(protocol.ParamTimestamp); !ok {
				t.Fatalf("no timestamp in %s", m)
			}
			for _, p := range m.Params() {
				if p.Name != protocol.ParamTimestamp && reserved[p.Name] {
					t.Fatalf("reserved %q kept in %s", p.Name, m)
				}
			}
			var back protocol.Message
			if err := back.UnmarshalJSON(m.AppendJSON(nil)); err != nil || !back.Equal(m) {
				t.Fatalf("round trip of %s: %v", m, err)
			}
		}
	})
}

// FuzzParseAttributes: attributes re-encode to a JSON object that parses
// back to the same attributes.
func FuzzParseAttributes(f *testing.F) {
	for _, s := range []string{
		`{"attribute1":"value1","attribute2":true}`, `{"a":{"b":[1,2]},"c":null}`, `{"x":1,"x":2}`,
		`[{"a":1}]`, `{"":1}`, `"s"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		attrs, err := ParseAttributes(data)
		if err != nil {
			if !errors.Is(err, ErrBadPayload) {
				t.Fatalf("error %v does not wrap ErrBadPayload", err)
			}
			return
		}
		enc := append(appendAttributesJSON([]byte{'{'}, attrs), '}')
		back, err := ParseAttributes(enc)
		if err != nil || len(back) != len(attrs) {
			t.Fatalf("re-encoded %s: %v", enc, err)
		}
		for i := range back {
			if back[i].Key != attrs[i].Key || !back[i].Value.Equal(attrs[i].Value) {
				t.Fatalf("%v != %v", back[i], attrs[i])
			}
		}
	})
}

// FuzzParseRequests covers the other device payloads: attribute, RPC,
// claim and provisioning requests. No panic, and every error wraps
// ErrBadPayload (or is the provisioning request's missing field).
func FuzzParseRequests(f *testing.F) {
	for _, s := range []string{
		`{"clientKeys":"attribute1,attribute2","sharedKeys":"shared1,shared2"}`, `{"sharedKeys":["a"]}`,
		`{"method":"getCurrentTime","params":{}}`, `{"method":"setGpio","params":{"pin":"23","value":1}}`,
		`{"secretKey":"value","durationMs":60000}`,
		`{"deviceName":"DEVICE_NAME","provisionDeviceKey":"PUT_PROVISION_KEY_HERE","provisionDeviceSecret":"PUT_PROVISION_SECRET_HERE"}`,
		`{"deviceName":"D","provisionDeviceKey":"k","provisionDeviceSecret":"s","credentialsType":"MQTT_BASIC","clientId":"c","username":"u","password":"p"}`,
		``, `[]`, `{"clientKeys":1}`, `{"method":1}`, `{"durationMs":-5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(what string, err error) {
			if err != nil && !errors.Is(err, ErrBadPayload) && !errors.Is(err, errMissingField) {
				t.Fatalf("%s: error %v does not wrap ErrBadPayload", what, err)
			}
		}
		_, err := ParseAttributeRequest(data)
		check("attribute request", err)
		r, err := ParseRPCRequest(data)
		check("RPC request", err)
		if err == nil && (r.Method == "" || !json.Valid(r.Params)) {
			t.Fatalf("RPC request %+v", r)
		}
		c, err := ParseClaimRequest(data)
		check("claim", err)
		if err == nil && c.Duration < 0 {
			t.Fatalf("claim %+v", c)
		}
		_, err = ParseProvisionRequest(data)
		check("provisioning request", err)
	})
}

// FuzzTopics: the topic parsers never panic and agree with each other.
func FuzzTopics(f *testing.F) {
	for _, s := range []string{
		"v2/fw/request/1/chunk/0", "v2/sw/request/22/chunk/5", "v2/fw/request/x/chunk/0", "v2/fw/request//chunk/",
		"v1/devices/me/attributes/request/1", "v2/a/req/j/5", "v2/r/req/7", "v1/devices/me/rpc/request/abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		kind, id, chunk, ok, valid := otaRequest(topic)
		if valid {
			rest, found := strings.CutPrefix(topic, "v2/"+kind.prefix()+"/request/"+id+"/chunk/")
			n, err := strconv.Atoi(rest)
			if !ok || !found || err != nil || n != chunk || chunk < 0 {
				t.Fatalf("%q parsed as %v %q %d", topic, kind, id, chunk)
			}
		}
		for _, forms := range [][]requestTopic{attrRequestTopics, clientRPCTopics} {
			if rt, rest, ok := matchRequest(topic, forms); ok && rt.request+rest != topic {
				t.Fatalf("%q split as %q + %q", topic, rt.request, rest)
			}
		}
		if n, ok := parseRequestID(topic); ok && (n < 0 || n > maxRequestID) {
			t.Fatalf("request id %q = %d", topic, n)
		}
	})
}

// FuzzIntercept runs whole publishes — any topic, any payload — through a
// gateway device's session on a real embedded broker: no panic, every
// publish is handled (the device API routes nothing), and the verdict is
// one the API gives.
func FuzzIntercept(f *testing.F) {
	for _, s := range [][2]string{
		{TopicTelemetry, `{"a":1}`}, {TopicTelemetryShort, `[{"ts":1,"values":{"b":2}}]`},
		{TopicAttributes, `{"fw":"1"}`}, {TopicAttributesRequest + "1", `{"clientKeys":"fw"}`},
		{TopicRPCResponse + "1", `{"ok":true}`}, {TopicRPCRequest + "2", `{"method":"m","params":1}`},
		{TopicClaim, `{"secretKey":"k"}`}, {"v2/fw/request/1/chunk/0", "512"}, {"v2/fw/request/1/chunk/99", ""},
		{TopicGatewayTelemetry, `{"A":[{"t":1}]}`}, {TopicGatewayAttrRequest, `{"id":1,"device":"A","key":"k"}`},
		{TopicGatewayRPC, `{"device":"A","id":1,"data":{}}`}, {TopicGatewayClaim, `{"A":{}}`},
		{TopicGatewayConnect, `{"device":"A"}`}, {"unknown/topic", `x`}, {"v2/t/p", "\x00"},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Add(TopicProvisionRequest, []byte(`{"deviceName":"d","provisionDeviceKey":"k","provisionDeviceSecret":"s","credentialsType":"X509_CERTIFICATE","hash":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}`))
	s, stop := interceptEnv(f, channel.HandlerFunc(func(context.Context, *channel.Conn, []protocol.Message) error { return nil }))
	defer stop()
	// A provisioning client of the same API, with a provisioner that
	// accepts key "k" and secret "s".
	prov := &MemoryProvisioner{Credentials: &MemoryCredentials{}}
	prov.AddProfile("k", "s")
	s.api.Provisioner = prov
	ps := s.api.provisionToken(embedded.ConnectInfo{ProtocolVersion: 4}).Intercept.(*session)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		for _, sess := range []*session{s, ps} {
			v := sess.InterceptPublish(ctx, nil, broker.Message{Topic: topic, Payload: payload, QoS: 1})
			if !v.Handled {
				t.Fatalf("%q not handled", topic)
			}
			switch v.Code {
			case 0, codeNotAuthorized, codeImplSpecific, codeTopicInvalid, codePayloadInvalid:
			default:
				t.Fatalf("%q: reason 0x%02x", topic, v.Code)
			}
			if v.NoAck && !v.Disconnect {
				t.Fatalf("%q: no PUBACK but the connection stays", topic)
			}
		}
	})
}
