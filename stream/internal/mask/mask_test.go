package mask

import (
	"errors"
	"strings"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

func TestAppend(t *testing.T) {
	var m protocol.Message
	m.SetString("ident", "356307042441013")
	m.SetInt("channel.id", 1123)
	m.SetFloat("x", 1.5)
	m.Set("n", protocol.Null())
	for _, c := range []struct{ tmpl, want, err string }{
		{"fleet/%ident%/messages", "fleet/356307042441013/messages", ""},
		{"%channel.id%.%ident%", "1123.356307042441013", ""},
		{"a/%x%", "a/1.5", ""},
		{"100%/%ident%", "100%/356307042441013", ""},
		{"%20%ident%", "%20356307042441013", ""},
		{"plain", "plain", ""},
		{"d/%device.id%", "", "device.id"},
		{"d/%n%", "", `"n"`},
	} {
		got, err := Parse(c.tmpl).Append(nil, &m, nil)
		if c.err != "" {
			if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want one naming %s", c.tmpl, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("%q = %q, %v; want %q", c.tmpl, got, err, c.want)
		}
	}
	bad := errors.New("bad")
	if _, err := Parse("t/%ident%").Append(nil, &m, func(name, v string) error { return bad }); err != bad {
		t.Errorf("check error not returned: %v", err)
	}
	if !Parse("a/b").Static() || Parse("a/%ident%").Static() {
		t.Error("Static")
	}
	if got := Parse("a/%ident%/b").Literal("x"); got != "a/x/b" {
		t.Errorf("Literal = %q", got)
	}
}
