package filter

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTopicFilter(t *testing.T) {
	for _, c := range []struct {
		in, share, topic, canon string
		spec                    bool
	}{
		{"a/b", "", "a/b", "a/b", false},
		{"$share/g/a/+", "g", "a/+", "$share/g/a/+", false},
		{"$filter/cid=123/flespi/message/gw/devices/+", "", "flespi/message/gw/devices/+", "$filter/cid=123/flespi/message/gw/devices/+", true},
		{"$filter/modified_since=1700000000/#", "", "#", "$filter/modified_since=1700000000/#", true},
		{"$filter/modified_since>=5/#", "", "#", "$filter/modified_since=5/#", true},
		{"$filter/cid=1&modified_since>2/t", "", "t", "$filter/cid=1&modified_since>2/t", true},
		{"$filter/payload=position.speed%3E60/t", "", "t", "$filter/payload=position.speed%20%3E%2060/t", true},
		{"$filter/payload=a=1&&b=2/t", "", "t", "$filter/payload=a%20%3D%3D%201%20%26%26%20b%20%3D%3D%202/t", true},
		{"$filter/message=(topics[1]==\"kitchen\"||topics[1]==\"hall\")&&tonumber(payload)<20/temperature/+", "", "temperature/+", "", true},
		{"$share/w/$filter/cid=1/$filter/payload=x%2F2%3E1/a/#", "w", "a/#", "$share/w/$filter/cid=1&payload=x%20%2F%202%20%3E%201/a/#", true},
	} {
		f, err := ParseTopicFilter(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if f.Share != c.share || f.Topic != c.topic || f.HasSpec() != c.spec {
			t.Errorf("%s: share %q topic %q spec %v", c.in, f.Share, f.Topic, f.HasSpec())
		}
		if c.canon != "" && f.String() != c.canon {
			t.Errorf("%s: String %s, want %s", c.in, f, c.canon)
		}
		g, err := ParseTopicFilter(f.String())
		if err != nil || g.String() != f.String() {
			t.Errorf("%s: round trip %s -> %v, %v", c.in, f, g, err)
		}
	}
}

func TestParseTopicFilterErrors(t *testing.T) {
	for _, c := range []struct{ in, contains string }{
		{"", "empty topic filter"},
		{"$share//a", "bad $share group"},
		{"$share/g", "bad $share group"},
		{"$filter/cid=1", "needs a spec and a topic filter"},
		{"$filter//a", "empty $filter spec"},
		{"$filter/cid=x/a", "bad number in $filter cid"},
		{"$filter/cid>1/a", "cid must be '='"},
		{"$filter/cid=1&/a", "empty $filter spec after '&'"},
		{"$filter/foo=1/a", "unknown $filter spec 'foo'"},
		{"$filter/payload>1/a", "needs '='"},
		{"$filter/payload=%zz/a", "bad URL encoding"},
		{"$filter/payload=1%2B/a", "unexpected end of input"},
		{"$filter/nothing/a", "needs '=' or '>'"},
		{"a/#/b", "'#' must be the last level"},
		{"a/b+", "whole level"},
		{"a\x00b", "NUL"},
		{"$filter/cid=1/" + strings.Repeat("a", 5000), "longer than 4096"},
	} {
		_, err := ParseTopicFilter(c.in)
		if err == nil || !strings.Contains(err.Error(), c.contains) {
			t.Errorf("%.60q: error %v, want %q", c.in, err, c.contains)
		}
		if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrLimit) {
			t.Errorf("%.60q: %v wraps no sentinel", c.in, err)
		}
	}
}

func TestTopicFilterMatch(t *testing.T) {
	msg := TopicMessage{
		Topic: "temperature/kitchen", Payload: []byte("18.5"), CID: 42, Timestamp: 1700000100,
		UserProperties: []UserProperty{{"room", "k1"}, {"room", "k2"}, {"floor", "2"}},
	}
	for _, c := range []struct {
		spec string
		want bool
	}{
		{"cid=42", true},
		{"cid=43", false},
		{"modified_since>1700000000", true},
		{"modified_since>1700000100", false},
		{"modified_since=1700000100", true},
		{"payload=tonumber(payload)<20", true},
		{"payload=payload>20", false},
		{"message=(topics[1]==%22kitchen%22||topics[1]==%22hall%22)&&tonumber(payload)<20", true},
		{"message=topics[0]==%22temperature%22%26%26topic==%22temperature/*%22", false}, // '/' splits the level
		{"message=topics[0]==%22temperature%22%26%26topic==%22temperature%2F*%22", true},
		{"message=cid==42%26%26timestamp>1e9", true},
		{"message=user_properties.room==%22k1%22%26%26json(user_properties,%22floor%22)==2", true},
		{"message=isstring(payload)", false},
		{"message=payload.x", false},
		{"message=$nothing", false},
		{"cid=42&payload=payload>18", true},
	} {
		f, err := ParseTopicFilter("$filter/" + c.spec + "/temperature/+")
		if err != nil {
			if !c.want && strings.Contains(c.spec, "temperature/*") {
				continue
			}
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		if got := f.Match(msg); got != c.want {
			t.Errorf("%s: Match %v, want %v", c.spec, got, c.want)
		}
	}
	// A JSON payload is reached by its flat keys, and "payload" is the whole.
	f, _ := ParseTopicFilter("$filter/payload=position.speed%3E60%26%26isjson(payload)/t")
	if !f.Match(TopicMessage{Payload: []byte(`{"position.speed":72}`)}) {
		t.Error("payload object not matched")
	}
	g, _ := ParseTopicFilter("$filter/message=payload==%22hello*%22/t")
	if !g.Match(TopicMessage{Payload: []byte(`hello world`)}) {
		t.Error("text payload not matched")
	}
	h, _ := ParseTopicFilter("$filter/cid=1/t")
	if h.Match(TopicMessage{Topic: "t"}) {
		t.Error("unknown cid matched cid=1")
	}
}

func TestMatchTopic(t *testing.T) {
	for _, c := range []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true}, {"a/b", "a/c", false}, {"a/+", "a/b", true}, {"a/+", "a/b/c", false},
		{"a/#", "a", true}, {"a/#", "a/b/c", true}, {"#", "a/b", true}, {"+/+", "a/b", true},
		{"+", "/", false}, {"+/+", "/", true}, {"/+", "/x", true}, {"a/+/c", "a//c", true},
		{"#", "$SYS/x", false}, {"+/x", "$SYS/x", false}, {"$SYS/#", "$SYS/x", true},
		{"a/1,2,3/b", "a/2/b", true}, {"a/1,2,3/b", "a/4/b", false}, {"a/1,2,3/b", "a/1,2,3/b", true},
		{"a/b/c", "a/b", false}, {"a/b", "a/b/c", false}, {"", "a", false}, {"a", "", false},
	} {
		if got := MatchTopic(c.filter, c.topic); got != c.want {
			t.Errorf("MatchTopic(%q, %q) = %v", c.filter, c.topic, got)
		}
	}
}
