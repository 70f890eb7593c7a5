package node

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/filter"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/stream"
)

// streamRuntime runs the registry's streams, each a stream.Stream of the
// log named after its id, so its cursor survives restarts and edits.
type streamRuntime struct {
	n *Node

	mu      sync.Mutex
	ctx     context.Context
	running map[int64]*runningStream
	wg      sync.WaitGroup
}

type runningStream struct {
	def    registry.Stream
	s      *stream.Stream // made at creation; it runs on a single node
	subs   *stream.Subscriptions
	cancel context.CancelFunc
	done   chan struct{}

	// In a cluster the stream runs under its lease, a new stream.Stream
	// with the lease's fencing token each time this node acquires it:
	// leased is that one while it runs here, nil otherwise.
	mu     sync.Mutex
	leased *stream.Stream
}

// current returns the stream that runs on this node, if one does.
func (rs *runningStream) current(clustered bool) *stream.Stream {
	if !clustered {
		return rs.s
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.leased
}

func newStreamRuntime(n *Node) *streamRuntime {
	r := &streamRuntime{n: n, running: map[int64]*runningStream{}}
	// A stream whose sink cannot be built is refused at the API.
	n.Registry.Streams.SetCheck(func(_, s *registry.Stream) error {
		sink, _, err := n.sinkFor(s)
		if c, ok := sink.(interface{ Close() error }); ok {
			c.Close()
		}
		return err
	})
	return r
}

func streamName(id int64) string { return strconv.FormatInt(id, 10) }

// start runs the registry's streams and follows its changes.
func (r *streamRuntime) start(ctx context.Context) {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	for _, s := range r.n.Registry.Streams.List() {
		r.apply(s.ID)
	}
	r.n.Registry.Streams.Watch(func(c registry.Change[registry.Stream]) {
		if c.New == nil {
			go r.remove(c.Old.ID)
			return
		}
		go r.apply(c.New.ID)
	})
}

// run waits for the streams to stop.
func (r *streamRuntime) run(ctx context.Context) error {
	<-ctx.Done()
	r.mu.Lock()
	for _, rs := range r.running {
		rs.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

// apply brings stream id's runtime in line with the registry: subscription
// changes apply in place; a changed sink, filter or conversion restarts it
// (same cursor); enabled is kept in the log.
func (r *streamRuntime) apply(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.ctx.Err() != nil {
		return
	}
	def, ok := r.n.Registry.Streams.Get(id)
	if !ok {
		return
	}
	rs := r.running[id]
	if rs != nil && !sameRun(&rs.def, &def) {
		rs.cancel()
		<-rs.done
		rs = nil
		delete(r.running, id)
	}
	if rs == nil {
		var err error
		if rs, err = r.startOne(def); err != nil {
			r.n.logger.Error("stream did not start", "stream", id, "err", err)
			return
		}
		r.running[id] = rs
	}
	rs.mu.Lock()
	rs.def = def
	rs.mu.Unlock()
	setSubscriptions(rs.subs, &def)
	// In a cluster only the node running the stream applies enabled (the
	// next holder applies it when it starts).
	if s := rs.current(r.n.clustered()); s != nil {
		if err := s.SetEnabled(r.ctx, def.Enabled); err != nil {
			r.n.logger.Error("stream: enable", "stream", id, "err", err)
		}
	}
}

// sameRun reports whether two definitions run the same stream (only
// subscriptions, name, metadata or enabled differ).
func sameRun(a, b *registry.Stream) bool {
	return a.ProtocolName == b.ProtocolName && string(a.Configuration) == string(b.Configuration) &&
		a.QueueTTL == b.QueueTTL && a.ValidateMessage == b.ValidateMessage && reflect.DeepEqual(a.ConvertMessage, b.ConvertMessage)
}

func setSubscriptions(subs *stream.Subscriptions, def *registry.Stream) {
	for _, id := range subs.Channels() {
		subs.RemoveChannel(id)
	}
	for _, id := range subs.Devices() {
		subs.RemoveDevice(id)
	}
	for _, id := range def.Channels {
		subs.AddChannel(id)
	}
	for _, id := range def.Devices {
		subs.AddDevice(id)
	}
}

func (r *streamRuntime) startOne(def registry.Stream) (*runningStream, error) {
	n := r.n
	sink, tune, err := n.sinkFor(&def)
	if err != nil {
		return nil, err
	}
	cfg := stream.Config{Name: streamName(def.ID), Subscriptions: &stream.Subscriptions{}, DeadLetter: n.dead.Log(),
		QueueTTL: time.Duration(def.QueueTTL) * time.Second, Logger: n.logger, OnEvent: r.onEvent(def.ID)}
	if def.ValidateMessage != "" {
		if cfg.Validate, err = filter.CompileFilter(def.ValidateMessage); err != nil {
			return nil, err
		}
	}
	if def.ConvertMessage != nil {
		cfg.Convert = stream.Convert{Fields: def.ConvertMessage.Fields, Nested: def.ConvertMessage.Nested}
	}
	if tune != nil {
		tune(&cfg)
	}
	s, err := stream.New(n.db.Log(), sink, &cfg)
	if err != nil {
		return nil, err
	}
	// The cursor now, not when the goroutine below runs: a new stream
	// forwards what arrives from its creation on.
	if _, err := s.Open(r.ctx); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(r.ctx)
	rs := &runningStream{def: def, s: s, subs: cfg.Subscriptions, cancel: cancel, done: make(chan struct{})}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(rs.done)
		defer func() {
			if c, ok := sink.(interface{ Close() error }); ok {
				c.Close()
			}
		}()
		if n.clustered() {
			n.leased(ctx, "stream."+streamName(def.ID), func(ctx context.Context, fence uint64) error {
				return r.runLeased(ctx, rs, sink, cfg, fence)
			})
			return
		}
		for {
			err := s.Run(ctx)
			if ctx.Err() != nil {
				return
			}
			n.logger.Error("stream stopped", "stream", def.ID, "err", err)
			var rej *stream.RejectedError
			if errors.As(err, &rej) {
				return // policy stop: until the stream is edited or restarted
			}
			select { // a failing log: try again shortly
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Second):
			}
		}
	}()
	return rs, nil
}

// runLeased runs a stream on this node while it holds the stream's lease:
// a new stream.Stream whose commits carry the lease's fencing token, so
// that a node that lost the lease cannot move the cursor any more.
func (r *streamRuntime) runLeased(ctx context.Context, rs *runningStream, sink stream.Sink, cfg stream.Config, fence uint64) error {
	cfg.Fence = fence
	s, err := stream.New(r.n.db.Log(), sink, &cfg)
	if err != nil {
		return err
	}
	if _, err := s.Open(ctx); err != nil {
		return err
	}
	rs.mu.Lock()
	enabled := rs.def.Enabled
	rs.mu.Unlock()
	if err := s.SetEnabled(ctx, enabled); err != nil {
		return err
	}
	rs.mu.Lock()
	rs.leased = s
	rs.mu.Unlock()
	defer func() {
		rs.mu.Lock()
		rs.leased = nil
		rs.mu.Unlock()
	}()
	err = s.Run(ctx)
	var rej *stream.RejectedError
	if errors.As(err, &rej) {
		// Policy stop: hold the lease and stay stopped until the stream
		// is edited (or this node stops); another node would only stop
		// on the same message.
		r.n.logger.Error("stream stopped", "stream", cfg.Name, "err", err)
		<-ctx.Done()
		return nil
	}
	return err
}

// onEvent publishes a stream's state changes on its log topics.
func (r *streamRuntime) onEvent(id int64) func(stream.Event) {
	return func(e stream.Event) {
		fields := map[string]any{}
		if e.Err != nil {
			fields["error"] = e.Err.Error()
		}
		go r.n.state.Event(context.Background(), "streams", id, string(e.Type), fields)
	}
}

// remove stops a deleted stream and forgets its cursor.
func (r *streamRuntime) remove(id int64) {
	r.mu.Lock()
	rs := r.running[id]
	delete(r.running, id)
	r.mu.Unlock()
	if rs == nil {
		return
	}
	rs.cancel()
	<-rs.done
	ctx := context.Background()
	l := r.n.db.Log()
	st, err := l.Stats(ctx)
	if err != nil {
		return
	}
	prefix := rs.s.Consumer()
	for _, c := range st.Consumers {
		if c.Name == prefix || len(c.Name) > len(prefix) && c.Name[:len(prefix)+1] == prefix+"#" {
			if err := l.DeleteConsumer(ctx, c.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
				r.n.logger.Warn("stream: cursor not deleted", "stream", id, "err", err)
			}
		}
	}
}

func (r *streamRuntime) stats(id int64) (stream.Stats, bool) {
	r.mu.Lock()
	rs := r.running[id]
	r.mu.Unlock()
	if rs == nil {
		return stream.Stats{}, false
	}
	s := rs.current(r.n.clustered())
	if s == nil {
		return stream.Stats{}, false // it runs on another node
	}
	return s.Stats(), true
}
