// Command server is the smallest ingest server to point the simulator at:
// one channel.Server for one protocol whose messages channel.LogHandler
// makes durable in store/pebble before they are acknowledged (or, with
// -store, keeps in memory or discards). It reports, every -stats, its
// connections, the messages it stored and its own memory, so that a load
// test measures the server alone, in its own process:
//
//	go build -o /tmp/ingest ./examples/simulator/server
//	/tmp/ingest -p teltonika -addr 127.0.0.1:15027 -data /tmp/ingest &
//	go run ./examples/simulator -p teltonika -addr 127.0.0.1:15027 -devices 5000 -duration 1m
//
// A report line reads: seconds since start, connections (and the most
// held), messages stored and the rate over the last interval, handler
// and decode errors, resident memory (VmRSS) and, while devices are
// connected, the growth of resident memory since the server started
// divided by the connections, which includes what the store's memtables
// and cache grew by (up to their caps, about 100 MiB for store/pebble's
// defaults): compare with -store discard for the channel's own cost.
// Last comes the CPU time the process used, and per message stored.
// SIGINT or SIGTERM shuts down gracefully and prints a last line.
//
// The gateway (examples/gateway) does all of this and much more; this
// program exists to measure channel.Server and its LogHandler alone.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/examples/internal/fdlimit"
	"github.com/gnssgate/gnssgate/internal/cputime"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/store/pebble"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(mainRun(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func mainRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		proto  = fs.String("p", "teltonika", "protocol: "+strings.Join(codecs.Names(), ", "))
		addr   = fs.String("addr", "127.0.0.1:5027", "`host:port` to listen on")
		udp    = fs.Bool("udp", false, "listen on UDP instead of TCP")
		data   = fs.String("data", "", "store/pebble `directory`; default a temporary one, removed at exit")
		kind   = fs.String("store", "pebble", "where messages go before the ACK: pebble, memory or discard")
		every  = fs.Duration("stats", 5*time.Second, "interval of the report lines on stderr")
		logLvl = fs.String("log", "warn", "server log level: debug, info, warn, error")
		cpuOut = fs.String("cpuprofile", "", "write a CPU profile of the whole run to `file`")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	codec, ok := codecs.New(*proto, codecs.Options{})
	if !ok {
		fmt.Fprintf(stderr, "server: unknown protocol %q (%s)\n", *proto, strings.Join(codecs.Names(), ", "))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLvl)); err != nil || *every <= 0 {
		fmt.Fprintln(stderr, "server: bad -log or -stats")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *cpuOut != "" {
		f, err := os.Create(*cpuOut)
		if err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if _, err := fdlimit.Raise(); err != nil {
		logger.Warn("raising the open-file limit", "err", err)
	}

	var handler channel.Handler
	switch *kind {
	case "pebble":
		dir := *data
		if dir == "" {
			tmp, err := os.MkdirTemp("", "gnssgate-ingest-")
			if err != nil {
				fmt.Fprintln(stderr, "server:", err)
				return 1
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		}
		db, err := pebble.Open(dir, &pebble.Options{Config: store.Config{Logger: logger}})
		if err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		defer db.Close()
		handler = channel.LogHandler(db.Log())
	case "memory":
		st := memory.New(&store.Config{Logger: logger})
		defer st.Close()
		handler = channel.LogHandler(st.Log())
	case "discard":
		handler = channel.HandlerFunc(func(context.Context, *channel.Conn, []protocol.Message) error { return nil })
	default:
		fmt.Fprintf(stderr, "server: unknown -store %q (pebble, memory, discard)\n", *kind)
		return 2
	}

	srv := &channel.Server{Codec: codec, Handler: handler, Logger: logger}
	serveCtx, stopServing := context.WithCancel(context.Background())
	defer stopServing()
	served := make(chan error, 1)
	if *udp {
		pc, err := net.ListenPacket("udp", *addr)
		if err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		fmt.Fprintf(stdout, "listening on udp %s, pid %d, %s into %s\n", pc.LocalAddr(), os.Getpid(), *proto, *kind)
		go func() { served <- srv.ServePacket(serveCtx, pc) }()
	} else {
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			fmt.Fprintln(stderr, "server:", err)
			return 1
		}
		fmt.Fprintf(stdout, "listening on tcp %s, pid %d, %s into %s\n", ln.Addr(), os.Getpid(), *proto, *kind)
		go func() { served <- srv.Serve(serveCtx, ln) }()
	}

	r := reporter{w: stderr, srv: srv, start: time.Now(), baseRSS: rss()}
	tick := time.NewTicker(*every)
	defer tick.Stop()
	code := 0
loop:
	for {
		select {
		case <-tick.C:
			r.report(false)
		case <-ctx.Done():
			break loop
		case err := <-served:
			fmt.Fprintln(stderr, "server:", err)
			code = 1
			break loop
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(shutdown)
	stopServing()
	r.report(true)
	return code
}

// reporter writes the report lines.
type reporter struct {
	w        io.Writer
	srv      *channel.Server
	start    time.Time
	baseRSS  int64
	last     time.Time
	lastAcks uint64
	maxConns int
}

func (r *reporter) report(final bool) {
	now := time.Now()
	st := r.srv.Stats()
	r.maxConns = max(r.maxConns, st.Conns)
	since := r.last
	if since.IsZero() {
		since = r.start
	}
	rate := float64(st.MessagesAcked-r.lastAcks) / now.Sub(since).Seconds()
	r.last, r.lastAcks = now, st.MessagesAcked
	mem := rss()
	line := fmt.Sprintf("%6.0fs conns %d (max %d)  stored %d (%.0f/s)  handler errors %d  decode errors %d  rss %.1f MiB",
		now.Sub(r.start).Seconds(), st.Conns, r.maxConns, st.MessagesAcked, rate, st.HandlerErrors, st.DecodeErrors, float64(mem)/(1<<20))
	if st.Conns > 0 && mem > 0 {
		line += fmt.Sprintf(" (+%.1f KB/conn over %.1f MiB at start)", float64(mem-r.baseRSS)/float64(st.Conns)/1000, float64(r.baseRSS)/(1<<20))
	}
	if cpu := cputime.Process(); cpu > 0 {
		line += fmt.Sprintf("  cpu %.1f s", cpu.Seconds())
		if st.MessagesAcked > 0 {
			line += fmt.Sprintf(" (%.1f µs/msg)", float64(cpu.Microseconds())/float64(st.MessagesAcked))
		}
	}
	if final {
		line = "final: " + strings.TrimSpace(line)
	}
	fmt.Fprintln(r.w, line)
}

// rss is this process's resident set size in bytes (VmRSS), 0 when
// /proc is not there.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
