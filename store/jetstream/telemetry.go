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
type jtel struct {
	s        *Store
	kv       js.KeyValue
	mu       sync.Mutex // orders this node's updates, for Watch
	watchers telem.Watchers
}

func openTelemetry(ctx context.Context, s *Store, replicas int) (*jtel, error) {
	kv, err := ensureKV(ctx, s, js.KeyValueConfig{Bucket: s.name + "_telemetry", History: 1,
		Storage: js.FileStorage, Replicas: replicas})
	if err != nil {
		return nil, err
	}
	return &jtel{s: s, kv: kv}, nil
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
	var changes []store.TelemetryChange
	for _, ident := range order {
		ch, err := t.merge(ctx, ident, byDevice[ident])
		if err != nil {
			t.watchers.Notify(changes) // what was stored before the failure
			return err
		}
		changes = append(changes, ch...)
	}
	t.watchers.Notify(changes)
	return nil
}

// merge applies one device's messages with compare-and-set.
func (t *jtel) merge(ctx context.Context, ident string, msgs []protocol.Message) ([]store.TelemetryChange, error) {
	key := natskey.Token(ident)
	for range 50 {
		rc, cancel := t.s.rctx(ctx)
		table := telem.Table{MaxParams: t.s.cfg.Telemetry.MaxParamsOrDefault()}
		var rev uint64
		e, err := t.kv.Get(rc, key)
		switch {
		case errors.Is(err, js.ErrKeyNotFound):
		case err != nil:
			cancel()
			return nil, err
		default:
			rev = e.Revision()
			vs, err := decodeValues(key, e.Value())
			if err != nil {
				cancel()
				return nil, err
			}
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
		if rev == 0 {
			_, err = t.kv.Create(rc, key, val)
		} else {
			_, err = t.kv.Update(rc, key, val, rev)
		}
		cancel()
		if err == nil {
			return b.Changes, nil
		}
		if !errors.Is(err, js.ErrKeyExists) && !isWrongLast(err) {
			return nil, fmt.Errorf("store/jetstream: telemetry of %s: %w", ident, err)
		}
		// Another node wrote first: merge into what it wrote.
	}
	return nil, fmt.Errorf("store/jetstream: telemetry of %s: too much contention", ident)
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
	for _, v := range vs {
		table.Set(ident, v.Name, v.Value, v.Time)
	}
	return table.Get(ident, names)
}

// Watch reports the changes this node's updates make (not other nodes').
func (t *jtel) Watch(fn func(store.TelemetryChange)) func() { return t.watchers.Add(fn) }
