package embedded

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

func u32(v uint32) *uint32 { return &v }
func u16(v uint16) *uint16 { return &v }

func TestPubSubQoS(t *testing.T) {
	_, addr := startServer(t, nil)
	sub, _ := dialPaho(t, addr, nil)
	sa := sub.sub(t, paho.SubscribeOptions{Topic: "a/+/c", QoS: 2})
	if sa.Reasons[0] != 2 {
		t.Fatalf("granted %v", sa.Reasons)
	}
	pub, _ := dialPaho(t, addr, nil)
	for qos := byte(0); qos <= 2; qos++ {
		payload := []byte(fmt.Sprintf("qos%d", qos))
		pub.pub(t, &paho.Publish{Topic: "a/b/c", QoS: qos, Payload: payload,
			Properties: &paho.PublishProperties{ContentType: "text/plain", User: paho.UserProperties{{Key: "k", Value: "v"}}}})
		m := sub.next(t)
		if m.Topic != "a/b/c" || !bytes.Equal(m.Payload, payload) || m.QoS != qos {
			t.Fatalf("got %s %q qos %d", m.Topic, m.Payload, m.QoS)
		}
		if m.Properties.ContentType != "text/plain" || m.Properties.User.Get("k") != "v" {
			t.Fatalf("properties lost: %+v", m.Properties)
		}
	}
	// Granted QoS caps delivery.
	sub.sub(t, paho.SubscribeOptions{Topic: "low", QoS: 0})
	pub.pub(t, &paho.Publish{Topic: "low", QoS: 2, Payload: []byte("x")})
	if m := sub.next(t); m.QoS != 0 {
		t.Fatalf("delivered at QoS %d over granted 0", m.QoS)
	}
	pub.pub(t, &paho.Publish{Topic: "a/b/d", QoS: 1, Payload: []byte("no")})
	sub.none(t, 100*time.Millisecond)
}

func TestWildcardsAndDollar(t *testing.T) {
	s := New(&Config{})
	defer s.Close()
	ctx := context.Background()
	all, hash, sys := newCollector(), newCollector(), newCollector()
	mustSub(t, s, "#", all)
	mustSub(t, s, "a/#", hash)
	mustSub(t, s, "$SYS/+", sys)
	for _, topic := range []string{"a", "a/b", "$SYS/x", "/lead"} {
		if err := s.Publish(ctx, broker.Message{Topic: topic, Payload: []byte(topic)}); err != nil {
			t.Fatal(err)
		}
	}
	got := func(c *collector) []string {
		var out []string
		for {
			select {
			case m := <-c.ch:
				out = append(out, m.Topic)
			case <-time.After(100 * time.Millisecond):
				return out
			}
		}
	}
	if g := fmt.Sprint(got(all)); g != "[a a/b /lead]" {
		t.Errorf("# got %s", g)
	}
	if g := fmt.Sprint(got(hash)); g != "[a a/b]" {
		t.Errorf("a/# got %s", g)
	}
	if g := fmt.Sprint(got(sys)); g != "[$SYS/x]" {
		t.Errorf("$SYS/+ got %s", g)
	}
}

func mustSub(t testing.TB, s *Server, filter string, h broker.Handler) broker.Subscription {
	t.Helper()
	sub, err := s.Subscribe(context.Background(), filter, h)
	if err != nil {
		t.Fatalf("subscribe %q: %v", filter, err)
	}
	return sub
}

