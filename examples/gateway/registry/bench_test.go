package registry_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/internal/cputime"
)

// benchDevices opens a memory registry of n devices and returns their
// idents, in an order that does not follow the ids (as trackers report).
func benchDevices(b *testing.B, n int) (*registry.Registry, []string) {
	b.Helper()
	ctx := context.Background()
	r, err := registry.Open(ctx, registry.NewMemoryKV(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.Close)
	idents := make([]string, n)
	for i := range idents {
		idents[i] = strconv.Itoa(356307040000000 + i)
		if _, err := r.Devices.Create(ctx, registry.Device{Meta: registry.Meta{CID: registry.RootCID}, Name: idents[i], Configuration: registry.DeviceConfig{Ident: idents[i]}}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range idents { // a fixed shuffle
		j := (i * 7919) % n
		idents[i], idents[j] = idents[j], idents[i]
	}
	return r, idents
}

// BenchmarkDeviceByIdent is one lookup of one of 19,000 devices: the
// ingest hot path asks it once per batch.
func BenchmarkDeviceByIdent(b *testing.B) {
	r, idents := benchDevices(b, 19000)
	b.ReportAllocs()
	cpu := cputime.PerOp(b)
	defer func() { cpu(b.N) }()
	for i := 0; i < b.N; i++ {
		if _, ok := r.DeviceByIdent(idents[i%len(idents)]); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkMessageLookups is the registry lookups of one message of one
// of 19,000 devices of default retention, "old" as the gateway made them
// (ingest's DeviceByIdent, the store's retention twice and telemetry's id
// and account, each a DeviceByIdent but the id), "new" as it makes them
// (DeviceRetention, and DeviceAccountByIdent for telemetry). They happen
// at different times, with other devices' in between: each here is of
// another device, so that none finds the last one's cache lines.
func BenchmarkMessageLookups(b *testing.B) {
	r, idents := benchDevices(b, 19000)
	for _, mode := range []string{"old", "new"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cputime.PerOp(b)
			defer func() { cpu(b.N) }()
			for i := 0; i < b.N; i++ {
				ident := func(j int) string { return idents[(i+j*3803)%len(idents)] }
				if mode == "old" {
					r.DeviceByIdent(ident(0))
					r.DeviceByIdent(ident(1))
					r.DeviceByIdent(ident(2))
					r.DeviceIDByIdent(ident(3))
					r.DeviceByIdent(ident(4))
				} else {
					r.DeviceByIdent(ident(0))
					messageLookups(r, ident)
				}
			}
		})
	}
}

// messageLookups is the "new" lookups but ingest's.
func messageLookups(r *registry.Registry, ident func(int) string) {
	r.DeviceRetention(ident(1))
	r.DeviceRetention(ident(2))
	r.DeviceAccountByIdent(ident(3))
}
