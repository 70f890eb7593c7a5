package embedded

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
)

func persistentConnect(user, id string) *paho.Connect {
	cp := userConnect(user, id, false)
	expiry := uint32(3600)
	cp.Properties = &paho.ConnectProperties{SessionExpiryInterval: &expiry}
	return cp
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sessionIDs(t *testing.T, s *Server, ns string) []string {
	t.Helper()
	list, err := s.Sessions(ns)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, si := range list {
		ids = append(ids, si.ClientID)
	}
	return ids
}

func TestAdminSessions(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	p, _ := dialPaho(t, addr, persistentConnect("admin", "persistent"))
	p.sub(t, paho.SubscribeOptions{Topic: "x/#", QoS: 1, NoLocal: true},
		paho.SubscribeOptions{Topic: "$share/g/jobs/+", QoS: 0})
	dialPaho(t, addr, userConnect("admin", "clean", true))
	n, _ := dialPaho(t, addr, userConnect("ns-A", "clean", true)) // same id, another namespace
	n.sub(t, paho.SubscribeOptions{Topic: "$share/g/sensors/+", QoS: 1})

	if got := sessionIDs(t, s, ""); !slices.Equal(got, []string{"clean", "persistent"}) {
		t.Fatalf("root sessions %v", got)
	}
	si, err := s.Session("", "persistent")
	if err != nil {
		t.Fatal(err)
	}
	want := []Subscription{{Filter: "$share/g/jobs/+"}, {Filter: "x/#", QoS: 1, NoLocal: true}}
	if !si.Connected || si.Clean || si.Expiry != time.Hour || !slices.Equal(si.Subscriptions, want) ||
		si.Client == nil || si.Client.ProtocolVersion != 5 {
		t.Fatalf("persistent session %+v", si)
	}
	if si, _ := s.Session("", "clean"); !si.Clean {
		t.Fatalf("clean session %+v", si)
	}
	ns, err := s.Sessions("$acct/A/")
	if err != nil || len(ns) != 1 || ns[0].ClientID != "clean" || ns[0].Namespace != "$acct/A/" ||
		!slices.Equal(ns[0].Subscriptions, []Subscription{{Filter: "$share/g/sensors/+", QoS: 1}}) {
		t.Fatalf("namespace sessions %+v, %v (want the filter as the client wrote it)", ns, err)
	}
	if got := sessionIDs(t, s, "$acct/B/"); len(got) != 0 {
		t.Fatalf("empty namespace lists %v", got)
	}
	if _, err := s.Session("$acct/B/", "clean"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("another namespace's session: %v, want ErrNoSession", err)
	}
	if _, err := s.Sessions("$acct/+/"); err == nil {
		t.Fatal("a namespace with a wildcard was accepted")
	}

	// Offline, the persistent session keeps counting what is queued for it.
	p.Disconnect(&paho.Disconnect{})
	waitUntil(t, "the client to go offline", func() bool { si, _ := s.Session("", "persistent"); return !si.Connected })
	for i := range 3 {
		if err := s.Publish(context.Background(), broker.Message{Topic: "x/1", QoS: 1, Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if si, _ := s.Session("", "persistent"); si.Queued != 3 || si.QueuedBytes == 0 || si.Client != nil {
		t.Fatalf("offline session %+v, want 3 queued", si)
	}
}

// A persistent session subscribed while offline gets, when its client
// returns, what was published meanwhile and the retained messages the
// subscription asked for.
func TestAdminSubscribeOffline(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	ctx := context.Background()
	c, _ := dialPaho(t, addr, persistentConnect("ns-A", "car"))
	c.Disconnect(&paho.Disconnect{})
	waitUntil(t, "the client to go offline", func() bool { si, _ := s.Session("$acct/A/", "car"); return !si.Connected })

	if err := s.Publish(ctx, broker.Message{Topic: "$acct/A/cmd/retained", QoS: 1, Retain: true, Payload: []byte("r")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SubscribeSession(ctx, "$acct/A/", "car", Subscription{Filter: "cmd/+", QoS: 1, ID: 7}); err != nil {
		t.Fatal(err)
	}
	if err := s.SubscribeSession(ctx, "$acct/A/", "nobody", Subscription{Filter: "cmd/+"}); !errors.Is(err, ErrNoSession) {
		t.Fatalf("unknown session: %v", err)
	}
	if err := s.SubscribeSession(ctx, "$acct/A/", "car", Subscription{Filter: "a/#/b"}); !errors.Is(err, broker.ErrBadTopic) {
		t.Fatalf("bad filter: %v", err)
	}
	if err := s.SubscribeSession(ctx, "$acct/A/", "car", Subscription{Filter: "a", QoS: 3}); err == nil {
		t.Fatal("QoS 3 accepted")
	}
	if err := s.Publish(ctx, broker.Message{Topic: "$acct/A/cmd/1", QoS: 1, Payload: []byte("while offline"),
		Properties: broker.Properties{UserProperties: []broker.UserProperty{{Key: "k", Value: "v"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, broker.Message{Topic: "$acct/B/cmd/1", QoS: 1, Payload: []byte("other namespace")}); err != nil {
		t.Fatal(err)
	}
	si, _ := s.Session("$acct/A/", "car")
	if si.Queued != 2 || !slices.Equal(si.Subscriptions, []Subscription{{Filter: "cmd/+", QoS: 1, ID: 7}}) {
		t.Fatalf("session %+v, want the subscription and 2 queued", si)
	}

	c2, ca := dialPaho(t, addr, persistentConnect("ns-A", "car"))
	if !ca.SessionPresent {
		t.Fatal("session not present")
	}
	got := map[string]*paho.Publish{}
	for range 2 {
		m := c2.next(t)
		got[string(m.Payload)] = m
	}
	r, live := got["r"], got["while offline"]
	if r == nil || r.Topic != "cmd/retained" || !r.Retain || live == nil || live.Topic != "cmd/1" ||
		live.Properties.User.Get("k") != "v" || live.Properties.SubscriptionIdentifier == nil || *live.Properties.SubscriptionIdentifier != 7 {
		t.Fatalf("after reconnecting got %+v", got)
	}
	c2.none(t, 100*time.Millisecond)
}

func TestAdminSubscribeOnlineAndUnsubscribe(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	ctx := context.Background()
	c, _ := dialPaho(t, addr, userConnect("admin", "live", true))
	if err := s.Publish(ctx, broker.Message{Topic: "t/r", QoS: 1, Retain: true, Payload: []byte("r")}); err != nil {
		t.Fatal(err)
	}
	if err := s.SubscribeSession(ctx, "", "live", Subscription{Filter: "t/#", QoS: 1, RetainHandling: 2},
		Subscription{Filter: "u/1,2", QoS: 0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(ctx, broker.Message{Topic: "u/2", Payload: []byte("comma list")}); err != nil {
		t.Fatal(err)
	}
	if m := c.next(t); string(m.Payload) != "comma list" { // RetainHandling 2: no retained message
		t.Fatalf("got %s %q", m.Topic, m.Payload)
	}
	removed, err := s.UnsubscribeSession(ctx, "", "live", "t/#", "never/subscribed")
	if err != nil || !slices.Equal(removed, []string{"t/#"}) {
		t.Fatalf("unsubscribe: %v %v", removed, err)
	}
	s.Publish(ctx, broker.Message{Topic: "t/1", QoS: 1, Payload: []byte("after")})
	s.Publish(ctx, broker.Message{Topic: "u/1", Payload: []byte("still")})
	if m := c.next(t); string(m.Payload) != "still" {
		t.Fatalf("got %s %q after unsubscribing t/#", m.Topic, m.Payload)
	}
	c.none(t, 100*time.Millisecond)
}

func TestAdminEndSession(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	ctx := context.Background()
	c, _ := dialPaho(t, addr, persistentConnect("ns-A", "car"))
	c.sub(t, paho.SubscribeOptions{Topic: "x", QoS: 1})
	other, _ := dialPaho(t, addr, persistentConnect("admin", "car")) // the same id outside the namespace

	if err := s.EndSession(ctx, "$acct/A/", "car"); err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-c.disc:
		if d.ReasonCode != 0x98 {
			t.Fatalf("DISCONNECT reason 0x%02x, want 0x98 (administrative action)", d.ReasonCode)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client was not disconnected")
	}
	if _, err := s.Session("$acct/A/", "car"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("after EndSession: %v", err)
	}
	if err := s.EndSession(ctx, "$acct/A/", "car"); !errors.Is(err, ErrNoSession) {
		t.Fatalf("second EndSession: %v", err)
	}
	// The persistent session is gone, not merely offline: a new connection
	// starts afresh and the old subscription is not there.
	c2, ca := dialPaho(t, addr, persistentConnect("ns-A", "car"))
	if ca.SessionPresent {
		t.Fatal("session present after EndSession")
	}
	s.Publish(ctx, broker.Message{Topic: "$acct/A/x", QoS: 1, Payload: []byte("x")})
	c2.none(t, 100*time.Millisecond)
	if si, err := s.Session("", "car"); err != nil || !si.Connected {
		t.Fatalf("the root namespace's car: %+v %v", si, err)
	}
	_ = other

	// An offline persistent session ends too.
	c2.Disconnect(&paho.Disconnect{})
	waitUntil(t, "offline", func() bool { si, _ := s.Session("$acct/A/", "car"); return !si.Connected })
	if err := s.EndSession(ctx, "$acct/A/", "car"); err != nil {
		t.Fatal(err)
	}
	if got := sessionIDs(t, s, "$acct/A/"); len(got) != 0 {
		t.Fatalf("sessions left %v", got)
	}
}

func TestAdminRetained(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, &Config{Authenticator: namespaceAuth(nil)})
	ctx := context.Background()
	for _, topic := range []string{"a/1", "a/2", "a/2/deep", "b/1", "$sys/x", "$acct/A/a/1"} {
		if err := s.Publish(ctx, broker.Message{Topic: topic, QoS: 1, Retain: true, Payload: []byte(topic),
			Properties: broker.Properties{UserProperties: []broker.UserProperty{{Key: "k", Value: topic}}}}); err != nil {
			t.Fatal(err)
		}
	}
	topics := func(ns, filter string) []string {
		t.Helper()
		list, err := s.Retained(ns, filter)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range list {
			if string(m.Payload) != ns+m.Topic || m.Properties.UserProperties[0].Value != ns+m.Topic || m.Created.IsZero() || !m.Retain {
				t.Fatalf("retained %+v", m)
			}
			out = append(out, m.Topic)
		}
		return out
	}
	for _, c := range []struct {
		ns, filter string
		want       []string
	}{
		{"", "a/+", []string{"a/1", "a/2"}},
		{"", "#", []string{"a/1", "a/2", "a/2/deep", "b/1"}}, // not $sys/x, nor the namespace's
		{"", "+/1", []string{"a/1", "b/1"}},
		{"", "a,b/1", []string{"a/1", "b/1"}},
		{"", "$sys/#", []string{"$sys/x"}},
		{"$acct/A/", "#", []string{"a/1"}},
		{"$acct/B/", "#", nil},
	} {
		if got := topics(c.ns, c.filter); !slices.Equal(got, c.want) {
			t.Errorf("Retained(%q, %q) = %v, want %v", c.ns, c.filter, got, c.want)
		}
	}
	if _, err := s.Retained("", "$share/g/a"); !errors.Is(err, broker.ErrBadTopic) {
		t.Fatalf("shared filter: %v", err)
	}

	// A subscriber of the topics gets no empty message for a deletion.
	sub, _ := dialPaho(t, addr, userConnect("admin", "watcher", true))
	sub.sub(t, paho.SubscribeOptions{Topic: "a/#", QoS: 1, RetainHandling: 2})
	deleted, err := s.DeleteRetained(ctx, "", "a/1", "a/2", "a/2/deep", "a/none")
	if err != nil || !slices.Equal(deleted, []string{"a/1", "a/2", "a/2/deep"}) {
		t.Fatalf("DeleteRetained: %v %v", deleted, err)
	}
	if got := topics("", "#"); !slices.Equal(got, []string{"b/1"}) {
		t.Fatalf("left %v", got)
	}
	if got := topics("$acct/A/", "#"); !slices.Equal(got, []string{"a/1"}) {
		t.Fatalf("the namespace's retained message went with the root's: %v", got)
	}
	if deleted, _ := s.DeleteRetained(ctx, "$acct/A/", "a/1"); !slices.Equal(deleted, []string{"a/1"}) {
		t.Fatalf("namespace delete: %v", deleted)
	}
	if _, err := s.DeleteRetained(ctx, "", "b/1", "b/+"); !errors.Is(err, broker.ErrBadTopic) {
		t.Fatalf("a filter given to DeleteRetained: %v", err)
	}
	if n := s.retained.len(); n != 2 {
		t.Fatalf("%d retained messages left, want 2 (b/1, $sys/x)", n)
	}
	sub.none(t, 100*time.Millisecond)
	// A new subscriber does not get the deleted ones.
	late, _ := dialPaho(t, addr, userConnect("admin", "late", true))
	late.sub(t, paho.SubscribeOptions{Topic: "#", QoS: 1})
	if m := late.next(t); m.Topic != "b/1" {
		t.Fatalf("late subscriber got %s", m.Topic)
	}
	late.none(t, 100*time.Millisecond)
}
