package embedded

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gnssgate/gnssgate/broker"
)

// maxFilterPaths bounds how many plain filters a subscription with comma
// lists expands to, so "a,b,…/c,d,…/…" cannot blow up the tree.
const maxFilterPaths = 1024

// validTopicName reports whether t is a valid topic to publish to.
func validTopicName(t string) bool {
	return t != "" && len(t) <= 65535 && !strings.ContainsAny(t, "+#\x00") && utf8.ValidString(t)
}

// matchTopic reports whether the plain MQTT filter f (no $share, no comma
// lists) matches topic t.
func matchTopic(f, t string) bool {
	if strings.HasPrefix(t, "$") && (strings.HasPrefix(f, "+") || strings.HasPrefix(f, "#")) {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(f, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(t, "/")
		if fl != "+" && fl != tl {
			return false
		}
		if !fmore || !tmore {
			// "a/#" matches "a".
			return fmore == tmore || (fmore && frest == "#")
		}
		f, t = frest, trest
	}
}

// parsedFilter is a subscription filter taken apart: "$share/name[:from][:count]/",
// "$filter/spec/" and the topic filter whose levels may hold comma lists.
type parsedFilter struct {
	raw         string
	share       string // share group name, "" when not shared
	shareKey    string // what identifies the group: raw without "$share/"
	stickyFrom  int    // first level hashed for sticky shares
	stickyCount int    // levels hashed; 0 = round robin
	spec        string // $filter spec, "" when none
	topic       string // the topic filter, comma lists kept
	paths       [][]string
}

func parseFilter(raw string) (parsedFilter, error) {
	p := parsedFilter{raw: raw}
	if raw == "" || len(raw) > 65535 || strings.IndexByte(raw, 0) >= 0 || !utf8.ValidString(raw) {
		return p, fmt.Errorf("%w: %q", broker.ErrBadTopic, raw)
	}
	rest := raw
	if strings.HasPrefix(rest, "$share/") {
		p.shareKey = rest[len("$share/"):]
		name, after, ok := strings.Cut(p.shareKey, "/")
		if !ok || name == "" || after == "" || strings.ContainsAny(name, "+#") {
			return p, fmt.Errorf("%w: bad shared subscription %q", broker.ErrBadTopic, raw)
		}
		// flespi sticky shares: name:count or name:from:count.
		parts := strings.Split(name, ":")
		p.share = parts[0]
		switch len(parts) {
		case 1:
		case 2, 3:
			nums := make([]int, 0, 2)
			for _, s := range parts[1:] {
				n, err := strconv.Atoi(s)
				if err != nil || n < 0 || n > 1000 {
					return p, fmt.Errorf("%w: bad sticky share %q", broker.ErrBadTopic, raw)
				}
				nums = append(nums, n)
			}
			if len(nums) == 1 {
				p.stickyCount = nums[0]
			} else {
				p.stickyFrom, p.stickyCount = nums[0], nums[1]
			}
		default:
			return p, fmt.Errorf("%w: bad sticky share %q", broker.ErrBadTopic, raw)
		}
		if p.share == "" {
			return p, fmt.Errorf("%w: empty share name in %q", broker.ErrBadTopic, raw)
		}
		rest = after
	}
	if strings.HasPrefix(rest, "$filter/") {
		spec, after, ok := strings.Cut(rest[len("$filter/"):], "/")
		if !ok || spec == "" || after == "" {
			return p, fmt.Errorf("%w: bad $filter subscription %q", broker.ErrBadTopic, raw)
		}
		p.spec, rest = spec, after
	}
	p.topic = rest
	levels := strings.Split(rest, "/")
	paths := [][]string{nil}
	for i, l := range levels {
		switch {
		case l == "#":
			if i != len(levels)-1 {
				return p, fmt.Errorf("%w: '#' not last in %q", broker.ErrBadTopic, raw)
			}
		case l == "+":
		case strings.ContainsAny(l, "+#"):
			return p, fmt.Errorf("%w: wildcard inside a level of %q", broker.ErrBadTopic, raw)
		}
		vals := []string{l}
		if strings.Contains(l, ",") {
			vals = dedupe(strings.Split(l, ","))
			if len(paths)*len(vals) > maxFilterPaths {
				return p, fmt.Errorf("%w: too many comma combinations in %q", broker.ErrBadTopic, raw)
			}
		}
		next := make([][]string, 0, len(paths)*len(vals))
		for _, pa := range paths {
			for _, v := range vals {
				np := make([]string, len(pa), len(pa)+1)
				copy(np, pa)
				next = append(next, append(np, v))
			}
		}
		paths = next
	}
	p.paths = paths
	return p, nil
}

func dedupe(vals []string) []string {
	out := vals[:0]
	seen := make(map[string]bool, len(vals))
	for _, v := range vals {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// subscription is one subscription of one session; never merged with the
// session's other subscriptions, so each keeps its own options and $filter.
type subscription struct {
	sess    *session
	filter  parsedFilter
	qos     byte
	noLocal bool
	rap     bool // retain as published
	rh      byte // retain handling
	id      int  // subscription identifier, 0 = none
	pred    func(*message) bool
}

func (s *subscription) accepts(m *message) bool {
	if s.noLocal && m.origin == s.sess {
		return false
	}
	return s.pred == nil || s.pred(m)
}

type shareGroup struct {
	members []*subscription
	next    uint32
}

type node struct {
	children map[string]*node
	subs     []*subscription
	shared   map[string]*shareGroup
}

func (n *node) empty() bool {
	return len(n.children) == 0 && len(n.subs) == 0 && len(n.shared) == 0
}

// tree holds every subscription by topic level.
type tree struct {
	mu   sync.RWMutex
	root node
}

func (t *tree) add(s *subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, path := range s.filter.paths {
		n := &t.root
		for _, l := range path {
			c := n.children[l]
			if c == nil {
				if n.children == nil {
					n.children = make(map[string]*node)
				}
				c = &node{}
				n.children[l] = c
			}
			n = c
		}
		if s.filter.share == "" {
			n.subs = append(n.subs, s)
			continue
		}
		if n.shared == nil {
			n.shared = make(map[string]*shareGroup)
		}
		g := n.shared[s.filter.shareKey]
		if g == nil {
			g = &shareGroup{}
			n.shared[s.filter.shareKey] = g
		}
		g.members = append(g.members, s)
	}
}

func (t *tree) remove(s *subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, path := range s.filter.paths {
		t.removePath(&t.root, path, s)
	}
}

func (t *tree) removePath(n *node, path []string, s *subscription) {
	if len(path) > 0 {
		c := n.children[path[0]]
		if c == nil {
			return
		}
		t.removePath(c, path[1:], s)
		if c.empty() {
			delete(n.children, path[0])
		}
		return
	}
	if s.filter.share == "" {
		n.subs = removeSub(n.subs, s)
		return
	}
	if g := n.shared[s.filter.shareKey]; g != nil {
		g.members = removeSub(g.members, s)
		if len(g.members) == 0 {
			delete(n.shared, s.filter.shareKey)
		}
	}
}

func removeSub(list []*subscription, s *subscription) []*subscription {
	for i, x := range list {
		if x == s {
			last := len(list) - 1
			list[i] = list[last]
			list[last] = nil
			return list[:last]
		}
	}
	return list
}

// matches collects what matches topic. Call with t.mu read-locked.
type matches struct {
	subs   []*subscription
	groups []*shareGroup
	levels []string
}

var matchPool = sync.Pool{New: func() any { return new(matches) }}

func (m *matches) reset() {
	clear(m.subs)
	clear(m.groups)
	m.subs, m.groups, m.levels = m.subs[:0], m.groups[:0], m.levels[:0]
}

func (m *matches) addNode(n *node) {
	m.subs = append(m.subs, n.subs...)
	for _, g := range n.shared {
		m.groups = append(m.groups, g)
	}
}

func (t *tree) match(topic string, m *matches) {
	m.levels = m.levels[:0]
	for {
		l, rest, more := strings.Cut(topic, "/")
		m.levels = append(m.levels, l)
		if !more {
			break
		}
		topic = rest
	}
	dollar := strings.HasPrefix(m.levels[0], "$")
	t.walk(&t.root, 0, dollar, m)
}

func (t *tree) walk(n *node, i int, dollar bool, m *matches) {
	wild := !(i == 0 && dollar)
	if i == len(m.levels) {
		m.addNode(n)
		if c := n.children["#"]; c != nil {
			m.addNode(c)
		}
		return
	}
	if wild {
		if c := n.children["#"]; c != nil {
			m.addNode(c)
		}
		if c := n.children["+"]; c != nil {
			t.walk(c, i+1, dollar, m)
		}
	}
	if c := n.children[m.levels[i]]; c != nil {
		t.walk(c, i+1, dollar, m)
	}
}
