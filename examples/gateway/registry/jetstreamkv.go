package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/natscas"
	"github.com/gnssgate/gnssgate/internal/natskey"
)

// JetStreamKVOptions configures [OpenJetStreamKV]. The zero value works.
type JetStreamKVOptions struct {
	// Bucket names the KV bucket; empty means "gnssgate_registry". Every
	// gateway node of a deployment uses the same.
	Bucket string
	// Replicas of the bucket when this call creates it; 0 means 3 in a
	// cluster of three or more servers, else 1.
	Replicas int
	// Timeout bounds each request; 0 means 5 seconds.
	Timeout time.Duration
	// Logger receives a warning when the server does not serialize
	// compare-and-set (see internal/natscas); nil means slog.Default().
	Logger *slog.Logger
}

// JetStreamKV is a [KV] in a NATS JetStream KV bucket, shared by every
// gateway node that opens the same bucket: the registry's
// compare-and-set maps onto the bucket's revisions (Create for revision 0,
// Update for a revision), and Watch onto a bucket watcher, so each node
// sees the others' changes as they are made.
//
// Registry keys are '/'-separated paths; each segment becomes one subject
// token (natskey.Path), so "obj/devices/" is watched and listed as the
// subject wildcard "obj.devices.>", without reading other keys.
type JetStreamKV struct {
	kv      jetstream.KeyValue
	timeout time.Duration
	// lists bounds the Lists in flight: each is a consumer on the bucket's
	// stream, and a fleet logging in at once (each device's pending
	// settings listed) reached the server's consumer limit ("maximum
	// consumers limit reached", 2,000 devices on a 3-node cluster).
	lists chan struct{}

	mu      sync.Mutex
	watches map[*jsWatch]struct{}
	closed  bool
}

type jsWatch struct {
	w    jetstream.KeyWatcher
	done chan struct{}
}

// OpenJetStreamKV opens (creating) the registry bucket on nc. The caller
// keeps nc and closes it after the KV.
func OpenJetStreamKV(ctx context.Context, nc *nats.Conn, opts *JetStreamKVOptions) (*JetStreamKV, error) {
	var o JetStreamKVOptions
	if opts != nil {
		o = *opts
	}
	if o.Bucket == "" {
		o.Bucket = "gnssgate_registry"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Replicas <= 0 {
		o.Replicas = natscas.DefaultReplicas(nc)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if w := natscas.KVCompareAndSet(nc); w != "" {
		o.Logger.Warn("registry: " + w)
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(o.Timeout))
	if err != nil {
		return nil, err
	}
	rc, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	kv, err := js.CreateKeyValue(rc, jetstream.KeyValueConfig{Bucket: o.Bucket, History: 1,
		Storage: jetstream.FileStorage, Replicas: o.Replicas})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(rc, o.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("registry: bucket %s: %w", o.Bucket, err)
	}
	return &JetStreamKV{kv: kv, timeout: o.Timeout, watches: map[*jsWatch]struct{}{}, lists: make(chan struct{}, maxListsInFlight)}, nil
}

func (j *JetStreamKV) rctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, j.timeout)
}

// conflict maps a failed compare-and-set to ErrConflict.
func conflict(key string, err error) error {
	if natscas.IsConflict(err) {
		return fmt.Errorf("%w: %s changed meanwhile", ErrConflict, key)
	}
	return fmt.Errorf("registry: %s: %w", key, err)
}

