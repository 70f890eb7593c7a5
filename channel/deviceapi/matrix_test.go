package deviceapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/mqtt311"
	"github.com/gnssgate/gnssgate/protocol"
)

// The device API against real clients on the embedded broker, in the
// spirit of ThingsBoard's transport tests (application/src/test/java/…/
// transport/mqtt: per feature × payload form × MQTT version). Payload
// forms are the ones thingsboard.io/docs/reference/mqtt-api documents.

var telemetryForms = []struct {
	name    string
	payload string
	check   func(t *testing.T, msgs []protocol.Message, before time.Time)
}{
	{"object", `{"temperature":42.5,"humidity":71,"active":true,"status":"ok","big":9007199254740993,` +
		`"cfg":{"a":[1,2]},"list":[1,"x"],"gone":null}`, func(t *testing.T, msgs []protocol.Message, before time.Time) {
		wantCount(t, msgs, 1)
		m := msgs[0]
		serverTime(t, m, before)
		wantValue(t, m, "temperature", protocol.Float(42.5))
		wantValue(t, m, "humidity", protocol.Int(71))
		wantValue(t, m, "active", protocol.Bool(true))
		wantValue(t, m, "status", protocol.String("ok"))
		wantValue(t, m, "big", protocol.Int(9007199254740993)) // exact, beyond float64
		wantValue(t, m, "cfg", protocol.RawJSON(`{"a":[1,2]}`))
		wantValue(t, m, "list", protocol.RawJSON(`[1,"x"]`))
		if m.Has("gone") {
			t.Error("null value kept")
		}
	}},
	{"array", `[{"temperature":42.5},{"humidity":71}]`, func(t *testing.T, msgs []protocol.Message, before time.Time) {
		wantCount(t, msgs, 1) // both at server time: one message
		serverTime(t, msgs[0], before)
		wantValue(t, msgs[0], "temperature", protocol.Float(42.5))
		wantValue(t, msgs[0], "humidity", protocol.Int(71))
	}},
	{"ts-values", `{"ts":1451649600512,"values":{"temperature":42.5,"active":false}}`, func(t *testing.T, msgs []protocol.Message, _ time.Time) {
		wantCount(t, msgs, 1)
		wantValue(t, msgs[0], "timestamp", protocol.Float(1451649600.512))
		wantValue(t, msgs[0], "temperature", protocol.Float(42.5))
		wantValue(t, msgs[0], "active", protocol.Bool(false))
	}},
	{"ts-values-array", `[{"ts":1451649600512,"values":{"a":1}},{"ts":1451649601512,"values":{"a":2,"s":"x"}}]`,
		func(t *testing.T, msgs []protocol.Message, _ time.Time) {
			wantCount(t, msgs, 2)
			wantValue(t, msgs[0], "timestamp", protocol.Float(1451649600.512))
			wantValue(t, msgs[0], "a", protocol.Int(1))
			wantValue(t, msgs[1], "timestamp", protocol.Float(1451649601.512))
			wantValue(t, msgs[1], "s", protocol.String("x"))
		}},
}

func wantCount(t *testing.T, msgs []protocol.Message, n int) {
	t.Helper()
	if len(msgs) != n {
		t.Fatalf("%d messages, want %d: %v", len(msgs), n, msgs)
	}
}

func wantValue(t *testing.T, m protocol.Message, key string, want protocol.Value) {
	t.Helper()
	got, ok := m.Lookup(key)
	if !ok || !got.Equal(want) || got.Kind() != want.Kind() {
		t.Errorf("%s = %v (%v), want %v (%v) in %s", key, got, got.Kind(), want, want.Kind(), m.String())
	}
}

func serverTime(t *testing.T, m protocol.Message, before time.Time) {
	t.Helper()
	ts, _ := m.Timestamp()
	if ts < float64(before.Unix())-1 || ts > float64(time.Now().Unix())+1 {
		t.Errorf("timestamp %v is not the server time", ts)
	}
}

