package store

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/protocol"
)

func TestMatchName(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"position.*", "position.latitude", true},
		{"position.*", "position.", true},
		{"position.*", "position", false},
		{"position.*", "xposition.latitude", false},
		{"*.status", "engine.ignition.status", true},
		{"*.status", "status", false},
		{"can.*.level", "can.fuel.tank.level", true},
		{"can.*.level", "can.fuel.tank.levels", false},
		{"*", "", true},
		{"a*a", "a", false},
		{"a*a", "aa", true},
		{"a*b*c", "abbbc", true},
		{"a*b*c", "acb", false},
		{"din#1", "din#1", true},
		{"din#1", "din#10", false},
		{"**", "x", true},
	}
	for _, c := range cases {
		if got := MatchName(c.pattern, c.name); got != c.want {
			t.Errorf("MatchName(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func globRegexp(pattern string) *regexp.Regexp {
	parts := strings.Split(pattern, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile(`^(?s:` + strings.Join(parts, ".*") + `)$`)
}

// FuzzMatchName checks MatchName against the regular expression it means.
func FuzzMatchName(f *testing.F) {
	f.Add("position.*", "position.latitude")
	f.Add("a*b*c", "acb")
	f.Add("*.*", "..")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			return
		}
		if got, want := MatchName(pattern, name), globRegexp(pattern).MatchString(name); got != want {
			t.Fatalf("MatchName(%q, %q) = %v, regexp says %v", pattern, name, got, want)
		}
	})
}

func TestProject(t *testing.T) {
	var m protocol.Message
	m.SetString("ident", "x")
	m.SetFloat("position.latitude", 1)
	m.SetFloat("battery.voltage", 4)
	m.SetFloat("position.longitude", 2)
	got := Project(&m, []string{"position.*", "ident"})
	if want := `{"ident":"x","position.latitude":1,"position.longitude":2}`; got.String() != want {
		t.Fatalf("Project = %s, want %s", got.String(), want)
	}
	if all := Project(&m, nil); !all.Equal(&m) {
		t.Fatal("Project with no fields dropped parameters")
	}
}
