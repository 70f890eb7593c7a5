package embedded

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// accountAuth admits "acct-N" into namespace "$acct/N/" with the broker's
// "cid" property N on what it publishes. Account 1 is the parent of 2 and
// 3: its clients may select their spaces with the SUBSCRIBE user property
// "cid"; nobody may select a parent's or a sibling's.
func accountAuth() Authenticator {
	return AuthenticatorFunc(func(_ context.Context, info ConnectInfo) (*Token, error) {
		cid, ok := strings.CutPrefix(info.Username, "acct-")
		if !ok {
			return nil, ErrBadCredentials
		}
		all := []string{"#"}
		return &Token{Name: info.Username, Publish: all, Subscribe: all, Namespace: "$acct/" + cid + "/",
			Properties: []broker.UserProperty{{Key: "cid", Value: cid}}, SpaceProperty: "cid", Spaces: childSpaces(cid)}, nil
	})
}

type childSpaces string

func (parent childSpaces) Select(_ context.Context, _ *Client, value string) (string, error) {
	if value == string(parent) || (parent == "1" && (value == "2" || value == "3")) {
		return "$acct/" + value + "/", nil
	}
	return "", broker.ErrNotAuthorized
}

func userProp(m *paho.Publish, key string) []string {
	var out []string
	if m.Properties != nil {
		for _, u := range m.Properties.User {
			if u.Key == key {
				out = append(out, u.Value)
			}
		}
	}
	return out
}

// The broker vouches for the publisher's cid: a client's forged one is
// replaced, a 3.1.1 client's publishes carry it to MQTT 5 subscribers, and
// $filter/cid=… and $filter/message=cid==… select on it.
func TestTokenPropertiesStamped(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: accountAuth()})
	sub, _ := dialPaho(t, addr, userConnect("acct-2", "sub", true))
	sub.sub(t, paho.SubscribeOptions{Topic: "s/#", QoS: 1})
	pub, _ := dialPaho(t, addr, userConnect("acct-2", "pub", true))
	byCID, byExpr := newCollector(), newCollector()
	mustSub(t, s, "$filter/cid=2/$acct/+/s/#", byCID)
	mustSub(t, s, "$filter/message=cid%3D%3D3%26%26payload%3D%3D%22three%22/$acct/+/s/#", byExpr)

	pub.pub(t, &paho.Publish{Topic: "s/1", QoS: 1, Payload: []byte("forged"),
		Properties: &paho.PublishProperties{User: paho.UserProperties{{Key: "cid", Value: "3"}, {Key: "x", Value: "y"}}}})
	m := sub.next(t)
	if got := userProp(m, "cid"); len(got) != 1 || got[0] != "2" {
		t.Fatalf("cid of a publish that forged 3: %v", got)
	}
	if got := userProp(m, "x"); len(got) != 1 || got[0] != "y" {
		t.Fatalf("the client's own property: %v", got)
	}
	if bm := byCID.next(t); string(bm.Payload) != "forged" {
		t.Fatalf("$filter/cid=2 got %q", bm.Payload)
	}

	old := dialRaw(t, addr)
	old.connect("old", true, 0, func(pk *packets.Packet) { pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte("acct-2") })
	old.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "s/2", Payload: []byte("3.1.1")})
	if m := sub.next(t); string(m.Payload) != "3.1.1" || fmt.Sprint(userProp(m, "cid")) != "[2]" {
		t.Fatalf("an MQTT 3.1.1 publish reached MQTT 5 as %q with cid %v", m.Payload, userProp(m, "cid"))
	}
	if bm := byCID.next(t); string(bm.Payload) != "3.1.1" {
		t.Fatalf("$filter/cid=2 got %q", bm.Payload)
	}

	three, _ := dialPaho(t, addr, userConnect("acct-3", "three", true))
	three.pub(t, &paho.Publish{Topic: "s/1", QoS: 1, Payload: []byte("other")})
	three.pub(t, &paho.Publish{Topic: "s/1", QoS: 1, Payload: []byte("three")})
	if bm := byExpr.next(t); string(bm.Payload) != "three" {
		t.Fatalf("$filter/message=cid==3&&payload==\"three\" got %q", bm.Payload)
	}
	select {
	case bm := <-byCID.ch:
		t.Fatalf("$filter/cid=2 got account 3's %q", bm.Payload)
	case bm := <-byExpr.ch:
		t.Fatalf("$filter/message got %q", bm.Payload)
	case <-time.After(100 * time.Millisecond):
	}
	sub.none(t, 0)
}

