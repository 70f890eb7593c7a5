package wialonsink_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gnssgate/gnssgate/stream/wialonsink"
)

// BenchmarkWrite sends batches of 1,000 messages to a local receiver that
// decodes every packet with the codec and answers 0x11: encode, write,
// wait for the acknowledgements. msgs/s is per second of wall time, both
// ends on this machine.
func BenchmarkWrite(b *testing.B) {
	for _, window := range []int{1, 64} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			rc := newReceiver(b, nil)
			rc.discard = true
			sink, err := wialonsink.New(&wialonsink.Config{Addr: rc.addr(), Window: window})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			batch := batchOf(1000)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := sink.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch.Messages))/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Messages)), "ns/msg")
		})
	}
}
