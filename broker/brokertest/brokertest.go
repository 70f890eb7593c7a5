// Package brokertest checks that a broker.Broker keeps the contract of
// package broker. Every implementation runs the same suite:
//
//	func TestConformance(t *testing.T) {
//		brokertest.Run(t, func(t *testing.T) broker.Broker { return newMyBroker(t) })
//	}
//
// Each subtest makes a fresh broker and uses topics under a unique prefix
// ("gnssgate-test/<uuid>/…"), so the suite can run against a shared external
// broker such as Mosquitto. It removes the retained messages it creates.
// Optional abilities (see broker.Feature) are skipped when the broker reports,
// through broker.FeatureReporter, that it lacks them.
package brokertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/google/uuid"
)

const (
	// wait bounds how long the suite waits for an expected delivery.
	wait = 5 * time.Second
	// redeliveryWait bounds how long a redelivery after a handler error may
	// take (an external broker redelivers only after a reconnect).
	redeliveryWait = 20 * time.Second
	// quiet is how long the suite watches for deliveries that must not come.
	quiet = 200 * time.Millisecond
)

// Run runs the conformance suite. newBroker returns a fresh, working broker
// for one subtest; the suite closes it at the end of the subtest.
func Run(t *testing.T, newBroker func(t *testing.T) broker.Broker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"PublishSubscribeQoS0", func(t *testing.T, s *suite) { testPubSub(t, s, 0) }},
		{"PublishSubscribeQoS1", func(t *testing.T, s *suite) { testPubSub(t, s, 1) }},
		{"Wildcards", testWildcards},
		{"DollarTopics", testDollarTopics},
		{"BadTopics", testBadTopics},
		{"Retained", testRetained},
		{"SharedSubscription", testShared},
		{"StickyShare", testStickyShare},
		{"FilterSpec", testFilterSpec},
		{"CommaList", testCommaList},
		{"Unsubscribe", testUnsubscribe},
		{"HandlerError", testHandlerError},
		{"Ordering", testOrdering},
		{"ConcurrentPublishers", testConcurrentPublishers},
		{"Properties", testProperties},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBroker(t)
			t.Cleanup(func() { b.Close() })
			s := &suite{b: b, prefix: "gnssgate-test/" + uuid.NewString()}
			tt.fn(t, s)
		})
	}
}

type suite struct {
	b      broker.Broker
	prefix string
}

// topic returns a topic under the test's prefix.
func (s *suite) topic(parts ...string) string {
	t := s.prefix
	for _, p := range parts {
		t += "/" + p
	}
	return t
}

func (s *suite) need(t *testing.T, f broker.Feature) {
	t.Helper()
	if !broker.Supports(s.b, f) {
		t.Skipf("the broker does not support %s", f)
	}
}

func (s *suite) publish(t *testing.T, m broker.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.b.Publish(ctx, m); err != nil {
		t.Fatalf("Publish(%q): %v", m.Topic, err)
	}
}

func (s *suite) subscribe(t *testing.T, filter string, h broker.Handler) broker.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	sub, err := s.b.Subscribe(ctx, filter, h)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", filter, err)
	}
	if sub.Filter() != filter {
		t.Errorf("Subscription.Filter() = %q, want %q", sub.Filter(), filter)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		sub.Unsubscribe(ctx)
	})
	return sub
}

// collect subscribes with a recorder.
func (s *suite) collect(t *testing.T, filter string) *recorder {
	t.Helper()
	r := newRecorder()
	s.subscribe(t, filter, r)
	return r
}

// clearRetained removes a retained message at the end of the test.
func (s *suite) clearRetained(t *testing.T, topic string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		// The broker may be closed by now; use it if it still works.
		s.b.Publish(ctx, broker.Message{Topic: topic, Retain: true, QoS: 1})
	})
}

// recorder is a Handler that keeps what it receives.
type recorder struct {
	mu   sync.Mutex
	msgs []broker.Message
	more chan struct{} // signalled on every message
	// fail, if set, decides the handler's result.
	fail func(m broker.Message) error
	// busy detects concurrent calls, which the contract forbids.
	busy       atomic.Bool
	concurrent atomic.Bool
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) HandleMessage(ctx context.Context, m broker.Message) error {
	if !r.busy.CompareAndSwap(false, true) {
		r.concurrent.Store(true)
	}
	defer r.busy.Store(false)
	m.Payload = bytes.Clone(m.Payload) // the broker may reuse its buffer
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	fail := r.fail
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
	if fail != nil {
		return fail(m)
	}
	return nil
}

