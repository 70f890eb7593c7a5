package filter

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// TopicMessage is what a $filter subscription is matched against: one MQTT
// application message as the broker sees it. It is defined here so that this
// package needs nothing from the broker.
type TopicMessage struct {
	Topic   string
	Payload []byte
	// CID is the publisher's (sub)account id; 0 means unknown, and then a
	// "cid=N" spec does not match and the message object's cid is null.
	CID int64
	// Timestamp is the publish time in Unix seconds (fraction allowed). The
	// broker must set it: zero fails every modified_since spec.
	Timestamp      float64
	UserProperties []UserProperty // MQTT 5 user properties, in order
}

// UserProperty is one MQTT 5 user property.
type UserProperty struct {
	Key, Value string
}

// TopicFilter is a parsed subscription topic filter with flespi's prefixes:
//
//	[$share/<group>/][$filter/<spec>/]<MQTT topic filter>
//
// where spec is one of (several may be joined with '&', and $filter levels
// may repeat; all must hold):
//
//	cid=N               the publisher's cid is N
//	modified_since>T    published after Unix time T
//	modified_since=T    published at or after T
//	payload=EXPR        URL-encoded expression over the JSON payload
//	message=EXPR        URL-encoded expression over the message object
//
// payload= and message= take the rest of the level: an expression's own '&'
// and '/' must be URL-encoded ("%26", "%2F"). A TopicFilter is immutable and
// safe for concurrent use.
type TopicFilter struct {
	// Share is the shared-subscription group, "" when not shared.
	Share string
	// Topic is the MQTT topic filter after the prefixes, e.g.
	// "flespi/message/gw/devices/+". Comma lists inside a level
	// ("devices/1,2,3/…") are kept for the broker to expand.
	Topic string

	specs    []topicSpec
	maxSteps int // the budget of one Match, shared by its specs
}

type specKind uint8

const (
	specCID specKind = iota
	specSinceGT
	specSinceGE
	specPayload
	specMessage
)

type topicSpec struct {
	kind specKind
	num  float64
	expr *Expr
	// payloadName: the payload= expression reads the name "payload", which
	// means the whole payload unless the payload object has that member.
	payloadName bool
}

// maxTopicFilter bounds the input, as selectors are bounded.
const maxTopicFilter = 4096

// ParseTopicFilter parses a subscription topic filter. A filter with neither
// prefix is valid: Share and the specs are empty and Match always holds.
// Errors are [*SyntaxError] values (offset into s) or wrap one from the
// spec's expression.
func ParseTopicFilter(s string) (*TopicFilter, error) { return (&Config{}).ParseTopicFilter(s) }

// ParseTopicFilter is [ParseTopicFilter] with c's Funcs and Limits for the
// expressions (a single "=" is always "=="). Limits.MaxSteps is the budget
// of one [TopicFilter.Match], shared by all its specs.
func (c *Config) ParseTopicFilter(s string) (*TopicFilter, error) {
	if c == nil {
		c = &Config{}
	}
	if len(s) > maxTopicFilter {
		return nil, newSyntaxError(s, 0, ErrLimit, "topic filter longer than "+strconv.Itoa(maxTopicFilter)+" bytes")
	}
	f := &TopicFilter{maxSteps: c.Limits.withDefaults().MaxSteps}
	fc := *c
	fc.LooseEquals = true
	rest := s
	off := 0
	if strings.HasPrefix(rest, "$share/") {
		g, after, ok := strings.Cut(rest[len("$share/"):], "/")
		if !ok || g == "" || strings.ContainsAny(g, "+#") {
			return nil, newSyntaxError(s, len("$share/"), ErrSyntax, "bad $share group")
		}
		f.Share = g
		off += len("$share/") + len(g) + 1
		rest = after
	}
	for strings.HasPrefix(rest, "$filter/") {
		off += len("$filter/")
		spec, after, ok := strings.Cut(rest[len("$filter/"):], "/")
		if !ok {
			return nil, newSyntaxError(s, off+len(spec), ErrSyntax, "$filter needs a spec and a topic filter")
		}
		if err := f.parseSpec(&fc, s, off, spec); err != nil {
			return nil, err
		}
		off += len(spec) + 1
		rest = after
	}
	if msg, at := checkTopicFilter(rest); msg != "" {
		return nil, newSyntaxError(s, off+at, ErrSyntax, msg)
	}
	f.Topic = rest
	return f, nil
}

// checkTopicFilter validates an MQTT topic filter; it returns a reason and
// the offset of the fault, or "".
func checkTopicFilter(t string) (string, int) {
	if t == "" {
		return "empty topic filter", 0
	}
	start := 0
	for i := 0; i <= len(t); i++ {
		if i < len(t) && t[i] == 0 {
			return "NUL in topic filter", i
		}
		if i < len(t) && t[i] != '/' {
			continue
		}
		level := t[start:i]
		if strings.ContainsAny(level, "+#") && len(level) > 1 {
			return "'+' and '#' must fill a whole level", start
		}
		if level == "#" && i != len(t) {
			return "'#' must be the last level", start
		}
		start = i + 1
	}
	return "", 0
}

