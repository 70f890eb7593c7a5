package textcmd

import (
	"fmt"
	"strings"

	"github.com/gnssgate/gnssgate/protocol"
)

// Custom is the command name (beside "") that sends Command.Text as the
// body.
const Custom = "custom"

// Table is one protocol's commands.
type Table struct {
	// Forbidden are the characters that end or frame a command on the
	// wire: a Text holding one is refused with ErrText.
	Forbidden string
	// Fixed maps a command name to its body.
	Fixed map[string]string
	// FromText maps a command name to the function that builds its body
	// from Command.Text, or says why the text is not what it takes.
	FromText map[string]func(text string) (string, error)

	// The protocol's errors: ErrText for a bad Text, ErrNoIdent before the
	// session knows the device, ErrUnknown for a name the table lacks.
	ErrText, ErrNoIdent, ErrUnknown error
}

// Body returns the body of c for the device ident: Text itself for "" and
// [Custom], the table's otherwise. The checks come in this order: the
// forbidden characters, the ident, then the name and its text.
func (t *Table) Body(ident string, c protocol.Command) (string, error) {
	if strings.ContainsAny(c.Text, t.Forbidden) {
		return "", t.ErrText
	}
	if ident == "" {
		return "", t.ErrNoIdent
	}
	if c.Name == "" || c.Name == Custom {
		if c.Text == "" {
			return "", fmt.Errorf("%w: a custom command needs Text", t.ErrText)
		}
		return c.Text, nil
	}
	if body, ok := t.Fixed[c.Name]; ok {
		return body, nil
	}
	if build, ok := t.FromText[c.Name]; ok {
		return build(c.Text)
	}
	return "", fmt.Errorf("%w: %q", t.ErrUnknown, c.Name)
}
