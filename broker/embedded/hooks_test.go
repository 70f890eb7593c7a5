package embedded

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// namespaceAuth admits "ns-NAME" into namespace "$acct/NAME/" (everything
// allowed inside it), "admin" without a namespace (everything allowed),
// and "icpt-NAME" into "$acct/NAME/" with the interceptor ic.
func namespaceAuth(ic Interceptor) Authenticator {
	return AuthenticatorFunc(func(_ context.Context, info ConnectInfo) (*Token, error) {
		all := []string{"#"}
		switch u := info.Username; {
		case u == "admin":
			return &Token{Name: u, Publish: all, Subscribe: all}, nil
		case strings.HasPrefix(u, "ns-"):
			return &Token{Name: u, Publish: all, Subscribe: all, Namespace: "$acct/" + u[3:] + "/"}, nil
		case strings.HasPrefix(u, "icpt-"):
			return &Token{Name: u, Publish: all, Subscribe: all, Namespace: "$acct/" + u[5:] + "/", Intercept: ic}, nil
		case u == "bad-ns":
			return &Token{Name: u, Publish: all, Subscribe: all, Namespace: "$acct/+/"}, nil
		}
		return nil, ErrBadCredentials
	})
}

func userConnect(user, id string, clean bool) *paho.Connect {
	return &paho.Connect{ClientID: id, CleanStart: clean, KeepAlive: 30, Username: user, UsernameFlag: true}
}

func TestNamespaceIsolation(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	a, _ := dialPaho(t, addr, userConnect("ns-A", "same-id", true))
	b, _ := dialPaho(t, addr, userConnect("ns-B", "same-id", true)) // no takeover across namespaces
	admin, _ := dialPaho(t, addr, userConnect("admin", "admin", true))
	for _, c := range []*pahoClient{a, b} {
		c.sub(t, paho.SubscribeOptions{Topic: "sensors/#", QoS: 1})
		c.sub(t, paho.SubscribeOptions{Topic: "$share/g/jobs/+", QoS: 1})
	}
	admin.sub(t, paho.SubscribeOptions{Topic: "#", QoS: 1})
	col := newCollector()
	mustSub(t, s, "$acct/+/sensors/#", col)

	a.pub(t, &paho.Publish{Topic: "sensors/1", QoS: 1, Payload: []byte("from A")})
	if m := a.next(t); m.Topic != "sensors/1" || string(m.Payload) != "from A" {
		t.Fatalf("A got %s %q", m.Topic, m.Payload)
	}
	if m := col.next(t); m.Topic != "$acct/A/sensors/1" {
		t.Fatalf("in-process subscriber got topic %q, want the broker's $acct/A/sensors/1", m.Topic)
	}
	b.none(t, 100*time.Millisecond)
	admin.none(t, 0) // "#" does not match "$acct/…"

	// The shared group is per namespace: B's member gets B's job.
	b.pub(t, &paho.Publish{Topic: "jobs/7", QoS: 1, Payload: []byte("B job")})
	if m := b.next(t); m.Topic != "jobs/7" {
		t.Fatalf("B got %s", m.Topic)
	}
	a.none(t, 100*time.Millisecond)

	// In-process code reaches exactly one namespace.
	if err := s.Publish(context.Background(), broker.Message{Topic: "$acct/B/sensors/x", QoS: 1, Payload: []byte("to B")}); err != nil {
		t.Fatal(err)
	}
	if m := b.next(t); m.Topic != "sensors/x" || string(m.Payload) != "to B" {
		t.Fatalf("B got %s %q", m.Topic, m.Payload)
	}
	a.none(t, 100*time.Millisecond)

	// A client in the shared space cannot reach into a namespace by
	// naming it: "#" rights do not cover "$…" topics.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pr, err := admin.Publish(ctx, &paho.Publish{Topic: "$acct/A/sensors/1", QoS: 1, Payload: []byte("intruder")})
	if err == nil && (pr == nil || pr.ReasonCode < 0x80) {
		t.Fatalf("publish into a namespace from outside: %+v", pr)
	}
	a.none(t, 100*time.Millisecond)
}

