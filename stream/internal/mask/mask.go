// Package mask expands flespi-style masks, %name%, in a sink's topic or
// routing-key template with a message's parameters: "fleet/%ident%/in",
// "%channel.id%.%device.id%". It is the one implementation the MQTT and
// AMQP sinks share. (stream/httpsink has its own, which path-escapes.)
package mask

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// Template is a parsed template: literal text and parameter names.
type Template struct {
	segs []segment
}

type segment struct {
	lit   string
	param string
}

// ErrMissing is wrapped by the error of Expand for a message without a
// parameter the template names.
var ErrMissing = errors.New("message has no parameter for a mask")

// Parse reads a template. A %name% whose name is a parameter name
// (letters, digits, '.', '_', '#', '-', starting with a letter) is a mask;
// any other '%' is literal text.
func Parse(s string) Template {
	var t Template
	for rest := s; rest != ""; {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			t.segs = append(t.segs, segment{lit: rest})
			break
		}
		j := strings.IndexByte(rest[i+1:], '%')
		if j < 0 || !isParamName(rest[i+1:i+1+j]) {
			t.segs = append(t.segs, segment{lit: rest[:i+1]})
			rest = rest[i+1:]
			continue
		}
		if i > 0 {
			t.segs = append(t.segs, segment{lit: rest[:i]})
		}
		t.segs = append(t.segs, segment{param: rest[i+1 : i+1+j]})
		rest = rest[i+2+j:]
	}
	return t
}

func isParamName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '#' || c == '-') {
			return false
		}
	}
	return true
}

// Static reports whether the template has no masks; then Literal is the
// whole text.
func (t Template) Static() bool {
	for _, s := range t.segs {
		if s.param != "" {
			return false
		}
	}
	return true
}

// Literal returns the template with every mask filled by fill.
func (t Template) Literal(fill string) string {
	var b strings.Builder
	for _, s := range t.segs {
		if s.param != "" {
			b.WriteString(fill)
		} else {
			b.WriteString(s.lit)
		}
	}
	return b.String()
}

// Append appends the template expanded for m to dst. Strings go in as
// they are, other values as their JSON text (numbers as flespi writes
// them: "123", "1.5"). check, when not nil, vets each value (an MQTT
// topic level must not hold '/', '+' or '#'). A missing or null parameter
// is an error wrapping ErrMissing.
func (t Template) Append(dst []byte, m *protocol.Message, check func(name, value string) error) ([]byte, error) {
	for _, s := range t.segs {
		if s.param == "" {
			dst = append(dst, s.lit...)
			continue
		}
		v, ok := m.Lookup(s.param)
		if !ok || v.IsNull() {
			return dst, fmt.Errorf("%w: %q", ErrMissing, s.param)
		}
		start := len(dst)
		str, isStr := v.Str()
		if isStr {
			dst = append(dst, str...)
		} else {
			dst = v.AppendJSON(dst)
			str = string(dst[start:])
		}
		if check != nil {
			// str, not a string made of dst: one allocation less per
			// message for the usual string parameters.
			if err := check(s.param, str); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}
