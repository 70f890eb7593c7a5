package registry

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/filter"
)

// Kind names an object collection; it is also its REST path segment.
type Kind string

// The kinds.
const (
	Channels Kind = "channels"
	Devices  Kind = "devices"
	Streams  Kind = "streams"
	Tokens   Kind = "tokens"
)

// Object is implemented by the pointer types of the objects (through the
// Meta they embed).
type Object interface {
	meta() *Meta
}

// Change is one change of an object: Old is nil for a creation, New nil for
// a deletion.
type Change[T any] struct {
	Old, New *T
}

// ValidationError says what is wrong with an object: the REST API answers
// it with 400.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Collection holds the objects of one kind in memory, backed by the KV.
// Reads are served from memory; every change is written to the KV first
// (with compare-and-set, so that several nodes sharing a KV do not
// overwrite each other) and then applied.
type Collection[T any, P interface {
	*T
	Object
}] struct {
	kind    Kind
	kv      KV
	check   func(old, new P) error // validation; nil old on create
	uniques func(P) []string       // unique index values, "name=value"
	// applied, when set, is told every change made visible (old nil: a
	// creation or a loaded object, new nil: a deletion) under mu's write
	// lock, so that what it derives from the objects changes with them.
	applied func(old, new P)
	now     func() time.Time

	mu       sync.RWMutex
	items    map[int64]*item[T]
	index    map[string]int64 // unique value → id
	watchers []func(Change[T])
	maxID    int64 // the largest id ever applied
	// creating holds the ids of this registry's creations between the
	// claim of their unique values and their write: their claims are live.
	creating map[int64]bool

	idMu    sync.Mutex
	idBlock int64 // ids reserved at once (Options.IDBlock)
	idNext  int64 // the next reserved id; idNext > idEnd: none left
	idEnd   int64
}

type item[T any] struct {
	v   T
	rev uint64
}

func objKey(k Kind, id int64) string { return fmt.Sprintf("obj/%s/%020d", k, id) }
func idxKey(k Kind, v string) string { return "idx/" + string(k) + "/" + v }
func seqKey(k Kind) string           { return "seq/" + string(k) }

func newCollection[T any, P interface {
	*T
	Object
}](k Kind, kv KV, now func() time.Time) *Collection[T, P] {
	return &Collection[T, P]{kind: k, kv: kv, now: now, items: map[int64]*item[T]{}, index: map[string]int64{},
		idBlock: 1, idNext: 1}
}

// Kind returns the collection's kind.
func (c *Collection[T, P]) Kind() Kind { return c.kind }

// SetCheck adds validation to the collection's own (the gateway checks a
// stream's sink configuration this way). It runs before every create and
// update; its error is returned as it is.
func (c *Collection[T, P]) SetCheck(extra func(old, new *T) error) {
	own := c.check
	c.check = func(old, new P) error {
		if own != nil {
			if err := own(old, new); err != nil {
				return err
			}
		}
		return extra((*T)(old), (*T)(new))
	}
}

func (c *Collection[T, P]) load(ctx context.Context) error {
	entries, err := c.kv.List(ctx, "obj/"+string(c.kind)+"/")
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		var v T
		if err := json.Unmarshal(e.Value, &v); err != nil {
			return fmt.Errorf("registry: %s: %w", e.Key, err)
		}
		c.items[P(&v).meta().ID] = &item[T]{v: v, rev: e.Revision}
		c.indexAdd(&v)
		if c.applied != nil {
			c.applied(nil, &v)
		}
	}
	return nil
}

func (c *Collection[T, P]) indexAdd(v *T) {
	if c.uniques == nil {
		return
	}
	for _, u := range c.uniques(P(v)) {
		c.index[u] = P(v).meta().ID
	}
}

func (c *Collection[T, P]) indexDel(v *T) {
	if c.uniques == nil {
		return
	}
	for _, u := range c.uniques(P(v)) {
		if c.index[u] == P(v).meta().ID {
			delete(c.index, u)
		}
	}
}

