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

// entry is one parameter of a device.
type entry struct {
	name  string
	value protocol.Value
	time  float64
	merge uint64 // the Merge that last set it (Table.merges)
}

// device is one device's telemetry. Its parameters are kept sorted by name
// rather than in a map: a merge then finds each parameter of a message
// where the device's previous message found it (a tracker sends the same
// parameters in the same order, message after message), checked by one
// comparison of names, without hashing; and the changes a merge announces
// come out sorted by name by walking the entries, without sorting them.
type device struct {
	ident   string
	entries []entry // sorted by name, names distinct
	// slots[i] is where the i-th parameter of the device's last message
	// was found: where the next message's i-th parameter is looked for
	// first. A guess, checked against the entry's name.
	slots []int32
	merge uint64 // the last Merge that changed the device
	set   int    // entries that merge set (those with entry.merge == merge)
}

// find returns the index of name in d.entries, or where it would be
// inserted and false.
func (d *device) find(name string) (int, bool) {
	i, j := 0, len(d.entries)
	for i < j {
		h := int(uint(i+j) >> 1)
		if d.entries[h].name < name {
			i = h + 1
		} else {
			j = h
		}
	}
	return i, i < len(d.entries) && d.entries[i].name == name
}

// slot returns the index of name's entry, inserted (with a zero time and
// merge) when the device has none; inserted reports that.
func (d *device) slot(name string) (i int, inserted bool) {
	i, ok := d.find(name)
	if ok {
		return i, false
	}
	d.entries = slices.Insert(d.entries, i, entry{name: name})
	return i, true
}

// Table is not safe for concurrent use; its owner locks.
type Table struct {
	MaxParams int
	devices   map[string]*device
	merges    uint64    // Merge calls so far: the current merge's number
	changed   []*device // scratch of Merge
}

func (t *Table) device(ident string, hint int) *device {
	d := t.devices[ident]
	if d == nil {
		if t.devices == nil {
			t.devices = make(map[string]*device)
		}
		d = &device{ident: ident, entries: make([]entry, 0, hint)}
		t.devices[ident] = d
	}
	return d
}

// Grow makes room for n more parameters of ident, so that the next n
// calls of Set for it (loading its record) do not reallocate. A device
// exists once it has a value: Grow of no parameters does nothing.
func (t *Table) Grow(ident string, n int) {
	if n <= 0 {
		return
	}
	d := t.device(ident, n)
	d.entries = slices.Grow(d.entries, n)
}

// Set stores one value unconditionally (loading from disk).
func (t *Table) Set(ident, name string, v protocol.Value, ts float64) {
	d := t.device(ident, 0)
	var i int
	if n := len(d.entries); n > 0 && d.entries[n-1].name < name {
		// A record read back lists its parameters sorted by name: each
		// goes at the end.
		d.entries = append(d.entries, entry{name: name})
		i = n
	} else {
		i, _ = d.slot(name)
	}
	e := &d.entries[i]
	e.value, e.time = v, ts
}

