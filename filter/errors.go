package filter

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors. Parse failures are [*SyntaxError] values wrapping one of
// them, so errors.Is(err, ErrSyntax) or errors.Is(err, ErrLimit) holds.
var (
	// ErrSyntax: the text is not a valid expression, selector or topic spec.
	ErrSyntax = errors.New("filter: syntax error")
	// ErrLimit: the text exceeds one of the [Limits] that keep a hostile
	// expression harmless (size, nesting, nodes, string or pattern length).
	ErrLimit = errors.New("filter: limit exceeded")
	// ErrUnknownFunction: a call names a function that is neither built in
	// nor given in [Config.Funcs].
	ErrUnknownFunction = errors.New("filter: unknown function")
	// ErrArgCount: a call has fewer or more arguments than its function takes.
	ErrArgCount = errors.New("filter: wrong number of arguments")
	// ErrBadFunc: a [Func] in [Config.Funcs] is unusable (no name, nil Call,
	// or the name of a built-in).
	ErrBadFunc = errors.New("filter: bad function definition")
	// ErrBudget: an evaluation needed more steps than its [Budget] allows
	// ([Limits.MaxSteps]); it gave up and did not match.
	ErrBudget = errors.New("filter: evaluation over its step budget")
)

// SyntaxError is a parse failure at a position of the input. Error reads
// "unexpected ')' (1:14)"; [SyntaxError.Snippet] adds the line with a caret.
type SyntaxError struct {
	Msg    string // what is wrong, e.g. "unexpected ')'"
	Offset int    // byte offset into the input, 0-based
	Line   int    // 1-based
	Column int    // 1-based, in bytes
	Input  string // the input (cut to 4 KB) for Snippet
	Err    error  // ErrSyntax, ErrLimit, ErrUnknownFunction or ErrArgCount
}

func newSyntaxError(input string, off int, cause error, msg string) *SyntaxError {
	if off > len(input) {
		off = len(input)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + strings.Count(input[:off], "\n")
	col := off - strings.LastIndexByte(input[:off], '\n')
	in := input
	if len(in) > 4096 {
		in = in[:4096]
	}
	return &SyntaxError{Msg: msg, Offset: off, Line: line, Column: col, Input: in, Err: cause}
}

// Error returns "msg (line:column)".
func (e *SyntaxError) Error() string {
	return e.Msg + " (" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Column) + ")"
}

// Unwrap returns the sentinel cause.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Snippet returns the offending line and a caret under the column:
//
//	| speed > (1 + 2))
//	|                ^
func (e *SyntaxError) Snippet() string {
	if e.Offset > len(e.Input) {
		return ""
	}
	start := strings.LastIndexByte(e.Input[:e.Offset], '\n') + 1
	end := strings.IndexByte(e.Input[e.Offset:], '\n')
	if end < 0 {
		end = len(e.Input)
	} else {
		end += e.Offset
	}
	line := e.Input[start:end]
	caret := e.Offset - start
	// Keep long lines readable: show at most 80 bytes around the caret.
	if len(line) > 80 {
		from := max(0, caret-40)
		to := min(len(line), from+80)
		line = line[from:to]
		caret -= from
	}
	return " | " + line + "\n | " + strings.Repeat(" ", caret) + "^"
}

// EvalError is the reason an evaluation produced an error value (see
// [Value.Err]). In a boolean context an error is simply false.
type EvalError struct {
	Offset int    // byte offset of the expression node that failed
	Reason string // e.g. "parameter 'speed' not found"
	Err    error  // a sentinel cause (ErrBudget), or nil
}

// Unwrap returns the sentinel cause, if any.
func (e *EvalError) Unwrap() error { return e.Err }

// Error returns the reason with the 1-based column.
func (e *EvalError) Error() string {
	return e.Reason + " (column " + strconv.Itoa(e.Offset+1) + ")"
}
