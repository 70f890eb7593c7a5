package mark

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/store"
)

func noCheck(ctx context.Context) error { return ctx.Err() }

func TestWaitWakesOnAdvance(t *testing.T) {
	var m Mark
	got := make(chan uint64)
	go func() {
		pos, err := m.Wait(context.Background(), 0, nil, noCheck)
		if err != nil {
			t.Error(err)
		}
		got <- pos
	}()
	time.Sleep(10 * time.Millisecond)
	m.Advance(3)
	if pos := <-got; pos != 3 {
		t.Fatalf("Wait returned %d, want 3", pos)
	}
	if pos, _ := m.Wait(context.Background(), 2, nil, noCheck); pos != 3 {
		t.Fatalf("Wait past the position returned %d", pos)
	}
	m.Advance(2) // never backwards
	if m.Load() != 3 {
		t.Fatalf("Load = %d after a smaller Advance", m.Load())
	}
}

func TestWaitEnds(t *testing.T) {
	var m Mark
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := m.Wait(ctx, 0, nil, noCheck); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx end: %v", err)
	}
	done := make(chan struct{})
	time.AfterFunc(10*time.Millisecond, func() { close(done) })
	if _, err := m.Wait(context.Background(), 0, done, noCheck); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("done: %v", err)
	}
	closed := func(context.Context) error { return store.ErrClosed }
	if _, err := m.Wait(context.Background(), 0, nil, closed); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("check: %v", err)
	}
}