func TestNamespaceRetainedWillAndUnsubscribe(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	a, _ := dialPaho(t, addr, userConnect("ns-A", "a1", true))
	a.pub(t, &paho.Publish{Topic: "cfg/x", QoS: 1, Retain: true, Payload: []byte("A's")})
	b, _ := dialPaho(t, addr, userConnect("ns-B", "b1", true))
	b.sub(t, paho.SubscribeOptions{Topic: "cfg/#", QoS: 1})
	b.none(t, 100*time.Millisecond) // A's retained message is A's
	a2, _ := dialPaho(t, addr, userConnect("ns-A", "a2", true))
	a2.sub(t, paho.SubscribeOptions{Topic: "cfg/#", QoS: 1})
	if m := a2.next(t); m.Topic != "cfg/x" || !m.Retain {
		t.Fatalf("retained: %s retain=%v", m.Topic, m.Retain)
	}
	// UNSUBSCRIBE names the subscription as the client wrote it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ua, err := a2.Unsubscribe(ctx, &paho.Unsubscribe{Topics: []string{"cfg/#"}})
	if err != nil || ua.Reasons[0] != 0 {
		t.Fatalf("unsubscribe: %v %+v", err, ua)
	}
	a.pub(t, &paho.Publish{Topic: "cfg/y", QoS: 1, Payload: []byte("after")})
	a2.none(t, 100*time.Millisecond)

	// The will goes to the namespace.
	col := newCollector()
	mustSub(t, s, "$acct/A/will", col)
	r := dialRaw(t, addr)
	r.connect("w", true, 30, func(pk *packets.Packet) {
		pk.Connect.Username, pk.Connect.UsernameFlag = []byte("ns-A"), true
		pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload, pk.Connect.WillQos = true, "will", []byte("gone"), 1
	})
	r.nc.Close()
	if m := col.next(t); m.Topic != "$acct/A/will" || string(m.Payload) != "gone" {
		t.Fatalf("will: %s %q", m.Topic, m.Payload)
	}
}

// A persistent session inside a namespace gets, on reconnection, what
// was published to it while it was away; topic aliases toward the client
// are keyed by the topic it sees.
func TestNamespacePersistentSessionAndAliases(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	cp := userConnect("ns-D", "dev", true)
	cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: u32(60)}
	d, _ := dialPaho(t, addr, cp)
	d.sub(t, paho.SubscribeOptions{Topic: "rpc/request/+", QoS: 1})
	d.Disconnect(&paho.Disconnect{})
	time.Sleep(50 * time.Millisecond)
	ctx := context.Background()
	for _, id := range []string{"1", "2"} {
		if err := s.Publish(ctx, broker.Message{Topic: "$acct/D/rpc/request/" + id, QoS: 1, Payload: []byte(id)}); err != nil {
			t.Fatal(err)
		}
	}
	cp.CleanStart = false
	d2, ca := dialPaho(t, addr, cp)
	if !ca.SessionPresent {
		t.Fatal("session not present")
	}
	for _, want := range []string{"rpc/request/1", "rpc/request/2"} {
		if m := d2.next(t); m.Topic != want {
			t.Fatalf("missed message: got %q, want %q", m.Topic, want)
		}
	}
	// The same client ID outside the namespace is another session.
	other, ca := dialPaho(t, addr, &paho.Connect{ClientID: "dev", KeepAlive: 30, Username: "admin", UsernameFlag: true})
	if ca.SessionPresent {
		t.Fatal("namespaced session visible outside its namespace")
	}
	other.Disconnect(&paho.Disconnect{})

	// Topic aliases: the first delivery names the topic the client sees
	// and sets the alias, the next use the alias alone.
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("aliases", true, 30, func(pk *packets.Packet) {
		pk.Connect.Username, pk.Connect.UsernameFlag = []byte("ns-D"), true
		pk.Properties.TopicAliasMaximum = 4
	})
	r.subscribe(1, subOpt("rpc/request/+", 1))
	for i := 0; i < 3; i++ {
		if err := s.Publish(ctx, broker.Message{Topic: "$acct/D/rpc/request/9", QoS: 1, Payload: []byte("again")}); err != nil {
			t.Fatal(err)
		}
		m := r.read()
		if m == nil || m.Properties.TopicAlias != 1 {
			t.Fatalf("delivery %d: %+v", i, m)
		}
		if want := map[bool]string{true: "rpc/request/9", false: ""}[i == 0]; m.TopicName != want {
			t.Fatalf("delivery %d: topic %q, want %q", i, m.TopicName, want)
		}
		r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: m.PacketID})
	}
}

func TestNamespaceInvalidRefused(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	r := dialRaw(t, addr)
	r.v = 5
	ca := r.connect("x", true, 30, func(pk *packets.Packet) {
		pk.Connect.Username, pk.Connect.UsernameFlag = []byte("bad-ns"), true
	})
	if ca.ReasonCode != 0x80 {
		t.Fatalf("CONNACK 0x%02x, want 0x80 for a namespace with a wildcard", ca.ReasonCode)
	}
}

// recordingInterceptor consumes publishes under "api/", refusing
// "api/bad" with 0x99 and disconnecting on "api/fail", and passes
// everything else on.
type recordingInterceptor struct {
	seen  chan broker.Message
	owner atomic.Value // *Client of the last call
}