// Get returns the object with id. Objects are never changed in place (an
// update replaces them), so the copy returned is consistent; its maps and
// slices are shared with the registry and must not be modified.
func (c *Collection[T, P]) Get(id int64) (T, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	it, ok := c.items[id]
	if !ok {
		var zero T
		return zero, false
	}
	return it.v, true
}

// lookupWith calls fn with the object holding a unique value, under the
// read lock, and reports whether there is one: one lock and no copy of
// the whole object for callers that read a few fields per message. fn
// must not keep the pointer, modify the object or call the collection.
func (c *Collection[T, P]) lookupWith(unique string, fn func(*T)) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.index[unique]
	if !ok {
		return false
	}
	it, ok := c.items[id]
	if ok {
		fn(&it.v)
	}
	return ok
}

// Lookup returns the id of the object holding a unique value
// ("ident=356307042441013").
func (c *Collection[T, P]) Lookup(unique string) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	id, ok := c.index[unique]
	return id, ok
}

// List returns every object, sorted by id, with Get's sharing rule.
func (c *Collection[T, P]) List() []T {
	c.mu.RLock()
	out := make([]T, 0, len(c.items))
	for _, it := range c.items {
		out = append(out, it.v)
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b T) int { return cmpID(P(&a).meta().ID, P(&b).meta().ID) })
	return out
}

// Len returns the number of objects.
func (c *Collection[T, P]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.items)
}

func cmpID(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// clone deep-copies through JSON: objects are small, and it keeps callers
// from sharing maps and slices with the registry.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own types always marshal
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// Watch calls fn after every change, local or made by another node through
// the KV, in the order applied. fn runs with no lock held but must be quick,
// and must not modify the objects.
func (c *Collection[T, P]) Watch(fn func(Change[T])) {
	c.mu.Lock()
	c.watchers = append(c.watchers, fn)
	c.mu.Unlock()
}

func (c *Collection[T, P]) notify(ch Change[T]) {
	c.mu.RLock()
	ws := slices.Clone(c.watchers)
	c.mu.RUnlock()
	for _, w := range ws {
		w(ch)
	}
}

// Create stores a new object and returns it with its id. The id in v is
// ignored.
func (c *Collection[T, P]) Create(ctx context.Context, v T) (T, error) {
	p := P(&v)
	if c.check != nil {
		if err := c.check(nil, p); err != nil {
			return v, err
		}
	}
	id, err := c.nextID(ctx)
	if err != nil {
		return v, err
	}
	p.meta().ID = id
	c.mu.Lock()
	if c.creating == nil {
		c.creating = map[int64]bool{}
	}
	c.creating[id] = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.creating, id)
		c.mu.Unlock()
	}()
	if err := c.reserve(ctx, nil, p); err != nil {
		return v, err
	}
	data, _ := json.Marshal(v)
	rev, err := c.kv.Put(ctx, objKey(c.kind, id), data, 0)
	if err != nil {
		c.release(ctx, p, nil)
		return v, err
	}
	c.apply(id, &v, rev)
	return v, nil
}

// nextID allocates an id from the block this registry reserved, and
// reserves the next block when it is used up (Options.IDBlock).
func (c *Collection[T, P]) nextID(ctx context.Context) (int64, error) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if c.idNext > c.idEnd {
		end, err := c.reserveIDs(ctx, c.idBlock)
		if err != nil {
			return 0, err
		}
		c.idNext, c.idEnd = end-c.idBlock+1, end
	}
	id := c.idNext
	c.idNext++
	return id, nil
}

