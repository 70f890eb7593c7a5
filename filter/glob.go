package filter

import (
	"math"
	"strings"
	"unicode/utf8"
)

// Glob reports whether s matches pattern, where '*' matches any run of
// characters (including none) and '?' exactly one character; every other
// character matches itself. There is no escape character, as in flespi.
//
// Matching never backtracks more than one '*' at a time: the cost is at most
// len(s)·len(pattern) steps and typically linear, so a hostile pattern such
// as "*a*a*a*a*b" cannot blow up the way backtracking matchers do. That
// product is not bounded here; [Pattern.MatchBudget] bounds it.
func Glob(pattern, s string) bool {
	if !hasWild(pattern) {
		return s == pattern
	}
	b := Budget{left: math.MaxInt}
	return globMatch(pattern, s, &b)
}

func hasWild(p string) bool { return strings.ContainsAny(p, "*?") }

// globMatch is the two-pointer wildcard match: on a mismatch it resumes after
// the most recent '*', consuming one more character of s. Earlier stars never
// need to be revisited, because a later star can absorb anything an earlier
// one could.
//
// Each turn of the loop is a step of b; past the budget it reports false
// with b exceeded.
func globMatch(p, s string, b *Budget) bool {
	if b.over {
		return false
	}
	pi, si := 0, 0
	star, mark := -1, 0
	left := b.left
	for si < len(s) {
		if left--; left < 0 {
			b.left, b.over = 0, true
			return false
		}
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '*':
				star, mark = pi, si
				pi++
				continue
			case c == '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			case c == s[si]:
				pi++
				si++
				continue
			}
		}
		if star < 0 {
			b.left = left
			return false
		}
		// Let the last star take one more character and retry after it.
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		si = mark
		pi = star + 1
	}
	b.left = left
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// Pattern is a wildcard pattern (see [Glob]) prepared once for many matches:
// plain text, prefix*, *suffix and *infix* patterns match without the general
// algorithm. It is immutable and safe for concurrent use.
type Pattern struct {
	text   string
	kind   uint8 // patExact, patPrefix, patSuffix, patContains, patGlob
	needle string
}

const (
	patExact uint8 = iota
	patPrefix
	patSuffix
	patContains
	patGlob
)

// NewPattern prepares a wildcard pattern.
func NewPattern(p string) *Pattern { return compilePattern(p) }

// String returns the pattern text.
func (pt *Pattern) String() string { return pt.text }

// Match reports whether s matches the pattern, with a budget of
// [DefaultMaxSteps] (false past it).
func (pt *Pattern) Match(s string) bool {
	b := newBudget(0)
	return pt.match(s, &b)
}

// MatchBudget is Match spending b: past the budget it reports false and
// b is exceeded.
func (pt *Pattern) MatchBudget(s string, b *Budget) bool { return pt.match(s, b) }

func compilePattern(p string) *Pattern {
	pt := &Pattern{text: p, kind: patGlob}
	switch {
	case !hasWild(p):
		pt.kind, pt.needle = patExact, p
	case len(p) >= 1 && p[len(p)-1] == '*' && !hasWild(p[:len(p)-1]):
		pt.kind, pt.needle = patPrefix, p[:len(p)-1]
	case len(p) >= 1 && p[0] == '*' && !hasWild(p[1:]):
		pt.kind, pt.needle = patSuffix, p[1:]
	case len(p) >= 2 && p[0] == '*' && p[len(p)-1] == '*' && !hasWild(p[1:len(p)-1]):
		pt.kind, pt.needle = patContains, p[1:len(p)-1]
	}
	return pt
}

func (pt *Pattern) match(s string, b *Budget) bool {
	// Exact, prefix and suffix tests read at most the needle (a bounded
	// literal); a contains test reads the whole string.
	if pt.kind == patContains && !b.spendFast(len(s)) {
		return false
	}
	switch pt.kind {
	case patExact:
		return s == pt.needle
	case patPrefix:
		return strings.HasPrefix(s, pt.needle)
	case patSuffix:
		return strings.HasSuffix(s, pt.needle)
	case patContains:
		return strings.Contains(s, pt.needle)
	}
	return globMatch(pt.text, s, b)
}
