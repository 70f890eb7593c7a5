package textcmd

import (
	"errors"
	"testing"

	"github.com/gnssgate/gnssgate/protocol"
)

func TestBody(t *testing.T) {
	errText, errIdent, errUnknown := errors.New("text"), errors.New("ident"), errors.New("unknown")
	tb := Table{
		Forbidden: ";",
		Fixed:     map[string]string{"stop": "J"},
		FromText: map[string]func(string) (string, error){"speed": func(s string) (string, error) {
			if s == "" {
				return "", errText
			}
			return "H," + s, nil
		}},
		ErrText: errText, ErrNoIdent: errIdent, ErrUnknown: errUnknown,
	}
	for _, tc := range []struct {
		ident string
		cmd   protocol.Command
		body  string
		err   error
	}{
		{"1", protocol.Command{Name: "stop"}, "J", nil},
		{"1", protocol.Command{Name: "speed", Text: "80"}, "H,80", nil},
		{"1", protocol.Command{Text: "B"}, "B", nil},
		{"1", protocol.Command{Name: Custom, Text: "B"}, "B", nil},
		{"1", protocol.Command{}, "", errText},
		{"1", protocol.Command{Name: "speed"}, "", errText},
		{"1", protocol.Command{Name: "fly"}, "", errUnknown},
		{"", protocol.Command{Name: "fly"}, "", errIdent},              // the ident before the name
		{"", protocol.Command{Name: "stop", Text: "a;b"}, "", errText}, // the text before the ident
	} {
		body, err := tb.Body(tc.ident, tc.cmd)
		if body != tc.body || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("Body(%q, %+v) = %q, %v; want %q, %v", tc.ident, tc.cmd, body, err, tc.body, tc.err)
		}
	}
}
