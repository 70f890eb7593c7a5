package pebble

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
)

// Defaults for [Options]; together they bound the engine's memory.
const (
	DefaultCacheSize    = 32 << 20 // block cache
	DefaultMemTableSize = 16 << 20 // one memtable; at most MemTables of them
	DefaultMemTables    = 4
	// DefaultMaxOpenFiles is the table files the log and the state
	// instance each keep open. With the telemetry instance's, a DB keeps
	// open at most the 544 files it did when it had two instances of 256:
	// servers size their connection bounds by [FilesNeeded].
	DefaultMaxOpenFiles = 240
)

// Options configures [Open]. The zero value (or nil) is ready to use.
type Options struct {
	// Config sets retention for the log, device history and telemetry.
	store.Config
	// CacheSize is the block cache in bytes; 0 means [DefaultCacheSize].
	CacheSize int64
	// MemTableSize is the size of one memtable in bytes; 0 means
	// [DefaultMemTableSize]: the log's; the state and telemetry instances
	// use twice that. Writes stall while MemTables memtables of an instance
	// wait to be flushed, which bounds what memtables take (package doc).
	MemTableSize uint64
	// MemTables bounds queued memtables; 0 means [DefaultMemTables].
	MemTables int
	// MaxOpenFiles bounds the table files the log and the state instance
	// each keep open (the telemetry instance, a record per device, keeps
	// at most 16); 0 means [DefaultMaxOpenFiles]. A server that
	// holds a socket per device shares one file limit with the store, and
	// a store that cannot open a file stops: [FilesNeeded] says how many
	// to keep for it.
	MaxOpenFiles int
}

// filesBeyondTables is what a pebble database opens besides its table
// files: WAL, manifest, lock, directory, options and the table being
// written by a flush or compaction.
const filesBeyondTables = 16

// FilesNeeded is the most files a DB opened with opts keeps open at once.
func FilesNeeded(opts *Options) int {
	n := DefaultMaxOpenFiles
	if opts != nil && opts.MaxOpenFiles > 0 {
		n = opts.MaxOpenFiles
	}
	return 2*(n+filesBeyondTables) + telemetryMaxOpenFiles + filesBeyondTables
}

// telemetryMaxOpenFiles bounds the telemetry instance's open tables: it
// holds one record per device (a few hundred bytes each: a handful of
// tables for 20,000 devices), and reads come from memory, not from it.
const telemetryMaxOpenFiles = 16

// telemetryMemTables is the telemetry instance's memtable size, in units
// of [Options.MemTableSize] (32 MiB by default). Telemetry is one record
// per device, rewritten by each of its messages: a memtable holding a few
// seconds of a fleet's updates keeps only the last of each device's when it
// is flushed, so a fleet of 19,000 devices at a message a second flushes
// ~360 bytes per message instead of every update.
const telemetryMemTables = 2

// DB is a durable [store.Store] in one directory. Safe for concurrent use.
type DB struct {
	logdb  *pebble.DB // the log alone: append-only keys
	db     *pebble.DB // cursors, history
	teldb  *pebble.DB // telemetry: a record per device, overwritten
	cfg    store.Config
	now    func() time.Time
	logger *slog.Logger
	cache  interface{ Unref() }

	closeMu sync.RWMutex // held shared by every call, exclusively by Close
	closed  atomic.Bool
	done    chan struct{} // closed by Close: wakes waiters and sweeps
	bg      sync.WaitGroup

	log  *plog
	hist *phist
	tel  *ptel
}

var syncWrite = &pebble.WriteOptions{Sync: true}

// Key space. One byte tags each kind of key; numbers are big endian so that
// byte order is numeric order.
const (
	tagLog       = 'l' // 'l' seq → record
	tagLogMeta   = 'L' // high-water: last seq and cumulative bytes
	tagCursor    = 'c' // 'c' name → next seq
	tagHist      = 'h' // 'h' len(ident) ident ts uniq → message
	tagDevice    = 'd' // 'd' ident → count, bytes
	tagHistUniq  = 'u' // history tie-breaker high-water
	tagTel       = 't' // 't' len(ident) ident name → ts, value (before device records: read once, rewritten)
	tagTelDevice = 'T' // 'T' len(ident) ident → the device's telemetry (telemetry.go)
	tagLogID     = 'i' // the log's identity, made at first open
)

