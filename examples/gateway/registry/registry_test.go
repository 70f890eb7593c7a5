package registry_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/internal/testenv"
)

// backend is one KV implementation. store makes a new, empty store for one
// test and returns how to open a handle on it: each handle of a shared
// backend is another gateway node (MemoryKV and PebbleKV are shared by
// handing out the same instance), and a durable store's data outlives a
// closed handle.
type backend struct {
	name    string
	durable bool
	store   func(t *testing.T) (open func() registry.KV)
}

func backends(t *testing.T) []backend {
	bs := []backend{
		{"memory", false, func(t *testing.T) func() registry.KV {
			kv := registry.NewMemoryKV()
			return func() registry.KV { return kv }
		}},
		{"pebble", true, func(t *testing.T) func() registry.KV {
			dir := t.TempDir()
			var cur *pebbleHandle
			return func() registry.KV {
				if cur == nil || cur.closed {
					kv, err := registry.OpenPebbleKV(dir)
					if err != nil {
						t.Fatal(err)
					}
					h := &pebbleHandle{PebbleKV: kv}
					t.Cleanup(func() { h.Close() })
					cur = h
				}
				return cur
			}
		}},
	}
	// Skipped, with the reason, when no NATS server is configured.
	return append(bs, backend{"jetstream", true, jetstreamStore})
}

// eventually waits for cond: another node applies a change when its watch
// delivers it, a moment after the writer's call returned.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pebbleHandle is one open PebbleKV, shared by the nodes of a test; once
// closed, the next open reopens the directory.
type pebbleHandle struct {
	*registry.PebbleKV
	closed bool
}

func (h *pebbleHandle) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	return h.PebbleKV.Close()
}

var bucketN int

// jetstreamStore makes a bucket of its own for one test on the NATS server
// of the environment; every open is a new connection (a new node).
func jetstreamStore(t *testing.T) func() registry.KV {
	url := testenv.NATSURL(t)
	bucketN++
	bucket := fmt.Sprintf("test_registry_%d_%d", time.Now().UnixNano()%1e9, bucketN)
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		js.DeleteKeyValue(context.Background(), bucket)
	})
	return func() registry.KV {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		kv, err := registry.OpenJetStreamKV(context.Background(), nc, &registry.JetStreamKVOptions{Bucket: bucket})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { kv.Close() })
		return kv
	}
}

