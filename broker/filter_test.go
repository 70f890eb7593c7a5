package broker

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/filter"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in       string
		topic    string // Topic()
		mqtt     string // MQTTTopic()
		share    *Share
		shareKey string
		reason   string // "" = valid
	}{
		{in: "a/+/#", topic: "a/+/#", mqtt: "a/+/#"},
		{in: "$SYS/#", topic: "$SYS/#", mqtt: "$SYS/#"},
		{in: "$share/workers/a/#", topic: "a/#", mqtt: "a/#",
			share: &Share{Name: "workers", Group: "workers"}, shareKey: "workers/a/#"},
		{in: "$share/by_ident:6/flespi/message/gw/channels/+/+", topic: "flespi/message/gw/channels/+/+", mqtt: "flespi/message/gw/channels/+/+",
			share: &Share{Name: "by_ident:6", Group: "by_ident", Count: 6}, shareKey: "by_ident:6/flespi/message/gw/channels/+/+"},
		{in: "$share/by_device:4:1/flespi/+/gw/devices/+/#", topic: "flespi/+/gw/devices/+/#", mqtt: "flespi/+/gw/devices/+/#",
			share: &Share{Name: "by_device:4:1", Group: "by_device", From: 4, Count: 1}, shareKey: "by_device:4:1/flespi/+/gw/devices/+/#"},
		{in: "flespi/state/gw/devices/1,2,3/telemetry/+", topic: "flespi/state/gw/devices/1,2,3/telemetry/+", mqtt: "flespi/state/gw/devices/+/telemetry/+"},
		{in: "flespi/message/gw/channels/10,20/+", topic: "flespi/message/gw/channels/10,20/+", mqtt: "flespi/message/gw/channels/+/+"},
		{in: "1,2", topic: "1,2", mqtt: "+"},
		{in: "$share/g/a,b/#", topic: "a,b/#", mqtt: "+/#", share: &Share{Name: "g", Group: "g"}, shareKey: "g/a,b/#"},

		{in: "", reason: "empty"},
		{in: "a/#/b", reason: "'#' not the last level"},
		{in: "a/b+", reason: "wildcard not alone"},
		{in: "$share/g", reason: "$share without a topic filter"},
		{in: "$share/g/", reason: "$share without a topic filter"},
		{in: "$share//a", reason: "empty share name"},
		{in: "$share/g+/a", reason: "wildcard in share name"},
		{in: "$share/g:x/a", reason: "count must be a positive integer"},
		{in: "$share/g:0/a", reason: "count must be a positive integer"},
		{in: "$share/g:-1:2/a", reason: "from must be a non-negative integer"},
		{in: "$share/g:1:2:3/a", reason: "count must be a positive integer"},
		{in: "$share/:3/a", reason: "empty share name"},
		{in: "$share/g/$share/h/a", reason: "$share in the wrong place"},
		{in: "$filter/cid=1/$share/h/a", reason: "$share in the wrong place"},
		{in: "$filter//a", reason: "empty $filter spec"},
		{in: "$filter/cid=1", reason: "$filter without a topic filter"},
		{in: "a/1,,2/b", reason: "empty value in comma list"},
		{in: "a/1,+/b", reason: "wildcard not alone"},
		{in: "a/,/b", reason: "empty value in comma list"},
		{in: "a/1,2/#/c", reason: "'#' not the last level"},
		{in: "$SYS,x/+", reason: "'$' value in a comma list in the first level"},
		{in: "a\x00", reason: "contains NUL"},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		checkTopicErr(t, "ParseFilter", tt.in, err, tt.reason)
		if err != nil || tt.reason != "" {
			continue
		}
		if f.String() != tt.in || f.Topic() != tt.topic || f.MQTTTopic() != tt.mqtt || f.ShareKey() != tt.shareKey {
			t.Errorf("ParseFilter(%q): String %q Topic %q MQTTTopic %q ShareKey %q, want %q %q %q %q",
				tt.in, f.String(), f.Topic(), f.MQTTTopic(), f.ShareKey(), tt.in, tt.topic, tt.mqtt, tt.shareKey)
		}
		if got := f.Share(); (got == nil) != (tt.share == nil) || got != nil && *got != *tt.share {
			t.Errorf("ParseFilter(%q).Share() = %+v, want %+v", tt.in, got, tt.share)
		}
		if err := ValidateFilter(f.MQTTTopic()); err != nil {
			t.Errorf("ParseFilter(%q).MQTTTopic() %q is not a valid MQTT filter: %v", tt.in, f.MQTTTopic(), err)
		}
	}
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"flespi/state/gw/devices/1,2,3/telemetry/+", "flespi/state/gw/devices/2/telemetry/position.speed", true},
		{"flespi/state/gw/devices/1,2,3/telemetry/+", "flespi/state/gw/devices/4/telemetry/position.speed", false},
		{"flespi/state/gw/devices/1,2,3/telemetry/+", "flespi/state/gw/devices/1,2,3/telemetry/x", false}, // a list, not a literal
		{"flespi/state/gw/devices/1,2,3/telemetry/+", "flespi/state/gw/devices/12/telemetry/x", false},
		{"flespi/state/gw/devices/1,2,3/telemetry/+", "flespi/state/gw/devices/1/telemetry", false},
		{"a,b/#", "a", true},
		{"a,b/#", "b/c/d", true},
		{"a,b/#", "c/d", false},
		{"x/a,b", "x/b", true},
		{"x/a,b", "x/b/c", false},
		{"x/a,b/+", "x/b", false},
		{"+/a,b", "$SYS/a", false},
		{"$share/g/a/+", "a/b", true},
		{"$share/g/#", "$SYS/x", false},
		{"$share/g:1/a,b/+", "b/1", true},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
		}
		if got := f.Match(tt.topic); got != tt.want {
			t.Errorf("ParseFilter(%q).Match(%q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
		if got := f.MatchMessage(Message{Topic: tt.topic}, Origin{}); got != tt.want {
			t.Errorf("ParseFilter(%q).MatchMessage(%q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
		// The widened MQTT filter matches at least as much.
		if tt.want && !MatchTopic(f.MQTTTopic(), tt.topic) {
			t.Errorf("MQTTTopic %q of %q does not match %q", f.MQTTTopic(), tt.filter, tt.topic)
		}
	}
	// Plain filters agree with MatchTopic.
	for _, tt := range matchTests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
		}
		if got := f.Match(tt.topic); got != tt.want {
			t.Errorf("ParseFilter(%q).Match(%q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
	var zero Filter
	if zero.Match("a") {
		t.Error("the zero Filter matches")
	}
}

func TestFilterMatchDoesNotAllocate(t *testing.T) {
	f, err := ParseFilter("flespi/state/gw/devices/1,2,3/telemetry/+")
	if err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(100, func() {
		f.Match("flespi/state/gw/devices/3/telemetry/position.speed")
	})
	if n != 0 {
		t.Fatalf("Filter.Match allocates %v times", n)
	}
}

func TestSharePick(t *testing.T) {
	byIdent := mustShare(t, "$share/by_ident:6/flespi/message/gw/channels/+/+")
	byDevice := mustShare(t, "$share/by_device:4:1/flespi/+/gw/devices/+/#")
	plain := mustShare(t, "$share/workers/a/#")

	if got := plain.Pick("a/b", 3); got != -1 {
		t.Errorf("plain share Pick = %d, want -1", got)
	}
	if got := byIdent.Pick("a", 0); got != -1 {
		t.Errorf("Pick with 0 members = %d, want -1", got)
	}
	if got := byIdent.Pick("a", 1); got != 0 {
		t.Errorf("Pick with 1 member = %d, want 0", got)
	}

	// by_device hashes level 4 only: the same device goes to the same
	// member whatever the category and sub-topic.
	for dev := 0; dev < 200; dev++ {
		want := byDevice.Pick(fmt.Sprintf("flespi/message/gw/devices/%d", dev), 7)
		for _, topic := range []string{
			"flespi/state/gw/devices/%d/telemetry/position.speed",
			"flespi/log/gw/devices/%d/connected",
			"flespi/message/gw/devices/%d/",
		} {
			if got := byDevice.Pick(fmt.Sprintf(topic, dev), 7); got != want {
				t.Fatalf("device %d: Pick(%q) = %d, want %d", dev, topic, got, want)
			}
		}
	}

	// Every member gets work, and all picks are in range.
	counts := make([]int, 5)
	for i := 0; i < 5000; i++ {
		m := byIdent.Pick(fmt.Sprintf("flespi/message/gw/channels/77/35630704244%04d", i), 5)
		if m < 0 || m >= 5 {
			t.Fatalf("Pick = %d, out of range", m)
		}
		counts[m]++
	}
	for m, c := range counts {
		if c < 700 || c > 1300 {
			t.Errorf("member %d got %d of 5000 messages: poor spread %v", m, c, counts)
		}
	}

	// Growing the group by one member moves few keys (consistent hashing).
	moved := 0
	for i := 0; i < 5000; i++ {
		topic := fmt.Sprintf("flespi/message/gw/channels/77/35630704244%04d", i)
		if byIdent.Pick(topic, 5) != byIdent.Pick(topic, 6) {
			moved++
		}
	}
	if moved > 5000/6+300 {
		t.Errorf("adding a 6th member moved %d of 5000 devices, want about %d", moved, 5000/6)
	}

	// Levels beyond the topic's end hash what exists, without panicking.
	short := mustShare(t, "$share/s:9:3/#")
	if got := short.Pick("a/b", 4); got < 0 || got >= 4 {
		t.Errorf("Pick on a short topic = %d", got)
	}
}

func mustShare(t *testing.T, s string) *Share {
	t.Helper()
	f, err := ParseFilter(s)
	if err != nil {
		t.Fatal(err)
	}
	return f.Share()
}

func TestSharePickDoesNotAllocate(t *testing.T) {
	sh := &Share{Name: "d:4:1", Group: "d", From: 4, Count: 1}
	n := testing.AllocsPerRun(100, func() { sh.Pick("flespi/message/gw/devices/123", 8) })
	if n != 0 {
		t.Fatalf("Pick allocates %v times", n)
	}
}

func TestFilterSpec(t *testing.T) {
	at := time.Unix(1700000100, 0)
	cid := func(v string) []UserProperty { return []UserProperty{{Key: "cid", Value: v}} }
	tests := []struct {
		filter  string
		payload string
		props   []UserProperty
		origin  Origin
		want    bool
	}{
		{"$filter/cid=123/a/#", "", nil, Origin{CID: 123}, true},
		{"$filter/cid=123/a/#", "", nil, Origin{CID: 124}, false},
		{"$filter/cid=123/a/#", "", cid("123"), Origin{}, true}, // flespi's cid property
		{"$filter/cid=123/a/#", "", cid("123"), Origin{CID: 7}, false},
		{"$filter/cid=123/a/#", "", nil, Origin{}, false},
		{"$filter/payload=speed%3E60/a/#", `{"speed":80}`, nil, Origin{}, true},
		{"$filter/payload=speed%3E60/a/#", `{"speed":10}`, nil, Origin{}, false},
		{"$filter/payload=speed%3E60/a/#", `not json`, nil, Origin{}, false},
		{"$filter/modified_since>1700000000/a/#", "", nil, Origin{Time: at}, true},
		{"$filter/modified_since>1700000200/a/#", "", nil, Origin{Time: at}, false},
		{"$filter/modified_since>1700000000/a/#", "", []UserProperty{{Key: "timestamp", Value: "1700000001.5"}}, Origin{}, true},
		{"$filter/cid=1/$filter/payload=speed%3E60/a/#", `{"speed":80}`, cid("1"), Origin{}, true},
		{"$filter/cid=1/$filter/payload=speed%3E60/a/#", `{"speed":80}`, cid("2"), Origin{}, false},
		{"$share/w/$filter/cid=5/a/#", "", nil, Origin{CID: 5}, true},
		{"$filter/cid=5/a/1,2", "", nil, Origin{CID: 5}, false}, // topic a/b fails the list
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.filter)
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", tt.filter, err)
		}
		if f.Predicate() == nil || f.Spec() == "" {
			t.Fatalf("ParseFilter(%q): no predicate", tt.filter)
		}
		m := Message{Topic: "a/b", Payload: []byte(tt.payload), Properties: Properties{UserProperties: tt.props}}
		if got := f.MatchMessage(m, tt.origin); got != tt.want {
			t.Errorf("%q MatchMessage(%s, %+v, %+v) = %v, want %v", tt.filter, tt.payload, tt.props, tt.origin, got, tt.want)
		}
		if !strings.HasSuffix(tt.filter, "1,2") && !f.Match("a/b") {
			t.Errorf("%q Match(a/b) = false: the topic part ignores the spec", tt.filter)
		}
	}
	f, _ := ParseFilter("$filter/cid=1/$filter/payload=x%3E1/a")
	if f.Spec() != "cid=1/$filter/payload=x%3E1" || f.Topic() != "a" {
		t.Errorf("repeated $filter: Spec %q Topic %q", f.Spec(), f.Topic())
	}
	for _, bad := range []string{"$filter/cid=x/a", "$filter/nope=1/a", "$filter/payload=%3E%3E/a", "$filter/cid=-1/a"} {
		_, err := ParseFilter(bad)
		var te *TopicError
		if !errors.Is(err, ErrBadTopic) || !errors.As(err, &te) || te.Err == nil {
			t.Errorf("ParseFilter(%q) = %v, want a TopicError with the spec's cause", bad, err)
		}
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	cases := []struct{ name, filter, topic string }{
		{"plain", "flespi/state/gw/devices/+/telemetry/+", "flespi/state/gw/devices/123456/telemetry/position.speed"},
		{"comma", "flespi/state/gw/devices/1,22,123456/telemetry/+", "flespi/state/gw/devices/123456/telemetry/position.speed"},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.filter)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Match(c.topic)
			}
		})
	}
}

