package node

import (
	"path/filepath"
	"strconv"

	"github.com/gnssgate/gnssgate/protocol"
)

// trafficDir is where channel id records raw traffic (configuration.record),
// "" for a gateway without a data directory.
func (n *Node) trafficDir(id int64) string {
	if n.cfg.DataDir == "" {
		return ""
	}
	return filepath.Join(n.cfg.DataDir, "traffic", strconv.FormatInt(id, 10))
}

// TrafficDir implements rest.Recordings.
func (l *live) TrafficDir(id int64) string { return l.n.trafficDir(id) }

// Codec implements rest.Recordings: the codec a channel of the protocol
// would run.
func (l *live) Codec(name string, lenient bool) (protocol.Codec, bool) {
	return l.n.codec(name, lenient)
}