func (r *recorder) snapshot() []broker.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]broker.Message(nil), r.msgs...)
}

// waitN waits until the recorder holds at least n messages and returns them.
func (r *recorder) waitN(t *testing.T, n int, d time.Duration) []broker.Message {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		msgs := r.snapshot()
		if len(msgs) >= n {
			if r.concurrent.Load() {
				t.Error("the handler of one subscription ran concurrently with itself")
			}
			return msgs
		}
		select {
		case <-r.more:
		case <-deadline.C:
			t.Fatalf("got %d messages in %v, want %d: %s", len(msgs), d, n, topics(msgs))
		}
	}
}

// quietFor checks that no more than n messages arrive within d.
func (r *recorder) quietFor(t *testing.T, n int, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	if msgs := r.snapshot(); len(msgs) > n {
		t.Fatalf("got %d messages, want %d: %s", len(msgs), n, topics(msgs))
	}
}

func topics(msgs []broker.Message) string {
	s := "["
	for i, m := range msgs {
		if i > 0 {
			s += " "
		}
		s += m.Topic + "=" + strconv.Quote(string(m.Payload))
		if len(s) > 400 {
			return s + " …]"
		}
	}
	return s + "]"
}

func testPubSub(t *testing.T, s *suite, qos byte) {
	topic := s.topic("pubsub")
	r := s.collect(t, topic)
	s.publish(t, broker.Message{Topic: topic, Payload: []byte("hello"), QoS: qos})
	got := r.waitN(t, 1, wait)[0]
	if got.Topic != topic || string(got.Payload) != "hello" || got.QoS != qos {
		t.Errorf("got %q %q QoS %d, want %q %q QoS %d", got.Topic, got.Payload, got.QoS, topic, "hello", qos)
	}
	// An empty payload is a message too.
	s.publish(t, broker.Message{Topic: topic, QoS: qos})
	if got := r.waitN(t, 2, wait)[1]; len(got.Payload) != 0 {
		t.Errorf("empty payload arrived as %q", got.Payload)
	}
	r.quietFor(t, 2, quiet)
}

func testWildcards(t *testing.T, s *suite) {
	subs := []struct {
		filter string
		want   []string // topics, in publication order
	}{
		{s.topic("+", "b"), []string{s.topic("a", "b"), s.topic("x", "b")}},
		{s.topic("a", "#"), []string{s.topic("a", "b"), s.topic("a", "c", "d"), s.topic("a")}},
		{s.topic("#"), []string{s.topic("a", "b"), s.topic("x", "b"), s.topic("a", "c", "d"), s.topic("a")}},
		{s.topic("a", "+", "d"), []string{s.topic("a", "c", "d")}},
		{s.topic("a"), []string{s.topic("a")}},
	}
	recs := make([]*recorder, len(subs))
	for i, sub := range subs {
		recs[i] = s.collect(t, sub.filter)
	}
	for _, topic := range []string{s.topic("a", "b"), s.topic("x", "b"), s.topic("a", "c", "d"), s.topic("a")} {
		s.publish(t, broker.Message{Topic: topic, Payload: []byte("w"), QoS: 1})
	}
	for i, sub := range subs {
		got := recs[i].waitN(t, len(sub.want), wait)
		recs[i].quietFor(t, len(sub.want), quiet/2)
		for j, m := range got {
			if m.Topic != sub.want[j] {
				t.Errorf("filter %q got %s, want %v", sub.filter, topics(got), sub.want)
				break
			}
		}
	}
}

func testDollarTopics(t *testing.T, s *suite) {
	id := uuid.NewString()
	dollar := "$gnssgate-test/" + id + "/a"
	plus := s.collect(t, "+/"+id+"/a")
	explicit := s.collect(t, "$gnssgate-test/"+id+"/+")
	s.publish(t, broker.Message{Topic: dollar, Payload: []byte("$"), QoS: 1})
	explicit.waitN(t, 1, wait)
	plus.quietFor(t, 0, quiet)
}