func BenchmarkSharePick(b *testing.B) {
	sh := &Share{Name: "d:4:1", Group: "d", From: 4, Count: 1}
	b.ReportAllocs()
	for b.Loop() {
		sh.Pick("flespi/message/gw/devices/123456", 16)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(tt.filter, tt.topic)
	}
	for _, s := range []string{
		"$share/by_ident:6/flespi/message/gw/channels/+/+", "$share/by_device:4:1/flespi/+/gw/devices/+/#",
		"flespi/state/gw/devices/1,2,3/telemetry/+", "$share/w/$filter/cid=123/flespi/message/gw/devices/+",
		"$filter/payload=position.speed%3E60/a/#", "a/,/b", "$share/:/a", "a,b/#",
	} {
		f.Add(s, "flespi/state/gw/devices/2/telemetry/x")
	}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		fl, err := ParseFilter(filter)
		matched := fl.Match(topic) // the zero Filter too
		if err != nil {
			if !errors.Is(err, ErrBadTopic) {
				t.Fatalf("ParseFilter(%q) = %v: does not wrap ErrBadTopic", filter, err)
			}
			if matched {
				t.Fatalf("zero Filter matched")
			}
			return
		}
		if ValidateFilter(fl.MQTTTopic()) != nil {
			t.Fatalf("MQTTTopic %q of %q is invalid", fl.MQTTTopic(), filter)
		}
		mqtt := MatchTopic(fl.MQTTTopic(), topic)
		if matched && !mqtt {
			t.Fatalf("Filter %q matches %q but its widened MQTT filter %q does not", filter, topic, fl.MQTTTopic())
		}
		if !fl.HasCommaList() && matched != mqtt {
			t.Fatalf("Filter %q Match(%q) = %v, MatchTopic = %v", filter, topic, matched, mqtt)
		}
		if ValidateTopic(topic) == nil && !strings.ContainsAny(fl.Topic(), "+#,") && matched != (fl.Topic() == topic) {
			t.Fatalf("literal filter %q Match(%q) = %v", filter, topic, matched)
		}
		if fl.Predicate() != nil {
			fl.MatchMessage(Message{Topic: topic, Payload: []byte(topic)}, Origin{CID: 1})
		}
		if sh := fl.Share(); sh != nil {
			if p := sh.Pick(topic, 3); sh.Sticky() && (p < 0 || p > 2) || !sh.Sticky() && p != -1 {
				t.Fatalf("Pick = %d", p)
			}
		}
	})
}

