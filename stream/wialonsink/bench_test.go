package wialonsink_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gnssgate/gnssgate/stream/streamtest"
	"github.com/gnssgate/gnssgate/stream/wialonsink"
)

// BenchmarkWrite sends batches of 1,000 messages to a local receiver that
// decodes every packet with the codec and answers 0x11: encode, write,
// wait for the acknowledgements. msgs/s is per second of wall time and
// cpu-µs/msg the process's CPU per message, both ends in this process.
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
			meter := streamtest.StartMeter()
			for b.Loop() {
				if err := sink.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			meter.Report(b, len(batch.Messages))
		})
	}
}
