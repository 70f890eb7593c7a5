package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/gnssgate/gnssgate/internal/natscas"
	"github.com/gnssgate/gnssgate/internal/natskey"
)

// DefaultTTL is a lease's lifetime without renewal when [NATSOptions.TTL]
// is 0: a dead holder's streams move to another node within about 6 s.
const DefaultTTL = 5 * time.Second

// NATSOptions configures [NewNATS]. The zero value works.
type NATSOptions struct {
	// Bucket names the KV bucket of the leases; empty means
	// "gnssgate_leases".
	Bucket string
	// TTL is how long a lease outlives its holder's last renewal. It is
	// the bucket's: a node that finds the bucket made with another TTL
	// uses that one. 0 means [DefaultTTL]; at least one second.
	TTL time.Duration
	// Node names this holder in the bucket (for operators); empty means
	// the host name and a random suffix.
	Node string
	// Replicas of the bucket when this call creates it; 0 means 3 in a
	// cluster of three or more servers, else 1.
	Replicas int
	// Logger receives lease losses and warnings; nil means slog.Default().
	Logger *slog.Logger
}

// NATS is an [Elector] whose leases are keys of a JetStream KV bucket.
type NATS struct {
	kv     jetstream.KeyValue
	ttl    time.Duration
	node   string
	logger *slog.Logger

	mu     sync.Mutex
	held   map[*natsLease]struct{}
	closed bool
}

