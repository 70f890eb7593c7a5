package broker

import (
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/filter"
)

// Filter is a parsed subscription filter: an MQTT topic filter, optionally
// inside a shared subscription ("$share/group/…", with flespi's sticky
// groups), optionally behind a flespi "$filter/spec/…" predicate, with
// flespi comma lists inside levels ("devices/1,2,3/telemetry"). The zero
// Filter matches nothing. A Filter is immutable and safe for concurrent use.
type Filter struct {
	raw   string
	share *Share
	spec  string // "$filter" spec as written, "" if none
	topic string // topic filter after the prefixes, as written
	mqtt  string // topic with comma lists widened to '+'
	// levels is set only when the topic has comma lists; otherwise Match
	// uses MatchTopic on topic directly.
	levels []filterLevel
	pred   Predicate
}

type filterLevel struct {
	text string   // the level as written
	alts []string // the values of a comma list, nil otherwise
}

// Share describes a shared subscription: each matching message goes to one
// member of the group instead of to every subscriber.
//
// flespi extends the share name with sticky selection: "name:count" hashes
// the first count levels of the message's topic, "name:from:count" the count
// levels starting at the zero-based level from; messages whose hashed levels
// are equal (the same device) always go to the same member while the group's
// membership does not change. A plain share ("workers") has Count 0.
type Share struct {
	Name  string // the share name as written: "workers", "by_ident:6", "by_device:4:1"
	Group string // the name without the sticky suffix: "by_ident"
	From  int    // first hashed level, zero-based
	Count int    // number of hashed levels; 0 for a plain share
}

// Sticky reports whether the share selects members by topic hash.
func (s *Share) Sticky() bool { return s.Count > 0 }

// Pick returns the member, in [0, members), that receives a message on topic
// in a sticky group, or -1 when the share is not sticky (any member may take
// it: round robin is the usual choice) or members < 1.
//
// The hashed levels (From to From+Count-1, as many as the topic has) are
// hashed with FNV-1a and mapped by jump consistent hashing (Lamping and
// Veach, 2014), so growing the group from n to n+1 members moves only about
// 1/(n+1) of the devices. Members must be kept in a stable order (for
// example by subscription time). Pick does not allocate.
func (s *Share) Pick(topic string, members int) int {
	if s.Count <= 0 || members < 1 {
		return -1
	}
	if members == 1 {
		return 0
	}
	// Skip From levels.
	rest := topic
	for i := 0; i < s.From; i++ {
		_, after, more := strings.Cut(rest, "/")
		if !more {
			rest = ""
			break
		}
		rest = after
	}
	// Take Count levels.
	end, n := 0, 0
	for end <= len(rest) && n < s.Count {
		i := strings.IndexByte(rest[end:], '/')
		if i < 0 {
			end = len(rest)
			break
		}
		end += i + 1
		n++
	}
	key := rest[:end]
	if n == s.Count && end > 0 && key[end-1] == '/' {
		key = key[:end-1]
	}
	const offset64, prime64 = 14695981039346656037, 1099511628211
	h := uint64(offset64)
	for i := 0; i < len(key); i++ {
		h ^= uint64(key[i])
		h *= prime64
	}
	return jumpHash(h, members)
}

// jumpHash maps key to a bucket in [0, n) so that growing n moves few keys.
func jumpHash(key uint64, n int) int {
	b, j := int64(-1), int64(0)
	for j < int64(n) {
		b = j
		key = key*2862933555777941757 + 1
		j = int64(float64(b+1) * (float64(int64(1)<<31) / float64((key>>33)+1)))
	}
	return int(b)
}

// Predicate decides on a whole message: the compiled "$filter" spec of a
// filter. It must be safe for concurrent use.
type Predicate interface {
	MatchMessage(m Message, o Origin) bool
}