// reserveIDs moves the id counter in the KV forward by n with
// compare-and-set and returns its new value: ids up to it are this
// registry's. Contenders (registries of several nodes reserving at once)
// back off at random after each lost race, so that each round has few of
// them instead of all.
func (c *Collection[T, P]) reserveIDs(ctx context.Context, block int64) (int64, error) {
	for attempt := range 1000 {
		if attempt > 0 {
			wait := time.Duration(mrand.Int64N(int64(min(time.Duration(attempt)*time.Millisecond, 50*time.Millisecond))))
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		raw, rev, err := c.kv.Get(ctx, seqKey(c.kind))
		var n int64
		switch {
		case errors.Is(err, ErrNotFound):
			rev = 0
		case err != nil:
			return 0, err
		default:
			if n, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
				return 0, fmt.Errorf("registry: %s: %w", seqKey(c.kind), err)
			}
		}
		// A counter behind the objects (lost, or older than them) never
		// hands out an id in use.
		c.mu.RLock()
		n = max(n, c.maxID)
		c.mu.RUnlock()
		n += block
		if _, err := c.kv.Put(ctx, seqKey(c.kind), []byte(strconv.FormatInt(n, 10)), rev); err == nil {
			return n, nil
		} else if !errors.Is(err, ErrConflict) {
			return 0, err
		}
	}
	return 0, fmt.Errorf("%w: could not allocate a %s id", ErrConflict, c.kind)
}

// reserve claims new's unique values in the KV (those old did not hold).
func (c *Collection[T, P]) reserve(ctx context.Context, old, new P) error {
	if c.uniques == nil {
		return nil
	}
	var had []string
	if old != nil {
		had = c.uniques(old)
	}
	id := new.meta().ID
	var claimed []string
	for _, u := range c.uniques(new) {
		if slices.Contains(had, u) {
			continue
		}
		_, err := c.kv.Put(ctx, idxKey(c.kind, u), []byte(strconv.FormatInt(id, 10)), 0)
		if errors.Is(err, ErrConflict) {
			// Taken — unless by an object that no longer holds it (a crash
			// between steps left it behind).
			other, rev, ok := c.holder(ctx, u)
			// A claim without its object may be another registry's
			// creation in flight (claimed, not yet written): give it time
			// to appear before calling the claim left behind by a crash.
			for _, wait := range claimGrace {
				if ok || ctx.Err() != nil {
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
				other, rev, ok = c.holder(ctx, u)
			}
			if err := ctx.Err(); err != nil {
				c.releaseKeys(ctx, claimed)
				return err
			}
			if ok && other != id {
				c.releaseKeys(ctx, claimed)
				name, value, _ := strings.Cut(u, "=")
				return fmt.Errorf("%w: %s %q is already used by %s %d", ErrConflict, name, value, strings.TrimSuffix(string(c.kind), "s"), other)
			}
			// Left behind: take it over, unless another writer just did.
			_, err = c.kv.Put(ctx, idxKey(c.kind, u), []byte(strconv.FormatInt(id, 10)), rev)
		}
		if err != nil {
			c.releaseKeys(ctx, claimed)
			return err
		}
		claimed = append(claimed, u)
	}
	return nil
}

// claimGrace are the waits before a claim whose object does not exist is
// taken over.
var claimGrace = []time.Duration{10 * time.Millisecond, 100 * time.Millisecond, time.Second}

// holder returns the object holding unique value u according to the KV
// index, if that object really holds it, and the index entry's revision.
// The object may be one this registry is creating (claimed, not yet
// written) or one another registry wrote and this one has not seen yet.
func (c *Collection[T, P]) holder(ctx context.Context, u string) (int64, uint64, bool) {
	raw, rev, err := c.kv.Get(ctx, idxKey(c.kind, u))
	if errors.Is(err, ErrNotFound) {
		return 0, 0, false // released meanwhile: claim it if still free
	}
	if err != nil {
		return 0, AnyRevision, false
	}
	id, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, rev, false
	}
	c.mu.RLock()
	it, ok := c.items[id]
	creating := c.creating[id]
	c.mu.RUnlock()
	if creating {
		return id, rev, true
	}
	var v T
	if ok {
		v = it.v
	} else if data, _, err := c.kv.Get(ctx, objKey(c.kind, id)); err != nil || json.Unmarshal(data, &v) != nil {
		return 0, rev, false
	}
	return id, rev, slices.Contains(c.uniques(P(&v)), u)
}

