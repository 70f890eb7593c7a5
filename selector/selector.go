package selector

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/filter"
)

// Selector chooses items of a collection, as the {selector} segment of a
// flespi REST path does. It is immutable and safe for concurrent use.
type Selector struct {
	ids      []int64 // sorted, unique; empty: no id condition
	terms    []term  // all must hold
	maxSteps int     // the step budget of one item, shared by the terms
}

type term struct {
	path    string
	neg     bool   // "!=" rather than "="
	value   string // wildcard pattern: * any run, ? one character
	pat     *filter.Pattern
	num     float64
	isNum   bool         // value is a plain number: numbers compare numerically
	expr    *filter.Expr // {expression} term
	exprSrc string
}

// Parse parses a selector:
//
//	all                          every item
//	1,2,5                        items whose id is listed (a set)
//	configuration.ident=1234*    items whose value at a path matches a pattern
//	protocol_name!=teltonika     … or does not
//	{name=="car*" || id==3}      items for which a flespi expression is true
//
// Comma-separated terms are ANDed; bare ids together form one set. A path
// is dotted (configuration.ident is the member ident of configuration; see
// filter.EachPath for flat dotted keys and arrays); "==" may be written for
// "=". A pattern may be quoted ("…" or '…') to hold commas. Expressions use
// the filter package with "=" accepted as "==" and are evaluated over the
// item with dotted names as paths.
func Parse(s string) (*Selector, error) { return ParseConfig(s, nil) }

// ParseConfig is Parse with c's functions and limits for expression terms
// (nil: filter's defaults; "=" is always "=="). Its Limits.MaxSteps is the
// step budget of matching one item, shared by all the terms (see
// [Selector.Check]).
func ParseConfig(s string, c *filter.Config) (*Selector, error) {
	fc := filter.Config{}
	if c != nil {
		fc = *c
	}
	fc.LooseEquals = true
	if len(s) > MaxLen {
		return nil, syntaxError(s, 0, ErrTooLong, "selector longer than "+strconv.Itoa(MaxLen)+" bytes")
	}
	if s == "" {
		return nil, syntaxError(s, 0, ErrSyntax, "empty selector")
	}
	sel := &Selector{maxSteps: fc.Limits.MaxSteps}
	all := false
	off := 0
	for off <= len(s) {
		end, err := termEnd(s, off)
		if err != nil {
			return nil, err
		}
		t := s[off:end]
		switch {
		case t == "":
			return nil, syntaxError(s, off, ErrSyntax, "empty selector term")
		case t == "all":
			all = true
		case isDigits(t):
			id, err := strconv.ParseInt(t, 10, 64)
			if err != nil {
				return nil, syntaxError(s, off, ErrSyntax, "id out of range")
			}
			sel.ids = append(sel.ids, id)
		case t[0] == '{':
			if t[len(t)-1] != '}' {
				return nil, syntaxError(s, off+len(t), ErrSyntax, "expression term must end with '}'")
			}
			x, err := fc.Compile(t[1 : len(t)-1])
			if err != nil {
				return nil, shift(s, off+1, err)
			}
			sel.terms = append(sel.terms, term{expr: x, exprSrc: x.String()})
		default:
			pt, err := parsePathTerm(s, off, t)
			if err != nil {
				return nil, err
			}
			sel.terms = append(sel.terms, pt)
		}
		off = end + 1
	}
	_ = all // "all" adds no condition; with other terms it is redundant
	slices.Sort(sel.ids)
	sel.ids = slices.Compact(sel.ids)
	return sel, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// termEnd finds the comma that ends the term starting at off (or len(s)),
// skipping commas inside {…} (with quoted strings) and quoted values.
func termEnd(s string, off int) (int, error) {
	depth := 0
	var quote byte
	for i := off; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && depth > 0 {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth < 0 {
				return 0, syntaxError(s, i, ErrSyntax, "unexpected '}'")
			}
		case c == ',' && depth == 0:
			return i, nil
		}
	}
	if quote != 0 {
		return 0, syntaxError(s, len(s), ErrSyntax, "unterminated quote")
	}
	if depth > 0 {
		return 0, syntaxError(s, len(s), ErrSyntax, "unterminated '{'")
	}
	return len(s), nil
}

func isPathChar(c byte) bool {
	return c == '_' || c == '.' || c == '#' || c == '-' || c == '$' ||
		'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func parsePathTerm(s string, off int, t string) (term, error) {
	i := 0
	for i < len(t) && isPathChar(t[i]) {
		i++
	}
	path := t[:i]
	if path == "" || path[0] == '.' || path[len(path)-1] == '.' || strings.Contains(path, "..") {
		return term{}, syntaxError(s, off, ErrSyntax, "bad selector term (want an id, all, path=value or {expression})")
	}
	var tm term
	tm.path = path
	rest := t[i:]
	switch {
	case strings.HasPrefix(rest, "=="):
		rest = rest[2:]
	case strings.HasPrefix(rest, "!="):
		tm.neg = true
		rest = rest[2:]
	case strings.HasPrefix(rest, "="):
		rest = rest[1:]
	default:
		return term{}, syntaxError(s, off+i, ErrSyntax, "want '=' or '!=' after path '"+path+"'")
	}
	vOff := off + len(t) - len(rest)
	if len(rest) >= 2 && (rest[0] == '"' || rest[0] == '\'') {
		if rest[len(rest)-1] != rest[0] || strings.IndexByte(rest[1:len(rest)-1], rest[0]) >= 0 {
			return term{}, syntaxError(s, vOff, ErrSyntax, "bad quoted value")
		}
		rest = rest[1 : len(rest)-1]
	} else if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
		return term{}, syntaxError(s, vOff, ErrSyntax, "bad quoted value")
	}
	if len(rest) > 1024 {
		return term{}, syntaxError(s, vOff, filter.ErrLimit, "pattern longer than 1024 bytes")
	}
	tm.value = rest
	tm.pat = filter.NewPattern(rest)
	if !strings.ContainsAny(rest, "*?") {
		if f, err := strconv.ParseFloat(rest, 64); err == nil && rest != "" && isNumberText(rest) {
			tm.num, tm.isNum = f, true
		}
	}
	return tm, nil
}

