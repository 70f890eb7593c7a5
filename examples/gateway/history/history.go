package history

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/stream"
)

// Writer is the sink. Its zero value, with Messages and Telemetry set (either
// may be nil to skip it), is ready.
type Writer struct {
	Messages  store.Messages
	Telemetry store.Telemetry
	// Keep, when set, says whether a device's messages go to its history
	// (a device with flespi's messages_ttl 0 keeps none); telemetry is kept
	// either way.
	Keep func(ident string) bool
	// Active, when set, is told the newest server time of each device in a
	// batch (its "last_active").
	Active func(ident string, serverTime float64)

	mu   sync.Mutex
	msgs []protocol.Message
	hist []protocol.Message
	// next is the log position after the last batch written, 0 before
	// the first: a batch that starts elsewhere (the first after a start, a
	// batch delivered again) may hold messages history already has.
	next uint64
}

// Write implements stream.Sink. Messages without an ident or a time are
// skipped: they belong to no device.
func (w *Writer) Write(ctx context.Context, b *stream.Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs, w.hist = w.msgs[:0], w.hist[:0]
	next := w.next
	w.next = 0 // until this batch is written: a failed one may be half stored
	for i := range b.Messages {
		m := b.Messages[i].Message
		ident := m.Ident()
		if ident == "" {
			continue
		}
		if _, ok := store.DeviceTime(m); !ok {
			continue
		}
		w.msgs = append(w.msgs, *m) // shares storage: the store keeps nothing
		if w.Keep == nil || w.Keep(ident) {
			w.hist = append(w.hist, *m)
		}
		if w.Active != nil {
			if st, ok := m.Float(protocol.ParamServerTimestamp); ok {
				w.Active(ident, st)
			}
		}
	}
	// Telemetry and history are written at once: each waits for its
	// store to be durable, and the two syncs overlap (store/pebble's are
	// two write-ahead logs; a store with one syncs both together).
	var telErr error
	var wg sync.WaitGroup
	if w.Telemetry != nil && len(w.msgs) > 0 {
		wg.Go(func() { telErr = w.Telemetry.Update(ctx, w.msgs) })
	}
	msgErr := w.storeMessages(ctx, next, b)
	wg.Wait()
	if telErr != nil {
		return fmt.Errorf("history: telemetry: %w", telErr)
	}
	if msgErr != nil {
		return fmt.Errorf("history: messages: %w", msgErr)
	}
	if len(b.Messages) > 0 {
		w.next = b.Messages[len(b.Messages)-1].Seq + 1
	}
	clear(w.msgs)
	clear(w.hist)
	return nil
}

// storeMessages stores w.hist, less what history already has when b may
// repeat messages (it does not follow the last batch written).
func (w *Writer) storeMessages(ctx context.Context, next uint64, b *stream.Batch) error {
	if w.Messages == nil || len(w.hist) == 0 {
		return nil
	}
	if next == 0 || b.Messages[0].Seq != next {
		if err := w.dropStored(ctx); err != nil {
			return err
		}
	}
	return w.Messages.Store(ctx, w.hist)
}

// dropStored removes from w.hist the messages history already has: the
// stream delivers at least once, so a batch in flight at a crash, or
// whose commit failed, comes again (whole or inside another batch). A
// message is already stored when history has an equal one at its device
// time that no other message of the batch matched: two equal records (a
// tracker's message stored twice) are both kept. One query per device
// (its span of time in the batch), as the store may be remote. Telemetry
// needs no such care: an update with the same values and times changes
// nothing.
func (w *Writer) dropStored(ctx context.Context) error {
	type span struct{ from, to float64 }
	spans := map[string]span{}
	for i := range w.hist {
		ident := w.hist[i].Ident()
		ts, _ := store.DeviceTime(&w.hist[i])
		s, ok := spans[ident]
		if !ok {
			s = span{ts, ts}
		}
		spans[ident] = span{min(s.from, ts), max(s.to, ts)}
	}
	type at struct {
		ident string
		ts    float64
	}
	stored := map[at][]protocol.Message{}
	for ident, s := range spans {
		if s.to == 0 {
			s.to = math.SmallestNonzeroFloat64 // To 0 would mean no bound
		}
		have, err := w.Messages.Query(ctx, ident, store.Query{From: s.from, To: s.to})
		if err != nil {
			return err
		}
		for i := range have {
			ts, _ := store.DeviceTime(&have[i])
			k := at{ident, ts}
			stored[k] = append(stored[k], have[i])
		}
	}
	keep := w.hist[:0]
	for i := range w.hist {
		m := &w.hist[i]
		ts, _ := store.DeviceTime(m)
		k := at{m.Ident(), ts}
		if j := slices.IndexFunc(stored[k], func(h protocol.Message) bool { return h.Equal(m) }); j >= 0 {
			stored[k] = slices.Delete(stored[k], j, j+1)
			continue
		}
		keep = append(keep, *m)
	}
	clear(w.hist[len(keep):])
	w.hist = keep
	return nil
}