// release frees the unique values old held that new does not.
func (c *Collection[T, P]) release(ctx context.Context, old, new P) {
	if c.uniques == nil || old == nil {
		return
	}
	var keep []string
	if new != nil {
		keep = c.uniques(new)
	}
	var drop []string
	for _, u := range c.uniques(old) {
		if !slices.Contains(keep, u) {
			drop = append(drop, u)
		}
	}
	c.releaseKeys(ctx, drop)
}

func (c *Collection[T, P]) releaseKeys(ctx context.Context, us []string) {
	for _, u := range us {
		c.kv.Delete(ctx, idxKey(c.kind, u), AnyRevision)
	}
}

// apply makes a stored change visible and tells the watchers.
func (c *Collection[T, P]) apply(id int64, v *T, rev uint64) {
	c.mu.Lock()
	var old *T
	if it, ok := c.items[id]; ok {
		if it.rev >= rev {
			c.mu.Unlock()
			return // already applied (our own write seen again through Watch)
		}
		o := it.v
		old = &o
		c.indexDel(&o)
	}
	if v == nil {
		delete(c.items, id)
	} else {
		c.items[id] = &item[T]{v: *v, rev: rev}
		c.indexAdd(v)
		c.maxID = max(c.maxID, id)
	}
	if c.applied != nil {
		c.applied(old, v)
	}
	c.mu.Unlock()
	c.notify(Change[T]{Old: old, New: v})
}

// Update changes the object with id through fn, which gets a copy to
// modify; it retries fn when another writer changed the object meanwhile.
// ErrNotFound if there is no such object.
func (c *Collection[T, P]) Update(ctx context.Context, id int64, fn func(*T) error) (T, error) {
	for range 20 {
		cur, rev, err := c.current(id)
		if err != nil {
			return cur, err
		}
		next := clone(cur) // fn may change maps and slices
		if err := fn(&next); err != nil {
			return cur, err
		}
		P(&next).meta().ID = id
		P(&next).meta().CID = P(&cur).meta().CID
		if c.check != nil {
			if err := c.check(P(&cur), P(&next)); err != nil {
				return cur, err
			}
		}
		if err := c.reserve(ctx, P(&cur), P(&next)); err != nil {
			return cur, err
		}
		data, _ := json.Marshal(next)
		nrev, err := c.kv.Put(ctx, objKey(c.kind, id), data, rev)
		if errors.Is(err, ErrConflict) {
			c.release(ctx, P(&next), P(&cur))
			c.refresh(ctx, id)
			continue
		}
		if err != nil {
			c.release(ctx, P(&next), P(&cur))
			return cur, err
		}
		c.release(ctx, P(&cur), P(&next))
		c.apply(id, &next, nrev)
		return next, nil
	}
	return *new(T), fmt.Errorf("%w: %s %d keeps changing", ErrConflict, c.kind, id)
}

// current returns the object with id and its revision, or ErrNotFound.
func (c *Collection[T, P]) current(id int64) (cur T, rev uint64, err error) {
	c.mu.RLock()
	it, ok := c.items[id]
	if ok {
		cur, rev = it.v, it.rev
	}
	c.mu.RUnlock()
	if !ok {
		return cur, 0, fmt.Errorf("%w: %s %d", ErrNotFound, strings.TrimSuffix(string(c.kind), "s"), id)
	}
	return cur, rev, nil
}

// refresh reloads one object from the KV (after a conflict).
func (c *Collection[T, P]) refresh(ctx context.Context, id int64) {
	raw, rev, err := c.kv.Get(ctx, objKey(c.kind, id))
	if errors.Is(err, ErrNotFound) {
		c.applyDelete(id, rev)
		return
	}
	if err != nil {
		return
	}
	var v T
	if json.Unmarshal(raw, &v) == nil {
		c.apply(id, &v, rev)
	}
}

