package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/gnssgate/gnssgate/broker"
)

// mapSource owns the topics whose first level (after a "$acct/N/"
// namespace) is "src" and serves them from a map. It yields every value
// whatever the filter, so the broker's own matching is what the tests see,
// and records the filters it is asked for.
type mapSource struct {
	mu    sync.Mutex
	vals  map[string]string
	asked []string
	// afterRead, when set, runs once the values are read and before they
	// are yielded (the window of the subscribe/snapshot race).
	afterRead func()
}

func newMapSource() *mapSource { return &mapSource{vals: map[string]string{}} }

func (m *mapSource) Owns(topic string) bool {
	if rest, ok := strings.CutPrefix(topic, "$acct/"); ok {
		_, topic, _ = strings.Cut(rest, "/")
	}
	return strings.HasPrefix(topic, "src/")
}

func (m *mapSource) set(topic, v string) {
	m.mu.Lock()
	m.vals[topic] = v
	m.mu.Unlock()
}

func (m *mapSource) Retained(_ context.Context, filter string, yield func(broker.Message) bool) error {
	m.mu.Lock()
	m.asked = append(m.asked, filter)
	snap := make([]broker.Message, 0, len(m.vals))
	for t, v := range m.vals {
		snap = append(snap, broker.Message{Topic: t, Payload: []byte(v), QoS: 1,
			Properties: broker.Properties{UserProperties: []broker.UserProperty{{Key: "timestamp", Value: "1.5"}}}})
	}
	after := m.afterRead
	m.afterRead = nil
	m.mu.Unlock()
	if after != nil {
		after()
	}
	for _, bm := range snap {
		if !yield(bm) {
			return nil
		}
	}
	return nil
}

func (m *mapSource) filters() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.asked)
}

// drain returns what pc received within d, as "topic=payload r<retain>".
func drain(pc *pahoClient, d time.Duration) []string {
	var out []string
	for {
		select {
		case m := <-pc.msgs:
			out = append(out, fmt.Sprintf("%s=%s r%v", m.Topic, m.Payload, m.Retain))
		case <-time.After(d):
			slices.Sort(out)
			return out
		}
	}
}

