package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/gnssgate/gnssgate/examples/gateway/cluster"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/jetstream"
	"github.com/gnssgate/gnssgate/stream"
)

// Cluster is what the gateway nodes of one deployment share, so that no
// node keeps state another needs: the log, history and telemetry (Store),
// dead letters, the registry's objects (KV), the leases that keep each
// singleton job on one node (Elector), and a NATS connection over which
// nodes ask each other about the devices connected to them. JoinNATS
// builds one on a NATS JetStream cluster.
//
// What runs where:
//
//   - every node: its channels (devices connect to any node, behind a TCP
//     load balancer), ingest into the shared log, the REST API (any node
//     answers for any device), device settings delivered at login;
//   - one node at a time, under a lease with fencing: the history writer
//     (and with it telemetry publishing, see Run), the platform message
//     topics, each operator stream, each MQTT channel (its subscriptions
//     would otherwise ingest every message once per node), and the
//     accounts' storage check. When the holder dies another node takes
//     the lease within the lease TTL and resumes from the durable cursor.
type Cluster struct {
	// Store is the shared store (store/jetstream); DeadLetter the shared
	// dead-letter store of the streams.
	Store, DeadLetter store.Store
	// KV keeps the registry (registry.OpenJetStreamKV).
	KV registry.KV
	// Elector grants the singleton jobs' leases (cluster.NATS).
	Elector cluster.Elector
	// Conn carries node-to-node requests (commands, settings and
	// connections of devices connected to another node) and device
	// presence; nil runs without peers (a single node on a shared store).
	Conn *nats.Conn
	// Prefix names this deployment's subjects and buckets on Conn; empty
	// means "gnssgate". Every node of a deployment uses the same.
	Prefix string
	// Node names this node in logs, leases and presence; empty means the
	// host name.
	Node string

	close func() error
}

// Close closes what JoinNATS opened.
func (c *Cluster) Close() error {
	if c.close == nil {
		return nil
	}
	return c.close()
}

// JoinOptions configures JoinNATS. The zero value works.
type JoinOptions struct {
	// Name distinguishes deployments sharing a NATS account: the store is
	// jetstream.Options.Name, dead letters NAME_dead, the registry bucket
	// NAME_registry, leases NAME_leases. Empty means "gnssgate".
	Name string
	// Replicas of the streams and buckets created; 0 means 3 on a cluster
	// of three or more servers, else 1.
	Replicas int
	// Node names this node; empty means the host name.
	Node string
	// LeaseTTL is how long a dead node's singleton jobs wait before
	// another node takes them; 0 means cluster.DefaultTTL.
	LeaseTTL time.Duration
	// Store configures the shared store's retention.
	Store  store.Config
	Logger *slog.Logger
}

