package fleet

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/examples/internal/fdlimit"
	"github.com/gnssgate/gnssgate/examples/internal/latency"
)

// fdReserve is what a process needs besides its devices' sockets.
const fdReserve = 32

// Run simulates the fleet cfg describes against a server and returns what
// happened. Each device has its own connection; over TCP on Linux the
// devices are the state of a few event loops (see loop_linux.go), elsewhere
// each runs in its own goroutine.
// Run returns an error only for a Config it cannot run ([ErrConfig],
// [ErrFileLimit]) or, with the summary so far, when ctx ends first: then
// every device stops at once and what it had in flight counts as never
// acknowledged. A run that did not deliver everything is not an error:
// see [Summary.OK].
func Run(ctx context.Context, cfg Config) (Summary, error) {
	c, err := cfg.resolve()
	if err != nil {
		return Summary{}, err
	}
	if limit, err := fdlimit.Current(); err == nil && uint64(c.Devices)+fdReserve > limit {
		return Summary{}, fmt.Errorf("%w: %d devices need about %d open files, this process may open %d (ulimit -n); run several simulator processes",
			ErrFileLimit, c.Devices, c.Devices+fdReserve, limit)
	}
	s := newSim(c)
	t0 := time.Now()
	s.begin = t0.Add(10 * time.Millisecond)
	s.rampEnd = s.begin.Add(c.Ramp)
	s.end = s.rampEnd.Add(c.Duration)
	s.giveUp = s.end.Add(c.Drain)

	done := make(chan struct{})
	var pwg sync.WaitGroup
	if c.Progress != nil {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			s.progress(done, t0)
		}()
	}
	if !s.runLoops(ctx) {
		var wg sync.WaitGroup
		for i := range c.Devices {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.runDevice(ctx, i)
			}()
		}
		wg.Wait()
	}
	close(done)
	pwg.Wait()
	sum := s.summary(time.Since(t0))
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("fleet: interrupted: %w", err)
	}
	return sum, nil
}

// sim is one run's shared state: configuration, counters, latencies.
type sim struct {
	cfg                         *resolved
	begin, rampEnd, end, giveUp time.Time

	generated, sent, acked, windowAcked atomic.Int64
	packets, packetsAcked, resent, late atomic.Int64
	reconnects, connected, errs         atomic.Int64
	lat                                 latency.Histogram

	mu          sync.Mutex
	errorKinds  map[string]int64
	firstErrors map[string]string
}

func newSim(c *resolved) *sim {
	return &sim{cfg: c, errorKinds: map[string]int64{}, firstErrors: map[string]string{}}
}

// fail counts an error of a kind and logs it.
func (s *sim) fail(dev int, kind string, err error) {
	s.errs.Add(1)
	s.mu.Lock()
	s.errorKinds[kind]++
	if _, ok := s.firstErrors[kind]; !ok {
		s.firstErrors[kind] = fmt.Sprintf("device %d: %v", dev, err)
	}
	s.mu.Unlock()
	s.cfg.logger.Debug("fleet: device error", "device", dev, "kind", kind, "err", err)
}

func (s *sim) summary(elapsed time.Duration) Summary {
	c := s.cfg
	snap := s.lat.Snapshot()
	sum := Summary{
		Protocol:         c.Protocol,
		Transport:        c.transport(),
		Addr:             c.Addr,
		Devices:          c.Devices,
		Rate:             c.Rate,
		Records:          c.Records,
		Connected:        int(s.connected.Load()),
		Seconds:          elapsed.Seconds(),
		Generated:        s.generated.Load(),
		Sent:             s.sent.Load(),
		Acked:            s.acked.Load(),
		Packets:          s.packets.Load(),
		PacketsAcked:     s.packetsAcked.Load(),
		Resent:           s.resent.Load(),
		Late:             s.late.Load(),
		Reconnects:       s.reconnects.Load(),
		Errors:           s.errs.Load(),
		TargetMsgsPerSec: float64(c.Devices) * c.Rate * float64(c.Records),
		AckP50:           snap.Quantile(0.5),
		AckP99:           snap.Quantile(0.99),
		AckMax:           snap.Max(),
	}
	sum.Unacked = sum.Generated - sum.Acked
	if c.Duration > 0 {
		sum.MsgsPerSec = float64(s.windowAcked.Load()) / c.Duration.Seconds()
	}
	s.mu.Lock()
	if len(s.errorKinds) > 0 {
		sum.ErrorKinds, sum.FirstErrors = map[string]int64{}, map[string]string{}
		for k, v := range s.errorKinds {
			sum.ErrorKinds[k] = v
			sum.FirstErrors[k] = s.firstErrors[k]
		}
	}
	s.mu.Unlock()
	return sum
}

// progress writes a line every interval until done: devices connected,
// records sent and acknowledged, the last interval's acknowledged records
// per second and p99 ACK latency, errors.
func (s *sim) progress(done <-chan struct{}, t0 time.Time) {
	w := s.cfg.Progress
	inPlace := isTerminal(w)
	tick := time.NewTicker(s.cfg.interval)
	defer tick.Stop()
	prev, prevAcked, prevAt := s.lat.Snapshot(), int64(0), t0
	for {
		var now time.Time
		select {
		case <-done:
			if inPlace {
				io.WriteString(w, "\n")
			}
			return
		case now = <-tick.C:
		}
		snap, acked := s.lat.Snapshot(), s.acked.Load()
		rate := float64(acked-prevAcked) / now.Sub(prevAt).Seconds()
		line := fmt.Sprintf("%6.0fs  devices %d/%d  sent %d  acked %d  %.0f msgs/s  ack p99 %s  errors %d",
			now.Sub(t0).Seconds(), s.connected.Load(), s.cfg.Devices, s.sent.Load(), acked, rate,
			fmtLatency(snap.Sub(prev).Quantile(0.99)), s.errs.Load())
		if inPlace {
			fmt.Fprintf(w, "\r%s\033[K", line)
		} else {
			fmt.Fprintln(w, line)
		}
		prev, prevAcked, prevAt = snap, acked, now
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