func testBadTopics(t *testing.T, s *suite) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, topic := range []string{"", s.topic("+"), s.topic("#"), s.topic("a\x00b")} {
		if err := s.b.Publish(ctx, broker.Message{Topic: topic, QoS: 1}); !errors.Is(err, broker.ErrBadTopic) {
			t.Errorf("Publish(%q) = %v, want ErrBadTopic", topic, err)
		}
	}
	for _, filter := range []string{"", s.topic("#", "a"), s.topic("a+"), "$share/g", "$share//a", s.topic("1,,2")} {
		if _, err := s.b.Subscribe(ctx, filter, newRecorder()); !errors.Is(err, broker.ErrBadTopic) {
			t.Errorf("Subscribe(%q) = %v, want ErrBadTopic", filter, err)
		}
	}
}

func testRetained(t *testing.T, s *suite) {
	one, two := s.topic("r", "1"), s.topic("r", "2")
	s.clearRetained(t, one)
	s.clearRetained(t, two)
	s.publish(t, broker.Message{Topic: one, Payload: []byte("one"), QoS: 1, Retain: true})
	s.publish(t, broker.Message{Topic: two, Payload: []byte("two"), QoS: 1, Retain: true})

	r := s.collect(t, s.topic("r", "+"))
	got := r.waitN(t, 2, wait)
	seen := map[string]string{}
	for _, m := range got {
		if !m.Retain {
			t.Errorf("retained message on %q delivered without the retain flag", m.Topic)
		}
		seen[m.Topic] = string(m.Payload)
	}
	if seen[one] != "one" || seen[two] != "two" {
		t.Errorf("retained delivery = %s", topics(got))
	}
	r.quietFor(t, 2, quiet)

	// A newer retained message replaces the older one; an empty payload
	// clears it.
	s.publish(t, broker.Message{Topic: two, Payload: []byte("two-v2"), QoS: 1, Retain: true})
	s.publish(t, broker.Message{Topic: one, QoS: 1, Retain: true})
	r.waitN(t, 4, wait) // the live deliveries to the existing subscription

	r2 := s.collect(t, s.topic("r", "#"))
	got = r2.waitN(t, 1, wait)
	if got[0].Topic != two || string(got[0].Payload) != "two-v2" {
		t.Errorf("after update and clear, retained delivery = %s, want %s=\"two-v2\"", topics(got), two)
	}
	r2.quietFor(t, 1, quiet)
}

