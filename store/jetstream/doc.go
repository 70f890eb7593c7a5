// Package jetstream is the distributed [store.Store], on NATS JetStream:
// every gateway node that opens the same [Options.Name] on the same NATS
// account shares one log, one set of consumer cursors, one device history
// and one telemetry table, so that no node keeps state another needs.
// [Dial] a NATS URL (or [Open] on a connection) and use [Store.Log],
// [Store.Messages] and [Store.Telemetry]; see package store for the
// contracts, which this engine passes (store/storetest), and
// examples/gateway/cluster for the leases that keep each stream on one node.
//
// # Layout
//
// For a store named NAME:
//
//	stream NAME_log       subject gnssgate.NAME.log                the log
//	stream NAME_history   subjects gnssgate.NAME.hist.<ident>.<n>  device history
//	bucket NAME_state     keys id, floor, c.<consumer>             identity, log start, cursors
//	bucket NAME_telemetry one key per device                       latest values
//
// Idents and consumer names are written as subject tokens (letters,
// digits, '-' and '=' as they are, any other byte as "_XX").
//
// # The log: numbering without holes
//
// JetStream numbers a stream's messages, but those numbers cannot be the
// log's: an Append batch must get consecutive numbers and be stored whole
// or not at all, and 2.9 servers have no atomic multi-message publish; and
// several nodes append at once. So each stream message holds a group of
// records — every batch that queued while the previous publish awaited its
// acknowledgement (group commit) — and its headers say which log numbers
// they have (first, count), with the append time and the log's cumulative
// size. Numbers are contiguous because every group is published on the
// condition that the stream's last message is the one the writer numbered
// from (Nats-Expected-Last-Sequence): two nodes that race both compute the
// same next number, one wins, the other reads the new last message and
// renumbers. A new log starts with an origin message that numbers nothing,
// because the server does not check an expected sequence of 0. The
// stream-level condition is used, not the per-subject one, because a
// clustered 2.9 server does not serialize the latter (nats-server issue
// 4320); TestClusterNodeKill, with two writers on two connections while
// NATS nodes are SIGKILLed, found exactly that before the change.
//
// Each publish carries a Nats-Msg-Id. An attempt whose acknowledgement is
// lost (timeout, server failover) is retried with the same id and the same
// condition, so the server either reports the earlier attempt as a
// duplicate (and its numbers are used) or refuses it because another
// message came first — then the writer looks for its id among the
// messages after the one it expected, which settles whether the attempt
// was stored, whatever the duplicate window. Only if the servers do not
// answer for four times [Options.Timeout] does Append give up with an
// error, and then the batch may or may not be in the log: the caller has
// not acknowledged, the tracker resends, and the log may hold it twice (at
// least once, as everywhere).
//
// Retention never rewrites: a floor shared in the state bucket marks the
// first record kept, and stream messages wholly below it are purged. A
// message that straddles the floor stays until its last record is below
// it, so storage lags the floor by at most one group, and the last message
// always stays (it numbers the next), so numbers are never reused, even
// after the log was emptied. Age (MaxAge, by [store.LogConfig.TrimInterval]
// sweeps) and size (MaxBytes with Block or DropOldest) retention are this
// package's, not the stream's limits: the server's limits would drop
// unread records under Block and could drop the last message.
//
// A reader finds the message holding a record by binary search over
// message headers (or straight away when it reads on from where it
// stopped), then reads message after message (direct get); a cache of
// recently written and read messages (16 MB) serves consumers that follow
// the tail. Wait does not poll: each store follows the log's new messages
// with a headers-only ordered consumer and wakes waiters as they arrive,
// whichever node appended them.
//
// # Cursors and fencing
//
// Consumer positions are keys of the state bucket, not JetStream durable
// consumers: positions are log numbers, not stream sequences; a position
// may move backwards (replay); Block needs every consumer's position to
// release space; and a position must be fenceable. [Fenced.CommitFenced]
// stores a lease's fencing token with the position and refuses a commit
// carrying an older token, so a node that lost a stream's lease cannot
// move its cursor after the new holder committed once.
//
// # History and telemetry
//
// History subjects are per device and per span of device time
// ([Options.HistoryBucket], one day by default): a query lists the
// device's subjects (the server counts messages per subject), reads only
// the spans its range touches, newest first for Reverse, and orders each
// by timestamp and arrival. Age retention purges whole spans by subject.
// The number of subjects is devices times days kept; the server holds
// per-subject state for each, which bounds how long a fleet's history can
// be kept per NATS cluster (a wider span trades query cost for fewer
// subjects).
//
// Telemetry keeps one key per device holding all its parameters. An update
// reads the key, merges (an older timestamp never wins), and writes it
// back on the condition that its revision has not moved; if another node
// wrote first it reads and merges again. Watch reports this node's
// updates.
//
// # Durability: what an acknowledgement means
//
// store/pebble acknowledges an append once it is fsynced: it survives a
// crash of the process, of the kernel and a power loss. On JetStream the
// promise depends on the server's sync setting and the replica count:
//
//   - One server, default settings: the server writes each message to its
//     file (the operating system's page cache) before acknowledging and
//     fsyncs every two minutes. An acknowledged append survives a SIGKILL
//     of nats-server or of the gateway, but a power loss or kernel crash
//     can lose the last two minutes (Jepsen's 2025 analysis of
//     nats-server 2.12.1 lost acknowledged writes this way; nats-server
//     issues 7564 and 6888).
//   - Three replicas (R3), default settings: acknowledged once a majority
//     has written it; it survives the loss of any one server, disk
//     included, but a simultaneous power loss of a majority within the
//     sync interval can lose it.
//   - sync_interval: always (nats-server 2.10 and later): each write is
//     fsynced before the acknowledgement. With one replica this is the
//     same promise as store/pebble; with R3 it also survives the loss of
//     a server's disk.
//
// The client chooses the replica count ([Options.Replicas]) but not the
// sync setting, which is the server's: give store/pebble's promise with
// sync_interval: always, and R3 on a cluster so that a node's loss loses
// nothing. Replicas defaults to 3 on a cluster of three or more servers
// (else 1). The nats-server 2.9.10 installed on this project's machines
// has no sync_interval option (its configuration parser refuses it; the
// two-minute fsync is fixed): there, only R3 protects acknowledged appends
// against a machine's power loss, and only while a majority survives.
// Cursors, history and telemetry are stored the same way.
//
// On nats-server before 2.9.21 in a cluster, a key's compare-and-set is
// not serialized (issue 4320): concurrent telemetry merges on two nodes
// can lose one update, two fenced commits can both pass, and two floor
// moves can both pass (the floor therefore only moves forward on every
// node). The log's numbering does not depend on it. Use 2.9.21 or later
// for clusters.
package jetstream
