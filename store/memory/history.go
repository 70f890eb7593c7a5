package memory

import (
	"context"
	"sort"
	"sync"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/telem"
)

type histMsg struct {
	ts   float64
	msg  protocol.Message
	size int64
}

type device struct {
	msgs  []histMsg // sorted by ts, stable in arrival order
	bytes int64
}

type memHistory struct {
	s       *Store
	mu      sync.Mutex
	devices map[string]*device
}

func histSize(ident string, m *protocol.Message) int64 {
	return int64(len(codec.Append(nil, m)) + len(ident) + codec.HistoryOverhead)
}

func (h *memHistory) Store(ctx context.Context, msgs []protocol.Message) error {
	if err := h.s.check(ctx); err != nil {
		return err
	}
	if err := telem.Validate(msgs); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.s.isClosed() {
		return store.ErrClosed
	}
	touched := map[string]bool{}
	for i := range msgs {
		m := &msgs[i]
		ident := m.Ident()
		ts, _ := store.DeviceTime(m)
		d := h.devices[ident]
		if d == nil {
			d = &device{}
			h.devices[ident] = d
		}
		e := histMsg{ts: ts, msg: m.Clone(), size: histSize(ident, m)}
		at := sort.Search(len(d.msgs), func(j int) bool { return d.msgs[j].ts > ts })
		d.msgs = append(d.msgs, histMsg{})
		copy(d.msgs[at+1:], d.msgs[at:])
		d.msgs[at] = e
		d.bytes += e.size
		touched[ident] = true
	}
	for ident := range touched {
		h.rotate(ident)
	}
	return nil
}

// rotate applies the size cap: oldest first, down to 90% of it.
func (h *memHistory) rotate(ident string) {
	d := h.devices[ident]
	max := h.s.cfg.History.RetentionFor(ident).MaxBytes
	if max <= 0 || d.bytes <= max {
		return
	}
	target := max - max/10
	n := 0
	for n < len(d.msgs) && d.bytes > target {
		d.bytes -= d.msgs[n].size
		n++
	}
	h.cut(ident, 0, n)
}

// cut removes d.msgs[i:j].
func (h *memHistory) cut(ident string, i, j int) {
	d := h.devices[ident]
	d.msgs = append(d.msgs[:i], d.msgs[j:]...)
	if len(d.msgs) == 0 {
		delete(h.devices, ident)
	}
}

// span returns the index range of messages with from <= ts <= to.
func span(d *device, from, to float64) (int, int) {
	i := sort.Search(len(d.msgs), func(k int) bool { return d.msgs[k].ts >= from })
	j := len(d.msgs)
	if to != 0 {
		j = sort.Search(len(d.msgs), func(k int) bool { return d.msgs[k].ts > to })
	}
	return i, max(i, j)
}

func (h *memHistory) Query(ctx context.Context, ident string, q store.Query) ([]protocol.Message, error) {
	if err := h.s.check(ctx); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.devices[ident]
	if d == nil {
		return nil, nil
	}
	i, j := span(d, q.From, q.To)
	var out []protocol.Message
	for k := range j - i {
		idx := i + k
		if q.Reverse {
			idx = j - 1 - k
		}
		m := &d.msgs[idx].msg
		if q.Filter != nil && !q.Filter.Match(m) {
			continue
		}
		out = append(out, store.Project(m, q.Fields))
		if q.Count > 0 && len(out) == q.Count {
			break
		}
	}
	return out, nil
}

func (h *memHistory) Delete(ctx context.Context, ident string, from, to float64) (int64, error) {
	if err := h.s.check(ctx); err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.devices[ident]
	if d == nil {
		return 0, nil
	}
	i, j := span(d, from, to)
	for _, e := range d.msgs[i:j] {
		d.bytes -= e.size
	}
	h.cut(ident, i, j)
	return int64(j - i), nil
}

func (h *memHistory) Device(ctx context.Context, ident string) (store.DeviceStats, error) {
	if err := h.s.check(ctx); err != nil {
		return store.DeviceStats{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.devices[ident]
	if d == nil {
		return store.DeviceStats{}, store.ErrNotFound
	}
	return store.DeviceStats{Ident: ident, Count: int64(len(d.msgs)), Bytes: d.bytes,
		Oldest: d.msgs[0].ts, Newest: d.msgs[len(d.msgs)-1].ts}, nil
}

func (h *memHistory) Trim(ctx context.Context) error {
	if err := h.s.check(ctx); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.s.now()
	for ident, d := range h.devices {
		age := h.s.cfg.History.RetentionFor(ident).MaxAgeOrDefault()
		if age == 0 {
			continue
		}
		cutoff := float64(now.Add(-age).UnixMicro()) / 1e6
		n := sort.Search(len(d.msgs), func(k int) bool { return d.msgs[k].ts >= cutoff })
		for _, e := range d.msgs[:n] {
			d.bytes -= e.size
		}
		h.cut(ident, 0, n)
	}
	return nil
}

// --- telemetry ---

type memTelemetry struct {
	s        *Store
	mu       sync.Mutex
	table    telem.Table
	watchers telem.Watchers
}

func (t *memTelemetry) Update(ctx context.Context, msgs []protocol.Message) error {
	if err := t.s.check(ctx); err != nil {
		return err
	}
	if err := telem.Validate(msgs); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.s.isClosed() {
		return store.ErrClosed
	}
	b := t.table.Merge(msgs)
	t.watchers.Notify(b.Changes)
	return nil
}

func (t *memTelemetry) Get(ctx context.Context, ident string, names ...string) ([]store.TelemetryValue, error) {
	if err := t.s.check(ctx); err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.table.Get(ident, names)
}

func (t *memTelemetry) Watch(fn func(store.TelemetryChange)) func() { return t.watchers.Add(fn) }
