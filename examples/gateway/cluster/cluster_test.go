package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/examples/gateway/cluster"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
	gjs "github.com/gnssgate/gnssgate/store/jetstream"
	"github.com/gnssgate/gnssgate/store/storetest"
)

func TestLocal(t *testing.T) {
	ctx := context.Background()
	e := cluster.NewLocal()
	a, err := e.TryAcquire(ctx, "stream-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.TryAcquire(ctx, "stream-1"); !errors.Is(err, cluster.ErrHeld) {
		t.Fatalf("second TryAcquire: %v", err)
	}
	if _, err := e.TryAcquire(ctx, "stream-2"); err != nil {
		t.Fatalf("another name: %v", err)
	}
	got := make(chan cluster.Lease)
	go func() {
		b, err := e.Acquire(ctx, "stream-1")
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	select {
	case <-got:
		t.Fatal("Acquire returned while the lease was held")
	case <-time.After(50 * time.Millisecond):
	}
	a.Release(ctx)
	select {
	case <-a.Lost():
	default:
		t.Fatal("Lost not closed by Release")
	}
	b := <-got
	if b.Token() <= a.Token() {
		t.Fatalf("token %d after %d", b.Token(), a.Token())
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := e.Acquire(short, "stream-1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire of a held lease: %v", err)
	}
}

// node is one gateway node: its own connection and elector.
type node struct {
	nc *nats.Conn
	e  *cluster.NATS
}

func newNode(t *testing.T, url, bucket string, ttl time.Duration) node {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	e, err := cluster.NewNATS(context.Background(), nc, &cluster.NATSOptions{Bucket: bucket, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return node{nc, e}
}

func bucket(t *testing.T, url string) string {
	name := fmt.Sprintf("test_leases_%d", time.Now().UnixNano())
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		js.DeleteKeyValue(context.Background(), name)
	})
	return name
}

// A holder whose process dies (its connection closes, nothing released)
// loses the lease to another node within the TTL plus one retry.
func TestNATSTakeoverWhenHolderDies(t *testing.T) {
	url := testenv.NATSURL(t)
	ctx := context.Background()
	const ttl = 2 * time.Second
	b := bucket(t, url)
	n1, n2 := newNode(t, url, b, ttl), newNode(t, url, b, ttl)
	l1, err := n1.e.TryAcquire(ctx, "stream/7")
	if err != nil {
		t.Fatal(err)
	}
	// Renewals keep it for longer than the TTL.
	time.Sleep(ttl + ttl/2)
	if _, err := n2.e.TryAcquire(ctx, "stream/7"); !errors.Is(err, cluster.ErrHeld) {
		t.Fatalf("a renewed lease was granted again: %v", err)
	}
	select {
	case <-l1.Lost():
		t.Fatal("a renewed lease was lost")
	default:
	}
	killed := time.Now()
	n1.nc.Close() // the holder dies without releasing
	actx, cancel := context.WithTimeout(ctx, 3*ttl)
	defer cancel()
	l2, err := n2.e.Acquire(actx, "stream/7")
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(killed)
	if took > ttl+ttl/4+time.Second {
		t.Fatalf("takeover took %v with a TTL of %v", took, ttl)
	}
	if l2.Token() <= l1.Token() {
		t.Fatalf("new holder's token %d not above %d", l2.Token(), l1.Token())
	}
	// The dead holder gave up before the takeover could happen.
	select {
	case <-l1.Lost():
	default:
		t.Fatal("the dead holder still believes it holds the lease")
	}
	t.Logf("takeover %v after the holder died (TTL %v); tokens %d → %d", took.Round(time.Millisecond), ttl, l1.Token(), l2.Token())
}

func TestNATSRelease(t *testing.T) {
	url := testenv.NATSURL(t)
	ctx := context.Background()
	b := bucket(t, url)
	n1, n2 := newNode(t, url, b, 5*time.Second), newNode(t, url, b, 5*time.Second)
	l1, err := n1.e.Acquire(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time, 1)
	go func() {
		if _, err := n2.e.Acquire(ctx, "s"); err != nil {
			t.Error(err)
		}
		got <- time.Now()
	}()
	time.Sleep(100 * time.Millisecond)
	released := time.Now()
	if err := l1.Release(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-got:
		if d := at.Sub(released); d > time.Second {
			t.Fatalf("takeover after release took %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no takeover after release")
	}
	if err := n2.e.Close(); err != nil {
		t.Fatal(err)
	}
}

// A holder that lost its lease cannot move the cursor of the holder that
// replaced it: its fenced commit is refused.
func TestFencedCommitAfterTakeover(t *testing.T) {
	url := testenv.NATSURL(t)
	ctx := context.Background()
	const ttl = time.Second
	b := bucket(t, url)
	name := "fence" + fmt.Sprint(time.Now().UnixNano()%1e9)
	s, err := gjs.Dial(ctx, url, &gjs.Options{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Close()
		nc, _ := nats.Connect(url)
		gjs.Destroy(ctx, nc, name)
		nc.Close()
	}()
	log := s.Log()
	if _, err := log.Append(ctx, []protocol.Message{storetest.Message("d", 1, 1), storetest.Message("d", 2, 2)}); err != nil {
		t.Fatal(err)
	}
	fenced := log.(gjs.Fenced)
	n1, n2 := newNode(t, url, b, ttl), newNode(t, url, b, ttl)
	l1, err := n1.e.Acquire(ctx, "stream-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := fenced.CommitFenced(ctx, "stream-1", 2, l1.Token()); err != nil {
		t.Fatal(err)
	}
	n1.nc.Close() // n1 is partitioned away; it will try to commit later
	l2, err := n2.e.Acquire(ctx, "stream-1")
	if err != nil {
		t.Fatal(err)
	}
	// The new holder takes the cursor over with its token.
	next, err := log.Cursor(ctx, "stream-1")
	if err != nil || next != 2 {
		t.Fatalf("cursor %d, %v", next, err)
	}
	if err := fenced.CommitFenced(ctx, "stream-1", next, l2.Token()); err != nil {
		t.Fatal(err)
	}
	// The stale holder comes back and commits: refused, cursor unchanged.
	if err := fenced.CommitFenced(ctx, "stream-1", 3, l1.Token()); !errors.Is(err, gjs.ErrFenced) {
		t.Fatalf("stale holder's commit: %v", err)
	}
	if next, _ := log.Cursor(ctx, "stream-1"); next != 2 {
		t.Fatalf("a stale commit moved the cursor to %d", next)
	}
	if err := fenced.CommitFenced(ctx, "stream-1", 3, l2.Token()); err != nil {
		t.Fatal(err)
	}
}