// A source's topics are delivered live but never stored; a subscription
// gets the source's current values as retained messages, with the
// subscription's QoS, identifier, $filter and retain handling applied.
func TestRetainedSourceDelivery(t *testing.T) {
	t.Parallel()
	src := newMapSource()
	src.set("src/a", "1")
	src.set("src/b", "2")
	src.set("src/b/c", "3")
	src.set("$x/src/z", "dollar") // owned by no rule: ignored
	s, addr := startServer(t, &Config{AllowAnonymous: true, RetainedSource: src})
	ctx := context.Background()

	// An ordinary retained topic is stored and served alongside.
	if err := s.Publish(ctx, broker.Message{Topic: "other/x", Payload: []byte("o"), QoS: 1, Retain: true}); err != nil {
		t.Fatal(err)
	}
	c, _ := dialPaho(t, addr, nil)
	subID := 7
	sa := c.sub(t, paho.SubscribeOptions{Topic: "src/#", QoS: 0})
	if sa.Reasons[0] != 0 {
		t.Fatalf("suback %v", sa.Reasons)
	}
	if got := drain(c, 300*time.Millisecond); fmt.Sprint(got) != "[src/a=1 rtrue src/b/c=3 rtrue src/b=2 rtrue]" {
		t.Fatalf("src/#: %v", got)
	}

	// QoS is at most the subscription's; the identifier and properties arrive.
	ctx5, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.Subscribe(ctx5, &paho.Subscribe{Properties: &paho.SubscribeProperties{SubscriptionIdentifier: &subID},
		Subscriptions: []paho.SubscribeOptions{{Topic: "src/a", QoS: 2}}}); err != nil {
		t.Fatal(err)
	}
	m := c.next(t)
	if m.Topic != "src/a" || !m.Retain || m.QoS != 1 || m.Properties.SubscriptionIdentifier == nil ||
		*m.Properties.SubscriptionIdentifier != 7 || fmt.Sprint(userProp(m, "timestamp")) != "[1.5]" {
		t.Fatalf("src/a: %+v %+v", m, m.Properties)
	}

	// Comma lists are asked path by path.
	c2, _ := dialPaho(t, addr, nil)
	c2.sub(t, paho.SubscribeOptions{Topic: "src/a,b", QoS: 1})
	if got := drain(c2, 300*time.Millisecond); fmt.Sprint(got) != "[src/a=1 rtrue src/b=2 rtrue]" {
		t.Fatalf("src/a,b: %v", got)
	}
	if f := src.filters(); !slices.Contains(f, "src/a") || !slices.Contains(f, "src/b") {
		t.Fatalf("filters asked: %v", f)
	}

	// $filter applies; retain handling 2 sends nothing, 1 only when new;
	// shared subscriptions get none; "#" reaches both spaces but not '$'.
	c3, _ := dialPaho(t, addr, nil)
	c3.sub(t, paho.SubscribeOptions{Topic: "$filter/message=payload%3D%3D%222%22/src/+", QoS: 1})
	if got := drain(c3, 300*time.Millisecond); fmt.Sprint(got) != "[src/b=2 rtrue]" {
		t.Fatalf("$filter: %v", got)
	}
	c3.sub(t, paho.SubscribeOptions{Topic: "src/b/c", QoS: 1, RetainHandling: 2})
	c3.sub(t, paho.SubscribeOptions{Topic: "src/a", QoS: 1, RetainHandling: 1})
	c3.sub(t, paho.SubscribeOptions{Topic: "src/a", QoS: 1, RetainHandling: 1})
	c3.sub(t, paho.SubscribeOptions{Topic: "$share/g/src/#", QoS: 1})
	if got := drain(c3, 300*time.Millisecond); fmt.Sprint(got) != "[src/a=1 rtrue]" {
		t.Fatalf("retain handling, shared: %v", got)
	}
	c4, _ := dialPaho(t, addr, nil)
	c4.sub(t, paho.SubscribeOptions{Topic: "#", QoS: 1})
	if got := drain(c4, 300*time.Millisecond); fmt.Sprint(got) != "[other/x=o rtrue src/a=1 rtrue src/b/c=3 rtrue src/b=2 rtrue]" {
		t.Fatalf("#: %v", got)
	}

	// A retained publish on an owned topic is delivered, not stored.
	src.set("src/a", "10")
	if err := s.Publish(ctx, broker.Message{Topic: "src/a", Payload: []byte("10"), QoS: 1, Retain: true}); err != nil {
		t.Fatal(err)
	}
	if got := drain(c4, 300*time.Millisecond); fmt.Sprint(got) != "[src/a=10 rfalse]" {
		t.Fatalf("live: %v", got)
	}
	if st := s.Stats(); st.Retained != 1 {
		t.Fatalf("stored retained: %d, want 1 (other/x)", st.Retained)
	}
	// The administrator's listing includes the source's.
	rm, err := s.Retained("", "src/+")
	if err != nil || len(rm) != 2 || string(rm[0].Message.Payload) != "10" {
		t.Fatalf("Retained: %v %+v", err, rm)
	}

	// In-process subscriptions get them too.
	col := newCollector()
	mustSub(t, s, "src/b", col)
	if m := col.next(t); m.Topic != "src/b" || !m.Retain || string(m.Payload) != "2" {
		t.Fatalf("in-process: %+v", m)
	}
}

