package streamtest

import (
	"context"
	"testing"
	"time"

	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/stream"
)

// Deliver runs a stream of msgs through sink, from a fresh in-memory log,
// until every message is committed (accepted or taken by the reject
// policy), then stops it and returns it for its Stats. It is the helper a
// sink's fault tests share: cfg's zero fields get a Name, StartOldest and
// a 1–20 ms retry backoff; it fails t after 30 s.
func Deliver(t testing.TB, sink stream.Sink, msgs []protocol.Message, cfg stream.Config) *stream.Stream {
	t.Helper()
	l := memory.New(nil).Log()
	if _, err := l.Append(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}
	if cfg.Name == "" {
		cfg.Name = "t"
	}
	cfg.StartAt = stream.StartOldest
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = time.Millisecond, 20*time.Millisecond
	}
	s, err := stream.New(l, sink, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if next, _ := l.Cursor(context.Background(), s.Consumer()); next == uint64(len(msgs))+1 {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages not delivered in 30 s: %+v", len(msgs), s.Stats())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Meter measures a sink benchmark: messages per second of wall time, and
// the CPU time per message of the whole process (user and system; where
// the platform reports it), which a busy machine disturbs less.
type Meter struct{ cpu time.Duration }

// StartMeter starts measuring; call it right before the benchmark loop.
func StartMeter() Meter { return Meter{cpu: cputime.Process()} }

// Report adds "msgs/s" and "cpu-µs/msg" to b for perOp messages per
// iteration.
func (m Meter) Report(b *testing.B, perOp int) {
	n := float64(b.N * perOp)
	b.ReportMetric(n/b.Elapsed().Seconds(), "msgs/s")
	if cpu := cputime.Process(); cpu > 0 {
		b.ReportMetric(float64((cpu-m.cpu).Microseconds())/n, "cpu-µs/msg")
	}
}
