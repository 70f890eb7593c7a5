package ingest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

// nullLog is a log that keeps nothing: the benchmark measures ingest's
// own work, not the store's.
type nullLog struct{ store.Log }

func (nullLog) Append(_ context.Context, msgs []protocol.Message) (uint64, error) { return 0, nil }

// BenchmarkAppend is one batch of one message of 30 parameters, as a
// Teltonika tracker sends at one message a second, of one of 19,000
// registered devices, reusing its storage as a connection does. The op
// includes filling the message (30 Adds, the same before and after).
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	reg, err := registry.Open(ctx, registry.NewMemoryKV(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	const devices = 19000
	idents := make([]string, devices)
	for i := range idents {
		idents[i] = strconv.Itoa(356307040000000 + (i*7919)%devices)
		if _, err := reg.Devices.Create(ctx, registry.Device{Meta: registry.Meta{CID: registry.RootCID},
			Name: "car " + idents[i], Configuration: registry.DeviceConfig{Ident: idents[i]}}); err != nil {
			b.Fatal(err)
		}
	}
	in := &Ingest{Log: nullLog{}, Registry: reg, Active: func(string, float64) {}}
	ch := registry.Channel{Meta: registry.Meta{ID: 3, CID: registry.RootCID}, ProtocolName: "teltonika"}
	msgs := make([]protocol.Message, 1)
	names := make([]string, 26)
	for j := range names {
		names[j] = fmt.Sprintf("io.param%02d", j)
	}
	fill := func(m *protocol.Message, ident string, i int) {
		m.Reset()
		m.Add(protocol.ParamIdent, protocol.String(ident))
		for j, name := range names {
			m.Add(name, protocol.Int(int64(i+j)))
		}
		m.Add(protocol.ParamTimestamp, protocol.Float(float64(1700000000+i)))
		m.Add(protocol.ParamServerTimestamp, protocol.Float(float64(1700000000+i)))
		m.Add(protocol.ParamChannelID, protocol.Int(3))
	}
	fill(&msgs[0], idents[0], 0)
	if err := in.append(ctx, ch, nil, msgs); err != nil { // room for ingest's parameters
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cputime.PerOp(b)
	for i := 0; i < b.N; i++ {
		fill(&msgs[0], idents[i%devices], i)
		if err := in.append(ctx, ch, nil, msgs); err != nil {
			b.Fatal(err)
		}
	}
	cpu(b.N)
}
