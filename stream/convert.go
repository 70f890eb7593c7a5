package stream

import (
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// Convert is flespi's convert_message: which parameters a stream forwards
// and how their names become JSON.
type Convert struct {
	// Fields keeps only the parameters whose names match one of these
	// patterns ("*" matches any run of characters, dots included:
	// "position.*", "can.*.level"); empty keeps every parameter.
	Fields []string
	// Nested encodes dotted names as nested objects:
	// {"position":{"latitude":54.7,"longitude":25.3}} instead of
	// {"position.latitude":54.7,"position.longitude":25.3}. Objects appear
	// in the order of their first parameter. A name that is both a value
	// and a prefix of other names ("a" and "a.b") cannot be both in nested
	// JSON: the value keeps its full dotted name at the top level.
	Nested bool
}

// retain applies Fields to m in place.
func (c *Convert) retain(m *protocol.Message) {
	if len(c.Fields) > 0 {
		m.Retain(func(p *protocol.Param) bool { return store.MatchAny(c.Fields, p.Name) })
	}
}

// apply converts m in place (Fields) and appends its JSON to dst.
func (c *Convert) apply(m *protocol.Message, dst []byte, scratch *[]bool) []byte {
	c.retain(m)
	if !c.Nested {
		return m.AppendJSON(dst)
	}
	return appendNested(dst, m.Params(), scratch)
}

// appendNested writes params as nested JSON objects. It allocates nothing
// beyond growing dst and scratch: the tree is walked over the flat list,
// which messages keep short (tens of parameters), so the quadratic scan is
// cheaper than building one.
func appendNested(dst []byte, params []protocol.Param, scratch *[]bool) []byte {
	done := (*scratch)[:0]
	for i := range params {
		// A name that is also a prefix of another ("a" and "a.b") is
		// written flat, after the objects.
		done = append(done, collides(params, i))
	}
	*scratch = done
	dst = append(dst, '{')
	dst, first := appendLevel(dst, params, done, "", true)
	for i := range params {
		if collides(params, i) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = protocol.AppendJSONString(dst, params[i].Name)
			dst = append(dst, ':')
			dst = params[i].Value.AppendJSON(dst)
		}
	}
	return append(dst, '}')
}

// appendLevel writes the members of the object at prefix: every parameter
// under prefix not yet written, grouped by its next name segment.
func appendLevel(dst []byte, params []protocol.Param, done []bool, prefix string, first bool) ([]byte, bool) {
	for i := range params {
		if done[i] || !strings.HasPrefix(params[i].Name, prefix) {
			continue
		}
		rest := params[i].Name[len(prefix):]
		seg, _, isGroup := strings.Cut(rest, ".")
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = protocol.AppendJSONString(dst, seg)
		dst = append(dst, ':')
		if !isGroup {
			done[i] = true
			dst = params[i].Value.AppendJSON(dst)
			continue
		}
		dst = append(dst, '{')
		sub := params[i].Name[:len(prefix)+len(seg)+1]
		dst, _ = appendLevel(dst, params, done, sub, true)
		dst = append(dst, '}')
	}
	return dst, first
}

// collides reports whether params[i]'s name is also a prefix of another
// parameter's name.
func collides(params []protocol.Param, i int) bool {
	n := params[i].Name
	for j := range params {
		if j != i && len(params[j].Name) > len(n) && params[j].Name[len(n)] == '.' && strings.HasPrefix(params[j].Name, n) {
			return true
		}
	}
	return false
}
