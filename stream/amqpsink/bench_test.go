package amqpsink_test

import (
	"context"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/gnssgate/gnssgate/stream/amqpsink"
	"github.com/gnssgate/gnssgate/stream/streamtest"
)

// BenchmarkPublish sends batches of 1,000 messages to a RabbitMQ queue
// with publisher confirms: through the sink, and through a plain
// amqp091-go channel doing the same (same bodies and properties, publish
// all, then wait for every confirm). Each iteration sends the batch once
// each way, alternating which goes first, so that a machine whose load
// changes treats both alike; the metrics are each one's messages per
// second of its own wall time and their ratio.
func BenchmarkPublish(b *testing.B) {
	r := newRabbit(b)
	q := r.queue(b, nil)
	bt := batch(1000)
	ctx := context.Background()
	sink, err := amqpsink.New(&amqpsink.Config{URL: r.url, RoutingKey: q})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
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
	plain := func() {
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
	}
	viaSink := func() {
		if err := sink.Write(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	var sinkTime, plainTime time.Duration
	timed := func(f func(), d *time.Duration) {
		start := time.Now()
		f()
		*d += time.Since(start)
		b.StopTimer()
		if _, err := r.ch.QueuePurge(q, false); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := 0
	for b.Loop() {
		if n%2 == 0 {
			timed(viaSink, &sinkTime)
			timed(plain, &plainTime)
		} else {
			timed(plain, &plainTime)
			timed(viaSink, &sinkTime)
		}
		n++
	}
	msgs := float64(n * len(bt.Messages))
	b.ReportMetric(msgs/sinkTime.Seconds(), "sink-msgs/s")
	b.ReportMetric(msgs/plainTime.Seconds(), "amqp091-msgs/s")
	b.ReportMetric(plainTime.Seconds()/sinkTime.Seconds(), "sink/amqp091")
}

// BenchmarkSinkCPU is the sink's CPU per message (the whole process's:
// run it alone).
func BenchmarkSinkCPU(b *testing.B) {
	r := newRabbit(b)
	q := r.queue(b, nil)
	bt := batch(1000)
	sink, err := amqpsink.New(&amqpsink.Config{URL: r.url, RoutingKey: q})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	b.ReportAllocs()
	meter := streamtest.StartMeter()
	for b.Loop() {
		if err := sink.Write(context.Background(), bt); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := r.ch.QueuePurge(q, false); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	meter.Report(b, len(bt.Messages))
}