// Open opens (creating if needed) the store in dir. nil opts means defaults.
// Recovery after a crash is part of opening: pebble replays its WAL, whose
// checksummed records make a torn final write disappear entirely.
func Open(dir string, opts *Options) (*DB, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.MemTables <= 0 {
		o.MemTables = DefaultMemTables
	}
	if o.MaxOpenFiles <= 0 {
		o.MaxOpenFiles = DefaultMaxOpenFiles
	}
	d := &DB{cfg: o.Config, now: o.Config.Clock(), logger: o.Logger, done: make(chan struct{})}
	if d.logger == nil {
		d.logger = slog.Default()
	}
	cache := pebble.NewCache(o.CacheSize)
	d.cache = cache
	popts := func(memtable uint64) *pebble.Options {
		return &pebble.Options{
			// The plain file system: pebble's default wraps it to time
			// every disk operation (slow-disk warnings), a cost on every
			// append.
			FS:                          vfs.Default,
			Cache:                       cache,
			MemTableSize:                memtable,
			MemTableStopWritesThreshold: o.MemTables,
			MaxOpenFiles:                o.MaxOpenFiles,
			FormatMajorVersion:          pebble.FormatNewest,
			Logger:                      pebbleLogger{d.logger},
		}
	}
	var err error
	if d.logdb, err = pebble.Open(filepath.Join(dir, "log"), logOptions(popts(o.MemTableSize))); err != nil {
		cache.Unref()
		return nil, fmt.Errorf("store/pebble: open %s: %w", dir, err)
	}
	if d.db, err = pebble.Open(filepath.Join(dir, "state"), stateOptions(popts(stateMemTables*o.MemTableSize))); err != nil {
		d.logdb.Close()
		cache.Unref()
		return nil, fmt.Errorf("store/pebble: open %s: %w", dir, err)
	}
	telOpts := popts(telemetryMemTables * o.MemTableSize)
	telOpts.MaxOpenFiles = telemetryMaxOpenFiles
	telOpts.MemTableStopWritesThreshold = 2 // a memtable flushes to a few MiB: rarely one waits
	if d.teldb, err = pebble.Open(filepath.Join(dir, "telemetry"), telOpts); err != nil {
		d.db.Close()
		d.logdb.Close()
		cache.Unref()
		return nil, fmt.Errorf("store/pebble: open %s: %w", dir, err)
	}
	if d.log, err = openLog(d); err == nil {
		if d.hist, err = openHistory(d); err == nil {
			d.tel, err = openTelemetry(d)
		}
	}
	if err != nil {
		d.teldb.Close()
		d.db.Close()
		d.logdb.Close()
		cache.Unref()
		return nil, err
	}
	d.log.start()
	d.startSweeps()
	return d, nil
}

// The state instance's compactions (package doc): a compaction from L0
// merges the L0 tables with the overlapping base level, a cost that
// depends on the base level more than on what L0 brings, so it waits for
// 12 sublevels of memtables twice the log's size, six times the data it
// brought at Pebble's defaults. A history query's seek then looks into up
// to 12 more tables, whose index blocks are small and cached.
const (
	stateMemTables    = 2 // in units of Options.MemTableSize
	stateL0Compaction = 12
	stateL0StopWrites = 36
)

func stateOptions(o *pebble.Options) *pebble.Options {
	o.L0CompactionThreshold = stateL0Compaction
	o.L0StopWritesThreshold = stateL0StopWrites
	return o
}

// Table blocks of the log instance. The log is read sequentially, a page of
// records at a time, so big blocks cost nothing in lookups and save a read
// and a cache lookup per block: a consumer reading a log larger than the
// block cache spent a third of its time fetching 4 KiB blocks. Pebble's
// fastest compression (MinLZ on amd64) decompresses faster than the default
// Snappy and, with the bigger blocks, takes less disk (records repeat their
// parameter names): 200,000 records took 8.9 MB against 14.8 MB.
const logBlockSize = 32 << 10

func logOptions(o *pebble.Options) *pebble.Options {
	for i := range o.Levels {
		o.Levels[i].BlockSize = logBlockSize
		o.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.FastestCompression }
	}
	return o
}

// Log returns the durable log.
func (d *DB) Log() store.Log { return d.log }

// Messages returns the device history.
func (d *DB) Messages() store.Messages { return d.hist }

// Telemetry returns the latest values per device.
func (d *DB) Telemetry() store.Telemetry { return d.tel }

// Close waits for calls in progress, stops background retention and closes
// the files. Later calls return [store.ErrClosed].
func (d *DB) Close() error {
	if d.closed.Swap(true) {
		return store.ErrClosed
	}
	close(d.done)
	d.bg.Wait()
	d.closeMu.Lock() // every call in progress has left
	defer d.closeMu.Unlock()
	d.log.shutdown()
	err := errors.Join(d.logdb.Close(), d.db.Close(), d.teldb.Close())
	d.cache.Unref()
	return err
}

// enter admits a call unless the store is closed; leave must follow.
func (d *DB) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.closeMu.RLock()
	if d.closed.Load() {
		d.closeMu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

func (d *DB) leave() { d.closeMu.RUnlock() }

func (d *DB) startSweeps() {
	sweep := func(every time.Duration, what string, fn func(context.Context) error) {
		if every <= 0 {
			return
		}
		d.bg.Add(1)
		go func() {
			defer d.bg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-d.done:
					return
				case <-t.C:
					if err := fn(context.Background()); err != nil && !errors.Is(err, store.ErrClosed) {
						d.logger.Error("store/pebble: retention sweep", "what", what, "err", err)
					}
				}
			}
		}()
	}
	sweep(d.cfg.Log.TrimIntervalOrDefault(), "log", d.log.Trim)
	sweep(d.cfg.History.TrimIntervalOrDefault(), "history", d.hist.Trim)
}

// --- encoding helpers ---

func u64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// orderedFloat maps a float64 to a uint64 with the same order.
func orderedFloat(f float64) uint64 {
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func unorderedFloat(u uint64) float64 {
	if u>>63 == 1 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// devicePrefix is tag, uvarint length and ident: no ident's prefix is a
// prefix of another ident's, so a device's keys are one contiguous range.
func devicePrefix(dst []byte, tag byte, ident string) []byte {
	dst = append(dst, tag)
	dst = binary.AppendUvarint(dst, uint64(len(ident)))
	return append(dst, ident...)
}

// prefixEnd returns the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func corrupt(key []byte, err error) error {
	return &store.CorruptError{Key: fmt.Sprintf("%q", key), Err: err}
}

var decoders = sync.Pool{New: func() any { return new(codec.Decoder) }}

// pebbleLogger routes pebble's log to slog: informational chatter at Debug.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by pebble on unrecoverable corruption; it must not return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	pebble.DefaultLogger.Fatalf(format, args...)
}
