package pebble

import (
	"context"

	"github.com/cockroachdb/pebble/v2"
)

// EngineStats are the counters of one of a store's Pebble instances since
// it was opened: what its flushes and compactions wrote and read, and its
// size on disk. They show where the engine's background work goes: a
// compaction that reads much more than it writes rewrites keys that
// overlap the tables below them, and an instance whose flushes write
// about what its writers put in keeps nothing from being overwritten in
// its memtables.
type EngineStats struct {
	// Name is the instance: "log" (the durable log), "state" (history and
	// cursors) or "telemetry".
	Name string
	// DiskBytes is what the instance takes on disk: tables, blob files and
	// WAL.
	DiskBytes uint64
	// Flushes and Compactions count the jobs run (a compaction that only
	// moves a table to another level counts too).
	Flushes, Compactions int64
	// WALBytes is what the write-ahead log took in: every write, once.
	WALBytes uint64
	// FlushedBytes and CompactedBytes are the table (and blob) bytes those
	// jobs wrote (a flush writes only the last version of a key its
	// memtable saw overwritten); CompactionReadBytes the table bytes
	// compactions read.
	FlushedBytes, CompactedBytes, CompactionReadBytes uint64
}

// EngineStats reads the counters of the log, state and telemetry
// instances, in that order; nil once the store is closed.
func (d *DB) EngineStats() []EngineStats {
	if d.enter(context.Background()) != nil {
		return nil
	}
	defer d.leave()
	out := make([]EngineStats, 0, 3)
	for _, e := range []struct {
		name string
		db   *pebble.DB
	}{{"log", d.logdb}, {"state", d.db}, {"telemetry", d.teldb}} {
		m := e.db.Metrics()
		t := m.Total()
		out = append(out, EngineStats{
			Name:        e.name,
			DiskBytes:   m.DiskSpaceUsage(),
			Flushes:     m.Flush.Count,
			Compactions: m.Compact.Count,
			WALBytes:    m.WAL.BytesWritten,
			// Not Total's TableBytesFlushed: it adds the WAL's bytes.
			FlushedBytes:        m.Levels[0].TableBytesFlushed + m.Levels[0].BlobBytesFlushed,
			CompactedBytes:      t.TableBytesCompacted + t.BlobBytesCompacted,
			CompactionReadBytes: t.TableBytesRead,
		})
	}
	return out
}
