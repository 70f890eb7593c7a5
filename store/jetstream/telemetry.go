package jetstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	js "github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/natskey"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/telem"
)

// Telemetry is a KV bucket with one key per device, its value every
// parameter's latest value and timestamp. An update reads the device's
// key, merges (an older timestamp never wins) and writes it back on the
// condition that the key's revision has not moved; when another node wrote
// first, it reads again and merges again. So concurrent nodes never lose
// each other's newer values, and the newest timestamp wins everywhere.
//
// Two things make a batch fast without weakening that. Devices are merged
// concurrently (up to mergeParallel at once): each merge is a couple of
// round trips to the server, and a batch from a busy log holds hundreds of
// devices. And the node remembers the value and revision it last wrote
// for each device (up to lastWrittenMax devices): while no other node has
// written since, which is the rule when one node runs the history writer,
// the update goes straight to a compare-and-set on that revision without
// reading the key first; if another node did write, the compare-and-set
// fails and the merge reads the key and starts over, as before.
type jtel struct {
	s        *Store
	kv       js.KeyValue
	mu       sync.Mutex // orders this node's updates, for Watch
	watchers telem.Watchers

	lwMu        sync.Mutex
	lastWritten map[string]written // by key
}

// written is a device's value as this node last wrote it.
type written struct {
	rev uint64
	val []byte // encodeValues
}

const (
	mergeParallel  = 32
	lastWrittenMax = 1 << 16
)

func openTelemetry(ctx context.Context, s *Store, replicas int) (*jtel, error) {
	kv, err := ensureKV(ctx, s, js.KeyValueConfig{Bucket: s.name + "_telemetry", History: 1,
		Storage: js.FileStorage, Replicas: replicas})
	if err != nil {
		return nil, err
	}
	return &jtel{s: s, kv: kv, lastWritten: map[string]written{}}, nil
}

// encodeValues writes a device's values: uvarint count, the timestamps
// (float bits, 8 bytes each), then one encoded message holding the values
// in the same order.
func encodeValues(vs []store.TelemetryValue) []byte {
	b := binary.AppendUvarint(nil, uint64(len(vs)))
	var m protocol.Message
	m.Grow(len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v.Time))
		m.Add(v.Name, v.Value)
	}
	return codec.Append(b, &m)
}

func decodeValues(key string, b []byte) ([]store.TelemetryValue, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) || uint64(len(b)-w) < 8*n {
		return nil, corrupt(key, codec.ErrBad)
	}
	times := b[w : w+8*int(n)]
	var dec codec.Decoder
	m, err := dec.Decode(b[w+8*int(n):])
	if err != nil {
		return nil, corrupt(key, err)
	}
	if uint64(m.Len()) != n {
		return nil, corrupt(key, codec.ErrBad)
	}
	out := make([]store.TelemetryValue, n)
	for i, p := range m.Params() {
		out[i] = store.TelemetryValue{Name: p.Name, Value: p.Value, Time: math.Float64frombits(binary.BigEndian.Uint64(times[8*i:]))}
	}
	return out, nil
}

func (t *jtel) Update(ctx context.Context, msgs []protocol.Message) error {
	if err := t.s.enter(ctx); err != nil {
		return err
	}
	defer t.s.leave()
	if err := telem.Validate(msgs); err != nil {
		return err
	}
	byDevice := map[string][]protocol.Message{}
	var order []string
	for _, m := range msgs {
		ident := m.Ident()
		if _, ok := byDevice[ident]; !ok {
			order = append(order, ident)
		}
		byDevice[ident] = append(byDevice[ident], m)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	results := make([][]store.TelemetryChange, len(order))
	errs := make([]error, len(order))
	sem := make(chan struct{}, mergeParallel)
	var wg sync.WaitGroup
	for i, ident := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i], errs[i] = t.merge(ctx, ident, byDevice[ident])
		}()
	}
	wg.Wait()
	var changes []store.TelemetryChange
	for _, ch := range results {
		changes = append(changes, ch...)
	}
	t.watchers.Notify(changes) // also what was stored when another device failed
	return errors.Join(errs...)
}

