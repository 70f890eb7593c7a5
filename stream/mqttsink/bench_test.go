package mqttsink_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	pahoclient "github.com/eclipse/paho.golang/paho"
	"github.com/google/uuid"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/internal/testenv"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/mqttsink"
	"github.com/gnssgate/gnssgate/stream/streamtest"
)

// benchBatch is 1,000 messages of 100 devices as the stream hands them to
// a sink: JSON payloads and stable ids.
func benchBatch(b *testing.B) *stream.Batch {
	l := memory.New(nil).Log()
	var msgs []protocol.Message
	for i := 0; i < 10; i++ {
		for d := 0; d < 100; d++ {
			msgs = append(msgs, streamtest.Message(fmt.Sprintf("35630704244%04d", d), i))
		}
	}
	if _, err := l.Append(context.Background(), msgs); err != nil {
		b.Fatal(err)
	}
	var batch *stream.Batch
	capture := stream.SinkFunc(func(_ context.Context, bt *stream.Batch) error {
		batch = &stream.Batch{Stream: bt.Stream}
		for _, m := range bt.Messages {
			m.JSON = append([]byte(nil), m.JSON...)
			c := m.Message.Clone()
			m.Message = &c
			batch.Messages = append(batch.Messages, m)
		}
		return nil
	})
	s, err := stream.New(l, capture, &stream.Config{Name: "bench", StartAt: stream.StartOldest, MaxBatch: 1000, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	for {
		if next, _ := l.Cursor(ctx, s.Consumer()); next == 1001 {
			break
		}
		time.Sleep(time.Millisecond) // not a busy loop: it would blur instruction counts
	}
	cancel()
	<-done
	return batch
}

// BenchmarkPublish compares the sink (through broker/paho) with a plain
// paho.golang client publishing the same 1,000 messages — same topics (one
// per device), payloads, properties and QoS 1, the same number of
// publishes in flight — to the Mosquitto of GNSSGATE_MQTT_ADDR. Each
// iteration publishes the batch once through each, alternating which goes
// first, so that a machine whose load changes treats both alike; the
// metrics are each one's messages per second of its own wall time
// ("sink-msgs/s", "paho-msgs/s"), their ratio ("sink/paho"), the median
// of the iterations' ratios ("sink/paho-median"), the ratio of each
// side's fastest iteration ("sink/paho-best"), and the process's CPU
// time per message while each ran ("sink-cpu-µs/msg", "paho-cpu-µs/msg"),
// which other work on the machine inflates far less than wall time.
//
// Mosquitto grants 20 publishes in flight (its default Receive Maximum):
// beyond that both sides queue in paho's send quota.
func BenchmarkPublish(b *testing.B) {
	addr := testenv.MQTTAddr(b)
	batch := benchBatch(b)
	prefix := "gnssgate-bench/" + uuid.NewString() + "/"
	topics := make([]string, len(batch.Messages))
	for i := range batch.Messages {
		topics[i] = prefix + batch.Messages[i].Message.Ident()
	}
	ctx := context.Background()
	for _, window := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("inflight=%d", window), func(b *testing.B) {
			sink := benchSink(b, addr, prefix+"%ident%", window)
			plain := plainPublisher(b, addr, batch, topics, window)
			viaSink := func() {
				if err := sink.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			var sinkTime, pahoTime, sinkCPU, pahoCPU time.Duration
			timed := func(f func(), d, cpu *time.Duration) {
				start, c := time.Now(), cputime.Process()
				f()
				*d += time.Since(start)
				*cpu += cputime.Process() - c
			}
			n := 0
			var ratios []float64 // of each iteration
			sinkBest, pahoBest := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
			for b.Loop() {
				s0, p0 := sinkTime, pahoTime
				if n%2 == 0 {
					timed(viaSink, &sinkTime, &sinkCPU)
					timed(plain, &pahoTime, &pahoCPU)
				} else {
					timed(plain, &pahoTime, &pahoCPU)
					timed(viaSink, &sinkTime, &sinkCPU)
				}
				ratios = append(ratios, (pahoTime-p0).Seconds()/(sinkTime-s0).Seconds())
				sinkBest, pahoBest = min(sinkBest, sinkTime-s0), min(pahoBest, pahoTime-p0)
				n++
			}
			slices.Sort(ratios)
			msgs := float64(n * len(batch.Messages))
			b.ReportMetric(msgs/sinkTime.Seconds(), "sink-msgs/s")
			b.ReportMetric(msgs/pahoTime.Seconds(), "paho-msgs/s")
			b.ReportMetric(pahoTime.Seconds()/sinkTime.Seconds(), "sink/paho")
			// The median of the iterations' ratios: another session's burst
			// of work that hits one side of one iteration moves the total
			// ratio, not this.
			b.ReportMetric(ratios[len(ratios)/2], "sink/paho-median")
			// Each side's fastest batch: other work only ever adds time, so
			// this is the nearest a loaded machine comes to an idle one.
			b.ReportMetric(pahoBest.Seconds()/sinkBest.Seconds(), "sink/paho-best")
			if sinkCPU > 0 {
				b.ReportMetric(float64(sinkCPU.Nanoseconds())/msgs/1e3, "sink-cpu-µs/msg")
				b.ReportMetric(float64(pahoCPU.Nanoseconds())/msgs/1e3, "paho-cpu-µs/msg")
			}
		})
	}
}

// benchSink returns a sink with the given window publishing through its
// own broker/paho connection to addr, closed when b ends.
func benchSink(b *testing.B, addr, topic string, window int) *mqttsink.Sink {
	pub, err := paho.New(context.Background(), paho.Config{Server: addr, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pub.Close() })
	sink, err := mqttsink.New(&mqttsink.Config{Broker: pub, Topic: topic, MaxInFlight: window})
	if err != nil {
		b.Fatal(err)
	}
	return sink
}

// plainPublisher connects a plain paho.golang client to addr (a bare TCP
// connection, paho's own session store) and returns a function that
// publishes the batch through it as an application would: one message at
// a time for window 1, else a goroutine per message with at most window
// of them publishing. Same QoS, payload copy, properties and topics as
// the sink.
func plainPublisher(b *testing.B, addr string, batch *stream.Batch, topics []string, window int) func() {
	ctx := context.Background()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	c := pahoclient.NewClient(pahoclient.ClientConfig{Conn: conn})
	if _, err := c.Connect(ctx, &pahoclient.Connect{ClientID: "bench-" + uuid.NewString(), CleanStart: true, KeepAlive: 30}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Disconnect(&pahoclient.Disconnect{}) })
	publish := func(i int) error {
		m := &batch.Messages[i]
		format := byte(1)
		_, err := c.Publish(ctx, &pahoclient.Publish{Topic: topics[i], QoS: 1,
			Payload: append([]byte(nil), m.JSON...),
			Properties: &pahoclient.PublishProperties{ContentType: "application/json", PayloadFormat: &format,
				User: []pahoclient.UserProperty{{Key: "message_id", Value: m.ID()}, {Key: "stream", Value: batch.Stream}}}})
		return err
	}
	return func() {
		if window == 1 {
			for i := range batch.Messages {
				if err := publish(i); err != nil {
					b.Fatal(err)
				}
			}
			return
		}
		sem := make(chan struct{}, window)
		var wg sync.WaitGroup
		for i := range batch.Messages {
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				if err := publish(i); err != nil {
					b.Error(err)
				}
				<-sem
			}(i)
		}
		wg.Wait()
	}
}

