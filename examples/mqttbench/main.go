// Command mqttbench is a load generator for MQTT brokers, after the
// scenarios of the Open MQTT Benchmark Suite: point-to-point (N publishers,
// each to its own subscriber), fan-out (one publisher, N subscribers of one
// topic) and fan-in (N publishers into one "$share" group). Payloads are 16
// bytes, the send time and a sequence number, so each delivery's latency is
// measured on receipt.
//
//	go run ./examples/mqttbench -addr 127.0.0.1:1883 -scenario p2p -qos 1 -n 10 -duration 10s
//	go run ./examples/mqttbench -scenario fanout -n 1000 -qos 0 -rate 10 -json
//	go run ./examples/mqttbench -scenario fanin -n 50 -subs 5 -qos 1
//	go run ./examples/mqttbench -scenario fanin -n 50 -subs 5 -qos 1 -session-expiry 5m
//
// -session-expiry gives the subscribers persistent sessions (MQTT 5 session
// expiry), which a broker with persistence stores every delivery for; the
// sessions are ended (expiry 0 at DISCONNECT) when the run is over.
//
// -n sets the scenario's size: p2p uses n publishers and n subscribers,
// fanout 1 publisher and n subscribers (1000 without -n), fanin n publishers
// and -subs subscribers (default n/5, at least 2). -rate paces each publisher (messages
// per second); without it a QoS 0 publisher sends as fast as it can and a QoS
// 1 publisher keeps -inflight publishes awaiting PUBACK. Publisher, broker
// and subscribers share one machine's clock, so run it on the broker's host
// or read latencies as relative.
//
// The idle scenario measures what many connected, idle clients cost a
// broker in memory. It opens -n raw TCP connections (spread over
// -source-ips, since one source address has only ~28k ephemeral ports),
// sends each a hand-written MQTT 3.1.1 CONNECT (clean session, unique
// client id, -keepalive), checks CONNACK 0, optionally subscribes each to a
// topic of its own (-subscribe), and holds them for -hold, pinging as the
// keep-alive demands (-transport tls or ws wraps each connection in TLS,
// without verifying the certificate, or in a WebSocket on path /mqtt),
// while it samples the broker process's VmRSS and
// VmHWM from /proc/PID/status (and Pss from smaps_rollup when readable):
//
//	go run ./examples/mqttbench -scenario idle -addr 127.0.0.1:1883 -n 19000 -pid $(pgrep -x mosquitto) -source-ips 127.0.0.1,127.0.0.2
//
// It reports connections made, failed (by cause) and still alive after the
// hold, broker RSS before and after, bytes per connection, and a linear
// extrapolation to 50,000 clients, labelled as such. A broker reuses heap
// it freed before the run (Mosquitto's RSS may not move for the first
// thousands of clients), so the clients connect in -steps batches with an
// RSS sample after each, and the least-squares slope over them is reported
// as the marginal cost of a connection, with its own extrapolation. A
// broker that once held more clients than this run may show no growth at
// all: measure a freshly started one (a private instance on its own port)
// for figures that mean something. Connections cost the
// load generator a socket each and no goroutine, but every socket is a file
// descriptor: -n must stay below this process's open-file limit (ulimit -n)
// by 64. For more connections than one process may open, run several
// mqttbench processes against a broker whose own limit allows the total:
// start the others without -pid and a long -hold, then the last one with
// -pid, whose bytes per connection then covers its own connections only.
//
// The report counts messages sent (acknowledged, for QoS 1), deliveries
// expected and received: "missing" is what the broker dropped or had not
// delivered within -drain. Exit status: 0 when the run completed (even with
// missing messages), 1 on errors, 2 on bad usage.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(mainRun(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func mainRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mqttbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addr     = fs.String("addr", "127.0.0.1:1883", "MQTT broker `host:port`")
		scenario = fs.String("scenario", "p2p", "p2p, fanout, fanin or idle")
		qos      = fs.Int("qos", 0, "QoS for publish and subscribe: 0 or 1")
		n        = fs.Int("n", 10, "scenario size (see the command doc; fanout and idle default to 1000)")
		pubs     = fs.Int("pubs", 0, "publishers (overrides the scenario default)")
		subs     = fs.Int("subs", 0, "subscribers (overrides the scenario default)")
		duration = fs.Duration("duration", 10*time.Second, "how long to publish")
		rate     = fs.Float64("rate", 0, "messages/s per publisher; 0 = unpaced")
		inflight = fs.Int("inflight", 16, "QoS 1 publishes awaiting PUBACK per publisher")
		drain    = fs.Duration("drain", 5*time.Second, "how long to wait for deliveries after publishing stops")
		expiry   = fs.Duration("session-expiry", 0, "give subscribers persistent sessions with this session expiry (ended after the run); 0 = none")
		asJSON   = fs.Bool("json", false, "print the result as one JSON object")
		verbose  = fs.Bool("v", false, "log progress to stderr")

		pid       = fs.Int("pid", 0, "idle: broker `process id` whose memory is sampled from /proc; 0 = none")
		sourceIPs = fs.String("source-ips", "", "idle: comma-separated local `addresses` to dial from, round-robin (each gives ~28k ports)")
		keepAlive = fs.Int("keepalive", 300, "idle: keep-alive in `seconds` sent in CONNECT and honoured with PINGREQ; 0 = none")
		hold      = fs.Duration("hold", 30*time.Second, "idle: how long to hold the connections")
		subscribe = fs.Bool("subscribe", false, "idle: subscribe every client to a topic of its own")
		transport = fs.String("transport", "tcp", "idle: tcp, tls (the broker's certificate is not verified) or ws (WebSocket, path /mqtt)")
		username  = fs.String("username", "", "idle: `username` sent in CONNECT (the gateway's: a token); none by default")
		steps     = fs.Int("steps", 4, "idle: connect in this many batches, sampling RSS after each (marginal bytes per connection)")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *qos < 0 || *qos > 1 || *n < 1 || *duration <= 0 {
		fmt.Fprintln(stderr, "mqttbench: -qos must be 0 or 1, -n at least 1, -duration positive")
		return 2
	}
	cfg := config{
		Addr: *addr, Scenario: *scenario, QoS: byte(*qos),
		Duration: *duration, Rate: *rate, Inflight: *inflight, Drain: *drain, SessionExpiry: uint32(expiry.Seconds()),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	if *scenario == "idle" {
		return mainIdle(ctx, fs, idleArgs{n: *n, pid: *pid, sourceIPs: *sourceIPs, keepAlive: *keepAlive,
			hold: *hold, subscribe: *subscribe, steps: *steps, transport: *transport, username: *username}, cfg, *asJSON, stdout, stderr)
	}
	switch *scenario {
	case "p2p":
		cfg.Pubs, cfg.Subs = *n, *n
	case "fanout":
		size := *n
		if !flagSet(fs, "n") {
			size = 1000 // the published fan-out scenario
		}
		cfg.Pubs, cfg.Subs = 1, size
	case "fanin":
		cfg.Pubs, cfg.Subs = *n, max(2, *n/5)
	default:
		fmt.Fprintf(stderr, "mqttbench: unknown -scenario %q (p2p, fanout, fanin, idle)\n", *scenario)
		return 2
	}
	if *pubs > 0 {
		cfg.Pubs = *pubs
	}
	if *subs > 0 {
		cfg.Subs = *subs
	}
	res, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "%s qos%d %d pub -> %d sub on %s, %.1fs, %d-byte payloads\n",
		res.Scenario, res.QoS, res.Pubs, res.Subs, res.Addr, res.Seconds, res.PayloadBytes)
	fmt.Fprintf(stdout, "  sent %d (%.0f msg/s), received %d of %d (%.0f msg/s), missing %d, publish errors %d\n",
		res.Sent, res.PubRate, res.Received, res.Expected, res.RecvRate, res.Missing, res.PubErrors)
	fmt.Fprintf(stdout, "  latency p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		res.P50ms, res.P90ms, res.P99ms, res.Maxms)
	return 0
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
