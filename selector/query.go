package selector

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gnssgate/gnssgate/filter"
	"github.com/tidwall/gjson"
)

// Fields is a projection: the members of an item to keep. A field may be a
// dotted path ("configuration.ident"), which keeps that member inside its
// parents; a member whose own name holds the dots ("position.speed" inside
// telemetry) is matched as a whole first. The zero Fields keeps everything.
type Fields struct {
	paths []string
}

// ParseFields parses a comma-separated fields list, as in ?fields=id,name.
func ParseFields(s string) (Fields, error) {
	if s == "" {
		return Fields{}, nil
	}
	if len(s) > MaxLen {
		return Fields{}, syntaxError(s, 0, ErrTooLong, "fields longer than "+strconv.Itoa(MaxLen)+" bytes")
	}
	var f Fields
	off := 0
	for _, p := range strings.Split(s, ",") {
		if p == "" || p[0] == '.' || p[len(p)-1] == '.' || strings.Contains(p, "..") {
			return Fields{}, syntaxError(s, off, ErrSyntax, "bad field name '"+p+"'")
		}
		for i := 0; i < len(p); i++ {
			if !isPathChar(p[i]) {
				return Fields{}, syntaxError(s, off+i, ErrSyntax, "bad character in field name")
			}
		}
		if !slices.Contains(f.paths, p) {
			f.paths = append(f.paths, p)
		}
		off += len(p) + 1
	}
	return f, nil
}

// String returns the list as given (duplicates dropped).
func (f Fields) String() string { return strings.Join(f.paths, ",") }

// IsZero reports whether f keeps everything.
func (f Fields) IsZero() bool { return len(f.paths) == 0 }

// AppendProject appends item (a JSON object) reduced to the fields, in the
// item's member order, to dst. A zero Fields appends item unchanged; a
// non-object item is appended unchanged.
func (f Fields) AppendProject(dst, item []byte) []byte {
	if len(f.paths) == 0 {
		return append(dst, item...)
	}
	r := gjson.ParseBytes(item)
	if !r.IsObject() {
		return append(dst, item...)
	}
	return project(dst, r, f.paths)
}

func project(dst []byte, obj gjson.Result, paths []string) []byte {
	dst = append(dst, '{')
	first := true
	var sub []string
	obj.ForEach(func(k, v gjson.Result) bool {
		key := k.String()
		sub = sub[:0]
		whole := false
		for _, p := range paths {
			if p == key {
				whole = true
				break
			}
			if len(p) > len(key) && p[len(key)] == '.' && strings.HasPrefix(p, key) {
				sub = append(sub, p[len(key)+1:])
			}
		}
		if !whole && (len(sub) == 0 || !v.IsObject()) {
			return true
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, k.Raw...)
		dst = append(dst, ':')
		if whole {
			dst = append(dst, v.Raw...)
		} else {
			dst = project(dst, v, slices.Clone(sub))
		}
		return true
	})
	return append(dst, '}')
}

// Query is a REST collection request: a selector, a projection and
// pagination. The zero Query selects every item whole.
type Query struct {
	Selector *Selector // nil selects every item
	Fields   Fields
	Limit    int // items per page; 0 means no limit
	Offset   int // items to skip
	// Env is the evaluation environment of expression terms (now(), time
	// zone, metadata); nil means the system clock and UTC.
	Env *filter.Env
}

// ParseQuery builds a Query from a selector path segment (already split and
// decoded, see SplitPath) and the URL query parameters fields, limit and
// offset; other parameters are ignored.
func ParseQuery(selector string, params url.Values) (*Query, error) {
	q := &Query{}
	var err error
	if q.Selector, err = Parse(selector); err != nil {
		return nil, err
	}
	if q.Fields, err = ParseFields(params.Get("fields")); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"limit", &q.Limit}, {"offset", &q.Offset}} {
		v := params.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, syntaxError(v, 0, ErrSyntax, p.name+" must be a non-negative integer")
		}
		*p.dst = n
	}
	return q, nil
}

// Apply selects, paginates and projects items (JSON objects) and returns
// flespi's response shape:
//
//	{"result":[…],"pagination":{"limit":L,"offset":O,"count":TOTAL}}
//
// where count is the number of selected items before pagination, and limit
// 0 means no limit. Items are not modified.
func (q *Query) Apply(items [][]byte) []byte {
	return q.AppendApply(nil, items)
}

// AppendApply is Apply appending to dst.
func (q *Query) AppendApply(dst []byte, items [][]byte) []byte {
	dst = append(dst, `{"result":[`...)
	count, emitted := 0, 0
	for _, it := range items {
		if q.Selector != nil && !q.Selector.MatchEnv(it, q.Env) {
			continue
		}
		count++
		if count <= q.Offset || q.Limit > 0 && emitted >= q.Limit {
			continue
		}
		if emitted > 0 {
			dst = append(dst, ',')
		}
		emitted++
		dst = q.Fields.AppendProject(dst, it)
	}
	dst = append(dst, `],"pagination":{"limit":`...)
	dst = strconv.AppendInt(dst, int64(q.Limit), 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, int64(q.Offset), 10)
	dst = append(dst, `,"count":`...)
	dst = strconv.AppendInt(dst, int64(count), 10)
	return append(dst, "}}"...)
}

// SplitPath splits a raw (still percent-encoded) URL path, such as
// r.URL.EscapedPath(), into decoded segments. A '/' inside {…} — division in
// an expression selector — does not split, whether the braces and quotes
// arrive raw or percent-encoded, and each segment is percent-decoded after
// splitting, so "%2F" never splits either. Paths longer than MaxLen are
// refused.
func SplitPath(raw string) ([]string, error) {
	if len(raw) > MaxLen {
		return nil, syntaxError(raw, 0, ErrTooLong, "path longer than "+strconv.Itoa(MaxLen)+" bytes")
	}
	raw = strings.TrimPrefix(raw, "/")
	var segs []string
	depth := 0
	var quote byte
	start := 0
	for i := 0; i <= len(raw); i++ {
		c := byte('/')
		n := 1
		if i < len(raw) {
			c = raw[i]
			if c == '%' && i+2 < len(raw) {
				if d, ok := unhex(raw[i+1], raw[i+2]); ok && (d == '{' || d == '}' || d == '"' || d == '\'' || d == '/') {
					c, n = d, 3
				}
			}
		}
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case depth > 0 && (c == '"' || c == '\''):
			quote = c
		case c == '{':
			depth++
		case c == '}':
			if depth > 0 {
				depth--
			}
		case c == '/' && (depth == 0 || i == len(raw)) && n == 1:
			seg, err := url.PathUnescape(raw[start:i])
			if err != nil {
				return nil, syntaxError(raw, start, ErrSyntax, "bad percent-encoding in path segment")
			}
			segs = append(segs, seg)
			start = i + 1
		}
		i += n - 1
	}
	if depth > 0 || quote != 0 {
		return nil, syntaxError(raw, len(raw), ErrSyntax, "unterminated '{' or quote in path")
	}
	return segs, nil
}

func unhex(a, b byte) (byte, bool) {
	h := func(c byte) (byte, bool) {
		switch {
		case '0' <= c && c <= '9':
			return c - '0', true
		case 'a' <= c && c <= 'f':
			return c - 'a' + 10, true
		case 'A' <= c && c <= 'F':
			return c - 'A' + 10, true
		}
		return 0, false
	}
	x, ok1 := h(a)
	y, ok2 := h(b)
	return x<<4 | y, ok1 && ok2
}
