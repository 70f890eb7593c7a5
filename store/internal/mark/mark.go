// Package mark holds a log position that only moves forward and that
// goroutines can wait on. It is how a consumer's Log.Wait learns of new
// records without polling, in every store engine.
package mark

import (
	"context"
	"sync"

	"github.com/gnssgate/gnssgate/store"
)

// Mark is a position that only advances. The zero Mark is at 0 and ready
// to use; a Mark must not be copied after first use.
type Mark struct {
	mu  sync.Mutex
	pos uint64
	ch  chan struct{} // closed when pos moves; nil until someone waits
}

// Load returns the position.
func (m *Mark) Load() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos
}

// Advance moves the position to pos and wakes the waiters; a pos that is
// not beyond the current one changes nothing.
func (m *Mark) Advance(pos uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pos <= m.pos {
		return
	}
	m.pos = pos
	if m.ch != nil {
		close(m.ch)
		m.ch = nil
	}
}

// Wait returns the position once it is beyond after. Before each look it
// calls check, whose error (a closed store, an ended ctx) it returns; it
// returns ctx's error when ctx ends and store.ErrClosed when done is closed
// while it waits.
func (m *Mark) Wait(ctx context.Context, after uint64, done <-chan struct{}, check func(context.Context) error) (uint64, error) {
	for {
		if err := check(ctx); err != nil {
			return 0, err
		}
		m.mu.Lock()
		pos := m.pos
		if pos <= after && m.ch == nil {
			m.ch = make(chan struct{})
		}
		ch := m.ch
		m.mu.Unlock()
		if pos > after {
			return pos, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-done:
			return 0, store.ErrClosed
		}
	}
}