// BenchmarkCPU splits the CPU a message costs, one publish at a time:
// the sink through broker/paho, broker/paho's Publish alone (the same
// messages, topics and properties), and a plain paho.golang client; then
// the sink and the plain client with 64 publishes in flight. CPU time is
// the whole process's, so the cases run one after the other.
func BenchmarkCPU(b *testing.B) {
	addr := testenv.MQTTAddr(b)
	batch := benchBatch(b)
	prefix := "gnssgate-bench/" + uuid.NewString() + "/"
	ctx := context.Background()
	viaSink := func(window int) func(b *testing.B) {
		return func(b *testing.B) {
			sink := benchSink(b, addr, prefix+"%ident%", window)
			b.ReportAllocs()
			meter := streamtest.StartMeter()
			for b.Loop() {
				if err := sink.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			meter.Report(b, len(batch.Messages))
		}
	}
	b.Run("sink", viaSink(1))
	b.Run("broker-paho", func(b *testing.B) {
		pub, err := paho.New(ctx, paho.Config{Server: addr, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		defer pub.Close()
		b.ReportAllocs()
		meter := streamtest.StartMeter()
		for b.Loop() {
			for i := range batch.Messages {
				m := &batch.Messages[i]
				err := pub.Publish(ctx, broker.Message{Topic: prefix + m.Message.Ident(), QoS: 1, Payload: m.JSON,
					Properties: broker.Properties{ContentType: "application/json", PayloadFormat: 1,
						UserProperties: []broker.UserProperty{{Key: "message_id", Value: m.ID()}, {Key: "stream", Value: batch.Stream}}}})
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		meter.Report(b, len(batch.Messages))
	})
	b.Run("paho", func(b *testing.B) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c := pahoclient.NewClient(pahoclient.ClientConfig{Conn: conn})
		if _, err := c.Connect(ctx, &pahoclient.Connect{ClientID: "bench-" + uuid.NewString(), CleanStart: true, KeepAlive: 30}); err != nil {
			b.Fatal(err)
		}
		defer c.Disconnect(&pahoclient.Disconnect{})
		b.ReportAllocs()
		meter := streamtest.StartMeter()
		for b.Loop() {
			for i := range batch.Messages {
				m := &batch.Messages[i]
				format := byte(1)
				_, err := c.Publish(ctx, &pahoclient.Publish{Topic: prefix + m.Message.Ident(), QoS: 1, Payload: m.JSON,
					Properties: &pahoclient.PublishProperties{ContentType: "application/json", PayloadFormat: &format,
						User: []pahoclient.UserProperty{{Key: "message_id", Value: m.ID()}, {Key: "stream", Value: batch.Stream}}}})
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		meter.Report(b, len(batch.Messages))
	})
	// Each side alone with 64 in flight (the sink's default), for CPU and
	// syscall counts without the other side's in the same process.
	topics := make([]string, len(batch.Messages))
	for i := range batch.Messages {
		topics[i] = prefix + batch.Messages[i].Message.Ident()
	}
	b.Run("sink-inflight=64", viaSink(64))
	b.Run("paho-inflight=64", func(b *testing.B) {
		plain := plainPublisher(b, addr, batch, topics, 64)
		b.ReportAllocs()
		meter := streamtest.StartMeter()
		for b.Loop() {
			plain()
		}
		meter.Report(b, len(batch.Messages))
	})
}