func (j *JetStreamKV) Get(ctx context.Context, key string) ([]byte, uint64, error) {
	rc, cancel := j.rctx(ctx)
	defer cancel()
	e, err := j.kv.Get(rc, natskey.Path(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("registry: %s: %w", key, err)
	}
	return slices.Clone(e.Value()), e.Revision(), nil
}

func (j *JetStreamKV) Put(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	rc, cancel := j.rctx(ctx)
	defer cancel()
	k := natskey.Path(key)
	var n uint64
	var err error
	switch rev {
	case AnyRevision:
		n, err = j.kv.Put(rc, k, value)
	case 0:
		n, err = j.kv.Create(rc, k, value)
	default:
		n, err = j.kv.Update(rc, k, value, rev)
	}
	if err != nil {
		return 0, conflict(key, err)
	}
	return n, nil
}

func (j *JetStreamKV) Delete(ctx context.Context, key string, rev uint64) error {
	rc, cancel := j.rctx(ctx)
	defer cancel()
	k := natskey.Path(key)
	if rev == AnyRevision {
		if err := j.kv.Delete(rc, k); err != nil {
			return fmt.Errorf("registry: %s: %w", key, err)
		}
		return nil
	}
	if _, err := j.kv.Get(rc, k); errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil // absent (or already deleted): nothing to do
	}
	if err := j.kv.Delete(rc, k, jetstream.LastRevision(rev)); err != nil {
		return conflict(key, err)
	}
	return nil
}

// subjectFilter returns the subject filter that covers every key under prefix
// (maybe more: the caller checks the prefix).
func subjectFilter(prefix string) string {
	dir, _, found := cutLast(prefix, "/")
	if !found {
		return ">"
	}
	return natskey.Path(dir) + ".>"
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", s, false
	}
	return s[:i], s[i+len(sep):], true
}

// maxListsInFlight is how many Lists one JetStreamKV runs at once; more
// wait for a turn (their timeout starts once they run).
const maxListsInFlight = 32

func (j *JetStreamKV) List(ctx context.Context, prefix string) ([]Entry, error) {
	select {
	case j.lists <- struct{}{}:
		defer func() { <-j.lists }()
	case <-ctx.Done():
		return nil, fmt.Errorf("registry: list %s: %w", prefix, ctx.Err())
	}
	rc, cancel := j.rctx(ctx)
	defer cancel()
	w, err := j.kv.Watch(rc, subjectFilter(prefix), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("registry: list %s: %w", prefix, err)
	}
	defer w.Stop()
	var out []Entry
	for {
		select {
		case e := <-w.Updates():
			if e == nil { // every current value delivered
				slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
				return out, nil
			}
			key, err := natskey.ParsePath(e.Key())
			if err != nil || !strings.HasPrefix(key, prefix) {
				continue // not a registry key, or outside prefix
			}
			out = append(out, Entry{Key: key, Value: slices.Clone(e.Value()), Revision: e.Revision()})
		case <-rc.Done():
			return nil, fmt.Errorf("registry: list %s: %w", prefix, rc.Err())
		}
	}
}

// Watch follows the bucket from now on. A watcher that loses its
// connection resumes where it stopped once it reconnects (the client
// recreates its consumer), so no change is skipped.
func (j *JetStreamKV) Watch(prefix string, fn func(Entry)) func() {
	w, err := j.kv.Watch(context.Background(), subjectFilter(prefix), jetstream.UpdatesOnly())
	if err != nil {
		slog.Error("registry: watch", "prefix", prefix, "err", err)
		return func() {}
	}
	x := &jsWatch{w: w, done: make(chan struct{})}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		w.Stop()
		return func() {}
	}
	j.watches[x] = struct{}{}
	j.mu.Unlock()
	go func() {
		defer close(x.done)
		for e := range w.Updates() {
			if e == nil {
				continue
			}
			key, err := natskey.ParsePath(e.Key())
			if err != nil || !strings.HasPrefix(key, prefix) {
				continue
			}
			ent := Entry{Key: key, Revision: e.Revision()}
			if e.Operation() == jetstream.KeyValuePut {
				ent.Value = slices.Clone(e.Value())
			}
			fn(ent)
		}
	}()
	return func() { j.stop(x) }
}

func (j *JetStreamKV) stop(x *jsWatch) {
	j.mu.Lock()
	_, ok := j.watches[x]
	delete(j.watches, x)
	j.mu.Unlock()
	if ok {
		x.w.Stop()
		<-x.done
	}
}

// Close stops the watches; it does not close the connection.
func (j *JetStreamKV) Close() error {
	j.mu.Lock()
	j.closed = true
	ws := make([]*jsWatch, 0, len(j.watches))
	for x := range j.watches {
		ws = append(ws, x)
	}
	j.mu.Unlock()
	for _, x := range ws {
		j.stop(x)
	}
	return nil
}