// A "$filter" predicate reports the step budget through CheckPredicate;
// ParseFilterConfig sets the budget.
func TestFilterPredicateBudget(t *testing.T) {
	spec := "$filter/payload=" + url.PathEscape(`p=="*`+strings.Repeat("a", 100)+`b?"`) + "/t"
	long := Message{Topic: "t", Payload: []byte(`{"p":"` + strings.Repeat("a", 5000) + `"}`)}
	short := Message{Topic: "t", Payload: []byte(`{"p":"` + strings.Repeat("a", 100) + `bc"}`)}
	f, err := ParseFilterConfig(spec, &filter.Config{Limits: filter.Limits{MaxSteps: 50_000}})
	if err != nil {
		t.Fatal(err)
	}
	cp, ok := f.Predicate().(CheckPredicate)
	if !ok {
		t.Fatalf("predicate %T is not a CheckPredicate", f.Predicate())
	}
	if ok, err := cp.CheckMessage(long, Origin{}); ok || !errors.Is(err, filter.ErrBudget) {
		t.Fatalf("CheckMessage(long) = %v, %v; want false, ErrBudget", ok, err)
	}
	if ok, err := cp.CheckMessage(short, Origin{}); !ok || err != nil {
		t.Fatalf("CheckMessage(short) = %v, %v; want true, nil", ok, err)
	}
	if f.MatchMessage(long, Origin{}) || !f.MatchMessage(short, Origin{}) {
		t.Fatal("MatchMessage disagrees with CheckMessage")
	}
	// The default budget lets the long one be decided.
	d, err := ParseFilter(spec)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := d.Predicate().(CheckPredicate).CheckMessage(long, Origin{}); ok || err != nil {
		t.Fatalf("default budget: %v, %v; want false, nil", ok, err)
	}
}