// Origin is what a broker knows about a published message beyond its
// content; "$filter" predicates such as cid=… and modified_since>… use it.
type Origin struct {
	// CID is the customer (tenant) id of the publisher; 0 means unknown, in
	// which case predicates look for a "cid" user property.
	CID int64
	// Time is when the broker accepted the message; zero means unknown, in
	// which case predicates look for a "timestamp" user property.
	Time time.Time
}

// ParseFilter parses a subscription filter:
//
//	[$share/<name>/][$filter/<spec>/]<topic filter>
//
// where name is a share name, optionally sticky ("name:count",
// "name:from:count"), spec is a flespi filter spec (one level; see package
// filter) and the topic filter may list values in a level separated by commas
// ("flespi/state/gw/devices/1,2,3/telemetry/+"). Errors wrap [ErrBadTopic],
// or [ErrUnsupported] for a spec that cannot be evaluated.
func ParseFilter(s string) (Filter, error) { return ParseFilterConfig(s, nil) }

// ParseFilterConfig is ParseFilter with c's functions and limits for the
// "$filter" expressions; nil means filter's defaults. Its Limits.MaxSteps is
// the budget of one predicate evaluation (see CheckPredicate).
func ParseFilterConfig(s string, c *filter.Config) (Filter, error) {
	if err := validateText(s); err != nil {
		return Filter{}, err
	}
	f := Filter{raw: s}
	rest := s
	if first, after, _ := strings.Cut(rest, "/"); first == "$share" {
		name, topic, more := strings.Cut(after, "/")
		if !more || topic == "" {
			return Filter{}, badTopic(s, "$share without a topic filter")
		}
		sh, err := parseShare(s, name)
		if err != nil {
			return Filter{}, err
		}
		f.share = sh
		rest = topic
	}
	// "$filter/<spec>/" may repeat; every spec must hold.
	specStart := len(s) - len(rest) + len("$filter/")
	for {
		first, after, _ := strings.Cut(rest, "/")
		if first != "$filter" {
			break
		}
		spec, topic, more := strings.Cut(after, "/")
		switch {
		case spec == "":
			return Filter{}, badTopic(s, "empty $filter spec")
		case !more || topic == "":
			return Filter{}, badTopic(s, "$filter without a topic filter")
		}
		f.spec = s[specStart : len(s)-len(topic)-1]
		rest = topic
	}
	if first, _, _ := strings.Cut(rest, "/"); first == "$share" || first == "$filter" {
		return Filter{}, badTopic(s, first+" in the wrong place: use $share/<name>/$filter/<spec>/<topic>")
	}
	if err := f.parseTopic(s, rest); err != nil {
		return Filter{}, err
	}
	if f.spec != "" {
		pred, err := compileSpec(s, f.spec, c)
		if err != nil {
			return Filter{}, err
		}
		f.pred = pred
	}
	return f, nil
}