func TestInProcessAndNetwork(t *testing.T) {
	s, addr := startServer(t, nil)
	ctx := context.Background()
	col := newCollector()
	sub := mustSub(t, s, "dev/+/telemetry", col)
	c, _ := dialPaho(t, addr, nil)
	c.sub(t, paho.SubscribeOptions{Topic: "cmd/#", QoS: 1})
	c.pub(t, &paho.Publish{Topic: "dev/7/telemetry", QoS: 1, Payload: []byte("42"),
		Properties: &paho.PublishProperties{User: paho.UserProperties{{Key: "a", Value: "b"}}}})
	m := col.next(t)
	if m.Topic != "dev/7/telemetry" || string(m.Payload) != "42" || m.QoS != 1 {
		t.Fatalf("in-process got %+v", m)
	}
	if v, _ := m.Properties.UserProperty("a"); v != "b" {
		t.Fatalf("user property lost: %+v", m.Properties)
	}
	if err := s.Publish(ctx, broker.Message{Topic: "cmd/7", QoS: 1, Payload: []byte("reboot"),
		Properties: broker.Properties{ResponseTopic: "resp/7", CorrelationData: []byte{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	got := c.next(t)
	if got.Topic != "cmd/7" || string(got.Payload) != "reboot" || got.Properties.ResponseTopic != "resp/7" ||
		!bytes.Equal(got.Properties.CorrelationData, []byte{1, 2}) {
		t.Fatalf("network got %+v %+v", got, got.Properties)
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	c.pub(t, &paho.Publish{Topic: "dev/7/telemetry", QoS: 1, Payload: []byte("43")})
	select {
	case m := <-col.ch:
		t.Fatalf("message after Unsubscribe: %+v", m)
	case <-time.After(100 * time.Millisecond):
	}
	if err := s.Publish(ctx, broker.Message{Topic: "bad/+"}); err == nil {
		t.Fatal("publish to a wildcard topic succeeded")
	}
}

func TestInProcessRedeliversOnHandlerError(t *testing.T) {
	s := New(nil)
	defer s.Close()
	calls := make(chan string, 10)
	fails := 2
	mustSub(t, s, "x", broker.HandlerFunc(func(_ context.Context, m broker.Message) error {
		calls <- string(m.Payload)
		if fails > 0 {
			fails--
			return fmt.Errorf("not yet")
		}
		return nil
	}))
	s.Publish(context.Background(), broker.Message{Topic: "x", QoS: 1, Payload: []byte("one")})
	s.Publish(context.Background(), broker.Message{Topic: "x", QoS: 1, Payload: []byte("two")})
	var got []string
	for len(got) < 4 {
		select {
		case p := <-calls:
			got = append(got, p)
		case <-time.After(3 * time.Second):
			t.Fatalf("got %v", got)
		}
	}
	if fmt.Sprint(got) != "[one one one two]" {
		t.Fatalf("calls %v, want one redelivered twice, in order", got)
	}
}

func TestRetained(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, Timestamps: true})
	ctx := context.Background()
	s.Publish(ctx, broker.Message{Topic: "state/1", Payload: []byte("on"), Retain: true, QoS: 1})
	pub, _ := dialPaho(t, addr, nil)
	pub.pub(t, &paho.Publish{Topic: "state/2", Payload: []byte("off"), Retain: true, QoS: 1})
	pub.pub(t, &paho.Publish{Topic: "state/3", Payload: []byte("gone"), Retain: true, QoS: 1,
		Properties: &paho.PublishProperties{MessageExpiry: u32(1)}})
	pub.pub(t, &paho.Publish{Topic: "state/4", Payload: []byte("x"), Retain: true})
	pub.pub(t, &paho.Publish{Topic: "state/4", Payload: nil, Retain: true}) // deletes
	time.Sleep(1100 * time.Millisecond)
	c, _ := dialPaho(t, addr, nil)
	c.sub(t, paho.SubscribeOptions{Topic: "state/#", QoS: 1})
	m1, m2 := c.next(t), c.next(t)
	if m1.Topic != "state/1" || !m1.Retain || m2.Topic != "state/2" || string(m2.Payload) != "off" {
		t.Fatalf("retained: %s %v, %s %q", m1.Topic, m1.Retain, m2.Topic, m2.Payload)
	}
	if m1.Properties.User.Get("timestamp") == "" {
		t.Fatalf("no timestamp user property: %+v", m1.Properties.User)
	}
	c.none(t, 100*time.Millisecond)
	// Retain handling 2: no retained on subscribe.
	c2, _ := dialPaho(t, addr, nil)
	c2.sub(t, paho.SubscribeOptions{Topic: "state/#", QoS: 1, RetainHandling: 2})
	c2.none(t, 100*time.Millisecond)
	// Live messages carry retain only with Retain As Published.
	pub.pub(t, &paho.Publish{Topic: "state/1", Payload: []byte("off"), Retain: true, QoS: 1})
	if m := c2.next(t); m.Retain {
		t.Fatal("retain flag set on live delivery without retain-as-published")
	}
}

func TestRetainedMaxAgeFromTimestamp(t *testing.T) {
	t.Parallel()
	s := New(&Config{RetainedMaxAge: time.Hour})
	defer s.Close()
	ctx := context.Background()
	old := fmt.Sprint(time.Now().Add(-2 * time.Hour).Unix())
	s.Publish(ctx, broker.Message{Topic: "t/old", Payload: []byte("1"), Retain: true,
		Properties: broker.Properties{UserProperties: []broker.UserProperty{{Key: "timestamp", Value: old}}}})
	s.Publish(ctx, broker.Message{Topic: "t/new", Payload: []byte("2"), Retain: true})
	col := newCollector()
	mustSub(t, s, "t/+", col)
	if m := col.next(t); m.Topic != "t/new" {
		t.Fatalf("got %s", m.Topic)
	}
	select {
	case m := <-col.ch:
		t.Fatalf("expired retained message delivered: %s", m.Topic)
	case <-time.After(100 * time.Millisecond):
	}
	s.retained.sweep(time.Now(), time.Hour)
	if n := s.retained.len(); n != 1 {
		t.Fatalf("%d retained after sweep, want 1", n)
	}
}

func TestPersistentSessionV5(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, nil)
	cp := &paho.Connect{ClientID: "persist", CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(60)}}
	c, _ := dialPaho(t, addr, cp)
	c.sub(t, paho.SubscribeOptions{Topic: "q/#", QoS: 2})
	c.Disconnect(&paho.Disconnect{})
	time.Sleep(50 * time.Millisecond)
	pub, _ := dialPaho(t, addr, nil)
	for i, qos := range []byte{0, 1, 2} {
		pub.pub(t, &paho.Publish{Topic: fmt.Sprintf("q/%d", i), QoS: qos, Payload: []byte{byte('0' + i)}})
	}
	cp.CleanStart = false
	c2, ca := dialPaho(t, addr, cp)
	if !ca.SessionPresent {
		t.Fatal("session not present")
	}
	m1, m2 := c2.next(t), c2.next(t)
	if m1.Topic != "q/1" || m2.Topic != "q/2" || m2.QoS != 2 {
		t.Fatalf("offline queue: %s(%d) %s(%d); QoS 0 should be dropped", m1.Topic, m1.QoS, m2.Topic, m2.QoS)
	}
	c2.none(t, 100*time.Millisecond)
	// Session expiry 0 at disconnect ends the session.
	c2.Disconnect(&paho.Disconnect{Properties: &paho.DisconnectProperties{SessionExpiryInterval: u32(0)}})
	time.Sleep(50 * time.Millisecond)
	_, ca = dialPaho(t, addr, cp)
	if ca.SessionPresent {
		t.Fatal("session survived expiry 0")
	}
}

func TestPersistentSessionV311Redelivery(t *testing.T) {
	_, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.connect("v3", false, 30, nil)
	if sa := r.subscribe(1, packets.Subscription{Filter: "r/#", Qos: 1}); sa.ReasonCodes[0] != 1 {
		t.Fatalf("suback %v", sa.ReasonCodes)
	}
	pub := dialRaw(t, addr)
	pub.connect("pub", true, 30, nil)
	pub.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 9,
		TopicName: "r/1", Payload: []byte("hello")})
	if ack := pub.read(); ack.FixedHeader.Type != packets.Puback || ack.PacketID != 9 {
		t.Fatalf("want PUBACK 9, got %+v", ack)
	}
	m := r.read()
	if m.FixedHeader.Type != packets.Publish || m.FixedHeader.Dup {
		t.Fatalf("got %+v", m)
	}
	// Drop the connection without acknowledging: the message comes again, DUP set.
	r.nc.Close()
	time.Sleep(50 * time.Millisecond)
	r2 := dialRaw(t, addr)
	ca := r2.connect("v3", false, 30, nil)
	if !ca.SessionPresent {
		t.Fatal("session not present")
	}
	m2 := r2.read()
	if m2.FixedHeader.Type != packets.Publish || !m2.FixedHeader.Dup || m2.PacketID != m.PacketID || string(m2.Payload) != "hello" {
		t.Fatalf("redelivery: %+v", m2)
	}
	r2.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: m2.PacketID})
	// Clean session discards it.
	r2.nc.Close()
	r3 := dialRaw(t, addr)
	if ca := r3.connect("v3", true, 30, nil); ca.SessionPresent {
		t.Fatal("clean session reported present")
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{AllowAnonymous: true, MaxSessionIdle: time.Second})
	r := dialRaw(t, addr)
	r.connect("idle", false, 30, nil)
	r.nc.Close()
	time.Sleep(100 * time.Millisecond)
	s.mu.Lock()
	n := len(s.sessions)
	s.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d sessions, want 1 kept", n)
	}
	time.Sleep(1200 * time.Millisecond)
	s.mu.Lock()
	n = len(s.sessions)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d sessions after MaxSessionIdle, want 0", n)
	}
}