// A namespaced client's filter reaches the source in the broker's space,
// and its topics come back in the client's; a filter the Authorizer
// refuses reads nothing.
func TestRetainedSourceNamespaces(t *testing.T) {
	t.Parallel()
	src := newMapSource()
	src.set("$acct/2/src/a", "two")
	src.set("$acct/3/src/a", "three")
	src.set("src/a", "root")
	s, addr := startServer(t, &Config{Authenticator: accountAuth(), RetainedSource: src})
	c2, _ := dialPaho(t, addr, userConnect("acct-2", "c2", true))
	c2.sub(t, paho.SubscribeOptions{Topic: "src/#", QoS: 1})
	if got := drain(c2, 300*time.Millisecond); fmt.Sprint(got) != "[src/a=two rtrue]" {
		t.Fatalf("account 2: %v", got)
	}
	if f := src.filters(); !slices.Contains(f, "$acct/2/src/#") {
		t.Fatalf("filters asked: %v", f)
	}
	// Account 1 may select its child 3's space with the "cid" property.
	c1, _ := dialPaho(t, addr, userConnect("acct-1", "c1", true))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c1.Subscribe(ctx, &paho.Subscribe{Properties: &paho.SubscribeProperties{User: paho.UserProperties{{Key: "cid", Value: "3"}}},
		Subscriptions: []paho.SubscribeOptions{{Topic: "src/+", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := drain(c1, 300*time.Millisecond); fmt.Sprint(got) != "[src/a=three rtrue]" {
		t.Fatalf("account 1 in 3's space: %v", got)
	}
	// Account 2 may not select 3's: refused, nothing read for it.
	before := len(src.filters())
	sa, _ := c2.Subscribe(ctx, &paho.Subscribe{Properties: &paho.SubscribeProperties{User: paho.UserProperties{{Key: "cid", Value: "3"}}},
		Subscriptions: []paho.SubscribeOptions{{Topic: "src/+", QoS: 1}}})
	if sa == nil || sa.Reasons[0] < 0x80 {
		t.Fatalf("suback %+v", sa)
	}
	c2.none(t, 200*time.Millisecond)
	if n := len(src.filters()); n != before {
		t.Fatalf("a refused subscription asked the source: %v", src.filters()[before:])
	}
	_ = s
}

// The Authorizer is asked about the filter, as for stored retained
// messages: a refused one gets nothing from the source.
func TestRetainedSourceAuthorizer(t *testing.T) {
	t.Parallel()
	src := newMapSource()
	src.set("src/a", "1")
	src.set("src/b", "2")
	var tokens TokenStore
	tokens.Set("t", &Token{Name: "t", Subscribe: []string{"src/a"}})
	_, addr := startServer(t, &Config{Authenticator: &tokens, RetainedSource: src})
	c, _ := dialPaho(t, addr, &paho.Connect{ClientID: "c", CleanStart: true, KeepAlive: 30, Username: "t", UsernameFlag: true})
	sa := c.sub(t, paho.SubscribeOptions{Topic: "src/#", QoS: 1}, paho.SubscribeOptions{Topic: "src/a", QoS: 1})
	if sa.Reasons[0] != 0x87 || sa.Reasons[1] != 1 {
		t.Fatalf("suback %v", sa.Reasons)
	}
	if got := drain(c, 300*time.Millisecond); fmt.Sprint(got) != "[src/a=1 rtrue]" {
		t.Fatalf("got %v", got)
	}
}

// Subscribed answers for every kind of subscription, offline persistent
// sessions' included, and honours the '$' rule.
func TestSubscribed(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, nil)
	if s.Subscribed("a/b") || s.Subscribed("") {
		t.Fatal("subscribed with no subscriptions")
	}
	cases := []struct {
		filter   string
		yes, not []string
	}{
		{"a/b", []string{"a/b"}, []string{"a", "a/b/c", "a/c"}},
		{"a/+/c", []string{"a/x/c", "a//c"}, []string{"a/x", "a/x/c/d"}},
		{"a/#", []string{"a", "a/x", "a/x/y/z"}, []string{"b", "$a/x"}},
		{"#", []string{"x", "x/y", "/"}, []string{"$SYS/x", "$x"}},
		{"+/x", []string{"a/x", "/x"}, []string{"$a/x", "a/y"}},
		{"$a/#", []string{"$a/x", "$a"}, []string{"$b/x"}},
		{"$share/g/q/+", []string{"q/1"}, []string{"q", "q/1/2"}},
		{"$filter/payload=1/f/+", []string{"f/1"}, []string{"f"}},
		{"c/1,2/d", []string{"c/1/d", "c/2/d"}, []string{"c/3/d"}},
	}
	for _, tc := range cases {
		sub := mustSub(t, s, tc.filter, newCollector())
		for _, tp := range tc.yes {
			if !s.Subscribed(tp) {
				t.Errorf("%s: Subscribed(%q) = false", tc.filter, tp)
			}
		}
		for _, tp := range tc.not {
			if s.Subscribed(tp) {
				t.Errorf("%s: Subscribed(%q) = true", tc.filter, tp)
			}
		}
		sub.Unsubscribe(context.Background())
		for _, tp := range tc.yes {
			if s.Subscribed(tp) {
				t.Errorf("%s unsubscribed: Subscribed(%q) = true", tc.filter, tp)
			}
		}
	}

	// An offline persistent session's subscription counts until it ends.
	c, _ := dialPaho(t, addr, &paho.Connect{ClientID: "p", CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(3600)}})
	c.sub(t, paho.SubscribeOptions{Topic: "p/+", QoS: 1})
	c.Disconnect(&paho.Disconnect{})
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().ClientsConnected > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Stats().ClientsConnected != 0 || !s.Subscribed("p/1") {
		t.Fatalf("offline persistent session: connected %d, Subscribed %v", s.Stats().ClientsConnected, s.Subscribed("p/1"))
	}
	// A clean session's goes with it.
	c2, _ := dialPaho(t, addr, &paho.Connect{ClientID: "q", CleanStart: true, KeepAlive: 30})
	c2.sub(t, paho.SubscribeOptions{Topic: "qq/+", QoS: 1})
	if !s.Subscribed("qq/1") {
		t.Fatal("clean session's subscription not seen")
	}
	c2.Disconnect(&paho.Disconnect{})
	for s.Subscribed("qq/1") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Subscribed("qq/1") {
		t.Fatal("an ended clean session's subscription still counts")
	}
}

// The subscription is in place before the source is read: a change
// committed after the read, and published because Subscribed then says
// so, reaches the new subscriber. afterRead makes the change in exactly
// that window.
func TestRetainedSourceSnapshotRace(t *testing.T) {
	t.Parallel()
	src := newMapSource()
	src.set("src/v", "1")
	s, _ := startServer(t, &Config{AllowAnonymous: true, RetainedSource: src})
	ctx := context.Background()
	// The publisher's rule: commit, then publish if anyone may receive it.
	change := func(v string) {
		src.set("src/v", v)
		if s.Subscribed("src/v") {
			if err := s.Publish(ctx, broker.Message{Topic: "src/v", Payload: []byte(v), QoS: 1, Retain: true}); err != nil {
				t.Error(err)
			}
		}
	}
	src.mu.Lock()
	src.afterRead = func() { change("2") }
	src.mu.Unlock()
	col := newCollector()
	mustSub(t, s, "src/v", col)
	got := []string{string(col.next(t).Payload), string(col.next(t).Payload)}
	if !slices.Contains(got, "2") {
		t.Fatalf("got %v: the change after the snapshot was lost", got)
	}

	// Many subscribers racing many changes: each ends up having seen
	// the last value.
	const subs, changes = 20, 200
	var wg sync.WaitGroup
	cols := make([]*collector, subs)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 3; i < 3+changes; i++ {
			change(fmt.Sprint(i))
		}
	}()
	for i := range cols {
		cols[i] = newCollector()
		mustSub(t, s, "src/+", cols[i])
	}
	wg.Wait()
	last := fmt.Sprint(3 + changes - 1)
	for i, c := range cols {
		seen := false
		for !seen {
			seen = string(c.next(t).Payload) == last
		}
		_ = i
	}
}

// With a data directory, an owned topic's retained publish is not written:
// after a restart only the source answers for it.
func TestRetainedSourceDataDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := newMapSource()
	ctx := context.Background()
	s, err := Open(&Config{DataDir: dir, RetainedSource: src, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []broker.Message{{Topic: "src/a", Payload: []byte("1"), QoS: 1, Retain: true},
		{Topic: "kept/a", Payload: []byte("k"), QoS: 1, Retain: true}} {
		if err := s.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(&Config{DataDir: dir, RetainedSource: src, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.Retained != 1 {
		t.Fatalf("retained after restart: %d, want 1", st.Retained)
	}
	src.set("src/a", "2")
	col := newCollector()
	mustSub(t, s, "+/a", col)
	got := []string{string(col.next(t).Payload), string(col.next(t).Payload)}
	slices.Sort(got)
	if fmt.Sprint(got) != "[2 k]" {
		t.Fatalf("got %v", got)
	}
}

// A closed server says "subscribed", so a publisher learns ErrClosed from
// Publish rather than skipping the message as undeliverable.
func TestSubscribedClosed(t *testing.T) {
	s := New(&Config{Logger: slog.New(slog.DiscardHandler)})
	if s.Subscribed("a") {
		t.Fatal("open, nothing subscribed: true")
	}
	s.Close()
	if !s.Subscribed("a") {
		t.Fatal("closed: false")
	}
}

// Subscribed is asked per published value: it must not allocate.
func TestSubscribedAllocs(t *testing.T) {
	s := New(&Config{Logger: slog.New(slog.DiscardHandler)})
	defer s.Close()
	mustSub(t, s, "z/+/c/#", newCollector())
	if n := testing.AllocsPerRun(100, func() {
		if !s.Subscribed("z/b/c/d") || s.Subscribed("z/b/d") {
			t.Fatal("wrong answer")
		}
	}); n != 0 {
		t.Errorf("Subscribed allocates %.0f times", n)
	}
}

// SubscribedUnder is true exactly when some topic below the prefix is
// Subscribed: every kind of filter Subscribed counts, the '$' rule, and
// the answer follows subscriptions as they come and go.
func TestSubscribedUnder(t *testing.T) {
	t.Parallel()
	s, addr := startServer(t, nil)
	for _, p := range []string{"a/b/", "a/b", "", "$s/a/"} {
		if s.SubscribedUnder(p) {
			t.Fatalf("SubscribedUnder(%q) with no subscriptions", p)
		}
	}
	cases := []struct {
		filter   string
		yes, not []string // prefixes
		topic    string   // a topic below every yes prefix that Subscribed matches
	}{
		{"a/b/c", []string{"a/b/", "a/b", "a/", ""}, []string{"a/b/c/", "a/c/", "b/", "a/b/d/"}, "a/b/c"},
		{"a/b", []string{"a/", "a"}, []string{"a/b/", "a/b"}, "a/b"},
		{"a/#", []string{"a/b/", "a/", "a/b/c/d/"}, []string{"b/", "$a/"}, "a/b/c/d/e"},
		{"#", []string{"a/b/", "x/"}, []string{"$s/a/", "$SYS/"}, "x/y"},
		{"+/b/+", []string{"a/b/", "x/b/", "x/"}, []string{"a/c/", "a/b/c/", "$s/b/"}, "x/b/z"},
		{"+/+", []string{"a/", "x/"}, []string{"a/b/", "$s/"}, "x/y"},
		{"a/+/c/d", []string{"a/b/", "a/b/c/", "a/x/"}, []string{"a/b/d/", "a/b/c/d/"}, "a/x/c/d"},
		{"a/b/#", []string{"a/b/", "a/b/c/d/"}, []string{"a/c/"}, "a/b/c/d/e"},
		{"$s/#", []string{"$s/a/", "$s/"}, []string{"s/a/", "a/b/"}, "$s/a/x"},
		{"$s/+/x", []string{"$s/a/", "$s/"}, []string{"$s/a/x/", "$t/a/"}, "$s/a/x"},
		{"$share/g/a/b/+", []string{"a/b/"}, []string{"a/b/c/", "a/c/"}, "a/b/c"},
		{"$filter/payload=1/a/+/x", []string{"a/b/", "a/"}, []string{"a/b/x/", "b/"}, "a/b/x"},
		{"a/1,b/c", []string{"a/b/", "a/1/"}, []string{"a/2/"}, "a/b/c"},
	}
	for _, tc := range cases {
		sub := mustSub(t, s, tc.filter, newCollector())
		if !s.Subscribed(tc.topic) {
			t.Errorf("%s: Subscribed(%q) = false", tc.filter, tc.topic)
		}
		for _, p := range tc.yes {
			if !s.SubscribedUnder(p) {
				t.Errorf("%s: SubscribedUnder(%q) = false", tc.filter, p)
			}
		}
		for _, p := range tc.not {
			if s.SubscribedUnder(p) {
				t.Errorf("%s: SubscribedUnder(%q) = true", tc.filter, p)
			}
		}
		sub.Unsubscribe(context.Background())
		for _, p := range tc.yes {
			if s.SubscribedUnder(p) {
				t.Errorf("%s unsubscribed: SubscribedUnder(%q) = true", tc.filter, p)
			}
		}
	}

	// Two subscriptions: the answer stays true until the last goes.
	s1 := mustSub(t, s, "d/+/t/#", newCollector())
	s2 := mustSub(t, s, "$share/g/d/7/t/x", newCollector())
	s1.Unsubscribe(context.Background())
	if !s.SubscribedUnder("d/7/t/") || s.SubscribedUnder("d/8/t/") {
		t.Error("the shared subscription left: wrong answers")
	}
	s2.Unsubscribe(context.Background())
	if s.SubscribedUnder("d/7/t/") {
		t.Error("no subscription left: SubscribedUnder true")
	}

	// An offline persistent session's subscription counts; a clean
	// session's goes with it.
	c, _ := dialPaho(t, addr, &paho.Connect{ClientID: "p", CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(3600)}})
	c.sub(t, paho.SubscribeOptions{Topic: "p/+/t/+", QoS: 1})
	c.Disconnect(&paho.Disconnect{})
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().ClientsConnected > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Stats().ClientsConnected != 0 || !s.SubscribedUnder("p/1/t/") {
		t.Fatalf("offline persistent session: connected %d, SubscribedUnder %v", s.Stats().ClientsConnected, s.SubscribedUnder("p/1/t/"))
	}
	c2, _ := dialPaho(t, addr, &paho.Connect{ClientID: "q", CleanStart: true, KeepAlive: 30})
	c2.sub(t, paho.SubscribeOptions{Topic: "qq/1/#", QoS: 1})
	if !s.SubscribedUnder("qq/1/t/") {
		t.Fatal("clean session's subscription not seen")
	}
	c2.Disconnect(&paho.Disconnect{})
	for s.SubscribedUnder("qq/1/t/") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.SubscribedUnder("qq/1/t/") {
		t.Fatal("an ended clean session's subscription still counts")
	}
}

// A closed server says "subscribed", as Subscribed does; the question is
// asked per device and message: it must not allocate.
func TestSubscribedUnderClosedAllocs(t *testing.T) {
	s := New(&Config{Logger: slog.New(slog.DiscardHandler)})
	mustSub(t, s, "z/+/c/#", newCollector())
	mustSub(t, s, "y/1/c/d", newCollector())
	if n := testing.AllocsPerRun(100, func() {
		if !s.SubscribedUnder("z/b/c/") || s.SubscribedUnder("z/b/d/") || !s.SubscribedUnder("y/1/") || s.SubscribedUnder("y/1/c/d/") {
			t.Fatal("wrong answer")
		}
	}); n != 0 {
		t.Errorf("SubscribedUnder allocates %.0f times", n)
	}
	s.Close()
	if !s.SubscribedUnder("x/") {
		t.Fatal("closed: false")
	}
}
