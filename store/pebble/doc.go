// Package pebble is the embedded durable [store.Store], on CockroachDB's
// Pebble engine. [Open] a directory and use [DB.Log], [DB.Messages] and
// [DB.Telemetry]; see package store for the contracts.
//
// # Layout
//
// The directory holds three Pebble instances sharing one block cache:
// "log" holds nothing but log records, keyed by sequence number, so its
// keys only ever grow, flushed tables never overlap and Pebble moves them
// down its levels without rewriting them; "state" holds consumer cursors
// and device history (keyed by device, then timestamp: a query is one seek
// plus sequential reads, whatever the store's size); "telemetry" holds one
// record per device, rewritten by each of its messages. Telemetry has its
// own instance, with memtables twice the size, because its keys are few
// and overwritten: a memtable holding a few seconds of a fleet's updates
// flushes only the last of each device's, and history's compactions no
// longer rewrite telemetry. For the gateway's history writer at 19,000
// devices (BenchmarkHistoryWriterLoad) that took the bytes flushed and
// compacted from about 1,600 to 1,200 per message and the CPU per message
// by about a third. Each instance has its own write-ahead log, so a
// telemetry update and a history write made at once sync in parallel.
//
// History's keys start with the device, so every memtable a fleet fills
// spans them all and each flush overlaps every table below it: the state
// instance compacts L0 only once it holds 12 sublevels (Pebble's default
// is 4), flushed from memtables twice the log's size. Over 3.6 million
// messages of 19,000 devices that took what its compactions read from 790
// to 205 bytes per message, and the history writer's CPU from 27.4 to 18.7
// µs per message.
//
// Messages are stored in a compact binary form (faster to decode than JSON,
// and exact for every value kind). The log's tables use 32 KiB blocks and
// Pebble's fastest compression (MinLZ on amd64): consumers read it
// sequentially, so big blocks save reads without slowing lookups, and
// together they take about 60% of the disk that 4 KiB Snappy blocks take
// while decompressing faster. A consumer reading pages with
// [store.Log.ReadInto] costs about 0.45 µs of CPU per record of
// BenchmarkConsumerRead (13 parameters, 1000 devices interleaved).
//
// Each log record also carries its append time and the cumulative size of
// the log up to it, so the log's size and the cut points for age and size
// retention are found by binary search, without scanning.
//
// # Durability and group commit
//
// Appends are group-committed. Callers encode their batches and queue them;
// one writer goroutine takes everything queued, assigns sequence numbers,
// applies the size policy, hands it to Pebble's write-ahead log as one
// batch, waits for its fsync, then publishes the new durable end and wakes
// the group's callers. Because groups enter the WAL in sequence order, a
// crash can only lose a suffix of unacknowledged appends: never a hole,
// never an acknowledged batch. The WAL is checksummed: a torn final write
// is discarded on recovery and never read as a message. Records become
// visible to readers only once synced. After a storage error (a failed
// write or fsync) the log refuses appends with that error until it is
// reopened, since what reached the disk is then unknown.
//
// An fsync costs tens of microseconds of CPU and a few hundred of waiting,
// whatever it covers, so the writer makes groups as large as it can without
// delaying anyone much: after a sync that woke n callers it waits for n
// appends (callers that append in a loop come straight back) but never
// longer than a recent commit took, then syncs whatever is queued. 64
// goroutines appending one message each then share one fsync per round
// (about 3 µs of CPU per message, over 200,000 messages a second in
// BenchmarkAppendConcurrent64); a lone appender is never delayed, and an
// append arriving while others are expected waits at most one commit time.
//
// # Retention
//
// Age and size retention delete a prefix of the log with one range
// deletion; Pebble drops whole tables covered by it without rewriting
// anything. Age retention runs every [store.LogConfig.TrimInterval]
// (default one minute) and for history every
// [store.HistoryConfig.TrimInterval] (default one hour). With
// [store.DropOldest] a full log frees 1% of its cap beyond what an append
// needs, so that a full log does not pay a range deletion per append.
//
// # Memory
//
// Memory does not grow with the data: a block cache of [Options.CacheSize]
// (32 MiB by default) shared by the instances, and at most
// [Options.MemTables] memtables of [Options.MemTableSize] (16 MiB) for the
// log, as many of twice that for the state, and two of twice that for
// telemetry, so about 288 MiB in all by default, after which writes wait
// for flushes. Telemetry is also served from
// memory: devices times parameters (bounded by
// [store.TelemetryConfig.MaxParams]), independent of how many messages
// arrive. Consumer cursors are held in memory too (one number each).
package pebble
