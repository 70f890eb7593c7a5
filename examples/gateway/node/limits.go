package node

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// limits enforces the accounts' limits that are not object counts (those
// the registry refuses at creation): bytes per second in and messages
// stored. MQTT sessions the broker counts itself, connected and kept
// offline alike (embedded.Token.MaxSessions, set by authenticateMQTT).
type limits struct {
	n *Node

	mu      sync.Mutex
	buckets map[int64]*bucket        // cid → bytes-in bucket
	seen    map[*channel.Conn]uint64 // bytes of a connection already charged
	full    map[int64]bool           // cid → its histories are over MessagesStored
}

func newLimits(n *Node) *limits {
	return &limits{n: n, buckets: map[int64]*bucket{}, seen: map[*channel.Conn]uint64{}, full: map[int64]bool{}}
}

// ErrStorageFull is returned to a channel whose account's histories hold
// its MessagesStored limit: the tracker is not acknowledged and keeps its
// data (store.ErrFull's Block semantics, per account).
var ErrStorageFull = fmt.Errorf("account storage full: %w", store.ErrFull)

// admit is called before a batch of connection c is stored: it refuses the
// batch of an account whose storage is full, and slows a connection whose
// account sends more bytes per second than it may.
func (l *limits) admit(ctx context.Context, c *channel.Conn, msgs []protocol.Message) error {
	cid := int64(0)
	for i := range msgs {
		if v, ok := msgs[i].Int(protocol.ParamCID); ok {
			cid = v
			break
		}
	}
	if cid == 0 {
		return nil
	}
	a, ok := l.n.Registry.Accounts.Get(cid)
	if !ok {
		return nil
	}
	l.mu.Lock()
	full := l.full[cid]
	var charge uint64
	if c != nil && a.Limits.BytesPerSecondIn > 0 {
		in := c.Info().BytesIn
		charge = in - l.seen[c]
		l.seen[c] = in
	}
	b := l.buckets[cid]
	if b == nil && a.Limits.BytesPerSecondIn > 0 {
		b = &bucket{}
		l.buckets[cid] = b
	}
	l.mu.Unlock()
	if full {
		return ErrStorageFull
	}
	if b != nil && charge > 0 {
		return b.wait(ctx, float64(a.Limits.BytesPerSecondIn), float64(charge))
	}
	return nil
}

// closed forgets a connection's byte count.
func (l *limits) closed(c *channel.Conn) {
	l.mu.Lock()
	delete(l.seen, c)
	l.mu.Unlock()
}

// bucket is a token bucket of bytes: rate per second, a second's worth of
// burst.
type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// wait takes n tokens, sleeping while the bucket is in debt.
func (b *bucket) wait(ctx context.Context, rate, n float64) error {
	b.mu.Lock()
	now := time.Now()
	if b.last.IsZero() {
		b.tokens = rate
	} else {
		b.tokens = min(rate, b.tokens+rate*now.Sub(b.last).Seconds())
	}
	b.last = now
	b.tokens -= n
	debt := -b.tokens
	b.mu.Unlock()
	if debt <= 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(debt / rate * float64(time.Second)))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// watchStorage recomputes, every interval, which accounts' histories hold
// their MessagesStored limit, and logs the changes as events.
func (l *limits) watchStorage(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		l.checkStorage(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (l *limits) checkStorage(ctx context.Context) {
	hist := l.n.db.Messages()
	if hist == nil {
		return
	}
	// Only the histories of accounts with a limit are counted (one read of
	// the store per device: 19,000 of them every interval cost the history
	// writer its lock for nothing when no account has a limit); an account
	// whose limit was removed is still visited, to say it has room again.
	accounts := l.n.Registry.Accounts.List()
	limited := map[int64]bool{}
	l.mu.Lock()
	for _, a := range accounts {
		if a.Limits.MessagesStored > 0 || l.full[a.ID] {
			limited[a.ID] = true
		}
	}
	l.mu.Unlock()
	counts := map[int64]int64{}
	if len(limited) > 0 {
		for _, d := range l.n.Registry.Devices.List() {
			if !limited[d.CID] {
				continue
			}
			if st, err := hist.Device(ctx, d.Configuration.Ident); err == nil {
				counts[d.CID] += st.Count
			}
		}
	}
	for _, a := range accounts {
		full := a.Limits.MessagesStored > 0 && counts[a.ID] >= a.Limits.MessagesStored
		l.mu.Lock()
		was := l.full[a.ID]
		l.full[a.ID] = full
		l.mu.Unlock()
		if full != was {
			event := "storage_full"
			if !full {
				event = "storage_available"
			}
			l.n.logger.Warn("account "+strings.ReplaceAll(event, "_", " "), "cid", a.ID, "messages", counts[a.ID], "limit", a.Limits.MessagesStored)
			l.n.state.Event(ctx, "accounts", a.ID, event, map[string]any{"messages": counts[a.ID], "limit": a.Limits.MessagesStored})
		}
	}
}