func (c *Collection[T, P]) applyDelete(id int64, rev uint64) {
	c.mu.Lock()
	it, ok := c.items[id]
	if !ok {
		c.mu.Unlock()
		return
	}
	delete(c.items, id)
	c.indexDel(&it.v)
	if c.applied != nil {
		c.applied(&it.v, nil)
	}
	c.mu.Unlock()
	old := it.v
	c.notify(Change[T]{Old: &old})
}

// Delete removes the object with id and returns it; ErrNotFound if absent.
func (c *Collection[T, P]) Delete(ctx context.Context, id int64) (T, error) {
	cur, rev, err := c.current(id)
	if err != nil {
		return cur, err
	}
	if err := c.kv.Delete(ctx, objKey(c.kind, id), rev); err != nil {
		return cur, err
	}
	c.release(ctx, P(&cur), nil)
	c.applyDelete(id, rev)
	return cur, nil
}

// follow applies the changes other nodes make through the KV.
func (c *Collection[T, P]) follow() func() {
	prefix := "obj/" + string(c.kind) + "/"
	return c.kv.Watch(prefix, func(e Entry) {
		id, err := strconv.ParseInt(strings.TrimPrefix(e.Key, prefix), 10, 64)
		if err != nil {
			return
		}
		if e.Value == nil {
			c.applyDelete(id, e.Revision)
			return
		}
		var v T
		if json.Unmarshal(e.Value, &v) == nil {
			c.apply(id, &v, e.Revision)
		}
	})
}

// Registry is the gateway's object model: accounts, channels, devices,
// streams and tokens, each a [Collection].
type Registry struct {
	kv       KV
	Accounts *Collection[Account, *Account]
	Channels *Collection[Channel, *Channel]
	Devices  *Collection[Device, *Device]
	Streams  *Collection[Stream, *Stream]
	Tokens   *Collection[Token, *Token]
	stops    []func()
	// retentions counts the devices with a messages_ttl or a
	// messages_rotate of their own (kept by Devices.applied).
	retentions atomic.Int64
}

// Options configure Open. The zero value works.
type Options struct {
	// Protocols reports whether a channel protocol name is known; nil
	// accepts any name.
	Protocols func(name string) bool
	// ListensOptional reports protocols whose channels need no listen
	// address (served by the gateway's HTTP server); "http" and "mqtt"
	// always are.
	ListensOptional func(name string) bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// IDBlock is how many ids a collection reserves at once in the KV's
	// counter; 0 means 1. Registries of several nodes sharing one KV set
	// it higher (100, say), so that a fleet registering at once moves the
	// shared counter once per block instead of once per object; ids then
	// interleave by block between nodes, and a restart skips what was left
	// of a block.
	IDBlock int
}