func (r *recordingInterceptor) InterceptPublish(_ context.Context, c *Client, m broker.Message) Verdict {
	r.owner.Store(c)
	switch {
	case m.Topic == "api/panic":
		panic("interceptor bug")
	case m.Topic == "api/fail":
		return Verdict{Handled: true, NoAck: true, Disconnect: true, Code: 0x83}
	case m.Topic == "api/bad":
		return Verdict{Handled: true, Code: 0x99}
	case strings.HasPrefix(m.Topic, "api/"):
		r.seen <- m
		return Verdict{Handled: true}
	}
	return Verdict{}
}

func TestInterceptor(t *testing.T) {
	t.Parallel()
	ic := &recordingInterceptor{seen: make(chan broker.Message, 10)}
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(ic)})
	col := newCollector()
	mustSub(t, s, "$acct/+/#", col)
	c, _ := dialPaho(t, addr, userConnect("icpt-X", "dev-1", true))

	// Consumed: acknowledged with success, seen as the client wrote it,
	// not routed.
	c.pub(t, &paho.Publish{Topic: "api/telemetry", QoS: 1, Payload: []byte(`{"t":1}`)})
	m := <-ic.seen
	if m.Topic != "api/telemetry" || string(m.Payload) != `{"t":1}` || m.QoS != 1 {
		t.Fatalf("interceptor saw %+v", m)
	}
	if cl := ic.owner.Load().(*Client); cl.ID != "dev-1" || cl.Username != "icpt-X" || cl.Token.Namespace != "$acct/X/" {
		t.Fatalf("interceptor's client: %+v", cl)
	}
	select {
	case m := <-col.ch:
		t.Fatalf("consumed publish was routed: %s", m.Topic)
	case <-time.After(100 * time.Millisecond):
	}
	// Refused with a reason code (MQTT 5).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pr, _ := c.Publish(ctx, &paho.Publish{Topic: "api/bad", QoS: 1, Payload: []byte("x")})
	if pr == nil || pr.ReasonCode != 0x99 {
		t.Fatalf("PUBACK %+v, want reason 0x99", pr)
	}
	// Passed on: routed into the namespace as usual.
	c.pub(t, &paho.Publish{Topic: "other", QoS: 1, Payload: []byte("y")})
	if m := col.next(t); m.Topic != "$acct/X/other" {
		t.Fatalf("passed publish routed to %q", m.Topic)
	}
	// QoS 0 is offered too.
	c.pub(t, &paho.Publish{Topic: "api/q0", QoS: 0, Payload: []byte("z")})
	if m := <-ic.seen; m.Topic != "api/q0" {
		t.Fatalf("QoS 0: %s", m.Topic)
	}
}

// NoAck with Disconnect: no PUBACK, the connection closes with the reason
// code, and a persistent 3.1.1 client resends the message with DUP after
// reconnecting; a panicking interceptor costs its connection only.
func TestInterceptorWithholdsAck(t *testing.T) {
	t.Parallel()
	ic := &recordingInterceptor{seen: make(chan broker.Message, 10)}
	_, addr := startServer(t, &Config{Authenticator: namespaceAuth(ic)})
	asUser := func(user string) func(*packets.Packet) {
		return func(pk *packets.Packet) { pk.Connect.Username, pk.Connect.UsernameFlag = []byte(user), true }
	}
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("v5", true, 30, asUser("icpt-X"))
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 3, TopicName: "api/fail", Payload: []byte("x")})
	var got []string
	for pk := r.read(); pk != nil; pk = r.read() {
		got = append(got, strings.ToLower(packets.PacketNames[pk.FixedHeader.Type]))
		if pk.FixedHeader.Type == packets.Disconnect && pk.ReasonCode != 0x83 {
			t.Fatalf("DISCONNECT reason 0x%02x, want 0x83", pk.ReasonCode)
		}
		if pk.FixedHeader.Type == packets.Puback {
			t.Fatal("PUBACK sent for a withheld publish")
		}
	}
	if len(got) != 1 || got[0] != "disconnect" {
		t.Fatalf("packets after the refused publish: %v", got)
	}

	// MQTT 3.1.1, refused with 0x99: a plain PUBACK.
	r3 := dialRaw(t, addr)
	r3.connect("v3", true, 30, asUser("icpt-X"))
	r3.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 4, TopicName: "api/bad", Payload: []byte("x")})
	if ack := r3.read(); ack == nil || ack.FixedHeader.Type != packets.Puback || ack.PacketID != 4 {
		t.Fatalf("want PUBACK 4, got %+v", ack)
	}

	// A panic closes that connection; others go on.
	other := dialRaw(t, addr)
	other.connect("other", true, 30, asUser("icpt-Y"))
	p := dialRaw(t, addr)
	p.connect("panicky", true, 30, asUser("icpt-X"))
	p.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 5, TopicName: "api/panic", Payload: []byte("x")})
	if pk := p.read(); pk != nil {
		t.Fatalf("after a panic: %+v", pk)
	}
	other.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 6, TopicName: "api/ok", Payload: []byte("x")})
	if ack := other.read(); ack == nil || ack.FixedHeader.Type != packets.Puback || ack.PacketID != 6 {
		t.Fatalf("other client after a panic: %+v", ack)
	}
}