func TestWill(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, nil)
	col := newCollector()
	mustSub(t, s, "will/#", col)
	// Abnormal end: will published.
	r := dialRaw(t, addr)
	r.connect("w1", true, 30, func(pk *packets.Packet) {
		pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload, pk.Connect.WillQos = true, "will/w1", []byte("dead"), 1
	})
	r.nc.Close()
	if m := col.next(t); m.Topic != "will/w1" || string(m.Payload) != "dead" {
		t.Fatalf("will: %+v", m)
	}
	// Normal DISCONNECT: no will.
	r = dialRaw(t, addr)
	r.connect("w2", true, 30, func(pk *packets.Packet) {
		pk.Connect.WillFlag, pk.Connect.WillTopic, pk.Connect.WillPayload = true, "will/w2", []byte("dead")
	})
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	select {
	case m := <-col.ch:
		t.Fatalf("will after normal disconnect: %+v", m)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestWillDelay(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, nil)
	col := newCollector()
	mustSub(t, s, "will/#", col)
	cp := func(clean bool) *paho.Connect {
		return &paho.Connect{ClientID: "wd", CleanStart: clean, KeepAlive: 30,
			Properties:     &paho.ConnectProperties{SessionExpiryInterval: u32(30)},
			WillMessage:    &paho.WillMessage{Topic: "will/wd", Payload: []byte("late"), QoS: 1},
			WillProperties: &paho.WillProperties{WillDelayInterval: u32(1)}}
	}
	c, _ := dialPaho(t, addr, cp(true))
	start := time.Now()
	c.TerminateConnectionForTest()
	m := col.next(t)
	if d := time.Since(start); d < 900*time.Millisecond || d > 2*time.Second || m.Topic != "will/wd" {
		t.Fatalf("will after %v: %+v", d, m)
	}
	// Reconnecting within the delay cancels the will.
	c, _ = dialPaho(t, addr, cp(false))
	c.TerminateConnectionForTest()
	time.Sleep(200 * time.Millisecond)
	dialPaho(t, addr, cp(false))
	select {
	case m := <-col.ch:
		t.Fatalf("will despite reconnect: %+v", m)
	case <-time.After(1500 * time.Millisecond):
	}
}

