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
	"github.com/gnssgate/gnssgate/stream"
)

// BenchmarkMessagesWrite is the platform message topics of one message
// (per op) of the root account, written in batches of 100 messages of
// different devices, on the embedded broker with one subscriber to every
// channel's topics (as bench-store.sh's watcher) and none to the device
// topics.
func BenchmarkMessagesWrite(b *testing.B) {
	srv := embedded.New(&embedded.Config{Timestamps: true, Logger: slog.New(slog.DiscardHandler), MaxQueuedBytes: 1 << 30})
	defer srv.Close()
	ctx := context.Background()
	sub, err := srv.Subscribe(ctx, "flespi/message/gw/channels/+/+", broker.HandlerFunc(func(context.Context, broker.Message) error { return nil }))
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe(ctx)
	acc := &Accounts{Namespace: func(cid int64) string {
		if cid == 1 {
			return ""
		}
		return "$accounts/" + strconv.FormatInt(cid, 10) + "/"
	}}
	p := &Messages{Broker: srv, Accounts: acc}
	const batch = 100
	msgs := make([]stream.Message, batch)
	for i := range msgs {
		var m protocol.Message
		m.SetString(protocol.ParamIdent, strconv.Itoa(356307040000000+i))
		for j := range 26 {
			m.SetInt(fmt.Sprintf("io.param%02d", j), int64(i+j))
		}
		m.SetFloat(protocol.ParamServerTimestamp, 1700000000.25+float64(i))
		m.SetInt(protocol.ParamChannelID, 3)
		m.SetInt(protocol.ParamDeviceID, int64(i+1))
		m.SetInt(protocol.ParamCID, 1)
		msgs[i] = stream.Message{Seq: uint64(i + 1), Message: &m, JSON: m.AppendJSON(nil)}
	}
	b.ReportAllocs()
	stop := cputime.PerOp(b)
	for i := 0; i < b.N; i += batch {
		n := min(batch, b.N-i)
		if err := p.Write(ctx, &stream.Batch{Messages: msgs[:n]}); err != nil {
			b.Fatal(err)
		}
	}
	stop(b.N)
}
