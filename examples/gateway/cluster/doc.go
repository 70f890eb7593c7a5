// Package cluster holds the gateway's leases: "each stream runs on exactly
// one node at a time, and another takes over within seconds when it dies".
// An [Elector] grants a [Lease] on a name (a stream's id) to one holder at
// a time. [Local] is the in-process elector of a single gateway; [NATS]
// keeps leases in a NATS JetStream KV bucket shared by every node.
//
// # What a lease guarantees
//
// A NATS lease is a key in a bucket whose entries expire TTL after their
// last write. The holder rewrites it every TTL/3 (a compare-and-set on the
// revision it wrote last); another node acquires the name by creating the
// key, which succeeds only once it is absent: released by its holder
// (taken over at once), or expired TTL after the holder's last renewal (a
// killed or partitioned holder: taken over within TTL plus one retry
// interval, TTL/4).
//
// A holder that cannot renew gives up on its own: [Lease.Lost] is closed
// once TTL minus a margin (TTL/5) has passed since it sent its last renewal
// that succeeded, which is before the server can expire that renewal. So
// while clocks run at about the same rate, the old holder has stopped
// before a new one can start. Nothing bounds a process pause, though (a
// stopped VM, a long GC, SIGSTOP): a paused holder may act after its lease
// has passed to another node. That is what the fencing token is for.
//
// # Fencing
//
// [Lease.Token] is the revision at which the holder created the key. Every
// later holder's token is larger (revisions of a bucket only grow), so
// token order is grant order. Work guarded by a lease passes the token to
// the resource it writes: store/jetstream's Log.CommitFenced records the
// token with a consumer's position and refuses a commit that carries a
// smaller token than the last one recorded. A new holder starts by reading
// the committed position and committing it with its own token; from then
// on a stale holder cannot move the cursor. What a stale holder delivered
// before it noticed is delivered again by the new holder (at least once, as
// everywhere in this module), and receivers deduplicate on the message ids
// streams give (log identity and sequence number).
//
// On nats-server before 2.9.21 in a cluster, compare-and-set on a key is
// not serialized (nats-server issue 4320): two nodes creating the same key
// at the same moment may both succeed, so two holders at once are possible
// there, and fenced commits can both pass. Run 2.9.21 or later; [NATS] logs
// a warning when it connects to an older cluster.
package cluster