// NewNATS opens (creating) the lease bucket on nc. The caller keeps nc.
func NewNATS(ctx context.Context, nc *nats.Conn, opts *NATSOptions) (*NATS, error) {
	var o NATSOptions
	if opts != nil {
		o = *opts
	}
	if o.Bucket == "" {
		o.Bucket = "gnssgate_leases"
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.TTL < time.Second {
		return nil, fmt.Errorf("cluster: lease TTL %v below one second", o.TTL)
	}
	if o.Node == "" {
		host, _ := os.Hostname()
		o.Node = host + "-" + nuid.Next()[:8]
	}
	if o.Replicas <= 0 {
		o.Replicas = natscas.DefaultReplicas(nc)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if w := natscas.KVCompareAndSet(nc); w != "" {
		o.Logger.Warn("cluster: " + w)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	rc, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	kv, err := js.CreateKeyValue(rc, jetstream.KeyValueConfig{Bucket: o.Bucket, History: 1, TTL: o.TTL,
		Storage: jetstream.FileStorage, Replicas: o.Replicas})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(rc, o.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: lease bucket %s: %w", o.Bucket, err)
	}
	st, err := kv.Status(rc)
	if err != nil {
		return nil, fmt.Errorf("cluster: lease bucket %s: %w", o.Bucket, err)
	}
	if st.TTL() <= 0 {
		return nil, fmt.Errorf("cluster: bucket %s has no TTL: it cannot hold leases", o.Bucket)
	}
	return &NATS{kv: kv, ttl: st.TTL(), node: o.Node, logger: o.Logger, held: map[*natsLease]struct{}{}}, nil
}

// TTL returns the lease lifetime in force (the bucket's).
func (e *NATS) TTL() time.Duration { return e.ttl }

func isConflict(err error) bool { return natscas.IsConflict(err) }

func (e *NATS) TryAcquire(ctx context.Context, name string) (Lease, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, errors.New("cluster: elector closed")
	}
	key := natskey.Token(name)
	sent := time.Now()
	rc, cancel := context.WithTimeout(ctx, e.ttl/2)
	rev, err := e.kv.Create(rc, key, []byte(e.node))
	cancel()
	if isConflict(err) {
		return nil, ErrHeld
	}
	if err != nil {
		return nil, fmt.Errorf("cluster: acquire %s: %w", name, err)
	}
	l := &natsLease{e: e, name: name, key: key, token: rev, rev: rev, lastOK: sent,
		lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	e.mu.Lock()
	e.held[l] = struct{}{}
	e.mu.Unlock()
	go l.renew()
	return l, nil
}

// Acquire tries again whenever the key is deleted (a release) and every
// TTL/4 (an expiry: the server removes expired keys without telling).
func (e *NATS) Acquire(ctx context.Context, name string) (Lease, error) {
	var w jetstream.KeyWatcher
	defer func() {
		if w != nil {
			w.Stop()
		}
	}()
	for {
		l, err := e.TryAcquire(ctx, name)
		if !errors.Is(err, ErrHeld) {
			return l, err
		}
		var updates <-chan jetstream.KeyValueEntry
		if w == nil {
			if w, err = e.kv.Watch(ctx, natskey.Token(name), jetstream.UpdatesOnly()); err != nil {
				w = nil
			}
		}
		if w != nil {
			updates = w.Updates()
		}
		wait := time.NewTimer(e.ttl / 4)
	waiting:
		for {
			select {
			case u, ok := <-updates:
				if !ok {
					updates = nil
					continue
				}
				if u != nil && u.Operation() != jetstream.KeyValuePut {
					break waiting // released
				}
			case <-wait.C:
				break waiting
			case <-ctx.Done():
				wait.Stop()
				return nil, ctx.Err()
			}
		}
		wait.Stop()
	}
}

// Close releases every lease still held.
func (e *NATS) Close() error {
	e.mu.Lock()
	e.closed = true
	ls := make([]*natsLease, 0, len(e.held))
	for l := range e.held {
		ls = append(ls, l)
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, l := range ls {
		errs = append(errs, l.Release(ctx))
	}
	return errors.Join(errs...)
}

type natsLease struct {
	e     *NATS
	name  string
	key   string
	token uint64

	mu     sync.Mutex
	rev    uint64    // revision of our last write
	lastOK time.Time // when the last successful write was sent

	lost     chan struct{}
	lostOnce sync.Once
	stop     chan struct{} // closed by Release
	stopOnce sync.Once
	done     chan struct{} // closed when renew returns
}

func (l *natsLease) Name() string          { return l.name }
func (l *natsLease) Token() uint64         { return l.token }
func (l *natsLease) Lost() <-chan struct{} { return l.lost }

func (l *natsLease) markLost(why string, err error) {
	l.lostOnce.Do(func() {
		l.e.logger.Warn("cluster: lease lost", "name", l.name, "token", l.token, "why", why, "err", err)
		close(l.lost)
	})
}

// renew rewrites the key every TTL/3 and gives up, closing Lost, once
// TTL-TTL/5 has passed since the last write that succeeded was sent: the
// server expires that write TTL after it stored it, later than that.
func (l *natsLease) renew() {
	defer close(l.done)
	ttl := l.e.ttl
	every := ttl / 3
	giveUp := ttl - ttl/5
	next := time.NewTimer(every)
	defer next.Stop()
	for {
		l.mu.Lock()
		deadline := l.lastOK.Add(giveUp)
		l.mu.Unlock()
		watchdog := time.NewTimer(time.Until(deadline))
		select {
		case <-l.stop:
			watchdog.Stop()
			return
		case <-watchdog.C:
			l.markLost("not renewed in time", nil)
			return
		case <-next.C:
		}
		watchdog.Stop()
		sent := time.Now()
		rc, cancel := context.WithDeadline(context.Background(), deadline)
		l.mu.Lock()
		rev := l.rev
		l.mu.Unlock()
		nrev, err := l.e.kv.Update(rc, l.key, []byte(l.e.node), rev)
		cancel()
		switch {
		case err == nil:
			l.mu.Lock()
			l.rev, l.lastOK = nrev, sent
			l.mu.Unlock()
			next.Reset(every)
		case isConflict(err):
			// Our key expired, or someone else holds it now.
			l.markLost("taken over", err)
			return
		default:
			if time.Now().After(deadline) {
				l.markLost("not renewed in time", err)
				return
			}
			next.Reset(every / 4) // try again soon
		}
	}
}

// Release stops renewing and deletes the key if it is still ours.
func (l *natsLease) Release(ctx context.Context) error {
	l.stopOnce.Do(func() { close(l.stop) })
	<-l.done
	l.e.mu.Lock()
	delete(l.e.held, l)
	l.e.mu.Unlock()
	select {
	case <-l.lost:
		return nil // nothing of ours to delete
	default:
	}
	l.lostOnce.Do(func() { close(l.lost) }) // released: the holder stops either way
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	rc, cancel := context.WithTimeout(ctx, l.e.ttl)
	defer cancel()
	if err := l.e.kv.Delete(rc, l.key, jetstream.LastRevision(rev)); err != nil && !isConflict(err) {
		return fmt.Errorf("cluster: release %s: %w", l.name, err)
	}
	return nil
}
