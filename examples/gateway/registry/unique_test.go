package registry_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

// An ident is claimed once, however the creations race: on one registry
// (a claim made but not yet written is live), across two registries on
// one KV (an object the other has not seen yet is live), and a claim a
// crash left behind (no object) is taken over.
func TestUniqueClaims(t *testing.T) {
	ctx := context.Background()
	dev := func(ident string) registry.Device {
		return registry.Device{Meta: registry.Meta{CID: registry.RootCID}, Configuration: registry.DeviceConfig{Ident: ident}}
	}

	t.Run("concurrent creations", func(t *testing.T) {
		kv := registry.NewMemoryKV()
		a, err := registry.Open(ctx, kv, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := registry.Open(ctx, kv, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		for round := range 20 {
			ident := "racer" + string(rune('a'+round))
			var wg sync.WaitGroup
			var mu sync.Mutex
			made := 0
			for i := range 8 {
				reg := a
				if i%2 == 1 {
					reg = b
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := reg.Devices.Create(ctx, dev(ident))
					switch {
					case err == nil:
						mu.Lock()
						made++
						mu.Unlock()
					case !errors.Is(err, registry.ErrConflict):
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if made != 1 {
				t.Fatalf("%s: %d devices created, want 1", ident, made)
			}
		}
	})

	t.Run("left behind", func(t *testing.T) {
		kv := registry.NewMemoryKV()
		// A claim of ident "A" by device 99, which a crash kept from
		// being written.
		if _, err := kv.Put(ctx, "idx/devices/ident=A", []byte("99"), 0); err != nil {
			t.Fatal(err)
		}
		r, err := registry.Open(ctx, kv, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		d, err := r.Devices.Create(ctx, dev("A"))
		if err != nil {
			t.Fatalf("a claim left behind blocks the ident: %v", err)
		}
		if got, ok := r.DeviceByIdent("A"); !ok || got.ID != d.ID {
			t.Errorf("DeviceByIdent = %+v, %v", got, ok)
		}
		if _, err := r.Devices.Create(ctx, dev("A")); !errors.Is(err, registry.ErrConflict) {
			t.Errorf("second device with ident A: %v, want ErrConflict", err)
		}
	})
}