func TestTelemetryMatrix(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	versions(t, func(t *testing.T, v byte) {
		d := mustDial(t, v, e.addr, connOpts{clientID: fmt.Sprintf("c%d", v), username: "T0KEN"})
		for _, topic := range []string{TopicTelemetry, TopicTelemetryShort, TopicTelemetryShortJSON} {
			for _, form := range telemetryForms {
				for _, qos := range []byte{0, 1} {
					t.Run(fmt.Sprintf("%s/%s/qos%d", topic, form.name, qos), func(t *testing.T) {
						before := time.Now()
						code, err := d.pub(topic, form.payload, qos)
						if err != nil || code != 0 {
							t.Fatalf("publish: code 0x%02x, %v", code, err)
						}
						var msgs []protocol.Message
						for len(msgs) < 4 {
							m := e.handler.next(t)
							msgs = append(msgs, m)
							if len(e.handler.ch) == 0 {
								time.Sleep(20 * time.Millisecond)
								if len(e.handler.ch) == 0 {
									break
								}
							}
						}
						for _, m := range msgs {
							wantValue(t, m, "ident", protocol.String("dev-1"))
							wantValue(t, m, "channel.id", protocol.Int(7))
							wantValue(t, m, "protocol.id", protocol.Int(41))
							if !m.Has("server.timestamp") || !m.Has("peer") {
								t.Errorf("not stamped: %s", m.String())
							}
						}
						form.check(t, msgs, before)
					})
				}
			}
		}
	})
}

// A telemetry publish is acknowledged only after the Handler stored it: a
// Handler error withholds the PUBACK and closes the connection, and a
// persistent 3.1.1 device then sends the same data again (DUP) after
// reconnecting, which is stored once the Handler recovers.
func TestTelemetryAckOnlyWhenStored(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	versions(t, func(t *testing.T, v byte) {
		d := mustDial(t, v, e.addr, connOpts{clientID: "c", username: "T0KEN"})
		e.handler.fail.Store(true)
		if code, err := d.pub(TopicTelemetry, `{"a":1}`, 1); err == nil {
			t.Fatalf("PUBACK (0x%02x) for telemetry the handler refused", code)
		}
		if !d.closed() {
			t.Fatal("connection not closed after a handler error")
		}
		e.handler.fail.Store(false)
		e.handler.none(t)
	})

	// Persistent MQTT 3.1.1 session: the device resends on reconnection.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := mqtt311.Dial(ctx, e.addr, mqtt311.Options{ClientID: "resender", Username: "T0KEN", Persistent: true})
	if err != nil {
		t.Fatal(err)
	}
	e.handler.fail.Store(true)
	if err := c.Publish(ctx, TopicTelemetry, []byte(`{"seq":1}`), 1, false); err == nil {
		t.Fatal("acknowledged while the store fails")
	}
	e.handler.fail.Store(false)
	// A real device resends its unacknowledged publish with DUP after
	// reconnecting; here the test does it.
	c2, present, err := mqtt311.Dial(ctx, e.addr, mqtt311.Options{ClientID: "resender", Username: "T0KEN", Persistent: true})
	if err != nil || !present {
		t.Fatalf("reconnect: present=%v err=%v", present, err)
	}
	defer c2.Close()
	if err := c2.Publish(ctx, TopicTelemetry, []byte(`{"seq":1}`), 1, false); err != nil {
		t.Fatalf("resend: %v", err)
	}
	wantValue(t, e.handler.next(t), "seq", protocol.Int(1))
}

func TestClientAttributes(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	versions(t, func(t *testing.T, v byte) {
		d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
		for i, topic := range []string{TopicAttributes, TopicAttributesShort, TopicAttributesShortJ} {
			payload := fmt.Sprintf(`{"fw":"1.%d","n":%d,"ok":true,"obj":{"x":1}}`, i, i)
			if code, err := d.pub(topic, payload, 1); err != nil || code != 0 {
				t.Fatalf("%s: 0x%02x %v", topic, code, err)
			}
			got, _ := e.api.attrs.Attributes(context.Background(), "dev-1", ClientScope, []string{"fw", "n", "obj"})
			if len(got) != 3 || !got[0].Value.Equal(protocol.String(fmt.Sprintf("1.%d", i))) || !got[1].Value.Equal(protocol.Int(int64(i))) ||
				!got[2].Value.Equal(protocol.RawJSON(`{"x":1}`)) {
				t.Fatalf("%s: stored %v", topic, got)
			}
		}
		e.handler.none(t) // attributes are not telemetry
	})
}

