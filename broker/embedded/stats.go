package embedded

import (
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// This file is the server's statistics: the counters the other stages bump,
// the Stats snapshot, and the "$SYS/broker/…" topics published from it.

// Stats is a snapshot of a Server's state and counters (Server.Stats).
// Counters count from the server's start.
type Stats struct {
	Uptime time.Duration
	// ClientsConnected is the network clients past CONNACK now.
	ClientsConnected int64
	// Sessions is the network clients' sessions held, connected or kept
	// for offline clients (in-process subscribers are not counted here, but
	// their subscriptions are).
	Sessions int
	// Subscriptions is the subscriptions of all sessions.
	Subscriptions int64
	// Retained and RetainedBytes are the retained messages kept (topic and
	// payload bytes).
	Retained      int
	RetainedBytes int64
	// QueuedBytes is the payload and topic bytes waiting for sessions.
	QueuedBytes int64
	// MessagesReceived counts the PUBLISHes taken in: from network clients
	// (whether routed or refused) and from in-process publishers.
	MessagesReceived uint64
	// MessagesSent counts the PUBLISHes written to network clients and
	// handed to in-process subscribers.
	MessagesSent uint64
	// MessagesDropped counts the deliveries dropped because the session's
	// queue was full (Config.MaxQueuedBytes, MaxTotalQueuedBytes): a
	// subscriber reading slower than its messages arrive, or an offline
	// session that has fallen that far behind.
	MessagesDropped uint64
	// FilterOverBudget counts the messages a "$filter" subscription did not
	// get because its predicate ran out of steps (Config.FilterMaxSteps).
	FilterOverBudget uint64
	// HeapBytes is the Go heap in use by the whole process (live and not
	// yet swept objects; runtime/metrics "/memory/classes/heap/objects:bytes").
	HeapBytes uint64
}

// serverStats are the counters; the rest of Stats is read from the state.
type serverStats struct {
	start            time.Time
	clients          atomic.Int64
	msgsIn, msgsOut  atomic.Uint64
	dropped          atomic.Uint64
	filterOverBudget atomic.Uint64
}

// Stats returns a snapshot of the server's state and counters. It takes the
// server's locks briefly; call it at most a few times a second.
func (s *Server) Stats() Stats {
	st := Stats{
		Uptime:           time.Since(s.stats.start),
		ClientsConnected: s.stats.clients.Load(),
		Subscriptions:    s.tree.count.Load(),
		QueuedBytes:      s.queuedTotal.Load(),
		MessagesReceived: s.stats.msgsIn.Load(),
		MessagesSent:     s.stats.msgsOut.Load(),
		MessagesDropped:  s.stats.dropped.Load(),
		FilterOverBudget: s.stats.filterOverBudget.Load(),
	}
	s.mu.Lock()
	st.Sessions = len(s.sessions)
	s.mu.Unlock()
	s.retained.mu.RLock()
	st.Retained, st.RetainedBytes = s.retained.n, s.retained.bytes
	s.retained.mu.RUnlock()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		st.HeapBytes = sample[0].Value.Uint64()
	}
	return st
}

// sysPrefix is the first level of the broker's statistics topics. Clients
// may not publish under it.
const sysPrefix = "$SYS/"

// sysTopics returns the "$SYS/broker/…" topics and their payloads (decimal
// text, as Mosquitto publishes them) for st.
func sysTopics(st Stats) [][2]string {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	return [][2]string{
		{"$SYS/broker/uptime", i(int64(st.Uptime/time.Second)) + " seconds"},
		{"$SYS/broker/clients/connected", i(st.ClientsConnected)},
		{"$SYS/broker/sessions/count", i(int64(st.Sessions))},
		{"$SYS/broker/subscriptions/count", i(st.Subscriptions)},
		{"$SYS/broker/retained messages/count", i(int64(st.Retained))},
		{"$SYS/broker/retained messages/bytes", i(st.RetainedBytes)},
		{"$SYS/broker/messages/received", u(st.MessagesReceived)},
		{"$SYS/broker/messages/sent", u(st.MessagesSent)},
		{"$SYS/broker/messages/queued bytes", i(st.QueuedBytes)},
		{"$SYS/broker/publish/messages/dropped", u(st.MessagesDropped)},
		{"$SYS/broker/filter/over budget", u(st.FilterOverBudget)},
		{"$SYS/broker/heap/current", u(st.HeapBytes)},
	}
}

// sysInterval is Config.SysInterval with its default; 0 means off.
func (c *Config) sysInterval() time.Duration {
	switch {
	case c.SysInterval < 0:
		return 0
	case c.SysInterval == 0:
		return 10 * time.Second
	}
	return max(c.SysInterval, 100*time.Millisecond)
}

// publishSys publishes the statistics topics to their subscribers (not
// retained: a new subscriber gets the current values at once from
// sendSys).
func (s *Server) publishSys() {
	now := s.now()
	for _, tp := range sysTopics(s.Stats()) {
		s.publish(&message{topic: tp[0], payload: []byte(tp[1]), created: now}, routed{})
	}
}

// sysLoop publishes the statistics every interval until the server closes.
func (s *Server) sysLoop(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.publishSys()
		}
	}
}

// sysRetained returns the current statistics messages matching sub, as the
// retained messages of the "$SYS" topics: they are made on demand, never
// stored, so they neither fill nor persist in the retained store.
func (s *Server) sysRetained(sub *subscription) []*message {
	if s.cfg.sysInterval() == 0 || !strings.HasPrefix(sub.filter.Topic(), "$") {
		return nil
	}
	var out []*message
	now := s.now()
	for _, tp := range sysTopics(s.Stats()) {
		if sub.filter.Match(tp[0]) {
			m := &message{topic: tp[0], payload: []byte(tp[1]), created: now, retain: true}
			m.setSize()
			out = append(out, m)
		}
	}
	return out
}
