package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// idleConfig is one run of the idle scenario: N connected clients that do
// nothing but keep their connection alive, while the broker's memory is
// sampled.
type idleConfig struct {
	Addr        string        // host:port of the MQTT broker
	Transport   string        // "tcp" (the zero value), "tls" (certificate not verified) or "ws" (WebSocket, path /mqtt)
	N           int           // connections to open
	SourceIPs   []net.IP      // local addresses to dial from, round-robin; nil = the kernel's choice
	KeepAlive   uint16        // seconds, announced in CONNECT and honoured with PINGREQ; 0 = none
	Subscribe   bool          // subscribe each client to a topic of its own
	Username    string        // sent in CONNECT when set (a gateway's token)
	Hold        time.Duration // how long to hold the connections after the last one connected
	PID         int           // broker process whose memory is sampled; 0 = not sampled
	Concurrency int           // connections being set up at once; 0 = 64
	Steps       int           // connect in this many equal batches, sampling RSS after each; 0 = 1
	StepSettle  time.Duration // pause between a batch and its RSS sample; 0 = 1 s
	Logger      *slog.Logger
}

// idleResult is what an idle run measured. Memory figures are the broker
// process's, from /proc, in bytes.
type idleResult struct {
	Scenario   string         `json:"scenario"`
	Addr       string         `json:"addr"`
	Transport  string         `json:"transport"`
	Requested  int            `json:"requested"`
	Connected  int            `json:"connected"`  // CONNACK 0 (and SUBACK granted, with -subscribe)
	Failed     int            `json:"failed"`     // Requested - Connected
	Failures   map[string]int `json:"failures"`   // failed connections by cause
	Alive      int            `json:"alive"`      // still open at the end of the hold
	Dropped    int            `json:"dropped"`    // closed by the broker during the hold
	Subscribed bool           `json:"subscribed"` // one unique topic per client
	KeepAlive  uint16         `json:"keepalive_s"`
	SourceIPs  []string       `json:"source_ips,omitempty"`
	ConnectSec float64        `json:"connect_seconds"` // time spent connecting, pauses between steps excluded
	HoldSec    float64        `json:"hold_seconds"`

	PID     int        `json:"pid"`                      // 0: memory was not sampled
	Before  *memSample `json:"before,omitempty"`         // before the first connection
	After   *memSample `json:"after,omitempty"`          // at the end of the hold
	PeakRSS int64      `json:"peak_rss_bytes,omitempty"` // largest VmRSS sampled while connected
	// BytesPerConn is (After.RSS - Before.RSS) / Alive: what one idle
	// connection costs the broker in resident memory, kernel socket
	// buffers not included.
	// Nil when memory was not sampled or no connection was alive.
	BytesPerConn *float64 `json:"bytes_per_conn,omitempty"`
	// Extrapolated50k is Before.RSS + 50,000 × BytesPerConn: a linear
	// extrapolation, not a measurement.
	Extrapolated50k *int64 `json:"extrapolated_rss_50000_bytes,omitempty"`
	// Steps are the RSS samples after each connection batch (-steps > 1).
	Steps []idleStep `json:"steps,omitempty"`
	// MarginalBytesPerConn is the least-squares slope of RSS over Steps:
	// the cost of one more connection once the broker has used up memory it
	// had freed before the run.
	MarginalBytesPerConn *float64 `json:"marginal_bytes_per_conn,omitempty"`
	// ExtrapolatedMarginal50k is the last step's RSS plus the remaining
	// clients up to 50,000 at the marginal cost: also an extrapolation.
	ExtrapolatedMarginal50k *int64 `json:"extrapolated_marginal_rss_50000_bytes,omitempty"`
}

// idleStep is the broker's RSS with Conns connections open.
type idleStep struct {
	Conns int   `json:"conns"`
	RSS   int64 `json:"rss_bytes"`
}

// fdReserve is what the load generator keeps open besides its connections
// (stdio, the poller, /proc reads).
const fdReserve = 64

