package registry

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// KV is where the registry keeps its objects: keys with revisions and
// compare-and-set, the shape of NATS JetStream KV and etcd, so that one
// registry can live on one machine (PebbleKV, MemoryKV) or be shared by
// several gateway nodes. Every method is safe for concurrent use.
type KV interface {
	// Get returns a key's value and revision; ErrNotFound if absent.
	Get(ctx context.Context, key string) ([]byte, uint64, error)
	// Put stores value when the key's current revision is rev (0: the key
	// must not exist) and returns the new revision; ErrConflict otherwise.
	// AnyRevision stores unconditionally.
	Put(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
	// Delete removes a key when its revision is rev (AnyRevision: whatever
	// it is); deleting an absent key is not an error.
	Delete(ctx context.Context, key string, rev uint64) error
	// List returns the entries whose keys start with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Entry, error)
	// Watch calls fn for every later change of a key under prefix (a
	// deletion has a nil Value), in revision order, until the returned
	// stop is called. fn must not block.
	Watch(prefix string, fn func(Entry)) (stop func())
	Close() error
}

// Entry is one key of a KV.
type Entry struct {
	Key      string
	Value    []byte // nil for a deletion seen by Watch
	Revision uint64
}

// AnyRevision makes Put and Delete unconditional.
const AnyRevision = ^uint64(0)

// Errors of the registry and its KV.
var (
	ErrNotFound = errors.New("registry: not found")
	ErrConflict = errors.New("registry: conflict")
)

// --- MemoryKV --------------------------------------------------------------

// MemoryKV is a KV in memory, for tests and for gateways that keep no state.
type MemoryKV struct {
	mu      sync.Mutex
	data    map[string]Entry
	rev     uint64
	watches watchers
}

// NewMemoryKV returns an empty MemoryKV.
func NewMemoryKV() *MemoryKV { return &MemoryKV{data: map[string]Entry{}} }

func (m *MemoryKV) Get(_ context.Context, key string) ([]byte, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[key]
	if !ok {
		return nil, 0, ErrNotFound
	}
	return slices.Clone(e.Value), e.Revision, nil
}

func (m *MemoryKV) Put(_ context.Context, key string, value []byte, rev uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := check(key, m.data[key].Revision, rev); err != nil {
		return 0, err
	}
	m.rev++
	e := Entry{Key: key, Value: slices.Clone(value), Revision: m.rev}
	m.data[key] = e
	m.watches.notify(e)
	return m.rev, nil
}

func (m *MemoryKV) Delete(_ context.Context, key string, rev uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.data[key]
	if !ok {
		return nil
	}
	if err := check(key, cur.Revision, rev); err != nil {
		return err
	}
	delete(m.data, key)
	m.rev++
	m.watches.notify(Entry{Key: key, Revision: m.rev})
	return nil
}

func (m *MemoryKV) List(_ context.Context, prefix string) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Entry
	for k, e := range m.data {
		if strings.HasPrefix(k, prefix) {
			out = append(out, Entry{Key: k, Value: slices.Clone(e.Value), Revision: e.Revision})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (m *MemoryKV) Watch(prefix string, fn func(Entry)) func() {
	return m.watches.add(prefix, fn)
}

func (m *MemoryKV) Close() error { return nil }

// check compares a key's current revision (0: absent) with the expected one.
func check(key string, cur, want uint64) error {
	if want == AnyRevision || want == cur {
		return nil
	}
	if cur == 0 {
		return fmt.Errorf("%w: %s does not exist (expected revision %d)", ErrConflict, key, want)
	}
	return fmt.Errorf("%w: %s is at revision %d, not %d", ErrConflict, key, cur, want)
}

type watcher struct {
	prefix string
	fn     func(Entry)
}

type watchers struct {
	mu   sync.Mutex
	list []*watcher
}

func (w *watchers) add(prefix string, fn func(Entry)) func() {
	x := &watcher{prefix, fn}
	w.mu.Lock()
	w.list = append(w.list, x)
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		w.list = slices.DeleteFunc(w.list, func(y *watcher) bool { return y == x })
		w.mu.Unlock()
	}
}

func (w *watchers) notify(e Entry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, x := range w.list {
		if strings.HasPrefix(e.Key, x.prefix) {
			x.fn(e)
		}
	}
}

// --- PebbleKV --------------------------------------------------------------

// PebbleKV is a durable KV in one directory, on Pebble (the engine of
// store/pebble). Every write is synced before it returns.
type PebbleKV struct {
	db      *pebble.DB
	mu      sync.Mutex // orders writes; guards rev
	rev     uint64
	watches watchers
}

// Keys: 'k' + key → revision (8 bytes) + value; 'r' → the last revision.
var revKey = []byte{'r'}

// PebbleKVFiles is the most files a KV from [OpenPebbleKV] keeps open:
// its table files (bounded: the registry is small) and what pebble opens
// besides them.
const PebbleKVFiles = pebbleKVTables + 16

const pebbleKVTables = 64

// OpenPebbleKV opens (creating) a KV in dir. It keeps its memory small: the
// registry is a few megabytes even for a large fleet.
func OpenPebbleKV(dir string) (*PebbleKV, error) {
	cache := pebble.NewCache(8 << 20)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{FS: vfs.Default, Cache: cache, MemTableSize: 4 << 20,
		MaxOpenFiles: pebbleKVTables, FormatMajorVersion: pebble.FormatNewest, Logger: pebbleLogger{}})
	if err != nil {
		return nil, fmt.Errorf("registry: open %s: %w", dir, err)
	}
	kv := &PebbleKV{db: db}
	if v, closer, err := db.Get(revKey); err == nil {
		if len(v) == 8 {
			kv.rev = binary.BigEndian.Uint64(v)
		}
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		db.Close()
		return nil, err
	}
	return kv, nil
}

func dataKey(key string) []byte { return append([]byte{'k'}, key...) }

func (p *PebbleKV) get(key string) ([]byte, uint64, error) {
	v, closer, err := p.db.Get(dataKey(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, err
	}
	defer closer.Close()
	if len(v) < 8 {
		return nil, 0, fmt.Errorf("registry: corrupt entry %q", key)
	}
	return slices.Clone(v[8:]), binary.BigEndian.Uint64(v), nil
}

func (p *PebbleKV) Get(_ context.Context, key string) ([]byte, uint64, error) { return p.get(key) }

func (p *PebbleKV) Put(_ context.Context, key string, value []byte, rev uint64) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, cur, err := p.get(key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return 0, err
	}
	if err := check(key, cur, rev); err != nil {
		return 0, err
	}
	next := p.rev + 1
	b := p.db.NewBatch()
	defer b.Close()
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(value)), next)
	b.Set(dataKey(key), append(v, value...), nil)
	b.Set(revKey, binary.BigEndian.AppendUint64(nil, next), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, err
	}
	p.rev = next
	p.watches.notify(Entry{Key: key, Value: slices.Clone(value), Revision: next})
	return next, nil
}