func (f *TopicFilter) parseSpec(c *Config, s string, off int, spec string) error {
	if spec == "" {
		return newSyntaxError(s, off, ErrSyntax, "empty $filter spec")
	}
	for spec != "" {
		i := strings.IndexAny(spec, "=>")
		if i < 0 {
			return newSyntaxError(s, off, ErrSyntax, "$filter spec needs '=' or '>'")
		}
		key, op := spec[:i], spec[i]
		val := spec[i+1:]
		if op == '>' && strings.HasPrefix(val, "=") {
			op, val = 'g', val[1:] // ">=" is "="
		}
		vOff := off + len(spec) - len(val)
		switch key {
		case "cid", "modified_since":
			v, more, _ := strings.Cut(val, "&")
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				return newSyntaxError(s, vOff, ErrSyntax, "bad number in $filter "+key)
			}
			var ts topicSpec
			switch {
			case key == "cid" && op == '=' && n == math.Trunc(n) && n > 0:
				ts = topicSpec{kind: specCID, num: n}
			case key == "cid":
				return newSyntaxError(s, vOff, ErrSyntax, "$filter cid must be '=' and a positive integer")
			case op == '>':
				ts = topicSpec{kind: specSinceGT, num: n}
			default:
				ts = topicSpec{kind: specSinceGE, num: n}
			}
			f.specs = append(f.specs, ts)
			off = vOff + len(v) + 1
			spec = more
			if len(v) == len(val) {
				spec = ""
			} else if spec == "" {
				return newSyntaxError(s, off, ErrSyntax, "empty $filter spec after '&'")
			}
		case "payload", "message":
			if op != '=' {
				return newSyntaxError(s, off+i, ErrSyntax, "$filter "+key+" needs '='")
			}
			text, err := url.PathUnescape(val)
			if err != nil {
				return newSyntaxError(s, vOff, ErrSyntax, "bad URL encoding in $filter "+key)
			}
			x, err := c.Compile(text)
			if err != nil {
				return fmt.Errorf("$filter %s expression %q: %w", key, text, err)
			}
			ts := topicSpec{kind: specPayload, expr: x}
			if key == "message" {
				ts.kind = specMessage
			}
			for _, name := range x.fields {
				if name == "payload" {
					ts.payloadName = true
				}
			}
			f.specs = append(f.specs, ts)
			spec = ""
		default:
			return newSyntaxError(s, off, ErrSyntax, "unknown $filter spec '"+key+"'")
		}
	}
	return nil
}

// HasSpec reports whether the filter has $filter conditions.
func (f *TopicFilter) HasSpec() bool { return len(f.specs) > 0 }

// MatchTopic reports whether topic matches f.Topic (see [MatchTopic]).
func (f *TopicFilter) MatchTopic(topic string) bool { return MatchTopic(f.Topic, topic) }

// Match reports whether m passes the $filter conditions. It does not look at
// m.Topic: the broker routes by f.Topic first (see [TopicFilter.MatchTopic]),
// then asks Match per delivery. An expression that fails to evaluate is
// false, as in every boolean context. env may be nil (see [Env]).
func (f *TopicFilter) Match(m TopicMessage) bool { return f.MatchEnv(m, nil) }

// MatchEnv is Match with an evaluation environment for now() and dates.
func (f *TopicFilter) MatchEnv(m TopicMessage, env *Env) bool {
	ok, _ := f.Check(m, env)
	return ok
}

// Check is MatchEnv that also reports an evaluation that gave up: all the
// specs share one budget of [Limits.MaxSteps], and when it runs out the
// result is false and the error wraps [ErrBudget]. The error is nil
// otherwise, whatever the result.
func (f *TopicFilter) Check(m TopicMessage, env *Env) (bool, error) {
	b := newBudget(f.maxSteps)
	for i := range f.specs {
		sp := &f.specs[i]
		switch sp.kind {
		case specCID:
			if float64(m.CID) != sp.num {
				return false, nil
			}
		case specSinceGT:
			if !(m.Timestamp > sp.num) {
				return false, nil
			}
		case specSinceGE:
			if !(m.Timestamp >= sp.num) {
				return false, nil
			}
		case specPayload, specMessage:
			var ok bool
			var err error
			switch {
			case sp.kind == specMessage:
				ok, err = sp.expr.Check(&messageObject{m: &m}, env, &b)
			case sp.payloadName:
				ok, err = sp.expr.Check(payloadSource{m.Payload}, env, &b)
			default:
				ok, err = sp.expr.CheckJSON(m.Payload, env, &b)
			}
			if !ok {
				return false, err
			}
		}
	}
	return true, nil
}

