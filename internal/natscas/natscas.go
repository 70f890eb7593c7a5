// Package natscas gathers what this module's JetStream users need to know
// about compare-and-set: how a refused one looks (IsConflict), whether the
// server a connection reached serializes it per key (KVCompareAndSet), and
// the replica count to create buckets and streams with (DefaultReplicas).
//
// A clustered (replicated) stream on nats-server before 2.9.21 only
// pre-checks an expected per-subject sequence (JetStream KV Create and
// Update, Nats-Expected-Last-Subject-Sequence) before proposing the write,
// so two concurrent writers can both succeed (nats-server issue 4320, fixed
// by pull request 4319). A single server always serializes it, and the
// stream-level Nats-Expected-Last-Sequence is checked against the leader's
// proposal count in clusters too.
package natscas

import (
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// IsConflict reports a refused compare-and-set: a key that exists (Create)
// or moved (Update, Delete with a revision), or a stream whose last
// sequence is not the expected one. Replicated streams report it with
// another code than single servers.
func IsConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// DefaultReplicas is 3 when nc reached a cluster of three or more servers,
// else 1.
func DefaultReplicas(nc *nats.Conn) int {
	if nc.ConnectedClusterName() != "" && len(nc.Servers()) >= 3 {
		return 3
	}
	return 1
}

// Fixed is the first release that serializes per-key compare-and-set in
// clusters.
const Fixed = "2.9.21"

// KVCompareAndSet returns "" when per-key compare-and-set is safe on nc's
// server, and otherwise a warning that says why not.
func KVCompareAndSet(nc *nats.Conn) string {
	if nc.ConnectedClusterName() == "" {
		return ""
	}
	var major, minor, patch int
	v := nc.ConnectedServerVersion()
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &major, &minor, &patch); err != nil {
		return fmt.Sprintf("nats-server version %q unknown: key compare-and-set may not be serialized in a cluster before %s", v, Fixed)
	}
	if major > 2 || major == 2 && (minor > 9 || minor == 9 && patch >= 21) {
		return ""
	}
	return fmt.Sprintf("nats-server %s in a cluster does not serialize key compare-and-set (fixed in %s): concurrent KV updates, lease grants and fenced commits can both succeed", v, Fixed)
}