func TestSessionTakeover(t *testing.T) {
	_, addr := startServer(t, nil)
	cp := &paho.Connect{ClientID: "same", CleanStart: true, KeepAlive: 30}
	a, _ := dialPaho(t, addr, cp)
	dialPaho(t, addr, cp)
	select {
	case d := <-a.disc:
		if d.ReasonCode != 0x8E {
			t.Fatalf("takeover reason 0x%x", d.ReasonCode)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("first connection not told about the takeover")
	}
}

func TestSharedSubscription(t *testing.T) {
	s, addr := startServer(t, nil)
	a, _ := dialPaho(t, addr, nil)
	b, _ := dialPaho(t, addr, nil)
	a.sub(t, paho.SubscribeOptions{Topic: "$share/g/jobs/+", QoS: 1})
	b.sub(t, paho.SubscribeOptions{Topic: "$share/g/jobs/+", QoS: 1})
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		s.Publish(ctx, broker.Message{Topic: "jobs/x", QoS: 1, Payload: []byte{byte(i)}})
	}
	na, nb := 0, 0
	for i := 0; i < 10; i++ {
		select {
		case <-a.msgs:
			na++
		case <-b.msgs:
			nb++
		case <-time.After(3 * time.Second):
			t.Fatalf("only %d+%d of 10", na, nb)
		}
	}
	if na != 5 || nb != 5 {
		t.Fatalf("round robin gave %d/%d", na, nb)
	}
	// Sticky share: the same device always lands on the same member.
	a.sub(t, paho.SubscribeOptions{Topic: "$share/st:2/dev/+/m", QoS: 1})
	b.sub(t, paho.SubscribeOptions{Topic: "$share/st:2/dev/+/m", QoS: 1})
	for round := 0; round < 3; round++ {
		for _, dev := range []string{"1", "2", "3", "4"} {
			s.Publish(ctx, broker.Message{Topic: "dev/" + dev + "/m", QoS: 1, Payload: []byte(dev)})
		}
	}
	owner := map[string]string{}
	for i := 0; i < 12; i++ {
		var m *paho.Publish
		who := ""
		select {
		case m = <-a.msgs:
			who = "a"
		case m = <-b.msgs:
			who = "b"
		case <-time.After(3 * time.Second):
			t.Fatal("sticky messages missing")
		}
		if o, ok := owner[string(m.Payload)]; ok && o != who {
			t.Fatalf("device %s moved from %s to %s", m.Payload, o, who)
		}
		owner[string(m.Payload)] = who
	}
}

