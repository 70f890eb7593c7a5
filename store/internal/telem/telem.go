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

// Params appends a device's parameters to dst, ordered by time (then
// name), with their times in the same order: the form a durable engine
// keeps one device's telemetry in (one record per device, not one per
// parameter). ok is false for a device without telemetry.
func (t *Table) Params(ident string, dst *protocol.Message, times []float64) (_ []float64, ok bool) {
	d, ok := t.devices[ident]
	if !ok {
		return times, false
	}
	type nv struct {
		name string
		e    entry
	}
	all := make([]nv, 0, len(d))
	for n, e := range d {
		all = append(all, nv{n, e})
	}
	slices.SortFunc(all, func(a, b nv) int {
		if a.e.time != b.e.time {
			if a.e.time < b.e.time {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	dst.Grow(len(all))
	for _, p := range all {
		dst.Add(p.name, p.e.value)
		times = append(times, p.e.time)
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
	changed := map[string]map[string]store.TelemetryValue{}
	var order []string
	for i := range msgs {
		m := &msgs[i]
		ident := m.Ident()
		ts, _ := store.DeviceTime(m)
		for _, p := range m.Params() {
			d := t.devices[ident]
			if old, ok := d[p.Name]; ok && old.time > ts {
				continue // never older over newer
			}
			if ok := d != nil; ok {
				if old, ok := d[p.Name]; ok && old.time == ts && old.value.Equal(p.Value) && old.value.Kind() == p.Value.Kind() {
					continue // nothing new to announce
				}
			}
			t.Set(ident, p.Name, p.Value, ts)
			c := changed[ident]
			if c == nil {
				c = map[string]store.TelemetryValue{}
				changed[ident] = c
				order = append(order, ident)
			}
			c[p.Name] = store.TelemetryValue{Name: p.Name, Value: p.Value, Time: ts}
		}
	}
	for _, ident := range order {
		for _, name := range t.evict(ident) {
			delete(changed[ident], name)
			if b.Evicted == nil {
				b.Evicted = map[string][]string{}
			}
			b.Evicted[ident] = append(b.Evicted[ident], name)
		}
		c := changed[ident]
		if len(c) == 0 {
			continue
		}
		ch := store.TelemetryChange{Ident: ident, Values: make([]store.TelemetryValue, 0, len(c))}
		for _, v := range c {
			ch.Values = append(ch.Values, v)
		}
		slices.SortFunc(ch.Values, func(a, b store.TelemetryValue) int { return strings.Compare(a.Name, b.Name) })
		b.Changes = append(b.Changes, ch)
	}
	return b
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