func TestSharedAttributeUpdates(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	e.addToken(t, "OTHER", Device{Ident: "dev-2"})
	ctx := context.Background()
	versions(t, func(t *testing.T, v byte) {
		for _, topic := range []string{TopicAttributes, TopicAttributesShort} {
			t.Run(topic, func(t *testing.T) {
				d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
				other := mustDial(t, v, e.addr, connOpts{username: "OTHER"})
				if codes := d.sub(t, topic); codes[0] != 1 {
					t.Fatalf("SUBACK %v", codes)
				}
				other.sub(t, topic)
				attrs, _ := ParseAttributes([]byte(`{"interval":30,"mode":"eco"}`))
				if err := e.api.SetShared(ctx, "dev-1", attrs); err != nil {
					t.Fatal(err)
				}
				if m := d.next(t); m.topic != topic || m.payload != `{"interval":30,"mode":"eco"}` {
					t.Fatalf("update: %s %s", m.topic, m.payload)
				}
				if err := e.api.DeleteShared(ctx, "dev-1", "mode"); err != nil {
					t.Fatal(err)
				}
				if m := d.next(t); m.payload != `{"deleted":["mode"]}` {
					t.Fatalf("delete: %s", m.payload)
				}
				d.none(t)
				other.none(t) // another device sees nothing
			})
		}
	})
}

func TestAttributeRequests(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	ctx := context.Background()
	client, _ := ParseAttributes([]byte(`{"c1":1,"c2":"two"}`))
	shared, _ := ParseAttributes([]byte(`{"s1":true,"s2":{"k":[1]}}`))
	e.api.attrs.SetAttributes(ctx, "dev-1", ClientScope, client)
	if err := e.api.SetShared(ctx, "dev-1", shared); err != nil {
		t.Fatal(err)
	}
	forms := []struct{ req, sub, reply string }{
		{TopicAttributesRequest, TopicAttributesReply + "+", TopicAttributesReply},
		{TopicAttrRequestShort, TopicAttrReplyShort + "+", TopicAttrReplyShort},
		{TopicAttrRequestShortJ, TopicAttrReplyShortJ + "+", TopicAttrReplyShortJ},
	}
	cases := []struct{ payload, want string }{
		{`{"clientKeys":"c1,c2","sharedKeys":"s1,s2"}`, `{"client":{"c1":1,"c2":"two"},"shared":{"s1":true,"s2":{"k":[1]}}}`},
		{`{"clientKeys":"c2"}`, `{"client":{"c2":"two"}}`},
		{`{"sharedKeys":["s1"]}`, `{"shared":{"s1":true}}`},
		{`{}`, `{"client":{"c1":1,"c2":"two"},"shared":{"s1":true,"s2":{"k":[1]}}}`},
		{`{"sharedKeys":"nope"}`, `{}`},
	}
	versions(t, func(t *testing.T, v byte) {
		d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
		for _, f := range forms {
			d.sub(t, f.sub)
			for i, c := range cases {
				if code, err := d.pub(f.req+fmt.Sprint(i+1), c.payload, 1); err != nil || code != 0 {
					t.Fatalf("%s: 0x%02x %v", f.req, code, err)
				}
				m := d.next(t)
				if m.topic != f.reply+fmt.Sprint(i+1) || m.payload != c.want {
					t.Errorf("%s%d %s: got %s %s, want %s", f.req, i+1, c.payload, m.topic, m.payload, c.want)
				}
			}
		}
	})
}

func TestServerSideRPC(t *testing.T) {
	e := newEnv(t, func(a *API) { a.RPCTimeout = 3 * time.Second })
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	versions(t, func(t *testing.T, v byte) {
		for _, f := range []struct{ sub, reply string }{
			{TopicRPCRequest + "+", TopicRPCResponse}, {TopicRPCRequestShort + "+", TopicRPCResponseShort},
		} {
			t.Run(f.sub, func(t *testing.T) {
				d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
				d.sub(t, f.sub)
				res := make(chan []byte, 1)
				errc := make(chan error, 1)
				go func() {
					r, err := e.api.Call(context.Background(), "dev-1", "setGpio", map[string]any{"pin": 4, "value": 1})
					res <- r
					errc <- err
				}()
				m := d.next(t)
				id, ok := strings.CutPrefix(m.topic, strings.TrimSuffix(f.sub, "+"))
				if !ok || m.payload != `{"method":"setGpio","params":{"pin":4,"value":1}}` {
					t.Fatalf("request: %s %s", m.topic, m.payload)
				}
				if code, err := d.pub(f.reply+id, `{"pin":4,"value":1}`, 1); err != nil || code != 0 {
					t.Fatalf("reply: 0x%02x %v", code, err)
				}
				if r, err := <-res, <-errc; err != nil || string(r) != `{"pin":4,"value":1}` {
					t.Fatalf("Call = %s, %v", r, err)
				}
				d.none(t) // one request, in the form subscribed
			})
		}
		// No answer: the call times out.
		d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
		d.sub(t, TopicRPCRequest+"+")
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if _, err := e.api.Call(ctx, "dev-1", "reboot", nil); !errors.Is(err, ErrRPCTimeout) {
			t.Fatalf("unanswered call: %v", err)
		}
		d.next(t)
	})
}