// Each calls fn with each of a device's parameters, sorted by name, and
// its time: what a durable engine writes as the device's record. It
// reports whether the device has telemetry.
func (t *Table) Each(ident string, fn func(name string, v protocol.Value, ts float64)) bool {
	d, ok := t.devices[ident]
	if !ok {
		return false
	}
	for i := range d.entries {
		e := &d.entries[i]
		fn(e.name, e.value, e.time)
	}
	return true
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
//
// Every entry a merge sets is marked with the merge's number. A device's
// change then lists its marked entries: each parameter once, with its
// value after the whole batch (the newest: an older value is refused), in
// the order of the entries, which is by name. Devices are listed in the
// order of their first change.
func (t *Table) Merge(msgs []protocol.Message) Batch {
	var b Batch
	t.merges++
	seq := t.merges
	changed := t.changed[:0]
	for i := range msgs {
		m := &msgs[i]
		ts, _ := store.DeviceTime(m)
		d := t.device(m.Ident(), m.Len())
		if d.apply(m.Params(), ts, seq) {
			changed = append(changed, d)
		}
	}
	if len(changed) == 0 {
		t.changed = changed
		return b
	}
	// Evictions first: what they forget is not announced. Each change's
	// values have their own allocation, at their size: a watcher may keep
	// them (they are never written again), and one device's kept values
	// must not hold on to a whole batch's.
	b.Changes = make([]store.TelemetryChange, 0, len(changed))
	for _, d := range changed {
		if gone := t.evict(d, seq); len(gone) > 0 {
			if b.Evicted == nil {
				b.Evicted = map[string][]string{}
			}
			b.Evicted[d.ident] = gone
		}
		if d.set == 0 {
			continue // all evicted
		}
		vs := make([]store.TelemetryValue, d.set)
		k := 0
		for i := range d.entries {
			if e := &d.entries[i]; e.merge == seq {
				vs[k] = store.TelemetryValue{Name: e.name, Value: e.value, Time: e.time}
				k++
			}
		}
		b.Changes = append(b.Changes, store.TelemetryChange{Ident: d.ident, Values: vs})
	}
	clear(changed) // the devices stay reachable through t.devices only
	t.changed = changed
	return b
}

// apply merges one message's parameters, time ts, in merge seq. It
// reports whether this is the first change to d in seq.
func (d *device) apply(params []protocol.Param, ts float64, seq uint64) (first bool) {
	if cap(d.slots) < len(params) {
		d.slots = make([]int32, len(params))
	}
	slots := d.slots[:len(params)]
	d.slots = slots
	inserted := false
	for i := range params {
		p := &params[i]
		j := int(slots[i])
		if j >= len(d.entries) || d.entries[j].name != p.Name {
			var added bool
			j, added = d.slot(p.Name)
			inserted = inserted || added
			slots[i] = int32(j)
			if added {
				d.set1(j, p.Value, ts, seq, &first)
				continue
			}
		}
		e := &d.entries[j]
		if e.time > ts {
			continue // never older over newer
		}
		if e.time == ts && e.value.Equal(p.Value) && e.value.Kind() == p.Value.Kind() {
			continue // nothing new to announce
		}
		d.set1(j, p.Value, ts, seq, &first)
	}
	if inserted {
		// An insertion moved the entries after it: find this message's
		// parameters again, so that the next message's are where it looks.
		for i := range params {
			j, _ := d.find(params[i].Name)
			slots[i] = int32(j)
		}
	}
	return first
}

// set1 sets entry j to v at ts in merge seq, counting it in d.set once;
// first becomes true when this is d's first change in seq.
func (d *device) set1(j int, v protocol.Value, ts float64, seq uint64, first *bool) {
	if d.merge != seq {
		d.merge, d.set = seq, 0
		*first = true
	}
	e := &d.entries[j]
	if e.merge != seq {
		e.merge = seq
		d.set++
	}
	e.value, e.time = v, ts
}

// evict forgets d's parameters with the oldest timestamps beyond
// MaxParams, in merge seq, and returns their names, oldest first.
func (t *Table) evict(d *device, seq uint64) []string {
	max := t.MaxParams
	if max <= 0 {
		max = store.DefaultTelemetryMaxParams
	}
	if len(d.entries) <= max {
		return nil
	}
	order := make([]int, len(d.entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ea, eb := &d.entries[a], &d.entries[b]
		if ea.time != eb.time {
			if ea.time < eb.time {
				return -1
			}
			return 1
		}
		return strings.Compare(ea.name, eb.name)
	})
	drop := make([]bool, len(d.entries))
	gone := make([]string, 0, len(order)-max)
	for _, i := range order[:len(order)-max] {
		drop[i] = true
		gone = append(gone, d.entries[i].name)
		if d.entries[i].merge == seq {
			d.set--
		}
	}
	keep := d.entries[:0]
	for i, e := range d.entries {
		if !drop[i] {
			keep = append(keep, e)
		}
	}
	clear(d.entries[len(keep):])
	d.entries = keep
	return gone
}

// Get returns a device's values matching names (all when empty), sorted.
func (t *Table) Get(ident string, names []string) ([]store.TelemetryValue, error) {
	d, ok := t.devices[ident]
	if !ok {
		return nil, store.ErrNotFound
	}
	out := make([]store.TelemetryValue, 0, len(d.entries))
	for i := range d.entries {
		e := &d.entries[i]
		if len(names) == 0 || store.MatchAny(names, e.name) {
			out = append(out, store.TelemetryValue{Name: e.name, Value: e.value, Time: e.time})
		}
	}
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