// JoinNATS connects to NATS (url: one or several URLs, comma-separated)
// and opens the shared parts of a deployment there.
func JoinNATS(ctx context.Context, url string, o JoinOptions) (*Cluster, error) {
	if o.Name == "" {
		o.Name = jetstream.DefaultName
	}
	if o.Node == "" {
		o.Node, _ = os.Hostname()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	nc, err := nats.Connect(url, nats.Name("gnssgate node "+o.Node), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.RetryOnFailedConnect(false))
	if err != nil {
		return nil, fmt.Errorf("-store %s: %w", url, err)
	}
	c := &Cluster{Conn: nc, Prefix: o.Name, Node: o.Node}
	var closers []func() error
	c.close = func() error {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		nc.Close()
		return errors.Join(errs...)
	}
	fail := func(err error) (*Cluster, error) {
		c.Close()
		return nil, err
	}
	cfg := o.Store
	cfg.Logger = o.Logger
	st, err := jetstream.Open(ctx, nc, &jetstream.Options{Config: cfg, Name: o.Name, Replicas: o.Replicas})
	if err != nil {
		return fail(fmt.Errorf("shared store: %w", err))
	}
	c.Store = st
	closers = append(closers, st.Close)
	dead, err := jetstream.Open(ctx, nc, &jetstream.Options{Config: store.Config{Logger: o.Logger}, Name: o.Name + "_dead",
		Replicas: o.Replicas, CacheBytes: 1 << 20})
	if err != nil {
		return fail(fmt.Errorf("shared dead-letter store: %w", err))
	}
	c.DeadLetter = dead
	closers = append(closers, dead.Close)
	kv, err := registry.OpenJetStreamKV(ctx, nc, &registry.JetStreamKVOptions{Bucket: o.Name + "_registry",
		Replicas: o.Replicas, Logger: o.Logger})
	if err != nil {
		return fail(err)
	}
	c.KV = kv
	closers = append(closers, kv.Close)
	el, err := cluster.NewNATS(ctx, nc, &cluster.NATSOptions{Bucket: o.Name + "_leases", TTL: o.LeaseTTL,
		Node: o.Node + "-" + nuid.Next()[:8], Replicas: o.Replicas, Logger: o.Logger})
	if err != nil {
		return fail(err)
	}
	c.Elector = el
	closers = append(closers, el.Close)
	return c, nil
}

func (c *Cluster) prefix() string {
	if c.Prefix == "" {
		return jetstream.DefaultName
	}
	return c.Prefix
}

// clustered reports whether the node shares its state with other nodes.
func (n *Node) clustered() bool { return n.cfg.Cluster != nil }

// leaseRetry is how long a singleton job that failed waits before it
// competes for its lease again (it releases the lease meanwhile, so that a
// healthier node can take it).
const leaseRetry = 2 * time.Second

// leased runs fn while this node holds the lease on name, passing the
// lease's fencing token (0 when the log cannot fence commits: a single
// node). fn must return once its context ends; the context ends when the
// lease is lost. Then, or when fn fails, the lease is released and this
// node competes for it again, until ctx ends.
//
// A single node (no Cluster) holds every lease at once and at all times
// (cluster.Local), and fn's error is returned as it was before leases:
// the node stops on it.
func (n *Node) leased(ctx context.Context, name string, fn func(ctx context.Context, fence uint64) error) error {
	for {
		lease, err := n.elector.Acquire(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			n.logger.Warn("lease not acquired", "job", name, "err", err)
			if !sleepCtx(ctx, leaseRetry) {
				return nil
			}
			continue
		}
		fence := lease.Token()
		if _, ok := n.db.Log().(store.Fenced); !ok {
			fence = 0
		}
		if n.clustered() {
			n.logger.Info("running singleton job", "job", name, "token", lease.Token())
		}
		wctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lease.Lost():
				cancel()
			case <-wctx.Done():
			}
		}()
		err = fn(wctx, fence)
		lost := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		rctx, rcancel := context.WithTimeout(context.Background(), 5*time.Second)
		lease.Release(rctx)
		rcancel()
		if ctx.Err() != nil {
			return nil
		}
		if !n.clustered() {
			return err
		}
		switch {
		case errors.Is(err, store.ErrFenced):
			n.logger.Warn("singleton job fenced off: another node holds it now", "job", name)
		case lost:
			n.logger.Warn("singleton job stopped: lease lost", "job", name)
		case err != nil && !errors.Is(err, context.Canceled):
			n.logger.Error("singleton job failed; competing for it again", "job", name, "err", err)
		}
		if !sleepCtx(ctx, leaseRetry) {
			return nil
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// fullKey keeps, in the registry's KV, the accounts whose storage is full
// (a JSON list of cids), so that every node's channels refuse their
// messages while one node counts.
const fullKey = "limits/full"

// watchStorageShared is watchStorage for a cluster: counting every
// device's history is one request per device, so one node counts (under a
// lease), publishes its verdict in the KV and logs the events once; every
// node follows the verdict.
func (l *limits) watchStorageShared(ctx context.Context, every time.Duration) error {
	apply := func(raw []byte) {
		var cids []int64
		if raw != nil && json.Unmarshal(raw, &cids) != nil {
			return
		}
		l.mu.Lock()
		clear(l.full)
		for _, cid := range cids {
			l.full[cid] = true
		}
		l.mu.Unlock()
	}
	if raw, _, err := l.n.kv.Get(ctx, fullKey); err == nil {
		apply(raw)
	}
	stop := l.n.kv.Watch(fullKey, func(e registry.Entry) {
		if e.Key == fullKey {
			apply(e.Value)
		}
	})
	defer stop()
	return l.n.leased(ctx, "account-storage", func(ctx context.Context, _ uint64) error {
		t := time.NewTicker(every)
		defer t.Stop()
		var last []byte
		for {
			l.checkStorage(ctx)
			l.mu.Lock()
			var cids []int64
			for cid, full := range l.full {
				if full {
					cids = append(cids, cid)
				}
			}
			l.mu.Unlock()
			slices.Sort(cids)
			raw, _ := json.Marshal(cids)
			if string(raw) != string(last) {
				if _, err := l.n.kv.Put(ctx, fullKey, raw, registry.AnyRevision); err != nil && ctx.Err() == nil {
					l.n.logger.Warn("account storage verdict not shared", "err", err)
				} else {
					last = raw
				}
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	})
}

// DestroyNATS deletes everything JoinNATS (and the nodes) made on NATS for
// the deployment named name: the store, dead letters, registry, leases and
// presence. For tests and for decommissioning.
func DestroyNATS(ctx context.Context, nc *nats.Conn, name string) error {
	if name == "" {
		name = jetstream.DefaultName
	}
	errs := []error{jetstream.Destroy(ctx, nc, name), jetstream.Destroy(ctx, nc, name+"_dead")}
	js, err := njs.New(nc)
	if err != nil {
		return err
	}
	for _, b := range []string{name + "_registry", name + "_leases", name + "_presence"} {
		if err := js.DeleteKeyValue(ctx, b); err != nil && !errors.Is(err, njs.ErrBucketNotFound) && !errors.Is(err, njs.ErrStreamNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// retried runs fn until it succeeds or ctx ends: in a cluster a shared
// store's brief failure (a NATS leader election) must not stop the node.
func (n *Node) retried(name string, fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			err := fn(ctx)
			if err == nil || ctx.Err() != nil {
				return nil
			}
			n.logger.Warn("failed; trying again", "job", name, "err", err)
			if !sleepCtx(ctx, leaseRetry) {
				return nil
			}
		}
	}
}

// tuneShared adjusts the history writer for a shared store, whose
// telemetry merge costs round trips per device: smaller batches with more
// time each, so that a batch of a loaded moment finishes within its write
// timeout instead of being retried whole forever (a 2,000-device run
// stalled that way with 1,000-message batches and 30 s).
func (n *Node) tuneShared(name string, cfg *stream.Config) {
	if n.clustered() && name == "history" {
		cfg.MaxBatch = 200
		cfg.WriteTimeout = 2 * time.Minute
	}
}