func (p *PebbleKV) Delete(_ context.Context, key string, rev uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, cur, err := p.get(key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := check(key, cur, rev); err != nil {
		return err
	}
	next := p.rev + 1
	b := p.db.NewBatch()
	defer b.Close()
	b.Delete(dataKey(key), nil)
	b.Set(revKey, binary.BigEndian.AppendUint64(nil, next), nil)
	if err := b.Commit(pebble.Sync); err != nil {
		return err
	}
	p.rev = next
	p.watches.notify(Entry{Key: key, Revision: next})
	return nil
}

func (p *PebbleKV) List(_ context.Context, prefix string) ([]Entry, error) {
	lo := dataKey(prefix)
	it, err := p.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	var out []Entry
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) < 8 {
			it.Close()
			return nil, fmt.Errorf("registry: corrupt entry %q", it.Key()[1:])
		}
		out = append(out, Entry{Key: string(it.Key()[1:]), Value: slices.Clone(v[8:]), Revision: binary.BigEndian.Uint64(v)})
	}
	return out, it.Close()
}

func (p *PebbleKV) Watch(prefix string, fn func(Entry)) func() { return p.watches.add(prefix, fn) }

func (p *PebbleKV) Close() error { return p.db.Close() }

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := slices.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// pebbleLogger routes pebble's log to slog, its chatter at Debug.
type pebbleLogger struct{}

func (pebbleLogger) Infof(format string, args ...any) {
	slog.Debug(fmt.Sprintf(format, args...), "component", "registry")
}
func (pebbleLogger) Errorf(format string, args ...any) {
	slog.Error(fmt.Sprintf(format, args...), "component", "registry")
}
func (pebbleLogger) Fatalf(format string, args ...any) {
	slog.Error(fmt.Sprintf(format, args...), "component", "registry")
	panic(fmt.Sprintf(format, args...))
}
