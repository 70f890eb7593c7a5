package embedded

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/filter"
)

// maxFilterPaths bounds how many plain filters a subscription with comma
// lists expands to, so "a,b,…/c,d,…/…" cannot blow up the tree, and
// maxFilterEntries the levels of all of them together (1,024 device IDs in
// a comma list, 8 levels deep, as in flespi/message/gw/devices/1,2,…/+),
// so that one filter costs the tree a few milliseconds at most.
// maxSubscribeEntries bounds the levels of all the filters of one
// SUBSCRIBE packet together (two filters at maxFilterEntries): past it the
// packet's further filters are refused with 0x97 (quota exceeded) before
// they are expanded, so no single SUBSCRIBE costs more than a few
// milliseconds however many filters it carries.
//
// maxSubscribeSpecBytes bounds the text of the "$filter" subscriptions of
// one SUBSCRIBE packet together: compiling an expression costs about 30 ns
// a byte (more for the densest the filter package's limits allow), so 250
// filters of 4 KiB in one 1 MiB packet took tens of milliseconds. Four
// filters at the 4,096-byte limit fit; further "$filter" subscriptions of
// the packet are refused with 0x97 before they are parsed (a client with
// more sends more SUBSCRIBE packets).
const (
	maxFilterPaths        = 1024
	maxFilterEntries      = 8192
	maxSubscribeEntries   = 2 * maxFilterEntries
	maxSubscribeSpecBytes = 16 << 10
)

// errFilterQuota: a SUBSCRIBE's filters together exceed maxSubscribeEntries
// or maxSubscribeSpecBytes.
var errFilterQuota = errors.New("embedded: the SUBSCRIBE's filters exceed its quota of topic levels")

// specCost is what compiling raw's "$filter" expressions may cost against
// maxSubscribeSpecBytes: its length when it has any, else nothing.
func specCost(raw string) int {
	if strings.Contains(raw, "$filter/") {
		return len(raw)
	}
	return 0
}

// validTopicName reports whether t may be published to (broker.ValidateTopic).
func validTopicName(t string) bool { return broker.ValidateTopic(t) == nil }

// parsedFilter is a broker.Filter with the plain level paths the tree
// indexes: one per combination of comma-list values (levelPaths).
type parsedFilter struct {
	broker.Filter
	// commaPaths holds the paths of a topic with comma lists, expanded
	// once when parsed; nil for a plain topic, whose one path is its
	// levels, split when needed: a subscription keeps no copy of them
	// (most filters are plain, and an idle subscriber keeps its
	// subscription for as long as it stays).
	commaPaths *[][]string
}

func parseFilter(raw string) (parsedFilter, error) {
	return parseFilterWith(raw, nil, 128, maxFilterEntries)
}

// parseFilter parses a subscription filter with the server's "$filter"
// budget and topic level bound.
func (s *Server) parseFilter(raw string) (parsedFilter, error) {
	return s.parseFilterLeft(raw, maxFilterEntries)
}

// parseFilterLeft is parseFilter for a SUBSCRIBE with left levels of its
// quota (maxSubscribeEntries) to spend; past them the error wraps
// errFilterQuota.
func (s *Server) parseFilterLeft(raw string, left int) (parsedFilter, error) {
	return parseFilterWith(raw, &filter.Config{Limits: filter.Limits{MaxSteps: s.lim.filterSteps}}, s.lim.maxTopicLevels, left)
}