func TestCommaSubscription(t *testing.T) {
	s := New(nil)
	defer s.Close()
	col := newCollector()
	mustSub(t, s, "flespi/state/gw/devices/123,456/connected", col)
	for _, id := range []string{"123", "789", "456"} {
		s.Publish(context.Background(), broker.Message{Topic: "flespi/state/gw/devices/" + id + "/connected", Payload: []byte(id)})
	}
	if a, b := col.next(t), col.next(t); string(a.Payload) != "123" || string(b.Payload) != "456" {
		t.Fatalf("got %s %s", a.Payload, b.Payload)
	}
}

func TestOverlappingSubscriptionsAndIdentifiers(t *testing.T) {
	_, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("ids", true, 30, nil)
	for i, f := range []string{"o/+", "o/#"} {
		pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: uint16(i + 1),
			Filters: packets.Subscriptions{{Filter: f, Qos: byte(i + 1)}}}
		pk.Properties.SubscriptionIdentifier = []int{i + 2}
		r.sendPacket(pk)
		if sa := r.read(); sa.FixedHeader.Type != packets.Suback {
			t.Fatalf("%+v", sa)
		}
	}
	pub, _ := dialPaho(t, addr, nil)
	pub.pub(t, &paho.Publish{Topic: "o/x", QoS: 2, Payload: []byte("1")})
	m := r.read()
	if m.FixedHeader.Type != packets.Publish || m.FixedHeader.Qos != 2 || fmt.Sprint(m.Properties.SubscriptionIdentifier) != "[2 3]" {
		t.Fatalf("one message at QoS 2 with ids [2 3] expected, got qos %d ids %v", m.FixedHeader.Qos, m.Properties.SubscriptionIdentifier)
	}
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec}, PacketID: m.PacketID})
	if rel := r.read(); rel.FixedHeader.Type != packets.Pubrel || rel.PacketID != m.PacketID {
		t.Fatalf("want PUBREL, got %+v", rel)
	}
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubcomp}, PacketID: m.PacketID})
	r.nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if b, err := r.br.ReadByte(); err == nil {
		t.Fatalf("second copy delivered (header %x)", b)
	}
}

