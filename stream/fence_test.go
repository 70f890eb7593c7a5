package stream_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/jetstream"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
)

// TestFenceStopsTheOldLeaseHolder: two gateway nodes run the same stream
// on one JetStream log, the second under a newer lease. Once the second
// has started, the first can no longer commit: its Run ends with
// store.ErrFenced, and the cursor is the new holder's.
func TestFenceStopsTheOldLeaseHolder(t *testing.T) {
	url := testenv.NATSURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := fmt.Sprintf("fence%d", time.Now().UnixNano())
	st, err := jetstream.Dial(ctx, url, &jetstream.Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		if nc, err := nats.Connect(url); err == nil {
			_ = jetstream.Destroy(context.Background(), nc, name)
			nc.Close()
		}
	})
	l := st.Log()
	appendN(t, l, "dev", 1, 0, 10)

	oldRec := newRecorder()
	old := newStream(t, l, oldRec, stream.Config{Fence: 1, StartAt: stream.StartOldest})
	stopOld := run(t, old)
	oldRec.waitFor(t, 10)
	waitCursor(t, l, old.Consumer(), 11)

	// The new holder takes over; the old one has not noticed yet.
	newRec := newRecorder()
	taker := newStream(t, l, newRec, stream.Config{Fence: 2})
	if next, err := taker.Open(ctx); err != nil || next != 11 {
		t.Fatalf("new holder's Open = %d, %v; want 11", next, err)
	}
	stopNew := run(t, taker)
	appendN(t, l, "dev", 1, 10, 5)
	newRec.waitFor(t, 5)
	waitCursor(t, l, taker.Consumer(), 16)

	deadline := time.Now().Add(20 * time.Second)
	for old.Stats().State != stream.StateStopped && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if err := stopOld(); !errors.Is(err, store.ErrFenced) {
		t.Fatalf("old holder's Run = %v, want store.ErrFenced", err)
	}
	if err := stopNew(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("new holder's Run = %v", err)
	}
	if c, err := l.Cursor(ctx, taker.Consumer()); err != nil || c != 16 {
		t.Fatalf("cursor = %d, %v; want 16", c, err)
	}
}

func TestFenceNeedsAFencedLog(t *testing.T) {
	_, err := stream.New(memory.New(nil).Log(), newRecorder(), &stream.Config{Name: "x", Fence: 1})
	if err == nil {
		t.Fatal("New accepted Fence on a log that cannot fence commits")
	}
}