// String returns the canonical form: expressions in canonical form, fully
// URL-encoded. ParseTopicFilter(f.String()) gives an equal filter.
func (f *TopicFilter) String() string {
	var b strings.Builder
	if f.Share != "" {
		b.WriteString("$share/")
		b.WriteString(f.Share)
		b.WriteByte('/')
	}
	if len(f.specs) > 0 {
		b.WriteString("$filter/")
		for i, sp := range f.specs {
			if i > 0 {
				if f.specs[i-1].kind >= specPayload {
					b.WriteString("/$filter/")
				} else {
					b.WriteByte('&')
				}
			}
			switch sp.kind {
			case specCID:
				b.WriteString("cid=" + strconv.FormatFloat(sp.num, 'f', -1, 64))
			case specSinceGT:
				b.WriteString("modified_since>" + strconv.FormatFloat(sp.num, 'f', -1, 64))
			case specSinceGE:
				b.WriteString("modified_since=" + strconv.FormatFloat(sp.num, 'f', -1, 64))
			case specPayload:
				b.WriteString("payload=" + escapeSpec(sp.expr.String()))
			case specMessage:
				b.WriteString("message=" + escapeSpec(sp.expr.String()))
			}
		}
		b.WriteByte('/')
	}
	b.WriteString(f.Topic)
	return b.String()
}

// escapeSpec percent-encodes everything but unreserved characters and the
// few that are harmless in an MQTT topic level, so '/', '+', '#', '&' and
// '%' never appear raw.
func escapeSpec(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-_.~()'*,$!:;@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// payloadValue is the whole payload as a value: its JSON value when it is
// JSON (so "11" is the number 11), otherwise its text.
func payloadValue(p []byte) Value {
	s := strings.TrimSpace(bytesString(p))
	if s != "" {
		if e := skipValue(s, 0); e == len(s) {
			if v := rawValue(s); v.kind != KindError {
				return v
			}
		}
	}
	return String(bytesString(p))
}

// payloadSource answers a payload= expression that names "payload".
type payloadSource struct{ p []byte }

func (s payloadSource) lookupBytes() int { return len(s.p) }

func (s payloadSource) Lookup(name string) (Value, bool) {
	if raw, ok := lookupFlat(bytesString(s.p), name); ok {
		return rawValue(raw), true
	}
	if name == "payload" {
		return payloadValue(s.p), true
	}
	return Value{}, false
}

// messageObject is the message= object: topic, topics (levels, 0-based),
// cid, timestamp, user_properties and payload. "payload.<name>" and
// "user_properties.<key>" reach one member.
type messageObject struct {
	m *TopicMessage
}

// lookupBytes: a lookup reads the payload or the topic and user properties.
func (o *messageObject) lookupBytes() int {
	n := len(o.m.Payload) + len(o.m.Topic)
	for _, u := range o.m.UserProperties {
		n += len(u.Key) + len(u.Value)
	}
	return n
}

func (o *messageObject) Lookup(name string) (Value, bool) {
	m := o.m
	switch name {
	case "topic":
		return String(m.Topic), true
	case "topics":
		b := []byte{'['}
		for i, l := range strings.Split(m.Topic, "/") {
			if i > 0 {
				b = append(b, ',')
			}
			b = protocol.AppendJSONString(b, l)
		}
		return JSON(string(append(b, ']'))), true
	case "cid":
		if m.CID == 0 {
			return Value{}, true
		}
		return Number(float64(m.CID)), true
	case "timestamp":
		return Number(m.Timestamp), true
	case "user_properties":
		b := []byte{'{'}
		seen := map[string]bool{}
		for _, u := range m.UserProperties {
			if seen[u.Key] {
				continue // the first of repeated keys wins
			}
			seen[u.Key] = true
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = protocol.AppendJSONString(b, u.Key)
			b = append(b, ':')
			b = protocol.AppendJSONString(b, u.Value)
		}
		return JSON(string(append(b, '}'))), true
	case "payload":
		return payloadValue(m.Payload), true
	}
	if k, ok := strings.CutPrefix(name, "payload."); ok {
		if raw, ok := lookupFlat(bytesString(m.Payload), k); ok {
			return rawValue(raw), true
		}
		return Value{}, false
	}
	if k, ok := strings.CutPrefix(name, "user_properties."); ok {
		for _, u := range m.UserProperties {
			if u.Key == k {
				return String(u.Value), true
			}
		}
	}
	return Value{}, false
}

// MatchTopic reports whether an MQTT topic name matches a topic filter: '+'
// matches one level, a final '#' the parent level and everything below, and
// a filter level holding a comma list ("123,456") matches any listed name
// (flespi's extension). Filters starting with a wildcard do not match topics
// starting with '$' (MQTT 3.1.1 §4.7.2). It does not allocate.
func MatchTopic(filter, topic string) bool {
	if filter == "" || topic == "" {
		return false
	}
	if topic[0] == '$' && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" && !fmore {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		switch {
		case fl == "+":
		case fl == tl:
		case strings.IndexByte(fl, ',') >= 0 && inCommaList(fl, tl):
		default:
			return false
		}
		if !fmore || !tmore {
			if !fmore && !tmore {
				return true
			}
			// "a/#" matches "a": the filter's next level is a final '#'.
			return !tmore && frest == "#"
		}
		filter, topic = frest, trest
	}
}

func inCommaList(list, s string) bool {
	for list != "" {
		item, rest, _ := strings.Cut(list, ",")
		if item == s {
			return true
		}
		list = rest
	}
	return false
}
