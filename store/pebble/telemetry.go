package pebble

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
	"github.com/gnssgate/gnssgate/store/internal/telem"
)

// Telemetry is served from memory and written through to disk, in the
// "telemetry" instance, one record per device: key 'T' + len(ident) +
// ident, value the device's distinct timestamps (uvarint count, then each
// as ordered float bits), a uvarint parameter count and each parameter's
// index in the timestamps (uvarint), then one encoded message holding the
// parameters in that order. An update writes each device it changed once,
// however many of its parameters changed (a tracker's message changes most
// of them: one write instead of one per parameter). Stores written before
// kept the records in "state", and before that one key per parameter ('t'
// + len(ident) + ident + name → timestamp, one-parameter message); Open
// moves them to "telemetry" as device records. Memory is bounded by
// devices times MaxParams, not by how many messages arrive.
type ptel struct {
	d        *DB
	mu       sync.Mutex // orders updates
	table    telem.Table
	watchers telem.Watchers
	// turn is closed when the previous update has notified: updates wait
	// for their fsync concurrently but notify in the order they applied,
	// so a watcher never sees an older value after a newer one.
	turn chan struct{}
	// Scratch of apply (under mu).
	times  []float64
	params []byte
	val    []byte
	key    []byte
	tt     timeTable
}

// legacyTelKey is a parameter's key in the layout before device records.
func legacyTelKey(ident, name string) []byte {
	return append(devicePrefix(nil, tagTel, ident), name...)
}

func openTelemetry(d *DB) (*ptel, error) {
	t := &ptel{d: d, table: telem.Table{MaxParams: d.cfg.Telemetry.MaxParamsOrDefault()}, turn: make(chan struct{})}
	close(t.turn)
	// Stores made before telemetry had its own instance kept it in "state":
	// as device records, or before those as one key per parameter. They are
	// read first and the telemetry instance's records over them (a record
	// there is never older: it is written before the old ones are deleted),
	// then moved.
	old, err := t.loadDevices(d.db)
	if err != nil {
		return nil, err
	}
	legacy, err := t.loadLegacy(d.db)
	if err != nil {
		return nil, err
	}
	if _, err := t.loadDevices(d.teldb); err != nil {
		return nil, err
	}
	if err := t.move(append(old, legacy...)); err != nil {
		return nil, err
	}
	return t, nil
}

// loadDevices reads the device records of db and returns their idents.
func (t *ptel) loadDevices(db *pebble.DB) ([]string, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagTelDevice}, UpperBound: []byte{tagTelDevice + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var dec codec.Decoder
	var m protocol.Message
	var idents []string
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		ident, ok := keyIdent(k)
		if !ok {
			return nil, corrupt(k, codec.ErrBad)
		}
		if err := decodeDeviceTelemetry(&dec, &m, it.Value(), func(name string, v protocol.Value, ts float64) {
			t.table.Set(ident, name, v, ts)
		}); err != nil {
			return nil, corrupt(k, err)
		}
		idents = append(idents, ident)
	}
	return idents, it.Error()
}

// keyIdent returns the ident of a device key (tag, uvarint length, ident).
func keyIdent(k []byte) (string, bool) {
	n, w := binary.Uvarint(k[1:])
	if w <= 0 || uint64(len(k)-1-w) < n {
		return "", false
	}
	return string(k[1+w : 1+w+int(n)]), true
}

// loadLegacy reads the per-parameter keys of db (the layout before device
// records) and returns their idents.
func (t *ptel) loadLegacy(db *pebble.DB) ([]string, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagTel}, UpperBound: []byte{tagTel + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var dec codec.Decoder
	seen := map[string]bool{}
	var idents []string
	for ok := it.First(); ok; ok = it.Next() {
		k, v := it.Key(), it.Value()
		ident, ok := keyIdent(k)
		if !ok || len(v) < 8 {
			return nil, corrupt(k, codec.ErrBad)
		}
		m, err := dec.Decode(v[8:])
		if err != nil || m.Len() != 1 {
			return nil, corrupt(k, codec.ErrBad)
		}
		p := m.Params()[0]
		t.table.Set(ident, p.Name, p.Value, unorderedFloat(u64(v)))
		if !seen[ident] {
			seen[ident] = true
			idents = append(idents, ident)
		}
	}
	return idents, it.Error()
}

// move writes the records of idents, read from "state", to the telemetry
// instance, synced, and only then deletes them from "state": a crash in
// between finds them in both, and moves them again.
func (t *ptel) move(idents []string) error {
	if len(idents) == 0 {
		return nil
	}
	b := t.d.teldb.NewBatch()
	defer b.Close()
	slices.Sort(idents)
	for _, ident := range slices.Compact(idents) {
		if err := t.setDevice(b, ident); err != nil {
			return err
		}
	}
	if err := t.d.teldb.Apply(b, syncWrite); err != nil {
		return err
	}
	del := t.d.db.NewBatch()
	defer del.Close()
	if err := del.DeleteRange([]byte{tagTel}, []byte{tagTel + 1}, nil); err != nil {
		return err
	}
	if err := del.DeleteRange([]byte{tagTelDevice}, []byte{tagTelDevice + 1}, nil); err != nil {
		return err
	}
	return t.d.db.Apply(del, syncWrite)
}

