package registry_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

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

func TestDevicesCRUDAndUniqueIdent(t *testing.T) {
	ctx := context.Background()
	r := open(t, registry.NewMemoryKV())
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

func TestPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kv, err := registry.OpenPebbleKV(dir)
	if err != nil {
		t.Fatal(err)
	}
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

	kv, err = registry.OpenPebbleKV(dir)
	if err != nil {
		t.Fatal(err)
	}
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

func TestTokenExpiry(t *testing.T) {
	ctx := context.Background()
	r := open(t, registry.NewMemoryKV())
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
func TestTwoNodesShareAKV(t *testing.T) {
	ctx := context.Background()
	kv := registry.NewMemoryKV()
	a, b := open(t, kv), open(t, kv)
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
	if a.Devices.Len() != 20 || b.Devices.Len() != 20 {
		t.Fatalf("nodes see %d and %d devices", a.Devices.Len(), b.Devices.Len())
	}
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
	d, _ := b.Devices.Get(1)
	if len(d.Metadata) != 10 {
		t.Fatalf("metadata after concurrent updates: %v", d.Metadata)
	}
}

func TestWatch(t *testing.T) {
	ctx := context.Background()
	r := open(t, registry.NewMemoryKV())
	var got []string
	r.Devices.Watch(func(c registry.Change[registry.Device]) {
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
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("watch saw %q", got)
	}
}