// runIdle opens cfg.N connections, holds them for cfg.Hold and reports the
// broker's memory before and after.
func runIdle(ctx context.Context, cfg idleConfig) (idleResult, error) {
	if cfg.N < 1 {
		return idleResult{}, errors.New("mqttbench: idle needs at least one connection")
	}
	if err := checkFDs(cfg.N); err != nil {
		return idleResult{}, err
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.StepSettle <= 0 {
		cfg.StepSettle = time.Second
	}
	if err := checkTransport(cfg.Transport); err != nil {
		return idleResult{}, err
	}
	transport := cfg.Transport
	if transport == "" {
		transport = "tcp"
	}
	res := idleResult{Scenario: "idle", Addr: cfg.Addr, Transport: transport, Requested: cfg.N, Subscribed: cfg.Subscribe,
		KeepAlive: cfg.KeepAlive, PID: cfg.PID, Failures: map[string]int{}}
	for _, ip := range cfg.SourceIPs {
		res.SourceIPs = append(res.SourceIPs, ip.String())
	}
	sample := func() *memSample {
		if cfg.PID == 0 {
			return nil
		}
		m, err := readMem(cfg.PID)
		if err != nil {
			cfg.Logger.Warn("memory sample", "err", err)
			return nil
		}
		return &m
	}
	if cfg.PID != 0 {
		if _, err := readMem(cfg.PID); err != nil {
			return res, err
		}
	}
	res.Before = sample()

	runID := uuid.NewString()[:8]
	conns := make([]net.Conn, cfg.N)
	errs := make([]error, cfg.N)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Write([]byte{pktDisconnect, 0}) // a polite goodbye; errors do not matter now
				c.Close()
			}
		}
	}()
	// Ping from the first connection on, as a real client would: opening
	// thousands may take longer than the keep-alive.
	var pings pinger
	if cfg.KeepAlive > 0 {
		pctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			pings.run(pctx, time.Duration(cfg.KeepAlive)*time.Second*3/4)
		}()
		defer wg.Wait() // before the connections close
		defer stop()
	}

	start := time.Now()
	var settled time.Duration // pauses between steps, not connecting
	steps := min(max(cfg.Steps, 1), cfg.N)
	for k := 1; k <= steps && ctx.Err() == nil; k++ {
		from, to := cfg.N*(k-1)/steps, cfg.N*k/steps
		connectRange(ctx, cfg, runID, conns[from:to], errs[from:to], from, &pings)
		cfg.Logger.Info("connecting", "done", to, "of", cfg.N)
		if steps == 1 || cfg.PID == 0 {
			continue
		}
		// Let the broker finish its per-connection work before sampling.
		settleStart := time.Now()
		select {
		case <-time.After(cfg.StepSettle):
		case <-ctx.Done():
		}
		settled += time.Since(settleStart)
		if m := sample(); m != nil {
			open := 0
			for _, c := range conns[:to] {
				if c != nil {
					open++
				}
			}
			res.Steps = append(res.Steps, idleStep{Conns: open, RSS: m.RSS})
		}
	}
	res.ConnectSec = (time.Since(start) - settled).Seconds()
	var live []net.Conn
	for i, c := range conns {
		switch {
		case c != nil:
			live = append(live, c)
		case errs[i] != nil:
			res.Failures[failureCause(errs[i])]++
		default:
			res.Failures["not attempted (interrupted)"]++
		}
	}
	if per, ok := slope(res.Steps); ok {
		last := res.Steps[len(res.Steps)-1]
		ext := last.RSS + int64(per*float64(50000-last.Conns))
		res.MarginalBytesPerConn, res.ExtrapolatedMarginal50k = &per, &ext
	}
	res.Connected = len(live)
	res.Failed = cfg.N - res.Connected
	cfg.Logger.Info("connected", "connected", res.Connected, "failed", res.Failed, "seconds", res.ConnectSec)

	// Hold: sample memory every second and ping as a real client would.
	holdStart := time.Now()
	hold := time.NewTimer(cfg.Hold)
	defer hold.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	notePeak := func(m *memSample) {
		if m != nil {
			res.PeakRSS = max(res.PeakRSS, m.RSS)
		}
	}
	notePeak(sample())
wait:
	for {
		select {
		case <-hold.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-tick.C:
			notePeak(sample())
		}
	}
	res.HoldSec = time.Since(holdStart).Seconds()
	res.After = sample()
	notePeak(res.After)
	res.Alive = countAlive(live)
	res.Dropped = res.Connected - res.Alive
	if res.Before != nil && res.After != nil && res.Alive > 0 {
		per := float64(res.After.RSS-res.Before.RSS) / float64(res.Alive)
		ext := res.Before.RSS + int64(per*50000)
		res.BytesPerConn, res.Extrapolated50k = &per, &ext
	}
	return res, nil
}

