package amqpsink_test

import (
	"context"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/gnssgate/gnssgate/stream/amqpsink"
	"github.com/gnssgate/gnssgate/stream/streamtest"
)

// BenchmarkPublish sends batches of 1,000 messages to a RabbitMQ queue
// with publisher confirms: the sink, and a plain amqp091-go channel doing
// the same (same bodies and properties, publish all, then wait for every
// confirm) in the same run. msgs/s is per second of wall time.
func BenchmarkPublish(b *testing.B) {
	r := newRabbit(b)
	q := r.queue(b, nil)
	bt := batch(1000)
	ctx := context.Background()
	purge := func() {
		if _, err := r.ch.QueuePurge(q, false); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("sink", func(b *testing.B) {
		sink, err := amqpsink.New(&amqpsink.Config{URL: r.url, RoutingKey: q})
		if err != nil {
			b.Fatal(err)
		}
		defer sink.Close()
		b.ReportAllocs()
		meter := streamtest.StartMeter()
		for b.Loop() {
			if err := sink.Write(ctx, bt); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			purge()
			b.StartTimer()
		}
		meter.Report(b, len(bt.Messages))
	})
	b.Run("amqp091", func(b *testing.B) {
		conn, err := amqp.Dial(r.url)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			b.Fatal(err)
		}
		if err := ch.Confirm(false); err != nil {
			b.Fatal(err)
		}
		returns := ch.NotifyReturn(make(chan amqp.Return, 1024))
		dcs := make([]*amqp.DeferredConfirmation, len(bt.Messages))
		b.ReportAllocs()
		meter := streamtest.StartMeter()
		for b.Loop() {
			for i := range bt.Messages {
				m := &bt.Messages[i]
				dcs[i], err = ch.PublishWithDeferredConfirmWithContext(ctx, "", q, true, false, amqp.Publishing{
					Headers: amqp.Table{"stream": bt.Stream}, ContentType: "application/json", DeliveryMode: amqp.Persistent,
					MessageId: m.ID(), Timestamp: m.Time, AppId: "gnssgate", Body: m.JSON})
				if err != nil {
					b.Fatal(err)
				}
			}
			for _, dc := range dcs {
				if !dc.Wait() {
					b.Fatal("nack")
				}
			}
			select {
			case <-returns:
				b.Fatal("returned")
			default:
			}
			b.StopTimer()
			purge()
			b.StartTimer()
		}
		meter.Report(b, len(bt.Messages))
	})
}
