package store

import (
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// MatchName reports whether a parameter name matches pattern, in which '*'
// stands for any run of characters (including none and dots), as in flespi's
// "position.*". A pattern without '*' must equal the name.
func MatchName(pattern, name string) bool {
	star := strings.IndexByte(pattern, '*')
	if star < 0 {
		return pattern == name
	}
	if !strings.HasPrefix(name, pattern[:star]) {
		return false
	}
	name = name[star:]
	pattern = pattern[star+1:]
	// Greedy matching with backtracking over the last star only: linear in
	// practice and never exponential.
	for {
		star = strings.IndexByte(pattern, '*')
		if star < 0 {
			return strings.HasSuffix(name, pattern)
		}
		seg := pattern[:star]
		i := strings.Index(name, seg)
		if i < 0 {
			return false
		}
		name = name[i+len(seg):]
		pattern = pattern[star+1:]
	}
}

// MatchAny reports whether name matches any of patterns.
func MatchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if MatchName(p, name) {
			return true
		}
	}
	return false
}

// Project returns a copy of m keeping only the parameters that match one of
// fields, in m's order. Empty fields keep everything.
func Project(m *protocol.Message, fields []string) protocol.Message {
	if len(fields) == 0 {
		return m.Clone()
	}
	var out protocol.Message
	for _, p := range m.Params() {
		if MatchAny(fields, p.Name) {
			out.Set(p.Name, p.Value)
		}
	}
	return out
}

// DeviceTime returns the time a message is filed under in history and
// telemetry: its "timestamp", or its "server.timestamp" when it has none.
func DeviceTime(m *protocol.Message) (float64, bool) {
	if t, ok := m.Timestamp(); ok {
		return t, true
	}
	return m.Float(protocol.ParamServerTimestamp)
}