// Open loads the registry from kv and follows the changes other users of
// kv make.
func Open(ctx context.Context, kv KV, opts *Options) (*Registry, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Registry{
		kv:       kv,
		Accounts: newCollection[Account](Accounts, kv, o.Now),
		Channels: newCollection[Channel](Channels, kv, o.Now),
		Devices:  newCollection[Device](Devices, kv, o.Now),
		Streams:  newCollection[Stream](Streams, kv, o.Now),
		Tokens:   newCollection[Token](Tokens, kv, o.Now),
	}
	if o.IDBlock > 1 {
		b := int64(o.IDBlock)
		r.Accounts.idBlock, r.Channels.idBlock, r.Devices.idBlock, r.Streams.idBlock, r.Tokens.idBlock = b, b, b, b, b
	}
	r.Accounts.check = func(old, a *Account) error { return checkAccount(r, old, a) }
	r.Accounts.uniques = func(a *Account) []string {
		if a.CID == 0 {
			return []string{"root=true"} // one root, even with nodes racing to make it
		}
		return nil
	}
	r.Channels.check = func(old, c *Channel) error {
		if err := checkChannel(c, o.Protocols, o.ListensOptional); err != nil || old != nil {
			return err
		}
		return r.checkLimit(c.CID, "channels", func(cid int64) int64 { return countIn(r.Channels, cid) },
			func(l Limits) int64 { return l.Channels })
	}
	r.Channels.uniques = func(c *Channel) []string { return []string{"name=" + c.Name} }
	r.Devices.check = func(old, d *Device) error {
		if err := checkDevice(d); err != nil || old != nil {
			return err
		}
		return r.checkLimit(d.CID, "devices", func(cid int64) int64 { return countIn(r.Devices, cid) },
			func(l Limits) int64 { return l.Devices })
	}
	r.Devices.uniques = func(d *Device) []string {
		u := []string{"ident=" + d.Configuration.Ident}
		if c := d.Configuration; c.AccessToken != "" {
			u = append(u, "access_token="+c.AccessToken)
		}
		if c := d.Configuration; c.Username != "" {
			u = append(u, "mqtt="+c.ClientID+"|"+c.Username)
		}
		if c := d.Configuration; c.Certificate != "" {
			u = append(u, "certificate="+strings.ToLower(c.Certificate))
		}
		return u
	}
	r.Devices.applied = func(old, new *Device) {
		// One change of the count per change of a device: read without
		// the lock, it never passes through a wrong value.
		var d int64
		if old != nil && old.ownRetention() {
			d--
		}
		if new != nil && new.ownRetention() {
			d++
		}
		if d != 0 {
			r.retentions.Add(d)
		}
	}
	r.Streams.check = func(old, s *Stream) error {
		if err := checkStream(s); err != nil || old != nil {
			return err
		}
		return r.checkLimit(s.CID, "streams", func(cid int64) int64 { return countIn(r.Streams, cid) },
			func(l Limits) int64 { return l.Streams })
	}
	r.Tokens.check = func(_, t *Token) error { return checkToken(t) }
	r.Tokens.uniques = func(t *Token) []string { return []string{"hash=" + t.Hash} }
	for _, load := range []func(context.Context) error{r.Accounts.load, r.Channels.load, r.Devices.load, r.Streams.load, r.Tokens.load} {
		if err := load(ctx); err != nil {
			return nil, err
		}
	}
	r.stops = []func(){r.Accounts.follow(), r.Channels.follow(), r.Devices.follow(), r.Streams.follow(), r.Tokens.follow()}
	if err := r.EnsureRoot(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Close stops following the KV; it does not close the KV.
func (r *Registry) Close() {
	for _, stop := range r.stops {
		stop()
	}
}

// DeviceByIdent returns the device registered for ident.
func (r *Registry) DeviceByIdent(ident string) (Device, bool) {
	var d Device
	ok := r.Devices.lookupWith("ident="+ident, func(v *Device) { d = *v })
	return d, ok
}

// DeviceAccountByIdent returns the id and the account (cid) of the device
// registered for ident, without copying it.
func (r *Registry) DeviceAccountByIdent(ident string) (id, cid int64, ok bool) {
	ok = r.Devices.lookupWith("ident="+ident, func(d *Device) { id, cid = d.ID, d.CID })
	return id, cid, ok
}

// DeviceRetention returns the messages_ttl and messages_rotate of the
// device registered for ident: zeros for the defaults and for an ident
// without a device. While no device has either of its own (a fleet on the
// defaults) it answers without a lookup: the store asks it per message.
func (r *Registry) DeviceRetention(ident string) (ttl, rotate int64) {
	if r.retentions.Load() == 0 {
		return 0, 0
	}
	r.Devices.lookupWith("ident="+ident, func(d *Device) { ttl, rotate = d.MessagesTTL, d.MessagesRotate })
	return ttl, rotate
}

// DeviceIDByIdent returns the id of the device registered for ident,
// without copying it (the ingest hot path).
func (r *Registry) DeviceIDByIdent(ident string) (int64, bool) {
	return r.Devices.Lookup("ident=" + ident)
}

func checkChannel(c *Channel, known, optional func(string) bool) error {
	needsAddr := c.ProtocolName != "http" && c.ProtocolName != "mqtt" && (optional == nil || !optional(c.ProtocolName))
	switch {
	case strings.TrimSpace(c.Name) == "":
		return invalid("name", "required")
	case c.ProtocolName == "":
		return invalid("protocol_name", "required")
	case known != nil && !known(c.ProtocolName):
		return invalid("protocol_name", "unknown protocol %q", c.ProtocolName)
	case c.ProtocolName == "mqtt" && len(c.Configuration.Topics) == 0:
		return invalid("configuration.topics", "an MQTT channel needs topics to subscribe to")
	case needsAddr && c.Configuration.TCP == "" && c.Configuration.UDP == "" && c.Configuration.TLS == "":
		return invalid("configuration", "a tcp, udp or tls listen address is required")
	case c.Configuration.TLS != "" && (c.Configuration.Certificate.Cert == "" || c.Configuration.Certificate.Key == ""):
		return invalid("configuration.certificate", "a TLS channel needs a certificate and a key (cert, key)")
	}
	if c.Configuration.TLS != "" {
		if _, err := c.Configuration.Certificate.Server(); err != nil {
			return invalid("configuration.certificate", "%v", err)
		}
	}
	return c.Configuration.Proxy.check(c.ProtocolName)
}

func checkDevice(d *Device) error {
	if err := channel.ValidIdent(d.Configuration.Ident); err != nil {
		return invalid("configuration.ident", "%v", err)
	}
	if len(d.Name) > 1024 {
		return invalid("name", "longer than 1024 bytes")
	}
	if d.MessagesTTL < -1 {
		return invalid("messages_ttl", "must be -1 (forever), 0 (default) or a number of seconds")
	}
	if d.MessagesRotate < 0 {
		return invalid("messages_rotate", "must not be negative")
	}
	return nil
}

// StreamProtocols are the stream protocols the gateway knows.
var StreamProtocols = []string{"http", "mqtt", "wialon-retranslator", "amqp"}

func checkStream(s *Stream) error {
	switch {
	case strings.TrimSpace(s.Name) == "":
		return invalid("name", "required")
	case !slices.Contains(StreamProtocols, s.ProtocolName):
		return invalid("protocol_name", "must be one of %s", strings.Join(StreamProtocols, ", "))
	case s.QueueTTL < 0:
		return invalid("queue_ttl", "must not be negative")
	}
	if s.ValidateMessage != "" {
		if _, err := filter.CompileFilter(s.ValidateMessage); err != nil {
			return invalid("validate_message", "%v", err)
		}
	}
	return nil
}

func checkToken(t *Token) error {
	if t.Hash == "" {
		return invalid("key", "required")
	}
	if t.Expire < 0 {
		return invalid("expire", "must not be negative")
	}
	return nil
}

// NewKey returns a fresh random token secret: 48 URL-safe characters.
func NewKey() string {
	b := make([]byte, 36)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashKey is how a token's secret is kept: its SHA-256, hex.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateToken stores a token for key (a fresh one when key is "") and
// returns it with Key set, the only time the secret is returned.
func (r *Registry) CreateToken(ctx context.Context, t Token, key string) (Token, error) {
	if key == "" {
		key = NewKey()
	}
	if len(key) < 16 {
		return t, invalid("key", "at least 16 characters")
	}
	t.Hash, t.Key = HashKey(key), ""
	out, err := r.Tokens.Create(ctx, t)
	if err != nil {
		return out, err
	}
	out.Key = key
	return out, nil
}

// Authenticate returns the token whose secret is key, unless it expired.
func (r *Registry) Authenticate(key string, now time.Time) (Token, bool) {
	if key == "" {
		return Token{}, false
	}
	id, ok := r.Tokens.Lookup("hash=" + HashKey(key))
	if !ok {
		return Token{}, false
	}
	t, ok := r.Tokens.Get(id)
	if !ok || t.Expired(now) {
		return Token{}, false
	}
	return t, true
}
