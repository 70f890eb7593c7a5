package broker

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxTopicLen is the longest topic name or filter MQTT can carry: its
// length prefix is a 16-bit integer.
const MaxTopicLen = 65535

// ValidateTopic reports whether name may be published to: 1 to 65535 bytes
// of UTF-8 without NUL and without the wildcards '+' and '#'. The error
// wraps [ErrBadTopic].
func ValidateTopic(name string) error {
	if err := validateText(name); err != nil {
		return err
	}
	if i := strings.IndexAny(name, "+#"); i >= 0 {
		return badTopic(name, "wildcard "+string(name[i])+" in a topic name")
	}
	return nil
}

// ValidateFilter reports whether filter is a valid plain MQTT topic filter:
// valid text (see [ValidateTopic]), '+' only as a whole level, '#' only as
// the whole last level. It knows nothing of "$share/", "$filter/" or comma
// lists; [ParseFilter] does. The error wraps [ErrBadTopic].
func ValidateFilter(filter string) error {
	if err := validateText(filter); err != nil {
		return err
	}
	rest := filter
	for {
		level, after, more := strings.Cut(rest, "/")
		if err := checkLevel(filter, level, more); err != nil {
			return err
		}
		if !more {
			return nil
		}
		rest = after
	}
}

// checkLevel checks the wildcards of one level of a filter; more says whether
// other levels follow.
func checkLevel(filter, level string, more bool) error {
	switch {
	case level == "#":
		if more {
			return badTopic(filter, "'#' not the last level")
		}
	case level == "+":
	case strings.ContainsAny(level, "+#"):
		return badTopic(filter, "wildcard not alone in level "+strconvQuote(level))
	}
	return nil
}

func validateText(s string) error {
	switch {
	case s == "":
		return badTopic(s, "empty")
	case len(s) > MaxTopicLen:
		return badTopic(s, "longer than 65535 bytes")
	case strings.IndexByte(s, 0) >= 0:
		return badTopic(s, "contains NUL")
	case !utf8.ValidString(s):
		return badTopic(s, "not valid UTF-8")
	}
	return nil
}

// MatchTopic reports whether the plain MQTT topic filter matches the topic
// name: '+' matches exactly one level, '#' the parent level and any number of
// levels below, and a filter starting with a wildcard does not match a topic
// starting with '$' (such as "$SYS/…"). Neither argument is validated; an
// invalid filter never panics but may match. MatchTopic does not allocate.
func MatchTopic(filter, topic string) bool {
	if topic != "" && topic[0] == '$' && filter != "" && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	// One pass over both strings; i and j sit at the start of a level.
	i, j := 0, 0
	for {
		switch {
		case i < len(filter) && filter[i] == '#':
			return true
		case i < len(filter) && filter[i] == '+':
			i++
			if i < len(filter) && filter[i] != '/' {
				return false // not a valid filter
			}
			for j < len(topic) && topic[j] != '/' {
				j++
			}
		default:
			for i < len(filter) && filter[i] != '/' {
				if j == len(topic) || topic[j] != filter[i] {
					return false
				}
				i++
				j++
			}
			if j < len(topic) && topic[j] != '/' {
				return false
			}
		}
		// Both levels ended: i and j are at '/' or at the end.
		if i == len(filter) {
			return j == len(topic)
		}
		if j == len(topic) {
			// The topic ended: "a/#" still matches "a".
			return filter[i+1:] == "#"
		}
		i++
		j++
	}
}

// strconvQuote quotes s for an error message, shortened.
func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}
