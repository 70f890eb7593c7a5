package node

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/rest"
)

// publishLiveState keeps the retained state topics of channels and
// streams current with what REST shows live, which the registry's objects
// do not hold: a channel's connections_count, a stream's state,
// connected, queue_size and counters. A value is published when it has
// changed, at most every Config.StateInterval; the topics of an object
// that is gone are cleared. One node does it (leased): in a cluster the
// counts are the cluster's (asked of the other nodes).
func (n *Node) publishLiveState(ctx context.Context) error {
	every := n.cfg.StateInterval
	if every <= 0 {
		every = 5 * time.Second
	}
	type key struct {
		kind, prop string
		id, cid    int64
	}
	last := map[key][]byte{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		l := &live{n}
		seen := map[key]bool{}
		publish := func(kind string, id, cid int64, prop string, v any) {
			k := key{kind, prop, id, cid}
			seen[k] = true
			b, err := json.Marshal(v)
			if err != nil || string(b) == string(last[k]) {
				return
			}
			last[k] = b
			n.state.Property(ctx, kind, id, prop, json.RawMessage(b))
		}
		for _, c := range n.Registry.Channels.List() {
			publish("channels", c.ID, c.CID, "connections_count", l.ChannelState(c.ID).ConnectionsCount)
		}
		for _, s := range n.Registry.Streams.List() {
			if st, ok := l.StreamState(s.ID); ok {
				v := rest.LiveOfStream(st)
				publish("streams", s.ID, s.CID, "state", v.State)
				publish("streams", s.ID, s.CID, "connected", v.Connected)
				publish("streams", s.ID, s.CID, "queue_size", v.QueueSize)
				publish("streams", s.ID, s.CID, "counters", v.Counters)
			}
		}
		for k := range last {
			if !seen[k] {
				delete(last, k)
				n.state.Clear(ctx, k.cid, k.kind, k.id, k.prop)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
