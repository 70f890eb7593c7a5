package node

import (
	"context"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/store"
)

// retention follows the devices' messages_ttl and messages_rotate as they
// change, are renamed and deleted, though a fleet on the defaults costs
// the store no lookup.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	r, err := registry.Open(ctx, registry.NewMemoryKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := &Node{Registry: r}
	dev := func(ident string) registry.Device {
		return registry.Device{Meta: registry.Meta{CID: registry.RootCID}, Configuration: registry.DeviceConfig{Ident: ident}}
	}
	d1, err := r.Devices.Create(ctx, dev("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Devices.Create(ctx, dev("b")); err != nil {
		t.Fatal(err)
	}
	check := func(ident string, want store.Retention) {
		t.Helper()
		if got := n.retention(ident); got != want {
			t.Fatalf("retention(%q) = %+v, want %+v", ident, got, want)
		}
	}
	update := func(fn func(*registry.Device)) {
		t.Helper()
		if _, err := r.Devices.Update(ctx, d1.ID, func(d *registry.Device) error { fn(d); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	check("a", store.Retention{})
	check("nobody", store.Retention{})
	update(func(d *registry.Device) { d.MessagesTTL, d.MessagesRotate = 60, 10 })
	check("a", store.Retention{MaxAge: time.Minute, MaxBytes: 10 << 10})
	check("b", store.Retention{})
	update(func(d *registry.Device) { d.MessagesTTL = -1 })
	check("a", store.Retention{MaxAge: -1, MaxBytes: 10 << 10})
	update(func(d *registry.Device) { d.Configuration.Ident = "c" })
	check("a", store.Retention{})
	check("c", store.Retention{MaxAge: -1, MaxBytes: 10 << 10})
	if _, err := r.Devices.Delete(ctx, d1.ID); err != nil {
		t.Fatal(err)
	}
	check("c", store.Retention{})
}
