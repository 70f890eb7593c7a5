// Package telem is the in-memory telemetry table both engines use: the latest
// value and timestamp of every parameter of every device, merged so that an
// older value never replaces a newer one, and the watcher list.
package telem

import (
	"slices"
	"strings"
	"sync"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

type entry struct {
	value protocol.Value
	time  float64
}

// Table is not safe for concurrent use; its owner locks.
type Table struct {
	MaxParams int
	devices   map[string]map[string]entry
}

// Set stores one value unconditionally (loading from disk).
func (t *Table) Set(ident, name string, v protocol.Value, ts float64) {
	if t.devices == nil {
		t.devices = make(map[string]map[string]entry)
	}
	d := t.devices[ident]
	if d == nil {
		d = make(map[string]entry)
		t.devices[ident] = d
	}
	d[name] = entry{v, ts}
}

// Params appends a device's parameters to dst (in no particular order) and
// their times to times (one each, in the same order): the form a durable
// engine keeps one device's telemetry in (one record per device, not one
// per parameter). ok is false for a device without telemetry.
func (t *Table) Params(ident string, dst *protocol.Message, times []float64) (_ []float64, ok bool) {
	d, ok := t.devices[ident]
	if !ok {
		return times, false
	}
	dst.Grow(len(d))
	for n, e := range d {
		dst.Add(n, e.value)
		times = append(times, e.time)
	}
	return times, true
}

// Batch is the effect of merging messages: the changes to announce and the
// parameters evicted by MaxParams, per device in first-seen order.
type Batch struct {
	Changes []store.TelemetryChange
	Evicted map[string][]string // ident → names
}

// Validate checks that every message can be merged.
func Validate(msgs []protocol.Message) error {
	for i := range msgs {
		if msgs[i].Ident() == "" {
			return store.ErrInvalid
		}
		if _, ok := store.DeviceTime(&msgs[i]); !ok {
			return store.ErrInvalid
		}
	}
	return nil
}

// Merge applies msgs (already validated) and returns what changed.
func (t *Table) Merge(msgs []protocol.Message) Batch {
	var b Batch
	if t.devices == nil {
		t.devices = make(map[string]map[string]entry)
	}
	// Changes are collected per device in first-seen order; a device seen
	// in several messages may collect a name more than once (the later
	// one is the newer: an older value is refused below), so those are
	// deduplicated at the end.
	var index map[string]int // ident → its change in b.Changes, when msgs has several devices
	repeated := false
	for i := range msgs {
		m := &msgs[i]
		ident := m.Ident()
		ts, _ := store.DeviceTime(m)
		d := t.devices[ident]
		if d == nil {
			d = make(map[string]entry, len(m.Params()))
			t.devices[ident] = d
		}
		var c *store.TelemetryChange
		for _, p := range m.Params() {
			if old, ok := d[p.Name]; ok {
				if old.time > ts {
					continue // never older over newer
				}
				if old.time == ts && old.value.Equal(p.Value) && old.value.Kind() == p.Value.Kind() {
					continue // nothing new to announce
				}
			}
			d[p.Name] = entry{p.Value, ts}
			if c == nil {
				c, repeated = t.change(&b, &index, ident, len(m.Params()), repeated)
			}
			c.Values = append(c.Values, store.TelemetryValue{Name: p.Name, Value: p.Value, Time: ts})
		}
	}
	keep := b.Changes[:0]
	for _, c := range b.Changes {
		for _, name := range t.evict(c.Ident) {
			if b.Evicted == nil {
				b.Evicted = map[string][]string{}
			}
			b.Evicted[c.Ident] = append(b.Evicted[c.Ident], name)
			c.Values = slices.DeleteFunc(c.Values, func(v store.TelemetryValue) bool { return v.Name == name })
		}
		if len(c.Values) == 0 {
			continue
		}
		// Sorted by name, the last of each name kept (stable: in message
		// order, so the last is the newest).
		slices.SortStableFunc(c.Values, func(a, b store.TelemetryValue) int { return strings.Compare(a.Name, b.Name) })
		if repeated || hasDuplicates(c.Values) {
			c.Values = lastOfEachName(c.Values)
		}
		keep = append(keep, c)
	}
	clear(b.Changes[len(keep):])
	b.Changes = keep
	return b
}

// change returns ident's change in b, added when it has none. With one
// device in b no index is needed; the second device makes it. repeated
// becomes true when a device comes back after another.
func (t *Table) change(b *Batch, index *map[string]int, ident string, hint int, repeated bool) (*store.TelemetryChange, bool) {
	n := len(b.Changes)
	if n > 0 && b.Changes[n-1].Ident == ident {
		return &b.Changes[n-1], true // the same device again, in a row
	}
	if *index == nil && n == 1 {
		*index = map[string]int{b.Changes[0].Ident: 0}
	}
	if *index != nil {
		if j, ok := (*index)[ident]; ok {
			return &b.Changes[j], true
		}
		(*index)[ident] = n
	}
	b.Changes = append(b.Changes, store.TelemetryChange{Ident: ident, Values: make([]store.TelemetryValue, 0, hint)})
	return &b.Changes[n], repeated
}

// hasDuplicates reports whether sorted vs repeats a name (a message that
// repeats a parameter).
func hasDuplicates(vs []store.TelemetryValue) bool {
	for i := 1; i < len(vs); i++ {
		if vs[i].Name == vs[i-1].Name {
			return true
		}
	}
	return false
}

// lastOfEachName keeps, of each run of one name in sorted vs, the last.
func lastOfEachName(vs []store.TelemetryValue) []store.TelemetryValue {
	out := vs[:0]
	for i := range vs {
		if i+1 < len(vs) && vs[i+1].Name == vs[i].Name {
			continue
		}
		out = append(out, vs[i])
	}
	clear(vs[len(out):])
	return out
}

// evict forgets the parameters with the oldest timestamps beyond MaxParams.
func (t *Table) evict(ident string) []string {
	d := t.devices[ident]
	max := t.MaxParams
	if max <= 0 {
		max = store.DefaultTelemetryMaxParams
	}
	if len(d) <= max {
		return nil
	}
	type kv struct {
		name string
		time float64
	}
	all := make([]kv, 0, len(d))
	for n, e := range d {
		all = append(all, kv{n, e.time})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.time != b.time {
			if a.time < b.time {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	var gone []string
	for _, e := range all[:len(all)-max] {
		delete(d, e.name)
		gone = append(gone, e.name)
	}
	return gone
}

// Get returns a device's values matching names (all when empty), sorted.
func (t *Table) Get(ident string, names []string) ([]store.TelemetryValue, error) {
	d, ok := t.devices[ident]
	if !ok {
		return nil, store.ErrNotFound
	}
	out := make([]store.TelemetryValue, 0, len(d))
	for n, e := range d {
		if len(names) == 0 || store.MatchAny(names, n) {
			out = append(out, store.TelemetryValue{Name: n, Value: e.value, Time: e.time})
		}
	}
	slices.SortFunc(out, func(a, b store.TelemetryValue) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Watchers is a concurrency-safe list of change callbacks.
type Watchers struct {
	mu   sync.Mutex
	next int
	fns  map[int]func(store.TelemetryChange)
}

// Add registers fn and returns its stop function.
func (w *Watchers) Add(fn func(store.TelemetryChange)) (stop func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fns == nil {
		w.fns = map[int]func(store.TelemetryChange){}
	}
	id := w.next
	w.next++
	w.fns[id] = fn
	return func() {
		w.mu.Lock()
		delete(w.fns, id)
		w.mu.Unlock()
	}
}

// Notify calls every watcher with every change. The caller holds its update
// lock, so watchers see updates in the order they were applied.
func (w *Watchers) Notify(changes []store.TelemetryChange) {
	if len(changes) == 0 {
		return
	}
	w.mu.Lock()
	fns := make([]func(store.TelemetryChange), 0, len(w.fns))
	for id := range w.fns {
		fns = append(fns, w.fns[id])
	}
	w.mu.Unlock()
	for _, fn := range fns {
		for _, c := range changes {
			fn(c)
		}
	}
}
