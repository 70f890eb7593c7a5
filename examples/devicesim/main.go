// Command devicesim is a device speaking ThingsBoard's device MQTT API, for
// trying the gnssgate device API (channel/deviceapi) or any ThingsBoard-
// compatible server. It connects with an access token (or basic MQTT
// credentials, or an X.509 certificate), then:
//
//   - publishes its client attributes and asks for its shared ones;
//   - reports telemetry every -interval ({"ts":…,"values":{position,
//     speed, ignition, temperature, seq}});
//   - takes the "interval" shared attribute as its new reporting interval;
//   - answers server-side RPC: getTime, setInterval {"interval":seconds},
//     getFirmware;
//   - installs firmware it is assigned: on new fw_title/fw_version shared
//     attributes it downloads the image in -chunk byte chunks
//     (v2/fw/request/{id}/chunk/{n}), checks fw_checksum and reports
//     fw_state DOWNLOADING, DOWNLOADED, VERIFIED, UPDATING, UPDATED (or
//     FAILED with fw_error) and its current_fw_title/current_fw_version.
//
// Against a gateway serving the device API on 1883:
//
//	go run ./examples/devicesim -addr 127.0.0.1:1883 -token A1_TEST_TOKEN
//	go run ./examples/devicesim -mqtt 5 -interval 2s -count 10 -token A1_TEST_TOKEN
//	go run ./examples/devicesim -addr host:8883 -tls-ca ca.pem -cert dev.pem -key dev-key.pem
//
// It runs until interrupted (or, with -count, until that many telemetry
// messages are acknowledged and -linger has passed). Exit status: 0 when
// it ran, 1 when it could not connect or the connection failed, 2 on bad
// usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gnssgate/gnssgate/internal/tlsconf"
)

type config struct {
	dial     dialOptions
	interval time.Duration
	count    int
	linger   time.Duration
	chunk    int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := simulate(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "devicesim:", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("devicesim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	var version int
	var files tlsconf.Files
	var useTLS bool
	fs.StringVar(&cfg.dial.addr, "addr", "127.0.0.1:1883", "broker `host:port`")
	fs.IntVar(&version, "mqtt", 4, "MQTT version: 4 (3.1.1) or 5")
	fs.StringVar(&cfg.dial.username, "token", "", "access token (the MQTT user name); with -password, the basic user name")
	fs.StringVar(&cfg.dial.password, "password", "", "password of basic MQTT credentials")
	fs.StringVar(&cfg.dial.clientID, "client-id", "devicesim", "MQTT client ID")
	fs.BoolVar(&useTLS, "tls", false, "connect over TLS (implied by -tls-ca and -cert)")
	fs.StringVar(&files.CA, "tls-ca", "", "CA certificate `file` to verify the server with")
	fs.StringVar(&files.Cert, "cert", "", "client certificate `file` (X.509 credentials)")
	fs.StringVar(&files.Key, "key", "", "client certificate key `file`")
	fs.BoolVar(&files.InsecureSkipVerify, "insecure", false, "do not verify the server's certificate")
	fs.DurationVar(&cfg.interval, "interval", 5*time.Second, "telemetry interval")
	fs.IntVar(&cfg.count, "count", 0, "stop after this many telemetry messages (0: run until interrupted)")
	fs.DurationVar(&cfg.linger, "linger", 0, "with -count, stay connected this long after the last message (RPC, firmware)")
	fs.IntVar(&cfg.chunk, "chunk", 4096, "firmware chunk size in bytes")
	fs.DurationVar(&cfg.dial.keepAlive, "keepalive", 30*time.Second, "MQTT keep-alive")
	err := fs.Parse(args)
	if err != nil {
		return cfg, err
	}
	switch {
	case version != 4 && version != 5:
		err = errors.New("-mqtt must be 4 or 5")
	case cfg.interval <= 0 || cfg.chunk <= 0:
		err = errors.New("-interval and -chunk must be positive")
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err == nil && (useTLS || !files.Empty()) {
		cfg.dial.tls, err = files.Client()
	}
	if err != nil {
		fmt.Fprintln(stderr, "devicesim:", err)
		fs.Usage()
		return cfg, err
	}
	cfg.dial.version = byte(version)
	return cfg, nil
}

// simulate connects one device and runs it.
func simulate(ctx context.Context, cfg config, out io.Writer) error {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	c, err := dial(dctx, cfg.dial)
	cancel()
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Fprintf(out, "connected to %s (MQTT %d) as %q\n", cfg.dial.addr, cfg.dial.version, cfg.dial.clientID)
	d := newDevice(c, out, cfg.interval, cfg.chunk)
	if cfg.count > 0 {
		// Stop after count messages and the linger time.
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		go func() {
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				d.mu.Lock()
				done := d.seq >= cfg.count
				d.mu.Unlock()
				if done {
					select {
					case <-time.After(cfg.linger + cfg.interval):
					case <-ctx.Done():
					}
					stop()
					return
				}
			}
		}()
	}
	return d.run(ctx, cfg.count)
}
