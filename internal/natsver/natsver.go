// Package natsver tells whether the NATS server a connection reached
// serializes compare-and-set on a key (JetStream KV Create and Update,
// Nats-Expected-Last-Subject-Sequence). A clustered (replicated) stream on
// nats-server before 2.9.21 only pre-checks the expected sequence before
// proposing the write, so two concurrent writers can both succeed
// (nats-server issue 4320, fixed by pull request 4319). A single server
// always serializes it.
package natsver

import (
	"fmt"

	"github.com/nats-io/nats.go"
)

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
