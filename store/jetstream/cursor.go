package jetstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	js "github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/natskey"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/internal/codec"
)

// Consumer positions: keys c.<consumer> of the state bucket, value the
// next record (8 bytes) and the fencing token of the commit (8 bytes).

type fencedRev struct{ rev, fence uint64 }

func encodeCursor(next, fence uint64) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, next)
	binary.BigEndian.PutUint64(b[8:], fence)
	return b
}

func decodeCursor(key string, b []byte) (next, fence uint64, err error) {
	if len(b) != 16 {
		return 0, 0, corrupt(key, codec.ErrBad)
	}
	return binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]), nil
}

func (l *jlog) Cursor(ctx context.Context, consumer string) (uint64, error) {
	if err := l.s.enter(ctx); err != nil {
		return 0, err
	}
	defer l.s.leave()
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	e, err := l.state.Get(rc, cursorKey(consumer))
	if errors.Is(err, js.ErrKeyNotFound) {
		return 0, store.ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	next, _, err := decodeCursor(e.Key(), e.Value())
	return next, err
}

// checkNext refuses a position beyond Last+1, asking the server for the
// last record before refusing (another node may have appended).
func (l *jlog) checkNext(ctx context.Context, consumer string, next uint64) error {
	if consumer == "" {
		return store.ErrInvalid
	}
	l.mu.Lock()
	last := l.tail.last()
	l.mu.Unlock()
	if next <= last+1 {
		return nil
	}
	if err := l.refreshTail(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	last = l.tail.last()
	l.mu.Unlock()
	if next > last+1 {
		return fmt.Errorf("%w: position %d is beyond the end of the log (%d)", store.ErrInvalid, next, last)
	}
	return nil
}

func (l *jlog) Commit(ctx context.Context, consumer string, next uint64) error {
	if err := l.s.enter(ctx); err != nil {
		return err
	}
	defer l.s.leave()
	if err := l.checkNext(ctx, consumer, next); err != nil {
		return err
	}
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	_, err := l.state.Put(rc, cursorKey(consumer), encodeCursor(next, 0))
	return err
}

// CommitFenced is [store.Log.Commit] for a consumer whose work is guarded by
// a lease: fence is the lease's fencing token (it grows with every new
// holder). The position is written only if no commit with a larger token
// was made since; otherwise it returns [ErrFenced] and changes nothing,
// so a holder that lost its lease (paused, partitioned) cannot move the
// cursor of the holder that replaced it. Each commit is one compare-and-set
// in the state bucket. A consumer is committed either always fenced or
// never: a plain Commit resets the token.
func (l *jlog) CommitFenced(ctx context.Context, consumer string, next, fence uint64) error {
	if err := l.s.enter(ctx); err != nil {
		return err
	}
	defer l.s.leave()
	if err := l.checkNext(ctx, consumer, next); err != nil {
		return err
	}
	key := cursorKey(consumer)
	val := encodeCursor(next, fence)
	l.cmu.Lock()
	last, known := l.fenceRv[key]
	l.cmu.Unlock()
	// Our last commit with this very token is the current value unless
	// someone wrote since, which the compare-and-set then reports.
	known = known && last.fence == fence
	rev := last.rev
	for range 20 {
		rc, cancel := l.s.rctx(ctx)
		var nrev uint64
		var err error
		if !known {
			e, gerr := l.state.Get(rc, key)
			switch {
			case errors.Is(gerr, js.ErrKeyNotFound):
				rev = 0
			case gerr != nil:
				cancel()
				return gerr
			default:
				_, f, derr := decodeCursor(key, e.Value())
				if derr != nil {
					cancel()
					return derr
				}
				if f > fence {
					cancel()
					return ErrFenced
				}
				rev = e.Revision()
			}
		}
		if rev == 0 {
			nrev, err = l.state.Create(rc, key, val)
		} else {
			nrev, err = l.state.Update(rc, key, val, rev)
		}
		cancel()
		if err == nil {
			l.cmu.Lock()
			l.fenceRv[key] = fencedRev{nrev, fence}
			l.cmu.Unlock()
			return nil
		}
		if !errors.Is(err, js.ErrKeyExists) && !isWrongLast(err) {
			return err
		}
		known = false // someone else wrote: look at their token
	}
	return fmt.Errorf("store/jetstream: commit %s: too much contention", consumer)
}

func (l *jlog) DeleteConsumer(ctx context.Context, consumer string) error {
	if err := l.s.enter(ctx); err != nil {
		return err
	}
	defer l.s.leave()
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	key := cursorKey(consumer)
	e, err := l.state.Get(rc, key)
	if errors.Is(err, js.ErrKeyNotFound) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	l.cmu.Lock()
	delete(l.fenceRv, key)
	l.cmu.Unlock()
	return l.state.Delete(rc, key, js.LastRevision(e.Revision()))
}

// cursors lists every consumer's position, sorted by name.
func (l *jlog) cursors(ctx context.Context) ([]store.ConsumerStats, error) {
	rc, cancel := l.s.rctx(ctx)
	defer cancel()
	w, err := l.state.Watch(rc, cursorPfx+"*", js.IgnoreDeletes())
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	var out []store.ConsumerStats
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				slices.SortFunc(out, func(a, b store.ConsumerStats) int { return strings.Compare(a.Name, b.Name) })
				return out, nil
			}
			name, err := natskey.Parse(strings.TrimPrefix(e.Key(), cursorPfx))
			if err != nil {
				return nil, corrupt(e.Key(), err)
			}
			next, _, err := decodeCursor(e.Key(), e.Value())
			if err != nil {
				return nil, err
			}
			out = append(out, store.ConsumerStats{Name: name, Next: next})
		case <-rc.Done():
			return nil, rc.Err()
		}
	}
}
