package deviceapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/protocol"
)

// firmware is a deterministic image of n bytes.
func firmware(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestOTAChunkedDownload(t *testing.T) {
	e := newEnv(t, func(a *API) { a.MaxChunkSize = 4096 })
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	ctx := context.Background()
	for _, kind := range []PackageKind{Firmware, Software} {
		pre := kind.prefix()
		versions(t, func(t *testing.T, v byte) {
			d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
			d.sub(t, TopicAttributes, "v2/"+pre+"/response/+/chunk/+", "v2/"+pre+"/error")

			// No package yet: NOT_FOUND on the error topic.
			if code, err := d.pub("v2/"+pre+"/request/1/chunk/0", "1024", 1); err != nil || code != 0 {
				t.Fatalf("request: 0x%02x %v", code, err)
			}
			if m := d.next(t); m.topic != "v2/"+pre+"/error" || m.payload != "NOT_FOUND" {
				t.Fatalf("no package: %s %q", m.topic, m.payload)
			}

			image := firmware(10_000)
			if err := e.api.AssignPackage(ctx, "dev-1", kind, NewPackage("tracker-fw", "2.1."+strconv.Itoa(int(v)), image)); err != nil {
				t.Fatal(err)
			}
			// The device learns of it from the shared attributes.
			m := d.next(t)
			var attrs map[string]any
			if err := json.Unmarshal([]byte(m.payload), &attrs); err != nil || m.topic != TopicAttributes {
				t.Fatalf("attributes: %s %s", m.topic, m.payload)
			}
			size := int(attrs[pre+"_size"].(float64))
			sum := attrs[pre+"_checksum"].(string)
			if attrs[pre+"_title"] != "tracker-fw" || attrs[pre+"_checksum_algorithm"] != "SHA256" || size != len(image) {
				t.Fatalf("attributes %v", attrs)
			}
			// Download in chunks of 3000 bytes (the last one short), the
			// chunk size given once; then past the end: an empty chunk.
			var got []byte
			for n := 0; ; n++ {
				payload := ""
				if n == 0 {
					payload = "3000"
				}
				if _, err := d.pub(fmt.Sprintf("v2/%s/request/7/chunk/%d", pre, n), payload, 1); err != nil {
					t.Fatal(err)
				}
				m := d.next(t)
				if m.topic != fmt.Sprintf("v2/%s/response/7/chunk/%d", pre, n) {
					t.Fatalf("chunk %d on %s", n, m.topic)
				}
				if m.payload == "" {
					break
				}
				got = append(got, m.payload...)
			}
			h := sha256.Sum256(got)
			if !bytes.Equal(got, image) || hex.EncodeToString(h[:]) != sum {
				t.Fatalf("downloaded %d bytes, checksum %x, want %d bytes and %s", len(got), h, len(image), sum)
			}
			// A chunk larger than MaxChunkSize, and the whole image when it
			// is larger: PAYLOAD_TOO_LARGE.
			d.pub("v2/"+pre+"/request/8/chunk/0", "5000", 1)
			if m := d.next(t); m.payload != "PAYLOAD_TOO_LARGE" {
				t.Fatalf("large chunk: %s %q", m.topic, m.payload)
			}
			d.pub("v2/"+pre+"/request/9/chunk/0", "", 1)
			if m := d.next(t); m.payload != "PAYLOAD_TOO_LARGE" {
				t.Fatalf("whole image: %s %q", m.topic, m.payload)
			}
			if err := e.api.AssignPackage(ctx, "dev-1", kind, nil); err != nil {
				t.Fatal(err)
			}
			if m := d.next(t); !strings.Contains(m.payload, `"deleted":[`) {
				t.Fatalf("unassign: %s", m.payload)
			}
		})
	}
}

func TestGatewayAPI(t *testing.T) {
	e := newEnv(t, func(a *API) { a.RPCTimeout = 3 * time.Second })
	e.addToken(t, "GW", Device{Ident: "gw-1", Gateway: true})
	e.addToken(t, "PLAIN", Device{Ident: "dev-9"})
	ctx := context.Background()
	versions(t, func(t *testing.T, v byte) {
		gw := mustDial(t, v, e.addr, connOpts{username: "GW"})
		if codes := gw.sub(t, TopicGatewayAttributes, TopicGatewayRPC, TopicGatewayAttrResponse); codes[0] != 1 || codes[1] != 1 || codes[2] != 1 {
			t.Fatalf("gateway SUBACK %v", codes)
		}
		pub := func(topic, payload string) {
			t.Helper()
			if code, err := gw.pub(topic, payload, 1); err != nil || code != 0 {
				t.Fatalf("%s: 0x%02x %v", topic, code, err)
			}
		}
		pub(TopicGatewayConnect, `{"device":"Sensor A","type":"thermometer"}`)
		pub(TopicGatewayTelemetry, `{"Sensor A":[{"ts":1700000000000,"values":{"t":21.5}},{"h":40}],"Sensor B":[{"t":19}]}`)
		var idents []string
		for i := 0; i < 3; i++ {
			m := e.handler.next(t)
			id, _ := m.Str("ident")
			idents = append(idents, id)
		}
		if strings.Join(idents, ",") != "Sensor A,Sensor A,Sensor B" {
			t.Fatalf("sub-device idents %v", idents)
		}

		pub(TopicGatewayAttributes, `{"Sensor A":{"model":"T1000","serial":42}}`)
		got, _ := e.api.attrs.Attributes(ctx, "Sensor A", ClientScope, []string{"model"})
		if len(got) != 1 || !got[0].Value.Equal(protocol.String("T1000")) {
			t.Fatalf("sub-device attributes %v", got)
		}
		pub(TopicGatewayAttrRequest, `{"id":5,"device":"Sensor A","client":true,"key":"model"}`)
		if m := gw.next(t); m.topic != TopicGatewayAttrResponse || m.payload != `{"id":5,"device":"Sensor A","value":"T1000"}` {
			t.Fatalf("attribute response %s %s", m.topic, m.payload)
		}
		pub(TopicGatewayAttrRequest, `{"id":6,"device":"Sensor A","client":true,"keys":["model","serial"]}`)
		if m := gw.next(t); m.payload != `{"id":6,"device":"Sensor A","values":{"model":"T1000","serial":42}}` {
			t.Fatalf("attributes response %s", m.payload)
		}

		// Shared attributes and server-side RPC for a sub-device go
		// through its gateway.
		attrs, _ := ParseAttributes([]byte(`{"setpoint":22}`))
		if err := e.api.SetShared(ctx, "Sensor A", attrs); err != nil {
			t.Fatal(err)
		}
		if m := gw.next(t); m.topic != TopicGatewayAttributes || m.payload != `{"device":"Sensor A","data":{"setpoint":22}}` {
			t.Fatalf("shared update %s %s", m.topic, m.payload)
		}
		res := make(chan string, 1)
		go func() {
			r, err := e.api.Call(ctx, "Sensor A", "toggle", map[string]int{"pin": 1})
			res <- fmt.Sprintf("%s %v", r, err)
		}()
		m := gw.next(t)
		var req struct {
			Device string
			Data   struct {
				ID     int
				Method string
				Params map[string]int
			}
		}
		if err := json.Unmarshal([]byte(m.payload), &req); err != nil || m.topic != TopicGatewayRPC ||
			req.Device != "Sensor A" || req.Data.Method != "toggle" || req.Data.Params["pin"] != 1 {
			t.Fatalf("gateway RPC %s %s", m.topic, m.payload)
		}
		pub(TopicGatewayRPC, fmt.Sprintf(`{"device":"Sensor A","id":%d,"data":{"success":true}}`, req.Data.ID))
		if r := <-res; r != `{"success":true} <nil>` {
			t.Fatalf("Call through the gateway: %s", r)
		}

		claims := e.api.claims.(*MemoryClaims)
		pub(TopicGatewayClaim, `{"Sensor B":{"secretKey":"k","durationMs":1000}}`)
		if c, ok := claims.Lookup("Sensor B"); !ok || c.SecretKey != "k" {
			t.Fatalf("gateway claim %+v", c)
		}
		pub(TopicGatewayDisconnect, `{"device":"Sensor A"}`)

		// A device that is not a gateway may not use the gateway API.
		plain := mustDial(t, v, e.addr, connOpts{username: "PLAIN"})
		code, err := plain.pub(TopicGatewayTelemetry, `{"Sensor C":[{"t":1}]}`, 1)
		if v == 5 && (err != nil || code != codeNotAuthorized) {
			t.Fatalf("non-gateway: 0x%02x %v", code, err)
		}
		e.handler.none(t)
		if codes := plain.sub(t, TopicGatewayRPC); codes[0] < 0x80 {
			t.Fatalf("non-gateway subscribed to %s: %v", TopicGatewayRPC, codes)
		}
		// A gateway cannot speak for itself, and bad shapes are invalid.
		for _, bad := range []struct{ topic, payload string }{
			{TopicGatewayTelemetry, `{"gw-1":[{"t":1}]}`},
			{TopicGatewayTelemetry, `{"Sensor A":{"t":1}}`},
			{TopicGatewayAttrRequest, `{"device":"Sensor A","key":"x"}`},
			{TopicGatewayConnect, `["Sensor A"]`},
			{TopicGatewayRPC, `{"device":"Sensor A","id":"x","data":1}`},
		} {
			g := mustDial(t, v, e.addr, connOpts{username: "GW"})
			code, err := g.pub(bad.topic, bad.payload, 1)
			if v == 5 && (err != nil || code != codePayloadInvalid) || v == 4 && !g.closed() {
				t.Errorf("%s %s: 0x%02x %v", bad.topic, bad.payload, code, err)
			}
		}
		e.handler.none(t)
	})
}