// A SUBSCRIBE with the "cid" user property takes its filters in the
// space Token.Spaces selects: a parent's client sees its subaccounts'
// messages (with their cid, topics as the subaccount wrote them, retained
// ones too), a subaccount cannot select its parent or a sibling, and
// UNSUBSCRIBE with the same property ends it.
func TestSubscribeSpaces(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, &Config{Authenticator: accountAuth()})
	two, _ := dialPaho(t, addr, userConnect("acct-2", "c", true))
	two.pub(t, &paho.Publish{Topic: "s/kept", QoS: 1, Retain: true, Payload: []byte("retained in 2")})

	parent, _ := dialPaho(t, addr, userConnect("acct-1", "c", true))
	inSpace := func(cid string) *paho.SubscribeProperties {
		return &paho.SubscribeProperties{User: paho.UserProperties{{Key: "cid", Value: cid}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, cid := range []string{"2", "3"} {
		sa, err := parent.Subscribe(ctx, &paho.Subscribe{Properties: inSpace(cid), Subscriptions: []paho.SubscribeOptions{{Topic: "s/#", QoS: 1}}})
		if err != nil || sa.Reasons[0] != 1 {
			t.Fatalf("the parent subscribing in %s: %v %+v", cid, err, sa)
		}
	}
	if m := parent.next(t); m.Topic != "s/kept" || !m.Retain || fmt.Sprint(userProp(m, "cid")) != "[2]" {
		t.Fatalf("the retained message of 2: %s retain=%v cid=%v", m.Topic, m.Retain, userProp(m, "cid"))
	}
	three, _ := dialPaho(t, addr, userConnect("acct-3", "c", true))
	for _, c := range []*pahoClient{two, three} {
		c.pub(t, &paho.Publish{Topic: "s/live", QoS: 1, Payload: []byte("x")})
		m := parent.next(t)
		if m.Topic != "s/live" || len(userProp(m, "cid")) != 1 {
			t.Fatalf("the parent got %s with cid %v", m.Topic, userProp(m, "cid"))
		}
	}
	parent.pub(t, &paho.Publish{Topic: "s/own", QoS: 1})
	parent.none(t, 100*time.Millisecond) // its own space has no "s/#" subscription

	// "$filter/cid=N/" selects the space too (flespi documents both ways).
	parent.sub(t, paho.SubscribeOptions{Topic: "$filter/cid=3/t/#", QoS: 1})
	three.pub(t, &paho.Publish{Topic: "t/1", QoS: 1, Payload: []byte("by spec")})
	if m := parent.next(t); m.Topic != "t/1" || fmt.Sprint(userProp(m, "cid")) != "[3]" {
		t.Fatalf("$filter/cid=3 got %s with cid %v", m.Topic, userProp(m, "cid"))
	}
	if sa := two.sub(t, paho.SubscribeOptions{Topic: "$filter/cid=1/#", QoS: 1}); sa.Reasons[0] != 0x87 {
		t.Fatalf("2 selecting its parent by $filter/cid=1: %+v", sa)
	}
	ctx0, cancel0 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel0()
	if ua, err := parent.Unsubscribe(ctx0, &paho.Unsubscribe{Topics: []string{"$filter/cid=3/t/#"}}); err != nil || ua.Reasons[0] != 0 {
		t.Fatalf("unsubscribing $filter/cid=3: %v %+v", err, ua)
	}

	// Parent and sibling spaces are refused, as is a space of a token without Spaces.
	for _, cid := range []string{"1", "3", "999"} {
		sa, _ := two.Subscribe(ctx, &paho.Subscribe{Properties: inSpace(cid), Subscriptions: []paho.SubscribeOptions{{Topic: "#", QoS: 1}}})
		if sa == nil || sa.Reasons[0] != 0x87 {
			t.Fatalf("2 selecting %s: %+v", cid, sa)
		}
	}
	three.pub(t, &paho.Publish{Topic: "s/x", QoS: 1})
	parent.next(t)
	two.none(t, 100*time.Millisecond)

	ua, err := parent.Unsubscribe(ctx, &paho.Unsubscribe{Topics: []string{"s/#"}, Properties: &paho.UnsubscribeProperties{User: paho.UserProperties{{Key: "cid", Value: "3"}}}})
	if err != nil || ua.Reasons[0] != 0 {
		t.Fatalf("unsubscribing in 3: %v %+v", err, ua)
	}
	three.pub(t, &paho.Publish{Topic: "s/x", QoS: 1})
	parent.none(t, 100*time.Millisecond)
}

// restEcho answers with a body of the size the URI names, in the space
// "response_cid" names when the client's account is its parent (1).
func restEcho() RESTHandler {
	return RESTHandlerFunc(func(_ context.Context, r RESTRequest) RESTResponse {
		var n int
		fmt.Sscan(strings.TrimPrefix(r.URI, "size/"), &n)
		resp := RESTResponse{Status: 200, Body: bytes.Repeat([]byte("0123456789"), n/10)}
		for _, p := range r.Properties {
			if p.Key == "response_cid" {
				ns, err := childSpaces(r.Client.Token.Name[len("acct-"):]).Select(context.Background(), r.Client, p.Value)
				if err != nil {
					return RESTResponse{Status: 403, Body: []byte(`{"errors":[{"code":403}]}`)}
				}
				resp.Namespace = ns
				resp.Properties = []broker.UserProperty{{Key: "cid", Value: p.Value}}
			}
		}
		return resp
	})
}

// REST over MQTT: the answer goes to the response topic with http_code,
// back to the request's topic without one (MQTT 3.1.1), into a
// subaccount's space with response_cid, and in pieces with
// response_chunked, the last one carrying http_code.
func TestRESTAnswers(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, &Config{Authenticator: accountAuth(), REST: restEcho()})
	parent, _ := dialPaho(t, addr, userConnect("acct-1", "p", true))
	parent.sub(t, paho.SubscribeOptions{Topic: "answers", QoS: 1}, paho.SubscribeOptions{Topic: "flespi/rest/#", QoS: 1})

	parent.pub(t, &paho.Publish{Topic: "flespi/rest/get/size/20", QoS: 1, Properties: &paho.PublishProperties{ResponseTopic: "answers", CorrelationData: []byte("c1")}})
	m := parent.next(t)
	if m.Topic != "answers" || len(m.Payload) != 20 || string(m.Properties.CorrelationData) != "c1" || fmt.Sprint(userProp(m, "http_code")) != "[200]" {
		t.Fatalf("answer %s %d bytes corr %q http_code %v", m.Topic, len(m.Payload), m.Properties.CorrelationData, userProp(m, "http_code"))
	}

	old := dialRaw(t, addr)
	old.connect("old", true, 0, func(pk *packets.Packet) { pk.Connect.UsernameFlag, pk.Connect.Username = true, []byte("acct-1") })
	old.subscribe(1, subOpt("flespi/rest/#", 0))
	old.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "flespi/rest/get/size/30"})
	for {
		pk := old.read()
		if pk == nil {
			t.Fatal("no answer for the MQTT 3.1.1 client")
		}
		if pk.FixedHeader.Type == packets.Publish {
			if pk.TopicName != "flespi/rest/get/size/30" || len(pk.Payload) != 30 {
				t.Fatalf("3.1.1 answer %s %d bytes", pk.TopicName, len(pk.Payload))
			}
			break
		}
	}
	parent.next(t) // the same answer, in the same space

	two, _ := dialPaho(t, addr, userConnect("acct-2", "t", true))
	two.sub(t, paho.SubscribeOptions{Topic: "answers", QoS: 1})
	parent.pub(t, &paho.Publish{Topic: "flespi/rest/get/size/40", QoS: 1, Properties: &paho.PublishProperties{ResponseTopic: "answers",
		User: paho.UserProperties{{Key: "response_cid", Value: "2"}}}})
	if m := two.next(t); len(m.Payload) != 40 || fmt.Sprint(userProp(m, "cid")) != "[2]" {
		t.Fatalf("the answer in 2: %d bytes, cid %v", len(m.Payload), userProp(m, "cid"))
	}
	parent.none(t, 100*time.Millisecond)
	two.pub(t, &paho.Publish{Topic: "flespi/rest/get/size/40", QoS: 1, Properties: &paho.PublishProperties{ResponseTopic: "answers",
		User: paho.UserProperties{{Key: "response_cid", Value: "1"}}}})
	if m := two.next(t); fmt.Sprint(userProp(m, "http_code")) != "[403]" {
		t.Fatalf("2 answering into its parent: http_code %v", userProp(m, "http_code"))
	}
	parent.none(t, 100*time.Millisecond)

	const size = 150_000
	parent.pub(t, &paho.Publish{Topic: "flespi/rest/get/size/150000", QoS: 1, Properties: &paho.PublishProperties{ResponseTopic: "answers",
		User: paho.UserProperties{{Key: "response_chunked", Value: "true"}}}})
	var body []byte
	for i := 0; ; i++ {
		m := parent.next(t)
		body = append(body, m.Payload...)
		code := userProp(m, "http_code")
		if len(body) < size {
			if len(code) != 0 || len(m.Payload) != restChunk {
				t.Fatalf("chunk %d: %d bytes, http_code %v", i, len(m.Payload), code)
			}
			continue
		}
		if fmt.Sprint(code) != "[200]" || i != 2 || !bytes.Equal(body, bytes.Repeat([]byte("0123456789"), size/10)) {
			t.Fatalf("last chunk %d: http_code %v, %d bytes in all", i, code, len(body))
		}
		break
	}
}
