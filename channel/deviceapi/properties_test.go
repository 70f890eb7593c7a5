package deviceapi

import (
	"context"
	"fmt"
	"testing"

	"github.com/gnssgate/gnssgate/broker"
)

// API.Properties sets user properties on everything the API sends a
// device — shared attribute updates, attribute and client-side RPC
// responses, server-side RPC requests — and, for a gateway's devices, on
// what goes to the gateway, with the gateway's: the gateway stamps its
// devices' account ("cid") this way.
func TestDownlinkProperties(t *testing.T) {
	accounts := map[string]string{"dev-1": "11", "gw-1": "12", "Sensor A": "99"}
	e := newEnv(t, func(a *API) {
		a.Properties = func(ident string) []broker.UserProperty {
			return []broker.UserProperty{{Key: "cid", Value: accounts[ident]}}
		}
		a.RPC = RPCHandlerFunc(func(context.Context, Device, string, []byte) ([]byte, error) { return []byte(`{}`), nil })
	})
	e.addToken(t, "T0KEN", Device{Ident: "dev-1"})
	e.addToken(t, "GW", Device{Ident: "gw-1", Gateway: true})
	ctx := context.Background()
	d := mustDial(t, 5, e.addr, connOpts{username: "T0KEN"})
	d.sub(t, TopicAttributes, TopicAttributesReply+"+", TopicRPCRequest+"+", TopicRPCResponse+"+")
	check := func(what, wantTopic, cid string, m msg) {
		t.Helper()
		if m.topic != wantTopic || m.user.Get("cid") != cid || len(m.user) != 1 {
			t.Errorf("%s: %s with user properties %v, want %s with cid %s", what, m.topic, m.user, wantTopic, cid)
		}
	}
	attrs, _ := ParseAttributes([]byte(`{"interval":30}`))
	if err := e.api.SetShared(ctx, "dev-1", attrs); err != nil {
		t.Fatal(err)
	}
	check("shared attribute update", TopicAttributes, "11", d.next(t))
	if _, err := d.pub(TopicAttributesRequest+"1", `{"sharedKeys":"interval"}`, 1); err != nil {
		t.Fatal(err)
	}
	check("attribute response", TopicAttributesReply+"1", "11", d.next(t))
	if _, err := d.pub(TopicRPCRequest+"2", `{"method":"getTime","params":{}}`, 1); err != nil {
		t.Fatal(err)
	}
	check("client-side RPC response", TopicRPCResponse+"2", "11", d.next(t))
	errc := make(chan error, 1)
	go func() {
		_, err := e.api.Call(ctx, "dev-1", "reboot", nil)
		errc <- err
	}()
	m := d.next(t)
	var id int
	if _, err := fmt.Sscanf(m.topic, TopicRPCRequest+"%d", &id); err != nil {
		t.Fatalf("RPC request on %s", m.topic)
	}
	check("server-side RPC request", fmt.Sprint(TopicRPCRequest, id), "11", m)
	if _, err := d.pub(fmt.Sprint(TopicRPCResponse, id), `{}`, 1); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	// A gateway's device: what goes to the gateway carries the gateway's.
	gw := mustDial(t, 5, e.addr, connOpts{username: "GW"})
	gw.sub(t, TopicGatewayAttributes)
	if _, err := gw.pub(TopicGatewayConnect, `{"device":"Sensor A"}`, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.api.SetShared(ctx, "Sensor A", attrs); err != nil {
		t.Fatal(err)
	}
	check("a gateway device's shared attribute update", TopicGatewayAttributes, "12", gw.next(t))
}