// parseFilterWith parses raw with fc for its "$filter" specs, refusing a
// topic filter of more than maxLevels levels before any work that grows
// with them, and one whose comma lists expand to more than
// min(maxEntries, maxFilterEntries) levels in all as it expands them.
func parseFilterWith(raw string, fc *filter.Config, maxLevels, maxEntries int) (parsedFilter, error) {
	if n := strings.Count(raw, "/") + 1; n > maxLevels {
		// The prefixes' levels count too: the bound is on the text.
		return parsedFilter{}, fmt.Errorf("%w: %d topic levels, more than %d", broker.ErrBadTopic, n, maxLevels)
	}
	f, err := broker.ParseFilterConfig(raw, fc)
	if err != nil {
		return parsedFilter{}, err
	}
	p := parsedFilter{Filter: f}
	if !strings.Contains(f.Topic(), ",") {
		if n := strings.Count(f.Topic(), "/") + 1; n > maxEntries {
			return p, fmt.Errorf("%w: %q has %d levels", errFilterQuota, raw[:min(len(raw), 100)], n)
		}
		return p, nil
	}
	paths := [][]string{nil}
	levels := strings.Split(f.Topic(), "/")
	for _, l := range levels {
		vals := []string{l}
		if strings.Contains(l, ",") {
			vals = dedupe(strings.Split(l, ","))
			if n := len(paths) * len(vals); n > maxFilterPaths || n*len(levels) > maxFilterEntries {
				return p, fmt.Errorf("%w: %q: %d comma combinations of %d levels, more than %d or %d levels in all",
					broker.ErrBadTopic, raw[:min(len(raw), 100)], n, len(levels), maxFilterPaths, maxFilterEntries)
			} else if n*len(levels) > maxEntries {
				return p, fmt.Errorf("%w: %q expands to %d levels", errFilterQuota, raw[:min(len(raw), 100)], n*len(levels))
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
	if len(paths)*len(levels) > maxEntries {
		return p, fmt.Errorf("%w: %q has %d levels", errFilterQuota, raw[:min(len(raw), 100)], len(levels))
	}
	p.commaPaths = &paths
	return p, nil
}

func (p *parsedFilter) shared() bool { return p.Share() != nil }

// levelPaths returns the plain level paths the filter expands to: those of
// its comma lists, or its topic's levels appended to levels. Inlined, with
// levels the caller's array on its stack, it allocates nothing for a plain
// filter: subscribing then allocates no more than when the levels were
// kept.
func (p *parsedFilter) levelPaths(levels []string) [][]string {
	if p.commaPaths != nil {
		return *p.commaPaths
	}
	return [][]string{appendLevels(levels, p.Topic())}
}

// appendLevels appends topic's levels to dst.
func appendLevels(dst []string, topic string) []string {
	for {
		l, rest, more := strings.Cut(topic, "/")
		dst = append(dst, l)
		if !more {
			return dst
		}
		topic = rest
	}
}

// entries is the levels of all the paths the filter expands to.
func (p *parsedFilter) entries() int {
	if p.commaPaths == nil {
		return strings.Count(p.Topic(), "/") + 1
	}
	n := 0
	for _, pa := range *p.commaPaths {
		n += len(pa)
	}
	return n
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
// session's other subscriptions, so each keeps its own options and $filter
// (the filter's Predicate). An idle subscriber keeps it for as long as it
// stays: the small fields share the last words (160-byte size class).
type subscription struct {
	sess   *session
	filter parsedFilter
	space  *string // the namespace it was taken in, nil: the client's own (Token.Spaces)
	id     int     // subscription identifier, 0 = none
	// overBudget is set when the predicate first gave up on a message (its
	// step budget ran out), so that it is logged once per subscription.
	overBudget atomic.Bool
	qos        byte
	noLocal    bool
	rap        bool // retain as published
	rh         byte // retain handling
	inTree     bool // guarded by tree.mu
}

func (s *subscription) accepts(m *message) bool {
	if s.noLocal && m.origin == s.sess {
		return false
	}
	pred := s.filter.Predicate()
	if pred == nil {
		return true
	}
	bm, o := m.toBroker(m.qos, m.retain, m.created), broker.Origin{Time: m.created}
	cp, ok := pred.(broker.CheckPredicate)
	if !ok {
		return pred.MatchMessage(bm, o)
	}
	match, err := cp.CheckMessage(bm, o)
	if err != nil {
		srv := s.sess.srv
		srv.stats.filterOverBudget.Add(1)
		if !s.overBudget.Swap(true) {
			srv.log.Warn("embedded: $filter over its step budget: message not delivered (logged once per subscription)",
				"client", s.sess.id, "filter", s.filter.String(), "topic", m.topic, "bytes", len(m.payload), "err", err)
		}
	}
	return match
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
	mu    sync.RWMutex
	root  node
	count atomic.Int64 // subscriptions in the tree (Stats)
}

func (t *tree) add(s *subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !s.inTree {
		s.inTree = true
		t.count.Add(1)
	}
	var levels [16]string
	for _, path := range s.filter.levelPaths(levels[:0]) {
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
		if !s.filter.shared() {
			n.subs = append(n.subs, s)
			continue
		}
		if n.shared == nil {
			n.shared = make(map[string]*shareGroup)
		}
		g := n.shared[s.filter.ShareKey()]
		if g == nil {
			g = &shareGroup{}
			n.shared[s.filter.ShareKey()] = g
		}
		g.members = append(g.members, s)
	}
}

func (t *tree) remove(s *subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.inTree {
		s.inTree = false
		t.count.Add(-1)
	}
	var levels [16]string
	for _, path := range s.filter.levelPaths(levels[:0]) {
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
	if !s.filter.shared() {
		n.subs = removeSub(n.subs, s)
		return
	}
	if g := n.shared[s.filter.ShareKey()]; g != nil {
		// Members keep their order: sticky shares hash onto positions.
		if i := slices.Index(g.members, s); i >= 0 {
			g.members = slices.Delete(g.members, i, i+1)
		}
		if len(g.members) == 0 {
			delete(n.shared, s.filter.ShareKey())
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

// matches collects what matches topic (call match with t.mu read-locked)
// and, in targets, the sessions route chose from that. Pooled.
type matches struct {
	subs    []*subscription
	groups  []*shareGroup
	levels  []string
	targets []target
}

var matchPool = sync.Pool{New: func() any { return new(matches) }}

func (m *matches) reset() {
	clear(m.subs)
	clear(m.groups)
	clear(m.targets)
	m.subs, m.groups, m.levels, m.targets = m.subs[:0], m.groups[:0], m.levels[:0], m.targets[:0]
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
