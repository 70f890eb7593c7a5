package pebble

import (
	"context"
	"encoding/binary"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/telem"
)

// Telemetry is served from memory and written through to disk: key 't' +
// len(ident) + ident + name, value timestamp (float bits) + a one-parameter
// encoded message holding the value. Memory is bounded by devices times
// MaxParams, not by how many messages arrive.
type ptel struct {
	d        *DB
	mu       sync.Mutex // orders updates
	table    telem.Table
	watchers telem.Watchers
	// turn is closed when the previous update has notified: updates wait
	// for their fsync concurrently but notify in the order they applied,
	// so a watcher never sees an older value after a newer one.
	turn chan struct{}
}

func telKey(ident, name string) []byte {
	return append(devicePrefix(nil, tagTel, ident), name...)
}

func openTelemetry(d *DB) (*ptel, error) {
	t := &ptel{d: d, table: telem.Table{MaxParams: d.cfg.Telemetry.MaxParamsOrDefault()}, turn: make(chan struct{})}
	close(t.turn)
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagTel}, UpperBound: []byte{tagTel + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var dec codec.Decoder
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		n, w := binary.Uvarint(k[1:])
		if w <= 0 || uint64(len(k)-1-w) < n || len(v) < 8 {
			return nil, corrupt(k, codec.ErrBad)
		}
		ident := string(k[1+w : 1+w+int(n)])
		m, err := dec.Decode(v[8:])
		if err != nil || m.Len() != 1 {
			return nil, corrupt(k, codec.ErrBad)
		}
		p := m.Params()[0]
		t.table.Set(ident, p.Name, p.Value, unorderedFloat(u64(v)))
	}
	return t, it.Error()
}

func (t *ptel) Update(ctx context.Context, msgs []protocol.Message) error {
	if err := t.d.enter(ctx); err != nil {
		return err
	}
	defer t.d.leave()
	if err := telem.Validate(msgs); err != nil {
		return err
	}
	b, changes, prev, mine, err := t.apply(msgs)
	if err != nil || b == nil {
		return err
	}
	defer b.Close()
	err = b.SyncWait() // concurrent updates share the fsync
	<-prev
	if err == nil {
		t.watchers.Notify(changes)
	}
	close(mine)
	return err
}

// apply merges msgs and hands their writes to the WAL under mu, without
// waiting for the fsync. It returns the batch (nil when nothing changed),
// the changes to announce, and the turn to wait for and the one to close.
func (t *ptel) apply(msgs []protocol.Message) (_ *pebble.Batch, _ []store.TelemetryChange, prev, mine chan struct{}, _ error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	batch := t.table.Merge(msgs)
	if len(batch.Changes) == 0 && len(batch.Evicted) == 0 {
		return nil, nil, nil, nil, nil
	}
	b := t.d.db.NewBatch()
	var val []byte
	var one protocol.Message
	for _, c := range batch.Changes {
		for _, v := range c.Values {
			one.Reset()
			one.Set(v.Name, v.Value)
			val = binary.BigEndian.AppendUint64(val[:0], orderedFloat(v.Time))
			val = codec.Append(val, &one)
			if err := b.Set(telKey(c.Ident, v.Name), val, nil); err != nil {
				b.Close()
				return nil, nil, nil, nil, err
			}
		}
	}
	for ident, names := range batch.Evicted {
		for _, n := range names {
			if err := b.Delete(telKey(ident, n), nil); err != nil {
				b.Close()
				return nil, nil, nil, nil, err
			}
		}
	}
	if err := t.d.db.ApplyNoSyncWait(b, syncWrite); err != nil {
		b.Close()
		return nil, nil, nil, nil, err
	}
	prev, mine = t.turn, make(chan struct{})
	t.turn = mine
	return b, batch.Changes, prev, mine, nil
}

func (t *ptel) Get(ctx context.Context, ident string, names ...string) ([]store.TelemetryValue, error) {
	if err := t.d.enter(ctx); err != nil {
		return nil, err
	}
	defer t.d.leave()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.table.Get(ident, names)
}

func (t *ptel) Watch(fn func(store.TelemetryChange)) func() { return t.watchers.Add(fn) }
