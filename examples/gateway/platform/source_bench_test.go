package platform

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"testing"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
)

// BenchmarkTelemetryPublish is the platform's side of one stored message
// of 20 changed parameters, of one of 5,000 devices, on the embedded
// broker: "stored" as before (every value a stored retained message, as
// with an external broker or clustered), "source" with the telemetry served
// by a TelemetrySource and Telemetry.Subscribed set, "under" as "source"
// with SubscribedUnder set too (one question per device); each with nobody
// subscribed and with a subscriber to every device's telemetry.
func BenchmarkTelemetryPublish(b *testing.B) {
	const devices = 5000
	idents := make([]string, devices)
	for i := range idents {
		idents[i] = "35630704" + strconv.Itoa(1000000+i)
	}
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("io.param%02d", i)
	}
	names[0], names[1], names[2] = "position.latitude", "position.longitude", "position.speed"
	for _, mode := range []string{"stored", "source", "under"} {
		for _, subscriber := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/subscriber=%v", mode, subscriber), func(b *testing.B) {
				cfg := &embedded.Config{Timestamps: true, Logger: slog.New(slog.DiscardHandler), MaxQueuedBytes: 1 << 30}
				if mode != "stored" {
					// The source is never asked here: no subscription
					// wants retained messages after the publishing starts.
					cfg.RetainedSource = &TelemetrySource{Telemetry: memory.New(nil).Telemetry(),
						Devices: func(func(int64, string) bool) {}, Ident: func(int64) (string, bool) { return "", false }}
				}
				srv := embedded.New(cfg)
				defer srv.Close()
				ctx := context.Background()
				if subscriber {
					sub, err := srv.Subscribe(ctx, "flespi/state/gw/devices/+/telemetry/#",
						broker.HandlerFunc(func(context.Context, broker.Message) error { return nil }))
					if err != nil {
						b.Fatal(err)
					}
					defer sub.Unsubscribe(ctx)
				}
				tel := &Telemetry{Broker: srv, DeviceID: func(ident string) (int64, bool) {
					n, err := strconv.ParseInt(ident[8:], 10, 64)
					return n - 1000000 + 1, err == nil
				}}
				if mode != "stored" {
					tel.Subscribed = srv.Subscribed
				}
				if mode == "under" {
					tel.SubscribedUnder = srv.SubscribedUnder
				}
				vals := make([]store.TelemetryValue, len(names))
				b.ReportAllocs()
				stop := cputime.PerOp(b)
				for i := 0; i < b.N; i++ {
					for j := range vals {
						vals[j] = store.TelemetryValue{Name: names[j], Value: protocol.Int(int64(i + j)), Time: float64(1700000000 + i)}
					}
					if err := tel.publish(ctx, idents[i%devices], vals); err != nil {
						b.Fatal(err)
					}
				}
				stop(b.N)
				b.ReportMetric(float64(srv.Stats().Retained), "retained")
			})
		}
	}
}