// setDevice adds the write of ident's record (its deletion when it has no
// telemetry left) to b. Under mu, or before the store is shared. The
// parameters are encoded straight from the table, as codec.Append would
// encode them in a message, and the record put together after their times.
func (t *ptel) setDevice(b *pebble.Batch, ident string) error {
	t.key = devicePrefix(t.key[:0], tagTelDevice, ident)
	t.times, t.params = t.times[:0], t.params[:0]
	t.table.Each(ident, func(name string, v protocol.Value, ts float64) {
		t.times = append(t.times, ts)
		t.params = codec.AppendParam(t.params, name, v)
	})
	if len(t.times) == 0 {
		return b.Delete(t.key, nil)
	}
	t.val = t.tt.appendTimes(t.val[:0], t.times)
	t.val = codec.AppendHeader(t.val, len(t.times))
	t.val = append(t.val, t.params...)
	return b.Set(t.key, t.val, nil)
}

// appendDeviceTelemetry encodes a device record: m's parameters, whose
// times are times (one per parameter).
func appendDeviceTelemetry(dst []byte, m *protocol.Message, times []float64) []byte {
	var tt timeTable
	return tt.appendRecord(dst, m, times)
}

// timeTable numbers distinct float bits in the order first seen: a linear
// search while they are few, a map beyond. A device's parameters share a
// few timestamps (those of its last messages), each kept once in its
// record. Its storage is reused from record to record.
type timeTable struct {
	distinct []uint64
	byBits   map[uint64]int
}

// appendRecord encodes a device record (see appendDeviceTelemetry).
func (tt *timeTable) appendRecord(dst []byte, m *protocol.Message, times []float64) []byte {
	return codec.Append(tt.appendTimes(dst, times), m)
}

// appendTimes appends the part of a device record before its parameters:
// the distinct times, then each parameter's number among them. Two
// passes: the first collects the distinct times, the second writes each
// one's number.
func (tt *timeTable) appendTimes(dst []byte, times []float64) []byte {
	tt.distinct, tt.byBits = tt.distinct[:0], nil
	for _, ts := range times {
		tt.index(math.Float64bits(ts))
	}
	dst = binary.AppendUvarint(dst, uint64(len(tt.distinct)))
	for _, bits := range tt.distinct {
		dst = binary.BigEndian.AppendUint64(dst, orderedFloat(math.Float64frombits(bits)))
	}
	dst = binary.AppendUvarint(dst, uint64(len(times)))
	for _, ts := range times {
		dst = binary.AppendUvarint(dst, uint64(tt.index(math.Float64bits(ts))))
	}
	return dst
}

// index returns bits' number, adding it when new.
func (tt *timeTable) index(bits uint64) int {
	if tt.byBits != nil {
		if j, ok := tt.byBits[bits]; ok {
			return j
		}
	} else if j := slices.Index(tt.distinct, bits); j >= 0 {
		return j
	}
	j := len(tt.distinct)
	tt.distinct = append(tt.distinct, bits)
	if tt.byBits != nil {
		tt.byBits[bits] = j
	} else if len(tt.distinct) > 16 {
		tt.byBits = make(map[uint64]int, 2*len(tt.distinct))
		for k, d := range tt.distinct {
			tt.byBits[d] = k
		}
	}
	return j
}

// decodeDeviceTelemetry decodes a device record into m (its storage
// reused) and calls fn with every parameter and its time.
func decodeDeviceTelemetry(dec *codec.Decoder, m *protocol.Message, v []byte, fn func(name string, v protocol.Value, ts float64)) error {
	k, w := binary.Uvarint(v)
	if w <= 0 || k > uint64(len(v)-w)/8 {
		return codec.ErrBad
	}
	v = v[w:]
	times := make([]float64, k)
	for i := range times {
		times[i] = unorderedFloat(u64(v))
		v = v[8:]
	}
	n, w := binary.Uvarint(v)
	if w <= 0 || n > uint64(len(v)-w) {
		return codec.ErrBad
	}
	v = v[w:]
	idx := make([]uint64, n)
	for i := range idx {
		j, w := binary.Uvarint(v)
		if w <= 0 || j >= k {
			return codec.ErrBad
		}
		idx[i] = j
		v = v[w:]
	}
	if err := dec.DecodeInto(m, v); err != nil {
		return err
	}
	if uint64(m.Len()) != n {
		return codec.ErrBad
	}
	for i, p := range m.Params() {
		fn(p.Name, p.Value, times[idx[i]])
	}
	return nil
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
	b := t.d.teldb.NewBatch()
	for _, c := range batch.Changes {
		if err := t.setDevice(b, c.Ident); err != nil {
			b.Close()
			return nil, nil, nil, nil, err
		}
	}
	for ident := range batch.Evicted {
		if slices.ContainsFunc(batch.Changes, func(c store.TelemetryChange) bool { return c.Ident == ident }) {
			continue // written above
		}
		if err := t.setDevice(b, ident); err != nil {
			b.Close()
			return nil, nil, nil, nil, err
		}
	}
	if err := t.d.teldb.ApplyNoSyncWait(b, syncWrite); err != nil {
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
