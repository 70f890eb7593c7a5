package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// idleArgs are the command-line flags of the idle scenario.
type idleArgs struct {
	n, pid, keepAlive, steps int
	sourceIPs, transport     string
	username                 string
	hold                     time.Duration
	subscribe                bool
}

func mainIdle(ctx context.Context, fs *flag.FlagSet, a idleArgs, base config, asJSON bool, stdout, stderr io.Writer) int {
	if !flagSet(fs, "n") {
		a.n = 1000
	}
	if err := checkTransport(a.transport); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if a.keepAlive < 0 || a.keepAlive > 65535 || a.hold < 0 || a.pid < 0 || a.steps < 1 {
		fmt.Fprintln(stderr, "mqttbench: -keepalive must be 0..65535, -hold and -pid not negative, -steps at least 1")
		return 2
	}
	cfg := idleConfig{Addr: base.Addr, Transport: a.transport, N: a.n, KeepAlive: uint16(a.keepAlive), Subscribe: a.subscribe,
		Username: a.username, Hold: a.hold, PID: a.pid, Steps: a.steps, Logger: base.Logger}
	if a.sourceIPs != "" {
		for _, s := range strings.Split(a.sourceIPs, ",") {
			ip := net.ParseIP(strings.TrimSpace(s))
			if ip == nil {
				fmt.Fprintf(stderr, "mqttbench: -source-ips: %q is not an IP address\n", s)
				return 2
			}
			cfg.SourceIPs = append(cfg.SourceIPs, ip)
		}
	}
	res, err := runIdle(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if asJSON {
		if err := json.NewEncoder(stdout).Encode(res); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	printIdle(stdout, res)
	return 0
}

func printIdle(w io.Writer, r idleResult) {
	sub := ""
	if r.Subscribed {
		sub = ", each subscribed to its own topic"
	}
	fmt.Fprintf(w, "idle: %d MQTT 3.1.1 clients to %s over %s, keep-alive %d s%s\n", r.Requested, r.Addr, r.Transport, r.KeepAlive, sub)
	fmt.Fprintf(w, "  connected %d in %.1fs, failed %d; after %.0fs held: %d alive, %d dropped by the broker\n",
		r.Connected, r.ConnectSec, r.Failed, r.HoldSec, r.Alive, r.Dropped)
	for _, cause := range sortedFailures(r.Failures) {
		fmt.Fprintf(w, "    %d failed: %s\n", r.Failures[cause], cause)
	}
	if r.Before == nil || r.After == nil {
		fmt.Fprintln(w, "  broker memory not sampled (set -pid)")
		return
	}
	fmt.Fprintf(w, "  broker pid %d RSS: before %s, after %s, peak %s, VmHWM %s\n", r.PID,
		mib(r.Before.RSS), mib(r.After.RSS), mib(r.PeakRSS), mib(r.After.HWM))
	if r.After.Smaps {
		fmt.Fprintf(w, "  smaps_rollup after: Pss %s, anonymous %s\n", mib(r.After.Pss), mib(r.After.Anon))
	}
	if r.BytesPerConn == nil || r.Extrapolated50k == nil {
		fmt.Fprintln(w, "  no connection alive at the end of the hold: no bytes per connection, no extrapolation")
		return
	}
	fmt.Fprintf(w, "  %.0f bytes of broker RSS per connection (kernel socket buffers not included)\n", *r.BytesPerConn)
	fmt.Fprintf(w, "  EXTRAPOLATION, not measured: 50,000 such clients ≈ %s RSS (%s 1 GiB)\n", mib(*r.Extrapolated50k), verdict(*r.Extrapolated50k))
	if r.MarginalBytesPerConn != nil {
		fmt.Fprintf(w, "  marginal cost over %d steps: %.0f bytes per connection; EXTRAPOLATION from %d connections: 50,000 ≈ %s RSS (%s 1 GiB)\n",
			len(r.Steps), *r.MarginalBytesPerConn, r.Steps[len(r.Steps)-1].Conns, mib(*r.ExtrapolatedMarginal50k), verdict(*r.ExtrapolatedMarginal50k))
	}
}

func verdict(rss int64) string {
	if rss > 1<<30 {
		return "over"
	}
	return "within"
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
