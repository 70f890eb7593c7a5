package streamtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/streamtest"
)

// lagging is a sink in the shape of a broker's: it acknowledges a batch
// at once and its target gets the messages a little later, as MQTT and
// AMQP subscribers do. It refuses what the Collector says to refuse and
// fails while the Collector is down.
func lagging(t *testing.T) (stream.Sink, streamtest.Target) {
	c := &streamtest.Collector{}
	type delivery struct {
		at  time.Time
		got []streamtest.Received
	}
	queue := make(chan delivery, 1000)
	go func() { // in order, each batch 30 ms after its acknowledgement
		for d := range queue {
			time.Sleep(time.Until(d.at))
			c.Add(d.got...)
		}
	}()
	t.Cleanup(func() { close(queue) })
	sink := stream.SinkFunc(func(ctx context.Context, b *stream.Batch) error {
		if c.Down() {
			return errors.New("down")
		}
		var be *stream.BatchError
		var got []streamtest.Received
		for i := range b.Messages {
			m := b.Messages[i].Message
			if c.Refused(m) {
				if be == nil {
					be = stream.NewBatchError()
				}
				be.Failed(i, stream.Permanent(errors.New("refused")))
				continue
			}
			got = append(got, streamtest.Received{ID: b.Messages[i].ID(), Message: m.Clone()})
		}
		queue <- delivery{time.Now().Add(30 * time.Millisecond), got}
		if be != nil {
			return be
		}
		return nil
	})
	return sink, c
}

// The suite waits for a target that receives after the acknowledgement.
func TestRunWaitsForALaggingTarget(t *testing.T) {
	streamtest.Run(t, lagging, streamtest.Options{Timeout: 10 * time.Second})
}