func parseShare(s, name string) (*Share, error) {
	if name == "" {
		return nil, badTopic(s, "empty share name")
	}
	if strings.ContainsAny(name, "+#") {
		return nil, badTopic(s, "wildcard in share name")
	}
	sh := &Share{Name: name, Group: name}
	group, params, sticky := strings.Cut(name, ":")
	if !sticky {
		return sh, nil
	}
	if group == "" {
		return nil, badTopic(s, "empty share name")
	}
	a, b, two := strings.Cut(params, ":")
	count, from := a, ""
	if two {
		from, count = a, b
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > MaxTopicLen {
		return nil, badTopic(s, "sticky share "+strconvQuote(name)+": count must be a positive integer")
	}
	sh.Group, sh.Count = group, n
	if two {
		m, err := strconv.Atoi(from)
		if err != nil || m < 0 || m > MaxTopicLen {
			return nil, badTopic(s, "sticky share "+strconvQuote(name)+": from must be a non-negative integer")
		}
		sh.From = m
	}
	return sh, nil
}

// parseTopic checks the topic filter part and prepares comma lists.
func (f *Filter) parseTopic(s, topic string) error {
	f.topic, f.mqtt = topic, topic
	if !strings.Contains(topic, ",") {
		if err := ValidateFilter(topic); err != nil {
			return badTopic(s, err.(*TopicError).Reason)
		}
		return nil
	}
	var levels []filterLevel
	var widened strings.Builder
	rest := topic
	for {
		level, after, more := strings.Cut(rest, "/")
		if err := checkLevel(s, level, more); err != nil {
			return err
		}
		l := filterLevel{text: level}
		if strings.Contains(level, ",") {
			l.alts = strings.Split(level, ",")
			for _, v := range l.alts {
				if v == "" {
					return badTopic(s, "empty value in comma list "+strconvQuote(level))
				}
				if v[0] == '$' && len(levels) == 0 {
					// "+" cannot stand for it on an external broker.
					return badTopic(s, "'$' value in a comma list in the first level")
				}
			}
			widened.WriteByte('+')
		} else {
			widened.WriteString(level)
		}
		levels = append(levels, l)
		if !more {
			break
		}
		widened.WriteByte('/')
		rest = after
	}
	f.levels, f.mqtt = levels, widened.String()
	return nil
}

// String returns the filter as given to ParseFilter.
func (f *Filter) String() string { return f.raw }

// Topic returns the topic filter without the "$share" and "$filter"
// prefixes, as written (comma lists included).
func (f *Filter) Topic() string { return f.topic }

// MQTTTopic returns Topic with every comma list widened to '+': a plain MQTT
// filter that matches at least what the Filter matches. External brokers
// are subscribed with it and the Filter narrows locally.
func (f *Filter) MQTTTopic() string { return f.mqtt }

// Share returns the shared-subscription part, nil for a normal subscription.
func (f *Filter) Share() *Share { return f.share }

// ShareKey identifies the shared subscription a subscriber joins: the share
// name and everything after it ("workers/$filter/cid=1/a/+"). Subscribers
// with equal keys form one group (MQTT 5 §4.8.2 identifies a group by share
// name and filter). It is "" for a normal subscription.
func (f *Filter) ShareKey() string {
	if f.share == nil {
		return ""
	}
	return f.raw[len("$share/"):]
}

// Spec returns the "$filter" spec as written (URL-encoded), "" if none;
// repeated "$filter" levels come back joined as written
// ("cid=1/$filter/payload=…").
func (f *Filter) Spec() string { return f.spec }

// Predicate returns the compiled "$filter" spec, nil if there is none.
func (f *Filter) Predicate() Predicate { return f.pred }

// HasCommaList reports whether a level of the topic lists values.
func (f *Filter) HasCommaList() bool { return f.levels != nil }

// Match reports whether a message on topic passes the topic part of the
// filter (wildcards and comma lists; not the "$filter" predicate, see
// MatchMessage). As in MQTT, a leading wildcard does not match a topic
// starting with '$'. Match does not allocate.
func (f *Filter) Match(topic string) bool {
	if f.levels == nil {
		return f.topic != "" && MatchTopic(f.topic, topic)
	}
	if topic != "" && topic[0] == '$' && f.levels[0].alts == nil &&
		(f.levels[0].text == "+" || f.levels[0].text == "#") {
		return false
	}
	rest, done := topic, false
	for _, l := range f.levels {
		if l.text == "#" {
			return true
		}
		if done {
			return false
		}
		tl, after, more := strings.Cut(rest, "/")
		if !l.match(tl) {
			return false
		}
		rest, done = after, !more
	}
	return done
}

func (l *filterLevel) match(v string) bool {
	if l.alts == nil {
		return l.text == "+" || l.text == v
	}
	for _, a := range l.alts {
		if a == v {
			return true
		}
	}
	return false
}

// MatchMessage reports whether m passes the whole filter: Match on its topic
// and the "$filter" predicate, if any, given what the broker knows of the
// message's origin.
func (f *Filter) MatchMessage(m Message, o Origin) bool {
	if !f.Match(m.Topic) {
		return false
	}
	return f.pred == nil || f.pred.MatchMessage(m, o)
}
