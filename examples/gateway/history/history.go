package history

import (
	"context"
	"fmt"
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
}

// Write implements stream.Sink. Messages without an ident or a time are
// skipped: they belong to no device.
func (w *Writer) Write(ctx context.Context, b *stream.Batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs, w.hist = w.msgs[:0], w.hist[:0]
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
	if w.Telemetry != nil && len(w.msgs) > 0 {
		if err := w.Telemetry.Update(ctx, w.msgs); err != nil {
			return fmt.Errorf("history: telemetry: %w", err)
		}
	}
	if w.Messages != nil && len(w.hist) > 0 {
		if err := w.Messages.Store(ctx, w.hist); err != nil {
			return fmt.Errorf("history: messages: %w", err)
		}
	}
	clear(w.msgs)
	clear(w.hist)
	return nil
}