// merge applies one device's messages with compare-and-set.
func (t *jtel) merge(ctx context.Context, ident string, msgs []protocol.Message) ([]store.TelemetryChange, error) {
	key := natskey.Token(ident)
	t.lwMu.Lock()
	last, known := t.lastWritten[key]
	t.lwMu.Unlock()
	for range 50 {
		rc, cancel := t.s.rctx(ctx)
		table := telem.Table{MaxParams: t.s.cfg.Telemetry.MaxParamsOrDefault()}
		var rev uint64
		cur := last.val
		if known {
			rev = last.rev
		} else {
			e, err := t.kv.Get(rc, key)
			switch {
			case errors.Is(err, js.ErrKeyNotFound):
				cur = nil
			case err != nil:
				cancel()
				return nil, err
			default:
				rev, cur = e.Revision(), e.Value()
			}
		}
		if cur != nil {
			vs, err := decodeValues(key, cur)
			if err != nil {
				cancel()
				return nil, err
			}
			table.Grow(ident, len(vs))
			for _, v := range vs {
				table.Set(ident, v.Name, v.Value, v.Time)
			}
		}
		b := table.Merge(msgs)
		if len(b.Changes) == 0 && len(b.Evicted) == 0 {
			cancel()
			return nil, nil
		}
		vs, _ := table.Get(ident, nil)
		val := encodeValues(vs)
		var nrev uint64
		var err error
		if rev == 0 {
			nrev, err = t.kv.Create(rc, key, val)
		} else {
			nrev, err = t.kv.Update(rc, key, val, rev)
		}
		cancel()
		if err == nil {
			t.remember(key, written{nrev, val})
			return b.Changes, nil
		}
		if !errors.Is(err, js.ErrKeyExists) && !isWrongLast(err) {
			t.forget(key)
			return nil, fmt.Errorf("store/jetstream: telemetry of %s: %w", ident, err)
		}
		// Another node wrote first: read what it wrote and merge into it.
		known = false
	}
	t.forget(key)
	return nil, fmt.Errorf("store/jetstream: telemetry of %s: too much contention", ident)
}

// remember keeps what this node wrote for a device; past lastWrittenMax
// devices it forgets about an eighth of them (any: a forgotten device's
// next update reads its key first, which is only slower).
func (t *jtel) remember(key string, w written) {
	t.lwMu.Lock()
	defer t.lwMu.Unlock()
	if _, ok := t.lastWritten[key]; !ok && len(t.lastWritten) >= lastWrittenMax {
		drop := lastWrittenMax / 8
		for k := range t.lastWritten {
			delete(t.lastWritten, k)
			if drop--; drop == 0 {
				break
			}
		}
	}
	t.lastWritten[key] = w
}

func (t *jtel) forget(key string) {
	t.lwMu.Lock()
	delete(t.lastWritten, key)
	t.lwMu.Unlock()
}

func (t *jtel) Get(ctx context.Context, ident string, names ...string) ([]store.TelemetryValue, error) {
	if err := t.s.enter(ctx); err != nil {
		return nil, err
	}
	defer t.s.leave()
	rc, cancel := t.s.rctx(ctx)
	defer cancel()
	key := natskey.Token(ident)
	e, err := t.kv.Get(rc, key)
	if errors.Is(err, js.ErrKeyNotFound) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	vs, err := decodeValues(key, e.Value())
	if err != nil {
		return nil, err
	}
	var table telem.Table
	table.Grow(ident, len(vs))
	for _, v := range vs {
		table.Set(ident, v.Name, v.Value, v.Time)
	}
	return table.Get(ident, names)
}

// Watch reports the changes this node's updates make (not other nodes').
func (t *jtel) Watch(fn func(store.TelemetryChange)) func() { return t.watchers.Add(fn) }
