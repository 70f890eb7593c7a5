package broker

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateTopic(t *testing.T) {
	tests := []struct {
		name   string
		reason string // "" = valid
	}{
		{"a", ""},
		{"a/b/c", ""},
		{"/", ""},
		{"a//b", ""},
		{"$SYS/broker", ""},
		{"flespi/state/gw/devices/1,2/x", ""}, // commas are plain characters in names
		{"тест/ü", ""},
		{"", "empty"},
		{"a/+/b", "wildcard + in a topic name"},
		{"a/#", "wildcard # in a topic name"},
		{"a\x00b", "contains NUL"},
		{"a\xffb", "not valid UTF-8"},
		{strings.Repeat("a", MaxTopicLen), ""},
		{strings.Repeat("a", MaxTopicLen+1), "longer than 65535 bytes"},
	}
	for _, tt := range tests {
		err := ValidateTopic(tt.name)
		checkTopicErr(t, "ValidateTopic", tt.name, err, tt.reason)
	}
}

func TestValidateFilter(t *testing.T) {
	tests := []struct {
		filter string
		reason string
	}{
		{"a/b", ""},
		{"#", ""},
		{"+", ""},
		{"+/+", ""},
		{"a/+/c/#", ""},
		{"/#", ""},
		{"$SYS/#", ""},
		{"", "empty"},
		{"a/#/b", "'#' not the last level"},
		{"#/", "'#' not the last level"},
		{"a#", `wildcard not alone in level "a#"`},
		{"a/b+", `wildcard not alone in level "b+"`},
		{"++", `wildcard not alone in level "++"`},
		{"a\x00", "contains NUL"},
		{"\xc3", "not valid UTF-8"},
	}
	for _, tt := range tests {
		checkTopicErr(t, "ValidateFilter", tt.filter, ValidateFilter(tt.filter), tt.reason)
	}
}

func checkTopicErr(t *testing.T, fn, in string, err error, reason string) {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Errorf("%s(%.40q) = %v, want nil", fn, in, err)
		}
		return
	}
	if err == nil {
		t.Errorf("%s(%.40q) = nil, want error %q", fn, in, reason)
		return
	}
	if !errors.Is(err, ErrBadTopic) {
		t.Errorf("%s(%.40q) = %v, does not wrap ErrBadTopic", fn, in, err)
	}
	var te *TopicError
	if !errors.As(err, &te) || !strings.Contains(te.Reason, reason) {
		t.Errorf("%s(%.40q) = %v, want reason containing %q", fn, in, err, reason)
	}
}

var matchTests = []struct {
	filter, topic string
	want          bool
}{
	{"a/b", "a/b", true},
	{"a/b", "a/c", false},
	{"a/b", "a/b/c", false},
	{"a/b/c", "a/b", false},
	{"a/+", "a/b", true},
	{"a/+", "a/b/c", false},
	{"a/+", "a", false},
	{"a/+", "a/", true}, // an empty level is a level
	{"+/+", "/", true},
	{"+", "/a", false},
	{"/+", "/a", true},
	{"a/#", "a", true}, // '#' matches the parent level too
	{"a/#", "a/b/c", true},
	{"a/#", "ab", false},
	{"a/b/#", "a/c", false},
	{"#", "a/b/c", true},
	{"#", "/", true},
	{"+/b/#", "x/b", true},
	{"+/b/#", "x/c", false},
	{"#", "$SYS/broker", false},
	{"+/broker", "$SYS/broker", false},
	{"$SYS/#", "$SYS/broker", true},
	{"$SYS/+", "$SYS/broker", true},
	{"a/$x/#", "a/$x/y", true},
	{"A/b", "a/b", false}, // case-sensitive
	{"a/b/", "a/b", false},
	{"a/b", "a/b/", false},
	{"tele/ü/+", "tele/ü/x", true},
}

func TestMatchTopic(t *testing.T) {
	for _, tt := range matchTests {
		if got := MatchTopic(tt.filter, tt.topic); got != tt.want {
			t.Errorf("MatchTopic(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

func TestMatchTopicDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		for _, tt := range matchTests {
			MatchTopic(tt.filter, tt.topic)
		}
	})
	if n != 0 {
		t.Fatalf("MatchTopic allocates %v times per run", n)
	}
}

func BenchmarkMatchTopic(b *testing.B) {
	cases := []struct{ name, filter, topic string }{
		{"exact", "flespi/message/gw/devices/123456", "flespi/message/gw/devices/123456"},
		{"plus", "flespi/state/gw/devices/+/telemetry/+", "flespi/state/gw/devices/123456/telemetry/position.speed"},
		{"hash", "flespi/message/#", "flespi/message/gw/channels/1234/356307042441013"},
		{"miss", "flespi/state/gw/devices/+/telemetry/+", "flespi/message/gw/channels/1234/356307042441013"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				MatchTopic(c.filter, c.topic)
			}
		})
	}
}

// matchReference is MatchTopic written the obvious, allocating way: the
// oracle for FuzzMatchTopic.
func matchReference(filter, topic string) bool {
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	f, t := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, fl := range f {
		if fl == "#" {
			return true
		}
		if i >= len(t) || fl != "+" && fl != t[i] {
			return false
		}
	}
	return len(f) == len(t)
}

func FuzzMatchTopic(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(tt.filter, tt.topic)
	}
	f.Fuzz(func(t *testing.T, filter, topic string) {
		if ValidateFilter(filter) != nil || ValidateTopic(topic) != nil {
			MatchTopic(filter, topic) // must not panic on anything
			return
		}
		if got, want := MatchTopic(filter, topic), matchReference(filter, topic); got != want {
			t.Fatalf("MatchTopic(%q, %q) = %v, reference says %v", filter, topic, got, want)
		}
		if MatchTopic(topic, topic) != true {
			t.Fatalf("topic %q does not match itself", topic)
		}
	})
}