func TestRefuseErrorAndAnonymousAuthenticator(t *testing.T) {
	t.Parallel()
	auth := AuthenticatorFunc(func(_ context.Context, info ConnectInfo) (*Token, error) {
		switch {
		case info.ClientID == "known" && info.Username == "":
			return &Token{Name: "by-client-id", Publish: []string{"#"}}, nil
		case info.Username == "choose":
			return nil, &RefuseError{Code: 0x85, Err: errors.New("identifier rejected")}
		}
		return nil, ErrBadCredentials
	})
	_, addr := startServer(t, &Config{Authenticator: auth})
	for _, tc := range []struct {
		v        byte
		id, user string
		want     byte
	}{
		{5, "known", "", 0},       // no credentials: the Authenticator decides
		{4, "known", "", 0},       //
		{5, "stranger", "", 0x87}, // refused anonymous: "not authorized", as before
		{4, "stranger", "", 5},    //
		{5, "x", "choose", 0x85},  // the Authenticator's own code
		{4, "x", "choose", 2},     //
		{5, "x", "wrong", 0x86},   // bad credentials
		{4, "x", "wrong", 4},      //
	} {
		r := dialRaw(t, addr)
		r.v = tc.v
		ca := r.connect(tc.id, true, 30, func(pk *packets.Packet) {
			if tc.user != "" {
				pk.Connect.Username, pk.Connect.UsernameFlag = []byte(tc.user), true
			}
		})
		if ca.ReasonCode != tc.want {
			t.Errorf("v%d id %q user %q: CONNACK 0x%02x, want 0x%02x", tc.v, tc.id, tc.user, ca.ReasonCode, tc.want)
		}
	}
}

// QoS 2 through an interceptor: PUBREC once, a retransmission (DUP) is
// acknowledged without being offered again, PUBREL completes it.
func TestInterceptorQoS2(t *testing.T) {
	t.Parallel()
	ic := &recordingInterceptor{seen: make(chan broker.Message, 10)}
	_, addr := startServer(t, &Config{Authenticator: namespaceAuth(ic)})
	r := dialRaw(t, addr)
	r.connect("q2", true, 30, func(pk *packets.Packet) { pk.Connect.Username, pk.Connect.UsernameFlag = []byte("icpt-X"), true })
	pub := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2}, PacketID: 7, TopicName: "api/q2", Payload: []byte("x")}
	r.sendPacket(pub)
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pubrec || pk.PacketID != 7 {
		t.Fatalf("want PUBREC 7, got %+v", pk)
	}
	pub.FixedHeader.Dup = true
	r.sendPacket(pub)
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pubrec || pk.PacketID != 7 {
		t.Fatalf("retransmission: want PUBREC 7, got %+v", pk)
	}
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: 7})
	if pk := r.read(); pk == nil || pk.FixedHeader.Type != packets.Pubcomp || pk.ReasonCode != 0 {
		t.Fatalf("want PUBCOMP, got %+v", pk)
	}
	<-ic.seen
	select {
	case m := <-ic.seen:
		t.Fatalf("retransmission offered again: %+v", m)
	case <-time.After(100 * time.Millisecond):
	}
}

// The context an interceptor is given may be kept: it ends when the
// client disconnects (it is made on first use, not per connection).
func TestInterceptorContextEndsWithConnection(t *testing.T) {
	t.Parallel()
	ctxs := make(chan context.Context, 1)
	ic := InterceptorFunc(func(ctx context.Context, _ *Client, _ broker.Message) Verdict {
		ctxs <- ctx
		return Verdict{}
	})
	_, addr := startServer(t, &Config{Authenticator: namespaceAuth(ic)})
	c, _ := dialPaho(t, addr, userConnect("icpt-Y", "dev-ctx", true))
	c.pub(t, &paho.Publish{Topic: "a", QoS: 1, Payload: []byte("x")})
	ctx := <-ctxs
	if err := ctx.Err(); err != nil {
		t.Fatalf("context ended while connected: %v", err)
	}
	c.pub(t, &paho.Publish{Topic: "b", QoS: 1, Payload: []byte("y")})
	if again := <-ctxs; again != ctx {
		t.Fatal("a second publish got another context")
	}
	c.Disconnect(&paho.Disconnect{})
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("interceptor's context still live 5 s after the client disconnected")
	}
}
