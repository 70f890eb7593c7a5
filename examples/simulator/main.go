// Command simulator is a fleet of GPS trackers that behave like real ones,
// for load and end-to-end tests of a telematics server: each device has its
// own connection and a valid IMEI, logs in as its protocol requires,
// drives a route at varying speed (heading, altitude, satellites,
// ignition, voltages, odometer; deterministic from -seed) and sends its
// records, waiting for each ACK, resending on timeout and reconnecting as
// a device does.
//
//	go run ./examples/simulator -p teltonika -addr 127.0.0.1:5027 -devices 100 -rate 1 -duration 1m
//	go run ./examples/simulator -p gt06 -addr 127.0.0.1:5023 -devices 10 -records 5
//	go run ./examples/simulator -p wialon-ips -udp -addr 127.0.0.1:5039 -json
//
// While it runs, a progress line on stderr gives devices connected,
// records sent and acknowledged, acknowledged records per second and the
// p99 ACK latency of the last interval. At the end it prints a summary
// (sent, acknowledged, never acknowledged, errors, sustained msgs/s, ACK
// latency p50/p99/max), or with -json the summary as one JSON object on
// stdout. With -watch host:port (and -watch-token, the gateway's token
// as MQTT user name) it also subscribes to the server's platform topics
// and reports how many messages arrived there (beside the records
// acknowledged: a subscriber that cannot keep up gets fewer, the broker
// dropping the rest) and their delay from the server's receipt
// (server.timestamp) to the subscriber, p50/p99/max. The subscription
// is QoS 0 unless -watch-qos 1: at QoS 1 the broker holds at most its
// in-flight window unacknowledged, which caps a subscriber of a busy
// topic at a window per round trip. -cpuprofile writes a CPU profile of
// the run. The exit status is 0 when every record was acknowledged and
// every device connected, 1 otherwise (or when interrupted), 2 for bad
// usage.
//
// Protocols: teltonika (Codec 8 or, with -packet 8e, 8 Extended; TCP or
// UDP), gt06 (locations 0x22 or 0x12, each packet confirmed by a
// heartbeat's ACK; TCP), wialon-ips (2.0: #D#, or #B# for several
// records; TCP or UDP). Package examples/simulator/device documents what
// each packet carries, and package examples/simulator/fleet how a device
// behaves; the gateway's tests run the same fleet in process.
//
// Each device is a socket: one process holds as many devices as its
// open-file limit allows (the simulator raises the soft limit to the hard
// one and refuses more devices than fit). Over TCP on Linux the devices
// are the state of a few epoll loops rather than a goroutine each, which
// leaves the CPU to the server under test (see package fleet). Devices
// start spread over -ramp so that thousands do not connect at once.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gnssgate/gnssgate/examples/internal/fdlimit"
	"github.com/gnssgate/gnssgate/examples/simulator/device"
	"github.com/gnssgate/gnssgate/examples/simulator/fleet"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(mainRun(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func mainRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		proto     = fs.String("p", device.Teltonika, "protocol: "+strings.Join(device.Protocols(), ", "))
		addr      = fs.String("addr", "", "server `host:port`; default 127.0.0.1 and the protocol's usual port (teltonika 5027, gt06 5023, wialon-ips 5039)")
		udp       = fs.Bool("udp", false, "send over UDP (teltonika, wialon-ips): no login, the IMEI in every datagram")
		packet    = fs.String("packet", "", "packet `kind`: teltonika 8 (default) or 8e; gt06 0x22 (default) or 0x12; wialon-ips D")
		password  = fs.String("password", "", "wialon-ips login password (default NA)")
		devices   = fs.Int("devices", 1, "number of devices, each with its own connection and IMEI")
		rate      = fs.Float64("rate", 1, "packets per second per device")
		records   = fs.Int("records", 1, "records per packet (teltonika up to 255)")
		duration  = fs.Duration("duration", 10*time.Second, "how long the whole fleet sends, after the ramp")
		ramp      = fs.Duration("ramp", 0, "spread the devices' starts over this time (default 1 ms per device, at least 1/rate; negative: all at once)")
		ackWait   = fs.Duration("ack-timeout", 5*time.Second, "how long a device waits for an ACK before resending")
		retries   = fs.Int("retries", 2, "resends on one connection before the device reconnects and sends again")
		reconnect = fs.Duration("reconnect-delay", time.Second, "pause before reconnecting (±50% jitter)")
		drain     = fs.Duration("drain", 0, "after -duration, how long devices keep trying to get their last packet acknowledged (default (retries+1) × ack-timeout)")
		identBase = fs.Uint64("ident-base", fleet.DefaultIdentBase, "IMEI of device 0 without its check digit (14 digits); device i is base+i with its Luhn digit")
		seed      = fs.Uint64("seed", 1, "seed of the routes and of everything the devices report")
		center    = fs.String("center", "54.6872,25.2797", "`lat,lon` the vehicles drive round")
		radius    = fs.Float64("radius", 15, "radius in km of the area they drive in")
		asJSON    = fs.Bool("json", false, "print the summary as one JSON object on stdout")
		progress  = fs.Duration("progress", time.Second, "interval of the progress line on stderr; 0 for none")
		verbose   = fs.Bool("v", false, "log every device error on stderr")
		watch     = fs.String("watch", "", "also subscribe to the server's MQTT broker at `host:port` and report the delay from the server's receipt (server.timestamp) to the subscriber")
		watchTok  = fs.String("watch-token", "", "MQTT user name (the gateway's token) for -watch")
		watchTop  = fs.String("watch-topic", "flespi/message/gw/channels/+/+", "topic filter -watch subscribes to")
		watchQoS  = fs.Int("watch-qos", 0, watchQoSUsage)
		cpuProf   = fs.String("cpuprofile", "", "write a CPU profile of the run to `file` (go tool pprof)")
	)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: simulator [flags]\n\n"+
			"Simulates a fleet of GPS trackers against a server: each device connects, logs in,\n"+
			"drives a route and sends its records, waiting for each ACK as a real device does.\n"+
			"Exit status: 0 when every record was acknowledged, 1 when one was not (or a device\n"+
			"never connected, or the run was interrupted), 2 for bad usage.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "simulator: unexpected arguments %q\n", fs.Args())
		return 2
	}
	area, err := parseArea(*center, *radius)
	if err != nil {
		fmt.Fprintln(stderr, "simulator:", err)
		return 2
	}
	if *watchQoS != 0 && *watchQoS != 1 {
		fmt.Fprintln(stderr, "simulator: -watch-qos must be 0 or 1")
		return 2
	}
	if *devices < 1 || *rate <= 0 || *records < 1 || *duration <= 0 || *ackWait <= 0 || *retries < 0 || *identBase == 0 {
		fmt.Fprintln(stderr, "simulator: -devices, -rate, -records, -duration, -ack-timeout and -ident-base must be positive, -retries not negative")
		return 2
	}
	cfg := fleet.Config{
		Protocol: *proto, Addr: *addr, UDP: *udp, Packet: *packet, Password: *password,
		Devices: *devices, Rate: *rate, Records: *records, Duration: *duration, Ramp: *ramp,
		AckTimeout: *ackWait, Retries: *retries, ReconnectDelay: *reconnect, Drain: *drain,
		IdentBase: *identBase, Seed: *seed, Area: area,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if *retries == 0 {
		cfg.Retries = -1 // Config's 0 is the default; the flag's 0 means none
	}
	if *progress > 0 {
		cfg.Progress, cfg.ProgressInterval = stderr, *progress
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if _, err := fdlimit.Raise(); err != nil {
		fmt.Fprintln(stderr, "simulator: raising the open-file limit:", err)
	}
	if *cpuProf != "" {
		stopProf, err := startCPUProfile(*cpuProf)
		if err != nil {
			fmt.Fprintln(stderr, "simulator:", err)
			return 2
		}
		defer func() {
			if err := stopProf(); err != nil {
				fmt.Fprintln(stderr, "simulator:", err)
			}
		}()
	}
	var w *watcher
	if *watch != "" {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		w, err = startWatch(wctx, *watch, *watchTok, *watchTop, byte(*watchQoS))
		cancel()
		if err != nil {
			fmt.Fprintln(stderr, "simulator:", err)
			return 1
		}
	}
	sum, err := fleet.Run(ctx, cfg)
	if errors.Is(err, fleet.ErrConfig) || errors.Is(err, fleet.ErrFileLimit) {
		fmt.Fprintln(stderr, "simulator:", err)
		return 2
	}
	var ws WatchSummary
	if w != nil {
		ws = w.stop(time.Second)
		ws.Topic = *watchTop
	}
	if *asJSON {
		b, jerr := json.Marshal(sum)
		if jerr == nil && w != nil {
			b, jerr = withWatch(b, ws)
		}
		if jerr != nil {
			fmt.Fprintln(stderr, "simulator:", jerr)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		sum.WriteText(stdout)
		if w != nil {
			ws.writeText(stdout, sum.Acked)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "simulator:", err)
		return 1
	}
	if !sum.OK() {
		fmt.Fprintf(stderr, "simulator: %d records never acknowledged, %d of %d devices connected\n", sum.Unacked, sum.Connected, sum.Devices)
		return 1
	}
	return 0
}

// startCPUProfile profiles the process into file until the returned
// function is called.
func startCPUProfile(file string) (stop func() error, err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("-cpuprofile %s: %w", file, err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("-cpuprofile %s: %w", file, err)
		}
		return nil
	}, nil
}

func parseArea(center string, radius float64) (device.Area, error) {
	lat, lon, ok := strings.Cut(center, ",")
	la, err1 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	lo, err2 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
	if !ok || err1 != nil || err2 != nil || la < -80 || la > 80 || lo < -180 || lo > 180 || radius <= 0 || radius > 500 {
		return device.Area{}, fmt.Errorf("-center %q -radius %g: want lat,lon within ±80, ±180 and a radius of up to 500 km", center, radius)
	}
	return device.Area{Latitude: la, Longitude: lo, Radius: radius}, nil
}