// each runs fn as a subtest per backend.
func each(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

func open(t *testing.T, kv registry.KV) *registry.Registry {
	t.Helper()
	r, err := registry.Open(context.Background(), kv, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

func device(ident string) registry.Device {
	return registry.Device{Meta: registry.Meta{CID: registry.RootCID}, Name: "car " + ident,
		Configuration: registry.DeviceConfig{Ident: ident}}
}

func TestDevicesCRUDAndUniqueIdent(t *testing.T) { each(t, testDevicesCRUD) }

func testDevicesCRUD(t *testing.T, b backend) {
	ctx := context.Background()
	r := open(t, b.store(t)())
	d1, err := r.Devices.Create(ctx, device("356307042441013"))
	if err != nil || d1.ID != 1 {
		t.Fatalf("Create = %+v, %v", d1, err)
	}
	d2, err := r.Devices.Create(ctx, device("356307042441014"))
	if err != nil || d2.ID != 2 {
		t.Fatalf("Create = %+v, %v", d2, err)
	}
	if _, err := r.Devices.Create(ctx, device("356307042441013")); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("duplicate ident: %v", err)
	}
	if got, ok := r.DeviceByIdent("356307042441014"); !ok || got.ID != 2 {
		t.Fatalf("DeviceByIdent = %+v, %v", got, ok)
	}
	// Changing an ident frees the old one and takes the new.
	if _, err := r.Devices.Update(ctx, 2, func(d *registry.Device) error {
		d.Configuration.Ident = "777"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.DeviceByIdent("356307042441014"); ok {
		t.Fatal("old ident still resolves")
	}
	if _, err := r.Devices.Create(ctx, device("356307042441014")); err != nil {
		t.Fatalf("the freed ident cannot be reused: %v", err)
	}
	if _, err := r.Devices.Update(ctx, 2, func(d *registry.Device) error {
		d.Configuration.Ident = "356307042441013"
		return nil
	}); !errors.Is(err, registry.ErrConflict) {
		t.Fatalf("update to a taken ident: %v", err)
	}
	if _, err := r.Devices.Delete(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Devices.Create(ctx, device("356307042441013")); err != nil {
		t.Fatalf("ident of a deleted device cannot be reused: %v", err)
	}
	if _, err := r.Devices.Delete(ctx, 1); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
	var ve *registry.ValidationError
	if _, err := r.Devices.Create(ctx, device("bad/ident")); !errors.As(err, &ve) || ve.Field != "configuration.ident" {
		t.Fatalf("bad ident: %v", err)
	}
}

func TestPersistsAcrossReopen(t *testing.T) { each(t, testPersists) }

func testPersists(t *testing.T, b backend) {
	if !b.durable {
		t.Skip("not durable")
	}
	ctx := context.Background()
	openKV := b.store(t)
	kv := openKV()
	r := open(t, kv)
	for _, id := range []string{"a1", "a2", "a3"} {
		if _, err := r.Devices.Create(ctx, device(id)); err != nil {
			t.Fatal(err)
		}
	}
	r.Devices.Delete(ctx, 3)
	tok, err := r.CreateToken(ctx, registry.Token{Meta: registry.Meta{CID: 1}, Info: "master"}, "")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	kv.Close()

	kv = openKV()
	defer kv.Close()
	r = open(t, kv)
	if n := r.Devices.Len(); n != 2 {
		t.Fatalf("%d devices after reopen", n)
	}
	d, err := r.Devices.Create(ctx, device("a4"))
	if err != nil || d.ID != 4 {
		t.Fatalf("id after reopen %d (%v), want 4: ids are never reused", d.ID, err)
	}
	if got, ok := r.Authenticate(tok.Key, time.Now()); !ok || got.ID != tok.ID || got.Key != "" {
		t.Fatalf("token after reopen: %+v %v", got, ok)
	}
	if _, ok := r.Authenticate("wrong-key-wrong-key", time.Now()); ok {
		t.Fatal("a wrong key authenticated")
	}
}

func TestTokenExpiry(t *testing.T) { each(t, testTokenExpiry) }

func testTokenExpiry(t *testing.T, b backend) {
	ctx := context.Background()
	r := open(t, b.store(t)())
	now := time.Unix(1_800_000_000, 0)
	tok, err := r.CreateToken(ctx, registry.Token{Info: "x", Expire: now.Unix() + 60}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Authenticate(tok.Key, now); !ok {
		t.Fatal("fresh token refused")
	}
	if _, ok := r.Authenticate(tok.Key, now.Add(time.Minute)); ok {
		t.Fatal("expired token accepted")
	}
	if _, err := r.CreateToken(ctx, registry.Token{Info: "short"}, "short"); err == nil {
		t.Fatal("a 5-character key was accepted")
	}
}

// Two registries on one KV act as two gateway nodes: each sees the other's
// changes, ids never collide, and an update from a stale copy is retried on
// the current one instead of overwriting it.
func TestTwoNodesShareAKV(t *testing.T) { each(t, testTwoNodes) }

func testTwoNodes(t *testing.T, be backend) {
	ctx := context.Background()
	openKV := be.store(t)
	a, b := open(t, openKV()), open(t, openKV())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := []*registry.Registry{a, b}[i%2]
			if _, err := n.Devices.Create(ctx, device("dev"+string(rune('a'+i)))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	eventually(t, "the nodes do not both see 20 devices", func() bool { return a.Devices.Len() == 20 && b.Devices.Len() == 20 })
	ids := map[int64]bool{}
	for _, d := range a.Devices.List() {
		if ids[d.ID] {
			t.Fatalf("id %d given twice", d.ID)
		}
		ids[d.ID] = true
	}
	// Concurrent metadata updates from both nodes: none is lost.
	wg = sync.WaitGroup{}
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := []*registry.Registry{a, b}[i%2]
			_, err := n.Devices.Update(ctx, 1, func(d *registry.Device) error {
				if d.Metadata == nil {
					d.Metadata = map[string]any{}
				}
				d.Metadata[string(rune('a'+i))] = i
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	eventually(t, "metadata lost in concurrent updates", func() bool {
		d, _ := b.Devices.Get(1)
		return len(d.Metadata) == 10
	})
}

func TestWatch(t *testing.T) { each(t, testWatch) }

func testWatch(t *testing.T, b backend) {
	ctx := context.Background()
	r := open(t, b.store(t)())
	// A change may reach the watcher from the KV's watch goroutine (when
	// it delivers the write before the writer's own call applies it).
	var mu sync.Mutex
	var got []string
	r.Devices.Watch(func(c registry.Change[registry.Device]) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case c.Old == nil:
			got = append(got, "create "+c.New.Configuration.Ident)
		case c.New == nil:
			got = append(got, "delete "+c.Old.Configuration.Ident)
		default:
			got = append(got, "update "+c.Old.Name+"→"+c.New.Name)
		}
	})
	r.Devices.Create(ctx, device("x"))
	r.Devices.Update(ctx, 1, func(d *registry.Device) error { d.Name = "y"; return nil })
	r.Devices.Delete(ctx, 1)
	want := []string{"create x", "update car x→y", "delete x"}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("watch saw %q", got)
	}
}

func TestIDBlocks(t *testing.T) { each(t, testIDBlocks) }

// Two registries on one KV reserving ids by blocks of 10: 50 devices made
// at once on both get distinct ids, the shared counter moves once per
// block, and a registry opened later starts past every id in use.
func testIDBlocks(t *testing.T, be backend) {
	ctx := context.Background()
	openKV := be.store(t)
	opts := &registry.Options{IDBlock: 10}
	var regs []*registry.Registry
	for range 2 {
		r, err := registry.Open(ctx, openKV(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		regs = append(regs, r)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := regs[i%2].Devices.Create(ctx, device(fmt.Sprintf("blk%03d", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	eventually(t, "both see 50 devices", func() bool { return regs[0].Devices.Len() == 50 && regs[1].Devices.Len() == 50 })
	ids := map[int64]bool{}
	var top int64
	for _, d := range regs[0].Devices.List() {
		if ids[d.ID] {
			t.Fatalf("id %d given twice", d.ID)
		}
		ids[d.ID] = true
		top = max(top, d.ID)
	}
	// 25 devices each: at most 3 blocks of 10 per registry.
	if top > 60 {
		t.Errorf("largest id %d: more than 3 blocks of 10 reserved per registry", top)
	}
	third, err := registry.Open(ctx, openKV(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(third.Close)
	d, err := third.Devices.Create(ctx, device("blk-after"))
	if err != nil {
		t.Fatal(err)
	}
	if ids[d.ID] || d.ID <= top {
		t.Fatalf("a new registry gave id %d; ids in use go up to %d", d.ID, top)
	}
}

func TestDeviceLookups(t *testing.T) { each(t, testDeviceLookups) }

// DeviceAccountByIdent and DeviceRetention follow every change of the
// devices, made here or by another node: a device's own retention, its
// ident renamed, deleted and registered again in another account; and a
// registry opened on the KV starts from what is there.
func testDeviceLookups(t *testing.T, b backend) {
	ctx := context.Background()
	openKV := b.store(t)
	r := open(t, openKV())
	other := open(t, openKV()) // another node on the same KV
	sub, err := r.Accounts.Create(ctx, registry.Account{Meta: registry.Meta{CID: registry.RootCID}, Name: "sub"})
	if err != nil {
		t.Fatal(err)
	}
	d := device("111")
	d.CID = sub.ID
	d1, err := r.Devices.Create(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := r.Devices.Create(ctx, device("222"))
	if err != nil {
		t.Fatal(err)
	}
	account := func(r *registry.Registry, ident string) string {
		id, cid, ok := r.DeviceAccountByIdent(ident)
		return fmt.Sprint(id, cid, ok)
	}
	retention := func(r *registry.Registry, ident string) string {
		ttl, rotate := r.DeviceRetention(ident)
		return fmt.Sprint(ttl, rotate)
	}
	// want checks both nodes (the other once its watch applied the change).
	want := func(what string, got func(*registry.Registry, string) string, ident, v string) {
		t.Helper()
		if g := got(r, ident); g != v {
			t.Fatalf("%s(%q) = %s, want %s", what, ident, g, v)
		}
		eventually(t, fmt.Sprintf("%s(%q) on the other node: %s, want %s", what, ident, got(other, ident), v),
			func() bool { return got(other, ident) == v })
	}
	update := func(id int64, fn func(d *registry.Device)) {
		t.Helper()
		if _, err := r.Devices.Update(ctx, id, func(d *registry.Device) error { fn(d); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	want("DeviceAccountByIdent", account, "111", fmt.Sprint(d1.ID, sub.ID, true))
	want("DeviceAccountByIdent", account, "222", fmt.Sprint(d2.ID, registry.RootCID, true))
	want("DeviceAccountByIdent", account, "999", "0 0 false")
	want("DeviceRetention", retention, "111", "0 0")

	update(d1.ID, func(d *registry.Device) { d.MessagesTTL = 60 })
	want("DeviceRetention", retention, "111", "60 0")
	want("DeviceRetention", retention, "222", "0 0")
	update(d2.ID, func(d *registry.Device) { d.MessagesRotate = 10 })
	update(d1.ID, func(d *registry.Device) { d.MessagesTTL = 0 })
	want("DeviceRetention", retention, "111", "0 0")
	want("DeviceRetention", retention, "222", "0 10")
	update(d2.ID, func(d *registry.Device) { d.MessagesTTL = -1 }) // still its own, changed
	want("DeviceRetention", retention, "222", "-1 10")

	// Renamed: the old ident is nobody's.
	update(d2.ID, func(d *registry.Device) { d.Configuration.Ident = "333" })
	want("DeviceRetention", retention, "222", "0 0")
	want("DeviceRetention", retention, "333", "-1 10")
	want("DeviceAccountByIdent", account, "222", "0 0 false")
	want("DeviceAccountByIdent", account, "333", fmt.Sprint(d2.ID, registry.RootCID, true))

	// Deleted, and registered again in another account.
	if _, err := r.Devices.Delete(ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	want("DeviceAccountByIdent", account, "111", "0 0 false")
	d3, err := r.Devices.Create(ctx, device("111"))
	if err != nil {
		t.Fatal(err)
	}
	want("DeviceAccountByIdent", account, "111", fmt.Sprint(d3.ID, registry.RootCID, true))

	// A registry opened now loads the devices with their retention.
	if g := retention(open(t, openKV()), "333"); g != "-1 10" {
		t.Fatalf("opened: DeviceRetention(333) = %s", g)
	}
	// The last device with a retention of its own deleted: none left.
	if _, err := r.Devices.Delete(ctx, d2.ID); err != nil {
		t.Fatal(err)
	}
	want("DeviceRetention", retention, "333", "0 0")
	if got, ok := r.DeviceByIdent("111"); !ok || got.ID != d3.ID || got.Name != "car 111" {
		t.Fatalf("DeviceByIdent = %+v, %v", got, ok)
	}
}
