package embedded

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// retainedStore keeps the last retained message per topic in a tree of
// topic levels, so a subscription collects only what its filter can match
// instead of scanning every retained topic.
type retainedStore struct {
	mu   sync.RWMutex
	root rnode
	// lastParent is the node of the levels above the last topic set (its
	// path in lastPath): a publisher replacing many retained topics of one
	// parent in a row (the gateway: a device's telemetry parameters) finds
	// their node in the parent's small map instead of walking every level
	// of a big tree. Pruning a node clears it.
	lastParent *rnode
	lastPath   string
	n          int
	bytes      int64
	maxN       int   // 0: unbounded
	maxBytes   int64 // 0: unbounded
}

func retainedSize(m *message) int64 { return int64(len(m.topic) + len(m.payload)) }

type rnode struct {
	children map[string]*rnode
	msg      *message
	size     int64 // retainedSize(msg), kept here: replacing msg need not read the old one
}

func (r *retainedStore) len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n
}

// set stores msg (an empty payload deletes the topic's message). It
// reports false when a new topic was refused by the limits.
func (r *retainedStore) set(msg *message) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(msg.payload) == 0 {
		r.remove(&r.root, msg.topic)
		return true
	}
	// path is the parent's levels with their trailing '/' ("" for the
	// root: a topic of one level).
	path, leaf := "", msg.topic
	if i := strings.LastIndexByte(msg.topic, '/'); i >= 0 {
		path, leaf = msg.topic[:i+1], msg.topic[i+1:]
	}
	parent := r.lastParent
	if parent == nil || path != r.lastPath {
		parent = r.node(path, false)
	}
	var n *rnode
	if parent != nil {
		n = parent.children[leaf]
	}
	if n == nil || n.msg == nil {
		if r.maxN > 0 && (r.n >= r.maxN || r.bytes+retainedSize(msg) > r.maxBytes) {
			return false
		}
		if parent == nil {
			parent = r.node(path, true)
		}
		if n == nil {
			if parent.children == nil {
				parent.children = make(map[string]*rnode)
			}
			n = &rnode{}
			parent.children[leaf] = n
		}
		r.n++
	} else {
		r.bytes -= n.size
	}
	r.lastParent, r.lastPath = parent, path
	n.size = retainedSize(msg)
	r.bytes += n.size
	if msg.origin != nil {
		// The stored copy forgets its publisher: No Local concerns live
		// delivery only, and the session must not be kept alive by it.
		cp := *msg
		cp.origin = nil
		msg = &cp
	}
	n.msg = msg // shared read-only, as with its deliveries
	return true
}

// node returns the node of path's levels (each followed by '/'; "" is
// the root), made when create, else nil when missing.
func (r *retainedStore) node(path string, create bool) *rnode {
	n := &r.root
	for rest := path; rest != ""; {
		l, after, _ := strings.Cut(rest, "/")
		c := n.children[l]
		if c == nil {
			if !create {
				return nil
			}
			if n.children == nil {
				n.children = make(map[string]*rnode)
			}
			c = &rnode{}
			n.children[l] = c
		}
		n = c
		rest = after
	}
	return n
}

func (r *retainedStore) has(topic string) bool {
	n := &r.root
	for rest := topic; ; {
		l, after, more := strings.Cut(rest, "/")
		if n = n.children[l]; n == nil {
			return false
		}
		if !more {
			return n.msg != nil
		}
		rest = after
	}
}

// remove deletes topic's message below n and prunes empty nodes; it
// reports whether n became empty.
func (r *retainedStore) remove(n *rnode, topic string) bool {
	l, rest, more := strings.Cut(topic, "/")
	c := n.children[l]
	if c == nil {
		return false
	}
	if more {
		r.remove(c, rest)
	} else if c.msg != nil {
		r.bytes -= c.size
		c.msg = nil
		r.n--
	}
	if c.msg == nil && len(c.children) == 0 {
		delete(n.children, l)
		r.lastParent = nil // it may be c
	}
	return n.msg == nil && len(n.children) == 0
}

func (r *retainedStore) alive(m *message, now time.Time, maxAge time.Duration) bool {
	return !m.expired(now) && (maxAge <= 0 || now.Sub(m.timestamp()) < maxAge)
}

// collect returns the live retained messages matching f, by topic.
func (r *retainedStore) collect(f *parsedFilter, now time.Time, maxAge time.Duration) []*message {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*message
	add := func(m *message) {
		if r.alive(m, now, maxAge) {
			out = append(out, m)
		}
	}
	var levels [16]string
	paths := f.levelPaths(levels[:0])
	for _, p := range paths {
		r.walk(&r.root, p, 0, add)
	}
	slices.SortFunc(out, func(a, b *message) int { return strings.Compare(a.topic, b.topic) })
	if len(paths) > 1 { // comma lists with '+' can reach a topic twice
		out = slices.CompactFunc(out, func(a, b *message) bool { return a == b })
	}
	return out
}

func (r *retainedStore) walk(n *rnode, path []string, i int, add func(*message)) {
	if i == len(path) {
		if n.msg != nil {
			add(n.msg)
		}
		return
	}
	switch l := path[i]; l {
	case "#":
		if n.msg != nil && i > 0 { // "a/#" matches "a"
			add(n.msg)
		}
		for k, c := range n.children {
			if i == 0 && strings.HasPrefix(k, "$") {
				continue
			}
			r.all(c, add)
		}
	case "+":
		for k, c := range n.children {
			if i == 0 && strings.HasPrefix(k, "$") {
				continue
			}
			r.walk(c, path, i+1, add)
		}
	default:
		if c := n.children[l]; c != nil {
			r.walk(c, path, i+1, add)
		}
	}
}

func (r *retainedStore) all(n *rnode, add func(*message)) {
	if n.msg != nil {
		add(n.msg)
	}
	for _, c := range n.children {
		r.all(c, add)
	}
}

// sweep drops expired messages and prunes empty nodes.
func (r *retainedStore) sweep(now time.Time, maxAge time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweepNode(&r.root, now, maxAge)
}

func (r *retainedStore) sweepNode(n *rnode, now time.Time, maxAge time.Duration) {
	if n.msg != nil && !r.alive(n.msg, now, maxAge) {
		r.bytes -= n.size
		n.msg = nil
		r.n--
	}
	for k, c := range n.children {
		r.sweepNode(c, now, maxAge)
		if c.msg == nil && len(c.children) == 0 {
			delete(n.children, k)
			r.lastParent = nil // it may be c
		}
	}
}

// volatileRetained reports whether topic's retained message is kept in
// memory only (Config.VolatileRetained) or not kept at all (a
// RetainedSource's): either way never written to the data directory, and
// copies found there at Open are dropped.
func (s *Server) volatileRetained(topic string) bool {
	return (s.cfg.VolatileRetained != nil && s.cfg.VolatileRetained(topic)) || s.owned(topic)
}
