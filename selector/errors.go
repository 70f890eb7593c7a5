package selector

import (
	"errors"
	"strings"

	"github.com/gnssgate/gnssgate/filter"
)

// Sentinel errors. Parse failures are *filter.SyntaxError values (offset,
// line, column, caret snippet) wrapping one of these or a filter sentinel.
var (
	// ErrSyntax: the selector, fields list or pagination parameter is malformed.
	ErrSyntax = errors.New("selector: syntax error")
	// ErrTooLong: the selector or URL path exceeds MaxLen.
	ErrTooLong = errors.New("selector: too long")
)

// MaxLen bounds a selector and a URL path given to SplitPath, as flespi's
// notes advise (about 4 KB).
const MaxLen = 4096

func syntaxError(input string, off int, cause error, msg string) *filter.SyntaxError {
	if off < 0 {
		off = 0
	}
	if off > len(input) {
		off = len(input)
	}
	line := 1 + strings.Count(input[:off], "\n")
	col := off - strings.LastIndexByte(input[:off], '\n')
	in := input
	if len(in) > MaxLen {
		in = in[:MaxLen]
	}
	return &filter.SyntaxError{Msg: msg, Offset: off, Line: line, Column: col, Input: in, Err: cause}
}

// shift re-bases an expression's syntax error onto the whole selector.
func shift(input string, base int, err error) error {
	var se *filter.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	return syntaxError(input, base+se.Offset, se.Err, se.Msg)
}