// connectRange fills conns and errs, connections first to first+len(conns)-1,
// cfg.Concurrency at a time.
func connectRange(ctx context.Context, cfg idleConfig, runID string, conns []net.Conn, errs []error, first int, pings *pinger) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(cfg.Concurrency, len(conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) || ctx.Err() != nil {
					return
				}
				conns[i], errs[i] = idleConnect(ctx, cfg, first+i, runID)
				if conns[i] != nil {
					pings.add(conns[i])
				}
			}
		}()
	}
	wg.Wait()
}

// slope fits RSS = a + b·conns by least squares and returns b, the
// marginal cost of a connection. Unlike the before/after difference it does
// not count heap the broker had freed earlier and reuses first.
func slope(steps []idleStep) (float64, bool) {
	if len(steps) < 2 {
		return 0, false
	}
	var sx, sy, sxx, sxy float64
	for _, s := range steps {
		x, y := float64(s.Conns), float64(s.RSS)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(steps))
	d := n*sxx - sx*sx
	if d == 0 {
		return 0, false
	}
	return (n*sxy - sx*sy) / d, true
}

// idleConnect opens connection i: TCP, CONNECT, CONNACK and, with
// cfg.Subscribe, SUBSCRIBE and SUBACK.
func idleConnect(ctx context.Context, cfg idleConfig, i int, runID string) (net.Conn, error) {
	// No TCP keep-alive probes: an idle MQTT client relies on PINGREQ.
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: -1}
	if n := len(cfg.SourceIPs); n > 0 {
		d.LocalAddr = &net.TCPAddr{IP: cfg.SourceIPs[i%n]}
	}
	c, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if c, err = wrapTransport(ctx, cfg, c); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			c.Close()
		}
	}()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	id := "idle-" + runID + "-" + strconv.Itoa(i)
	if _, err := c.Write(connectPacket(id, cfg.KeepAlive, cfg.Username)); err != nil {
		return nil, err
	}
	h, body, err := readPacket(c, maxIdlePacket)
	if err != nil {
		return nil, err
	}
	if err := connackError(h, body); err != nil {
		return nil, err
	}
	if cfg.Subscribe {
		if _, err := c.Write(subscribePacket(1, "bench/"+runID+"/idle/"+strconv.Itoa(i))); err != nil {
			return nil, err
		}
		h, body, err := readPacket(c, maxIdlePacket)
		if err != nil {
			return nil, err
		}
		if err := subackError(h, body, 1); err != nil {
			return nil, err
		}
	}
	c.SetDeadline(time.Time{})
	ok = true
	return c, nil
}

// pinger sends PINGREQ on every connection added to it, every interval.
type pinger struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (p *pinger) add(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *pinger) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.mu.Lock()
			conns := p.conns // appends leave this prefix alone
			p.mu.Unlock()
			pingAll(conns)
		}
	}
}

// pingAll sends PINGREQ on every connection. The PINGRESPs stay in the
// socket buffers until countAlive drains them.
func pingAll(conns []net.Conn) {
	for _, c := range conns {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write([]byte{pktPingreq, 0}) // a failure shows up in countAlive
	}
}

// countAlive counts the connections the broker has not closed: a read
// that times out finds an open, quiet connection; EOF or a reset finds a
// closed one. Pending PINGRESPs are read and dropped.
func countAlive(conns []net.Conn) int {
	var alive atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(256, len(conns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 256)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(conns) {
					return
				}
				c := conns[i]
				c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
				for {
					_, err := c.Read(b)
					if err == nil {
						continue
					}
					if errors.Is(err, os.ErrDeadlineExceeded) {
						alive.Add(1)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	return int(alive.Load())
}

// failureCause names why a connection failed, without the addresses and
// client ids that make every error string unique.
func failureCause(err error) string {
	var refused *refusedError
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset by the broker"
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return "no free local port (add -source-ips)"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files (load generator)"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed by the broker before CONNACK/SUBACK"
	}
	return err.Error()
}

// checkFDs refuses a run that cannot fit the process's open-file limit:
// every connection is a file descriptor on this side too.
func checkFDs(n int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return nil // unknown: let the dials report it
	}
	if uint64(n)+fdReserve > lim.Cur {
		return fmt.Errorf("mqttbench: -n %d needs about %d open files but this process may open %d (ulimit -n): "+
			"lower -n or run several mqttbench processes, each with its own -n, against the same broker", n, n+fdReserve, lim.Cur)
	}
	return nil
}

// sortedFailures lists failure causes, most frequent first.
func sortedFailures(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
