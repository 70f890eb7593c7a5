package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	js "github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/internal/natscas"
	"github.com/gnssgate/gnssgate/store"
)

// DefaultName names the stream and buckets when [Options.Name] is empty.
const DefaultName = "gnssgate"

// DefaultTimeout bounds one JetStream request when [Options.Timeout] is 0.
const DefaultTimeout = 5 * time.Second

// Options configures [Open]. The zero value (or nil) is ready to use.
type Options struct {
	// Config sets retention for the log, device history and telemetry.
	store.Config
	// Name distinguishes stores sharing a NATS account: the log is stream
	// NAME_log, history NAME_history, and the buckets NAME_state and
	// NAME_telemetry. Letters, digits, '-' and '_'; empty means
	// [DefaultName]. Every gateway node of one deployment uses the same.
	Name string
	// Replicas is the replica count of the streams and buckets this store
	// creates (existing ones keep theirs). 0 means 3 when the server
	// belongs to a cluster of at least three (the replicated promise
	// described in the package documentation), else 1.
	Replicas int
	// Timeout bounds each JetStream request; 0 means [DefaultTimeout].
	// An append whose acknowledgement does not come is retried with the
	// same message id for up to four times as long, then fails.
	Timeout time.Duration
	// HistoryBucket is the span of device time that one history subject
	// holds (see the package documentation); 0 means one day.
	HistoryBucket time.Duration
	// CacheBytes bounds the cache of log messages recently written and
	// read (consumers following the tail read from it); 0 means 16 MiB,
	// negative disables it.
	CacheBytes int
}

// Store is a [store.Store] on NATS JetStream. Safe for concurrent use, and
// by several processes at once: every node of a deployment opens the same
// Name and sees one log, one history and one telemetry table.
type Store struct {
	nc      *nats.Conn
	ownConn bool
	js      js.JetStream
	name    string
	cfg     store.Config
	now     func() time.Time
	logger  *slog.Logger
	timeout time.Duration

	closeMu sync.RWMutex // held shared by every call, exclusively by Close
	closed  atomic.Bool
	done    chan struct{}
	bg      sync.WaitGroup

	log  *jlog
	hist *jhist
	tel  *jtel
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Dial connects to url (a NATS URL, or several separated by commas) and
// opens the store there; Close closes the connection too.
func Dial(ctx context.Context, url string, opts *Options) (*Store, error) {
	nc, err := nats.Connect(url, nats.Name("gnssgate store"), nats.MaxReconnects(-1))
	if err != nil {
		return nil, fmt.Errorf("store/jetstream: connect %s: %w", url, err)
	}
	s, err := Open(ctx, nc, opts)
	if err != nil {
		nc.Close()
		return nil, err
	}
	s.ownConn = true
	return s, nil
}

// Open opens (creating what is missing) the store named opts.Name on nc.
// The caller keeps nc and closes it after the store.
func Open(ctx context.Context, nc *nats.Conn, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if !validName.MatchString(o.Name) {
		return nil, fmt.Errorf("%w: store name %q (letters, digits, '-' and '_')", store.ErrInvalid, o.Name)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.HistoryBucket <= 0 {
		o.HistoryBucket = 24 * time.Hour
	}
	if o.Replicas <= 0 {
		o.Replicas = natscas.DefaultReplicas(nc)
	}
	j, err := js.New(nc, js.WithDefaultTimeout(o.Timeout))
	if err != nil {
		return nil, err
	}
	s := &Store{nc: nc, js: j, name: o.Name, cfg: o.Config, now: o.Config.Clock(), logger: o.Logger,
		timeout: o.Timeout, done: make(chan struct{})}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 16 << 20
	}
	if s.log, err = openLog(ctx, s, o.Replicas, max(o.CacheBytes, 0)); err != nil {
		return nil, err
	}
	if s.hist, err = openHistory(ctx, s, o.Replicas, o.HistoryBucket); err == nil {
		s.tel, err = openTelemetry(ctx, s, o.Replicas)
	}
	if err != nil {
		s.log.shutdown()
		return nil, err
	}
	s.startSweeps()
	return s, nil
}

// Name returns the store's name ([Options.Name]).
func (s *Store) Name() string { return s.name }

// Log returns the shared durable log.
func (s *Store) Log() store.Log { return s.log }

// Messages returns the device history.
func (s *Store) Messages() store.Messages { return s.hist }

// Telemetry returns the latest values per device.
func (s *Store) Telemetry() store.Telemetry { return s.tel }

// Close waits for calls in progress and stops background work; it leaves
// the data on the servers. Later calls return [store.ErrClosed].
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return store.ErrClosed
	}
	close(s.done)
	s.bg.Wait()
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.log.shutdown()
	if s.ownConn {
		s.nc.Close()
	}
	return nil
}

// Destroy deletes the streams and buckets of the store named name: every
// record, cursor, message and value. For tests and for decommissioning.
func Destroy(ctx context.Context, nc *nats.Conn, name string) error {
	j, err := js.New(nc)
	if err != nil {
		return err
	}
	var errs []error
	for _, st := range []string{name + "_log", name + "_history", "KV_" + name + "_state", "KV_" + name + "_telemetry"} {
		if err := j.DeleteStream(ctx, st); err != nil && !errors.Is(err, js.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// enter admits a call unless the store is closed; leave must follow.
func (s *Store) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.closeMu.RLock()
	if s.closed.Load() {
		s.closeMu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

func (s *Store) leave() { s.closeMu.RUnlock() }

// rctx bounds one request by the store's timeout.
func (s *Store) rctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

func (s *Store) startSweeps() {
	sweep := func(every time.Duration, what string, fn func(context.Context) error) {
		if every <= 0 {
			return
		}
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-s.done:
					return
				case <-t.C:
					if err := fn(context.Background()); err != nil && !errors.Is(err, store.ErrClosed) {
						s.logger.Error("store/jetstream: retention sweep", "what", what, "err", err)
					}
				}
			}
		}()
	}
	sweep(s.cfg.Log.TrimIntervalOrDefault(), "log", s.log.Trim)
	sweep(s.cfg.History.TrimIntervalOrDefault(), "history", s.hist.Trim)
}

// isWrongLast reports a refused compare-and-set on a stream or key.
func isWrongLast(err error) bool { return natscas.IsConflict(err) }

// isAPIError reports an answer from the server (as opposed to no answer).
func isAPIError(err error) bool {
	var apiErr *js.APIError
	return errors.As(err, &apiErr)
}

func corrupt(where string, err error) error {
	return &store.CorruptError{Key: where, Err: err}
}