// isNumberText accepts JSON-style numbers only (ParseFloat also takes "inf",
// "0x1p3" and underscores).
func isNumberText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	return true
}

// All reports whether the selector selects every item.
func (s *Selector) All() bool { return len(s.ids) == 0 && len(s.terms) == 0 }

// IDs returns the id set, if the selector has one (a copy, sorted).
func (s *Selector) IDs() []int64 { return slices.Clone(s.ids) }

// Pinned returns the values the selector pins path to: those of its
// path=value terms without wildcards (numbers as numbers), and the
// literals of the path == literal comparisons its expression terms
// cannot be true without (filter.Expr.Pinned). A caller learns, say,
// which accounts a selector on "cid" asks for, whatever the items.
func (s *Selector) Pinned(path string) []filter.Value {
	var out []filter.Value
	for i := range s.terms {
		t := &s.terms[i]
		switch {
		case t.expr != nil:
			out = append(out, t.expr.Pinned(path)...)
		case t.path != path || t.neg || strings.ContainsAny(t.value, "*?"):
		case t.isNum:
			out = append(out, filter.Number(t.num))
		default:
			out = append(out, filter.String(t.value))
		}
	}
	return out
}

// String returns the canonical form: "all", or the id set (sorted) followed by
// the other terms in their order, expressions in canonical form.
// Parse(s.String()) selects the same items.
func (s *Selector) String() string {
	if s.All() {
		return "all"
	}
	var b strings.Builder
	for _, id := range s.ids {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	for _, t := range s.terms {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if t.expr != nil {
			b.WriteString("{" + t.exprSrc + "}")
			continue
		}
		b.WriteString(t.path)
		if t.neg {
			b.WriteString("!=")
		} else {
			b.WriteByte('=')
		}
		b.WriteString(quoteValue(t.value))
	}
	return b.String()
}

// quoteValue prints a pattern so that Parse reads it back: bare when that
// is unambiguous, else in the quotes it does not contain. A value holding
// both quote characters can only have come from a bare form with balanced
// quotes, which reads back as it is.
func quoteValue(v string) string {
	plain := v != "" && v[0] != '=' && !strings.ContainsAny(v, ",{}\"'")
	switch {
	case plain:
		return v
	case strings.IndexByte(v, '"') < 0:
		return `"` + v + `"`
	case strings.IndexByte(v, '\'') < 0:
		return "'" + v + "'"
	}
	return v
}

// Match reports whether the item, a JSON object, is selected. The id set
// compares with the item's "id" member.
func (s *Selector) Match(item []byte) bool { return s.MatchEnv(item, nil) }

// MatchEnv is Match with an evaluation environment for expressions (now(),
// time zone, metadata); build one Env per request.
func (s *Selector) MatchEnv(item []byte, env *filter.Env) bool {
	ok, _ := s.Check(item, env)
	return ok
}

// Check is MatchEnv that also reports an item the selector gave up on:
// its terms share one step budget per item (filter.Limits.MaxSteps, default
// filter.DefaultMaxSteps), so a hostile pattern or expression costs at most
// a few milliseconds per item. Past it the item is not selected and the
// error wraps filter.ErrBudget; otherwise the error is nil.
func (s *Selector) Check(item []byte, env *filter.Env) (bool, error) {
	b := filter.NewBudget(s.maxSteps)
	if len(s.ids) > 0 {
		ok := false
		filter.EachPath(item, "id", func(v filter.Value) bool {
			if f, isNum := v.Float(); isNum && f == float64(int64(f)) {
				_, ok = slices.BinarySearch(s.ids, int64(f))
			}
			return false
		})
		if !ok {
			return false, nil
		}
	}
	for i := range s.terms {
		if !s.terms[i].match(item, env, b) {
			return false, b.Err()
		}
	}
	return true, nil
}

func (t *term) match(item []byte, env *filter.Env, b *filter.Budget) bool {
	if t.expr != nil {
		ok, _ := t.expr.CheckObject(item, env, b)
		return ok
	}
	// Resolving a path reads the item once per dot in it.
	if !b.SpendScan(len(item) * (1 + strings.Count(t.path, "."))) {
		return false
	}
	hit := false
	found := filter.EachPath(item, t.path, func(v filter.Value) bool {
		hit = t.matchValue(v, b)
		return !hit && !b.Exceeded()
	})
	if !found || b.Exceeded() {
		return false
	}
	return hit != t.neg
}

// matchValue compares one value with the pattern: strings by wildcard match,
// numbers numerically when the pattern is a number (else by their JSON
// text), booleans and null by their JSON text. Objects never match.
func (t *term) matchValue(v filter.Value, b *filter.Budget) bool {
	switch v.Kind() {
	case filter.KindString:
		s, _ := v.Str()
		return t.pat.MatchBudget(s, b)
	case filter.KindNumber:
		f, _ := v.Float()
		if t.isNum {
			return f == t.num
		}
		var buf [32]byte
		return t.pat.MatchBudget(string(v.AppendJSON(buf[:0])), b)
	case filter.KindBool:
		v, _ := v.Bool()
		return t.pat.MatchBudget(strconv.FormatBool(v), b)
	case filter.KindNull:
		return t.pat.MatchBudget("null", b)
	}
	return false
}