func testShared(t *testing.T, s *suite) {
	filter := "$share/g" + uuid.NewString()[:8] + "/" + s.topic("jobs", "+")
	members := []*recorder{s.collect(t, filter), s.collect(t, filter)}
	all := s.collect(t, s.topic("jobs", "+"))
	const n = 20
	for i := 0; i < n; i++ {
		s.publish(t, broker.Message{Topic: s.topic("jobs", strconv.Itoa(i)), Payload: []byte(strconv.Itoa(i)), QoS: 1})
	}
	all.waitN(t, n, wait)
	deadline := time.Now().Add(wait)
	for {
		got := len(members[0].snapshot()) + len(members[1].snapshot())
		if got >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(quiet)
	seen := map[string]int{}
	for i, m := range members {
		msgs := m.snapshot()
		if len(msgs) == 0 {
			t.Errorf("member %d of the shared group got nothing", i)
		}
		for _, msg := range msgs {
			seen[string(msg.Payload)]++
		}
	}
	for i := 0; i < n; i++ {
		if c := seen[strconv.Itoa(i)]; c != 1 {
			t.Errorf("message %d reached %d members of the shared group, want exactly 1", i, c)
		}
	}
}

func testStickyShare(t *testing.T, s *suite) {
	s.need(t, broker.FeatureStickyShare)
	// Hash one level: the device id, level index len(prefix levels)+1.
	level := len(bytes.Split([]byte(s.prefix), []byte("/"))) + 1
	filter := fmt.Sprintf("$share/dev%s:%d:1/%s", uuid.NewString()[:8], level, s.topic("devices", "+", "#"))
	members := []*recorder{s.collect(t, filter), s.collect(t, filter), s.collect(t, filter)}
	const devices, each = 10, 3 // 10 is prime to 3: round robin is not sticky by accident
	for k := 0; k < each; k++ {
		for d := 0; d < devices; d++ {
			s.publish(t, broker.Message{Topic: s.topic("devices", strconv.Itoa(d), "p"+strconv.Itoa(k)), Payload: []byte(strconv.Itoa(d)), QoS: 1})
		}
	}
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if len(members[0].snapshot())+len(members[1].snapshot())+len(members[2].snapshot()) >= devices*each {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(quiet)
	owner := map[string]int{}
	total := 0
	for i, m := range members {
		for _, msg := range m.snapshot() {
			total++
			d := string(msg.Payload)
			if o, ok := owner[d]; ok && o != i {
				t.Errorf("device %s went to members %d and %d of a sticky group", d, o, i)
			}
			owner[d] = i
		}
	}
	if total != devices*each {
		t.Errorf("sticky group got %d messages, want %d (each exactly once)", total, devices*each)
	}
}

func testFilterSpec(t *testing.T, s *suite) {
	if _, err := broker.ParseFilter("$filter/cid=1/a"); err != nil {
		t.Skipf("package broker cannot evaluate $filter specs: %v", err)
	}
	s.need(t, broker.FeatureFilterSpec)
	cid := s.collect(t, "$filter/cid=123/"+s.topic("msgs", "+"))
	fast := s.collect(t, "$filter/payload=speed%3E60/"+s.topic("msgs", "+"))
	shared := s.collect(t, "$share/w"+uuid.NewString()[:8]+"/$filter/cid=123/"+s.topic("msgs", "+"))
	pub := func(sub, cidValue, payload string) {
		m := broker.Message{Topic: s.topic("msgs", sub), Payload: []byte(payload), QoS: 1}
		if cidValue != "" {
			m.Properties.UserProperties = []broker.UserProperty{{Key: "cid", Value: cidValue}}
		}
		s.publish(t, m)
	}
	pub("1", "123", `{"speed":80}`)
	pub("2", "456", `{"speed":10}`)
	pub("3", "", `{"speed":61}`)
	pub("4", "123", `{"speed":5}`)
	check := func(name string, r *recorder, want ...string) {
		got := r.waitN(t, len(want), wait)
		r.quietFor(t, len(want), quiet)
		for i, m := range got {
			if m.Topic != s.topic("msgs", want[i]) {
				t.Errorf("%s got %s, want topics ending %v", name, topics(got), want)
				return
			}
		}
	}
	check("cid=123", cid, "1", "4")
	check("payload speed>60", fast, "1", "3")
	check("shared cid=123", shared, "1", "4")
}

func testCommaList(t *testing.T, s *suite) {
	r := s.collect(t, s.topic("devices", "1,2,30", "telemetry", "+"))
	for _, d := range []string{"1", "3", "2", "30", "1,2,30", "12"} {
		s.publish(t, broker.Message{Topic: s.topic("devices", d, "telemetry", "speed"), Payload: []byte(d), QoS: 1})
	}
	got := r.waitN(t, 3, wait)
	r.quietFor(t, 3, quiet)
	for i, want := range []string{"1", "2", "30"} {
		if string(got[i].Payload) != want {
			t.Fatalf("comma list got %s, want devices 1, 2, 30", topics(got))
		}
	}
}

func testUnsubscribe(t *testing.T, s *suite) {
	topic := s.topic("unsub")
	r := newRecorder()
	sub := s.subscribe(t, topic, r)
	stay := s.collect(t, topic) // another subscription to the same filter lives on
	s.publish(t, broker.Message{Topic: topic, Payload: []byte("1"), QoS: 1})
	r.waitN(t, 1, wait)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if err := sub.Unsubscribe(ctx); err != nil {
		t.Fatalf("second Unsubscribe: %v, want nil", err)
	}
	s.publish(t, broker.Message{Topic: topic, Payload: []byte("2"), QoS: 1})
	stay.waitN(t, 2, wait)
	r.quietFor(t, 1, quiet)
}

func testHandlerError(t *testing.T, s *suite) {
	s.need(t, broker.FeatureRedelivery)
	topic := s.topic("fail")
	r := newRecorder()
	var failed atomic.Bool
	r.fail = func(m broker.Message) error {
		if string(m.Payload) == "bad-once" && failed.CompareAndSwap(false, true) {
			return errors.New("brokertest: refused once")
		}
		return nil
	}
	s.subscribe(t, topic, r)
	s.publish(t, broker.Message{Topic: topic, Payload: []byte("bad-once"), QoS: 1})
	s.publish(t, broker.Message{Topic: topic, Payload: []byte("after"), QoS: 1})
	deadline := time.Now().Add(redeliveryWait)
	for {
		n := map[string]int{}
		for _, m := range r.snapshot() {
			n[string(m.Payload)]++
		}
		if n["bad-once"] >= 2 && n["after"] >= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a handler error: deliveries %v, want bad-once at least twice and after at least once", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func testOrdering(t *testing.T, s *suite) {
	topic := s.topic("order")
	r := s.collect(t, s.topic("#"))
	const n = 200
	for i := 0; i < n; i++ {
		s.publish(t, broker.Message{Topic: topic, Payload: []byte(strconv.Itoa(i)), QoS: 1})
	}
	got := r.waitN(t, n, wait)
	for i, m := range got[:n] {
		if string(m.Payload) != strconv.Itoa(i) {
			t.Fatalf("message %d is %q: order not kept", i, m.Payload)
		}
	}
}

func testConcurrentPublishers(t *testing.T, s *suite) {
	r := s.collect(t, s.topic("conc", "+"))
	const pubs, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, pubs)
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			for i := 0; i < each; i++ {
				m := broker.Message{Topic: s.topic("conc", strconv.Itoa(p)), Payload: []byte(strconv.Itoa(i)), QoS: 1}
				if err := s.b.Publish(ctx, m); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Publish: %v", err)
	}
	got := r.waitN(t, pubs*each, wait)
	r.quietFor(t, pubs*each, quiet/2)
	next := map[string]int{}
	for _, m := range got {
		if want := strconv.Itoa(next[m.Topic]); string(m.Payload) != want {
			t.Fatalf("publisher %s: got %q, want %s: one publisher's order not kept", m.Topic, m.Payload, want)
		}
		next[m.Topic]++
	}
}

func testProperties(t *testing.T, s *suite) {
	s.need(t, broker.FeatureProperties)
	topic := s.topic("props")
	r := s.collect(t, topic)
	want := broker.Properties{
		UserProperties: []broker.UserProperty{
			{Key: "cid", Value: "123"}, {Key: "k", Value: "v1"}, {Key: "k", Value: "v2"}, {Key: "ünï", Value: ""},
		},
		ContentType:     "application/json",
		ResponseTopic:   s.topic("reply"),
		CorrelationData: []byte{0, 1, 2, 0xff},
		PayloadFormat:   1,
		Expiry:          time.Hour,
	}
	s.publish(t, broker.Message{Topic: topic, Payload: []byte(`{"a":1}`), QoS: 1, Properties: want})
	got := r.waitN(t, 1, wait)[0].Properties
	if len(got.UserProperties) < len(want.UserProperties) {
		t.Fatalf("user properties %v, want %v", got.UserProperties, want.UserProperties)
	}
	// A broker may add its own (flespi adds timestamp), after the client's.
	for i, u := range want.UserProperties {
		if got.UserProperties[i] != u {
			t.Errorf("user property %d = %+v, want %+v (all: %v)", i, got.UserProperties[i], u, got.UserProperties)
		}
	}
	if got.ContentType != want.ContentType || got.ResponseTopic != want.ResponseTopic ||
		!bytes.Equal(got.CorrelationData, want.CorrelationData) || got.PayloadFormat != want.PayloadFormat {
		t.Errorf("properties = %+v, want %+v", got, want)
	}
	// The expiry counts down while the message waits in the broker.
	if got.Expiry <= 0 || got.Expiry > want.Expiry {
		t.Errorf("expiry = %v, want in (0, %v]", got.Expiry, want.Expiry)
	}
	if v, ok := got.UserProperty("k"); !ok || v != "v1" {
		t.Errorf("UserProperty(k) = %q, %v", v, ok)
	}
}

func testClose(t *testing.T, s *suite) {
	topic := s.topic("close")
	r := newRecorder()
	sub := s.subscribe(t, topic, r)
	if err := s.b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := s.b.Publish(ctx, broker.Message{Topic: topic, QoS: 1}); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if _, err := s.b.Subscribe(ctx, topic, r); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
	if err := s.b.Close(); !errors.Is(err, broker.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if err := sub.Unsubscribe(ctx); err != nil && !errors.Is(err, broker.ErrClosed) {
		t.Errorf("Unsubscribe after Close = %v, want nil or ErrClosed", err)
	}
}