func TestNoLocal(t *testing.T) {
	_, addr := startServer(t, nil)
	c, _ := dialPaho(t, addr, nil)
	c.sub(t, paho.SubscribeOptions{Topic: "nl", QoS: 1, NoLocal: true})
	c.pub(t, &paho.Publish{Topic: "nl", QoS: 1, Payload: []byte("self")})
	c.none(t, 150*time.Millisecond)
}

// TestFilterPerSubscription: two overlapping subscriptions of one client,
// one behind a $filter: each is judged by its own predicate (never a merged
// one), and the subscription identifiers show which matched.
func TestFilterPerSubscription(t *testing.T) {
	s, addr := startServer(t, nil)
	if !s.Supports(broker.FeatureFilterSpec) {
		t.Skip("package broker cannot evaluate $filter specs yet")
	}
	r := dialRaw(t, addr)
	r.v = 5
	r.connect("filters", true, 30, nil)
	for i, f := range []string{"$filter/cid=123/dev/+", "dev/1"} {
		pk := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: uint16(i + 1),
			Filters: packets.Subscriptions{{Filter: f, Qos: 1}}}
		pk.Properties.SubscriptionIdentifier = []int{i + 1}
		r.sendPacket(pk)
		if sa := r.read(); sa.FixedHeader.Type != packets.Suback || sa.ReasonCodes[0] != 1 {
			t.Fatalf("%s: %+v", f, sa)
		}
	}
	ctx := context.Background()
	pub := func(topic, cid string) {
		m := broker.Message{Topic: topic, Payload: []byte(cid)}
		if cid != "" {
			m.Properties.UserProperties = []broker.UserProperty{{Key: "cid", Value: cid}}
		}
		s.Publish(ctx, m)
	}
	pub("dev/1", "456") // only the plain subscription
	pub("dev/2", "123") // only the filtered one
	pub("dev/1", "123") // both: one message, both ids
	pub("dev/2", "456") // neither
	for _, want := range []string{"dev/1 456 [2]", "dev/2 123 [1]", "dev/1 123 [1 2]"} {
		m := r.read()
		if got := fmt.Sprintf("%s %s %v", m.TopicName, m.Payload, m.Properties.SubscriptionIdentifier); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	r.nc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	if _, err := r.br.ReadByte(); err == nil {
		t.Fatal("message delivered that no subscription accepts")
	}
}

func TestMQTT31(t *testing.T) {
	_, addr := startServer(t, nil)
	r := dialRaw(t, addr)
	r.v = 3
	ca := r.connect("old-device", true, 30, func(pk *packets.Packet) {
		pk.Connect.ProtocolName = []byte("MQIsdp")
	})
	if ca.ReasonCode != 0 {
		t.Fatalf("MQTT 3.1 CONNACK return code %d", ca.ReasonCode)
	}
	r.subscribe(1, subOpt("v31/#", 1))
	r.sendPacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 2,
		TopicName: "v31/x", Payload: []byte("hi")})
	var gotAck, gotMsg bool
	for !gotAck || !gotMsg {
		pk := r.read()
		switch {
		case pk == nil:
			t.Fatal("connection ended")
		case pk.FixedHeader.Type == packets.Puback:
			gotAck = true
		case pk.FixedHeader.Type == packets.Publish && string(pk.Payload) == "hi":
			gotMsg = true
		}
	}
}
