package cluster

import (
	"context"
	"errors"
	"sync"
)

// Elector grants leases. Safe for concurrent use.
type Elector interface {
	// Acquire waits until this node holds the lease on name, or ctx ends.
	Acquire(ctx context.Context, name string) (Lease, error)
	// TryAcquire takes the lease if nobody holds it, else returns ErrHeld.
	TryAcquire(ctx context.Context, name string) (Lease, error)
	// Close releases every lease this elector holds.
	Close() error
}

// Lease is one holder's right to run the work named Name.
type Lease interface {
	Name() string
	// Token is the fencing token: larger for every later holder.
	Token() uint64
	// Lost is closed when the lease ends: its renewal failed for too
	// long, another holder took it, or it was released. The work it
	// guards must stop at once.
	Lost() <-chan struct{}
	// Release gives the lease up; another node may take it at once.
	Release(ctx context.Context) error
}

// ErrHeld is returned by TryAcquire when another holder has the lease.
var ErrHeld = errors.New("cluster: lease held by another node")

// --- Local -----------------------------------------------------------------

// Local is the elector of a gateway that runs alone: a lease is granted at
// once unless this process already holds it, and is never lost.
type Local struct {
	mu    sync.Mutex
	held  map[string]chan struct{} // closed on release
	token uint64
}

// NewLocal returns an in-process elector.
func NewLocal() *Local { return &Local{held: map[string]chan struct{}{}} }

func (l *Local) TryAcquire(ctx context.Context, name string) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.held[name]; ok {
		return nil, ErrHeld
	}
	l.token++
	released := make(chan struct{})
	l.held[name] = released
	return &localLease{l: l, name: name, token: l.token, released: released}, nil
}

func (l *Local) Acquire(ctx context.Context, name string) (Lease, error) {
	for {
		lease, err := l.TryAcquire(ctx, name)
		if !errors.Is(err, ErrHeld) {
			return lease, err
		}
		l.mu.Lock()
		released := l.held[name]
		l.mu.Unlock()
		if released == nil {
			continue
		}
		select {
		case <-released:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close releases every lease.
func (l *Local) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, ch := range l.held {
		close(ch)
		delete(l.held, name)
	}
	return nil
}

type localLease struct {
	l        *Local
	name     string
	token    uint64
	released chan struct{}
	once     sync.Once
}

func (x *localLease) Name() string { return x.name }

func (x *localLease) Token() uint64 { return x.token }

// Lost is closed by Release only: nobody else can take a local lease.
func (x *localLease) Lost() <-chan struct{} { return x.released }

func (x *localLease) Release(context.Context) error {
	x.once.Do(func() {
		x.l.mu.Lock()
		defer x.l.mu.Unlock()
		if x.l.held[x.name] == x.released {
			close(x.released)
			delete(x.l.held, x.name)
		}
	})
	return nil
}