// The device reconnects with a persistent session and gets the RPC it
// missed; it answers and the waiting call completes.
func TestServerSideRPCToOfflinePersistentDevice(t *testing.T) {
	e := newEnv(t, nil)
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	versions(t, func(t *testing.T, v byte) {
		o := connOpts{clientID: fmt.Sprintf("persistent-%d", v), username: "T0KEN", persistent: true}
		d := mustDial(t, v, e.addr, o)
		d.sub(t, TopicRPCRequest+"+")
		d.close()
		time.Sleep(50 * time.Millisecond)

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		type result struct {
			r   []byte
			err error
		}
		done := make(chan result, 1)
		go func() {
			r, err := e.api.Call(ctx, "dev-1", "getState", nil)
			done <- result{r, err}
		}()
		time.Sleep(100 * time.Millisecond) // the request is queued in the session meanwhile

		d2 := mustDial(t, v, e.addr, o)
		m := d2.next(t)
		id, ok := strings.CutPrefix(m.topic, TopicRPCRequest)
		if !ok || m.payload != `{"method":"getState","params":null}` {
			t.Fatalf("missed RPC: %s %s", m.topic, m.payload)
		}
		if _, err := d2.pub(TopicRPCResponse+id, `"on"`, 1); err != nil {
			t.Fatal(err)
		}
		if r := <-done; r.err != nil || string(r.r) != `"on"` {
			t.Fatalf("Call = %s, %v", r.r, r.err)
		}
	})
}

func TestClientSideRPC(t *testing.T) {
	e := newEnv(t, func(a *API) {
		a.RPC = RPCHandlerFunc(func(_ context.Context, d Device, method string, params []byte) ([]byte, error) {
			switch method {
			case "getTime":
				return []byte(`{"time":1700000000,"device":"` + d.Ident + `"}`), nil
			case "echo":
				return params, nil
			}
			return nil, fmt.Errorf("unknown method %q", method)
		})
	})
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	versions(t, func(t *testing.T, v byte) {
		d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
		for _, f := range []struct{ sub, req, reply string }{
			{TopicRPCResponse + "+", TopicRPCRequest, TopicRPCResponse},
			{TopicRPCResponseShort + "+", TopicRPCRequestShort, TopicRPCResponseShort},
			{TopicRPCResponseShortJ + "+", TopicRPCRequestShortJ, TopicRPCResponseShortJ},
		} {
			d.sub(t, f.sub)
			for i, c := range []struct{ req, want string }{
				{`{"method":"getTime","params":{}}`, `{"time":1700000000,"device":"dev-1"}`},
				{`{"method":"echo","params":[1,"a"]}`, `[1,"a"]`},
				{`{"method":"nope"}`, `{"error":"unknown method \"nope\""}`},
			} {
				if _, err := d.pub(f.req+fmt.Sprint(i+1), c.req, 1); err != nil {
					t.Fatal(err)
				}
				if m := d.next(t); m.topic != f.reply+fmt.Sprint(i+1) || m.payload != c.want {
					t.Errorf("%s: %s %s, want %s", c.req, m.topic, m.payload, c.want)
				}
			}
		}
	})
}

func TestClaim(t *testing.T) {
	claims := &MemoryClaims{}
	e := newEnv(t, func(a *API) { a.Claims = claims })
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	versions(t, func(t *testing.T, v byte) {
		d := mustDial(t, v, e.addr, connOpts{username: "T0KEN"})
		if code, err := d.pub(TopicClaim, `{"secretKey":"s3cr3t","durationMs":60000}`, 1); err != nil || code != 0 {
			t.Fatalf("claim: 0x%02x %v", code, err)
		}
		c, ok := claims.Lookup("dev-1")
		if !ok || c.SecretKey != "s3cr3t" || time.Until(c.Expires) > time.Minute || time.Until(c.Expires) < 50*time.Second {
			t.Fatalf("registration %+v", c)
		}
		if claims.Claim("dev-1", "wrong", time.Now()) || !claims.Claim("dev-1", "s3cr3t", time.Now()) {
			t.Fatal("claiming with the secret key")
		}
		// Empty payload: empty secret key, default duration.
		if _, err := d.pub(TopicClaim, ``, 1); err != nil {
			t.Fatal(err)
		}
		if c, _ := claims.Lookup("dev-1"); c.SecretKey != "" || time.Until(c.Expires) < 23*time.Hour {
			t.Fatalf("default registration %+v", c)
		}
	})
}

func TestProvisioning(t *testing.T) {
	creds := &MemoryCredentials{}
	prov := &MemoryProvisioner{Credentials: creds}
	prov.AddProfile("key-1", "secret-1")
	e := newEnv(t, func(a *API) { a.Credentials, a.Provisioner = creds, prov })
	versions(t, func(t *testing.T, v byte) {
		for _, topic := range []string{TopicProvisionRequest, TopicProvision} {
			for _, o := range []connOpts{{username: "provision"}, {clientID: "provision"}} {
				name := fmt.Sprintf("sensor-%d-%s-u%s-c%s", v, strings.Trim(topic, "/"), o.username, o.clientID)
				name = strings.ReplaceAll(name, "/", "-")
				d := mustDial(t, v, e.addr, o)
				d.sub(t, TopicProvisionResponse)
				req := `{"deviceName":"` + name + `","provisionDeviceKey":"key-1","provisionDeviceSecret":"secret-1"}`
				if code, err := d.pub(topic, req, 1); err != nil || code != 0 {
					t.Fatalf("provision: 0x%02x %v", code, err)
				}
				m := d.next(t)
				var res struct{ Status, CredentialsType, CredentialsValue string }
				if json.Unmarshal([]byte(m.payload), &res); m.topic != TopicProvisionResponse || res.Status != "SUCCESS" ||
					res.CredentialsType != "ACCESS_TOKEN" || res.CredentialsValue == "" {
					t.Fatalf("response %s %s", m.topic, m.payload)
				}
				// The new credentials work.
				dev := mustDial(t, v, e.addr, connOpts{username: res.CredentialsValue})
				if _, err := dev.pub(TopicTelemetry, `{"provisioned":true}`, 1); err != nil {
					t.Fatal(err)
				}
				wantValue(t, e.handler.next(t), "ident", protocol.String(name))
			}
		}
		// A wrong secret: NOT_FOUND.
		d := mustDial(t, v, e.addr, connOpts{username: "provision"})
		d.sub(t, TopicProvisionResponse)
		d.pub(TopicProvisionRequest, `{"deviceName":"x","provisionDeviceKey":"key-1","provisionDeviceSecret":"nope"}`, 1)
		if m := d.next(t); m.payload != `{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}` {
			t.Fatalf("wrong secret: %s", m.payload)
		}
		// A provisioning client cannot subscribe elsewhere, and another
		// topic closes it.
		if codes := d.sub(t, TopicRPCRequest+"+"); codes[0] < 0x80 {
			t.Fatalf("provisioning client subscribed to RPC: %v", codes)
		}
		d.pub(TopicTelemetry, `{"a":1}`, 1)
		if !d.closed() {
			t.Fatal("provisioning client publishing telemetry not closed")
		}
	})
	// Concurrent provisioning clients do not see each other's answers.
	a := mustDial(t, 5, e.addr, connOpts{username: "provision"})
	b := mustDial(t, 5, e.addr, connOpts{username: "provision"})
	a.sub(t, TopicProvisionResponse)
	b.sub(t, TopicProvisionResponse)
	a.pub(TopicProvisionRequest, `{"deviceName":"private","provisionDeviceKey":"key-1","provisionDeviceSecret":"secret-1"}`, 1)
	a.next(t)
	b.none(t)
}
