// Command gateway runs the whole telematics gateway on embedded defaults:
// tracker channels on their usual ports, a durable store, flespi's REST API
// and MQTT platform topics on the embedded broker, streams, tokens and
// Prometheus metrics.
//
//	go run ./examples/gateway                      # data in ./data, every channel, :8080, :1883
//	go run ./examples/gateway -channel teltonika=:5027 -channel teltonika=udp://:5027 -http :9000
//	go run ./examples/gateway -config gateway.yaml
//
// Its parts are importable packages beside it (registry, ingest, history,
// platform, rest, node, metrics, config, console); this file only wires them: read
// the configuration, build a node.Node, serve until SIGINT or SIGTERM.
//
// Exit status: 0 after a clean shutdown, 1 when the gateway cannot start
// or fails (one line on stderr saying why), 2 for bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gnssgate/gnssgate/broker/paho"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/config"
	"github.com/gnssgate/gnssgate/examples/gateway/console"
	"github.com/gnssgate/gnssgate/examples/gateway/metrics"
	"github.com/gnssgate/gnssgate/examples/gateway/node"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/internal/codecs"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 2
	}
	logger := newLogger(cfg, stderr)
	ncfg, err := nodeConfig(cfg, logger, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 2
	}
	shared, bus, err := joinCluster(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 1
	}
	if shared != nil {
		defer shared.Close()
		ncfg.Cluster = shared
	}
	if bus != nil {
		defer bus.Close()
		ncfg.Broker = bus
	}
	var n *node.Node
	con, err := console.New(console.Config{Tiles: cfg.ConsoleTiles, MQTTWebSocket: func() string { return n.Addrs().MQTTWebSocket }})
	if err != nil {
		fmt.Fprintln(stderr, "gateway: -console-tiles:", err)
		return 2
	}
	n, err = node.New(ctx, ncfg)
	if err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 1
	}
	defer n.Close()
	reg, observe := metrics.New(n)
	n.ObserveAppend(observe)
	n.SetHTTPHandlers(func(mux *http.ServeMux) {
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		con.Mount(mux)
	})

	if cfg.Pprof != "" {
		stopProfiles, err := serveProfiles(ctx, cfg.Pprof, logger)
		if err != nil {
			fmt.Fprintln(stderr, "gateway: -pprof:", err)
			return 1
		}
		defer stopProfiles()
	}

	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	select {
	case <-n.Ready():
		banner(stdout, n, cfg)
	case err := <-done:
		fmt.Fprintln(stderr, "gateway:", err)
		return 1
	}
	if err := <-done; err != nil {
		fmt.Fprintln(stderr, "gateway:", err)
		return 1
	}
	logger.Info("gateway stopped")
	return 0
}

// joinCluster connects to the shared store (-store) and the external
// broker (-broker) when they are given.
func joinCluster(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*node.Cluster, *paho.Broker, error) {
	var shared *node.Cluster
	if cfg.Store != "" {
		var err error
		shared, err = node.JoinNATS(ctx, cfg.Store, node.JoinOptions{Replicas: cfg.StoreReplicas, Node: cfg.Node,
			Store: store.Config{Log: store.LogConfig{MaxAge: cfg.LogMaxAge}}, Logger: logger})
		if err != nil {
			return nil, nil, err
		}
	}
	if cfg.Broker == "" {
		return shared, nil, nil
	}
	u, _ := url.Parse(cfg.Broker) // checked by config
	pc := paho.Config{Server: cfg.Broker, Logger: logger,
		// A session that outlives a reconnection, not the process: the
		// client id is new at every start.
		SessionExpiry: time.Minute}
	if u.User != nil {
		pc.Username = u.User.Username()
		pc.Password, _ = u.User.Password()
		u.User = nil
		pc.Server = u.String()
	}
	bus, err := paho.New(ctx, pc)
	if err != nil {
		if shared != nil {
			shared.Close()
		}
		return nil, nil, fmt.Errorf("-broker %s: %w", u.Redacted(), err)
	}
	return shared, bus, nil
}

func newLogger(cfg *config.Config, out io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(out, opts))
	}
	return slog.New(slog.NewTextHandler(out, opts))
}

// nodeConfig turns the binary's configuration into the node's.
func nodeConfig(cfg *config.Config, logger *slog.Logger, stdout io.Writer) (node.Config, error) {
	listen := func(name, addr string) node.Listen { return node.Listen{Addr: addr, Default: !cfg.IsSet(name)} }
	nc := node.Config{
		DataDir:       cfg.Data,
		HTTP:          listen("http", cfg.HTTP),
		MQTT:          listen("mqtt", cfg.MQTT),
		MQTTWebSocket: listen("mqtt-ws", cfg.MQTTWS),
		MasterToken:   cfg.Token,
		OnMasterToken: func(key string) {
			fmt.Fprintf(stdout, "\nA master token was made for this data directory. It is shown this once; keep it:\n\n    %s\n\n", key)
		},
		LogMaxAge:      cfg.LogMaxAge,
		MaxConnections: cfg.MaxConnections,
		Codecs: func(name string, lenient bool) (protocol.Codec, bool) {
			return codecs.New(name, codecs.Options{Lenient: lenient})
		},
		HTTPCodecs: func(name string, lenient bool) (channel.RequestDecoder, bool) {
			return codecs.NewHTTP(name, codecs.Options{Lenient: lenient})
		},
		Logger: logger,
	}
	var err error
	if nc.Channels, nc.ExplicitChannels, err = channels(cfg); err != nil {
		return nc, err
	}
	if nc.Devices, nc.Streams, err = cfg.Objects(); err != nil {
		return nc, err
	}
	for _, t := range cfg.Tokens {
		nc.Tokens = append(nc.Tokens, node.TokenSpec{Key: t.Key, Info: t.Info, ACL: t.ACL})
	}
	return nc, nil
}

// channels declares the channels: those of -channel flags and the config
// file, or, when neither lists any, every protocol on its usual port plus
// the HTTP channel.
func channels(cfg *config.Config) ([]node.ChannelSpec, bool, error) {
	var specs []node.ChannelSpec
	byName := map[string]int{}
	for _, v := range cfg.Channel {
		f, err := config.ParseChannel(v)
		if err != nil {
			return nil, false, err
		}
		if !slices.Contains(protocolNames(), f.Protocol) && f.Protocol != "http" {
			return nil, false, fmt.Errorf("-channel %s: unknown protocol %q (go run ./examples/decode -list)", v, f.Protocol)
		}
		i, ok := byName[f.Protocol]
		if !ok {
			i = len(specs)
			byName[f.Protocol] = i
			specs = append(specs, node.ChannelSpec{Name: f.Protocol, Protocol: f.Protocol, Origin: "config"})
		}
		l := node.Listen{Addr: f.Addr}
		switch f.Network {
		case "udp":
			specs[i].UDP = l
		case "tls":
			if cfg.TLSCert == "" || cfg.TLSKey == "" {
				return nil, false, fmt.Errorf("-channel %s: a tls:// channel needs -tls-cert and -tls-key", v)
			}
			specs[i].TLS = l
			specs[i].Config.Certificate = tlsconf.Files{Cert: cfg.TLSCert, Key: cfg.TLSKey, CA: cfg.TLSCA}
		default:
			specs[i].TCP = l
		}
	}
	for _, c := range cfg.Channels {
		specs = append(specs, node.ChannelSpec{Name: c.Name, Protocol: c.Protocol, Origin: "config",
			TCP: node.Listen{Addr: c.TCP}, UDP: node.Listen{Addr: c.UDP}, TLS: node.Listen{Addr: c.TLS},
			Config: registry.ChannelConfig{AutoCreateDevices: c.AutoCreateDevices, Lenient: c.Lenient, Record: c.Record,
				IdentField: c.IdentField, Topics: c.Topics, IdentTopicLevel: c.IdentTopicLevel, Certificate: c.Certificate,
				Proxy: c.Proxy}})
	}
	if len(specs) > 0 {
		return specs, true, nil
	}
	for _, c := range config.DefaultChannels(protocolNames()) {
		spec := node.ChannelSpec{Name: c.Name, Protocol: c.Protocol, Origin: "default",
			TCP: node.Listen{Addr: c.TCP, Default: true}}
		if c.UDP != "" {
			spec.UDP = node.Listen{Addr: c.UDP, Default: true}
		}
		specs = append(specs, spec)
	}
	specs = append(specs, node.ChannelSpec{Name: "http", Protocol: "http", Origin: "default"})
	return specs, false, nil
}

// protocolNames lists the protocols channels can speak: byte-stream codecs
// and protocols over HTTP.
func protocolNames() []string { return append(codecs.Names(), codecs.HTTPNames()...) }

// banner says where everything listens and what to try next.
// serveProfiles serves net/http/pprof's handlers on addr until stop.
func serveProfiles(ctx context.Context, addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("profiles server stopped", "err", err)
		}
	}()
	logger.Info("runtime profiles", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}

func banner(out io.Writer, n *node.Node, cfg *config.Config) {
	a := n.Addrs()
	if cfg.Store != "" {
		fmt.Fprintf(out, "gnssgate gateway node %q — shared store %s\n", cfg.Node, cfg.Store)
	} else {
		fmt.Fprintf(out, "gnssgate gateway — data in %s\n", cfg.Data)
	}
	if cfg.Broker != "" {
		u, _ := url.Parse(cfg.Broker)
		fmt.Fprintf(out, "  MQTT bus (external)                %s\n", u.Redacted())
	}
	if a.HTTP != "" {
		fmt.Fprintf(out, "  REST API, HTTP channels, /metrics  http://%s\n", a.HTTP)
	}
	if a.HTTP != "" {
		fmt.Fprintf(out, "  web console                        http://%s/console/\n", a.HTTP)
	}
	if a.MQTT != "" {
		fmt.Fprintf(out, "  MQTT broker                        mqtt://%s\n", a.MQTT)
	}
	if a.MQTTWebSocket != "" {
		fmt.Fprintf(out, "  MQTT over WebSocket                ws://%s/mqtt\n", a.MQTTWebSocket)
	}
	type line struct{ name, addrs string }
	var lines []line
	for id, addr := range a.Channels {
		c, _ := n.Registry.Channels.Get(id)
		var parts []string
		if addr[0] != "" {
			scheme := "tcp "
			if c.ProtocolName == "http" || slices.Contains(codecs.HTTPNames(), c.ProtocolName) {
				scheme = "http "
			}
			parts = append(parts, scheme+addr[0])
		}
		if addr[1] != "" {
			parts = append(parts, "udp "+addr[1])
		}
		if addr[2] != "" {
			parts = append(parts, "tls "+addr[2])
		}
		if (c.ProtocolName == "http" || slices.Contains(codecs.HTTPNames(), c.ProtocolName)) && c.Configuration.TCP == "" && a.HTTP != "" {
			parts = append(parts, fmt.Sprintf("POST http://%s/http/%d", a.HTTP, id))
		}
		if len(parts) > 0 {
			lines = append(lines, line{fmt.Sprintf("%s (channel %d)", c.Name, id), strings.Join(parts, ", ")})
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	fmt.Fprintln(out, "  channels:")
	for _, l := range lines {
		fmt.Fprintf(out, "    %-28s %s\n", l.name, l.addrs)
	}
	for _, s := range slices.Sorted(slices.Values(a.Skipped)) {
		fmt.Fprintf(out, "  not started: %s\n", s)
	}
	var try []string
	if host, port, err := net.SplitHostPort(a.MQTT); err == nil {
		try = append(try, fmt.Sprintf("mosquitto_sub -h %s -p %s -u $TOKEN -t 'flespi/message/gw/#' -v", localHost(host), port))
	}
	if host, port, err := net.SplitHostPort(a.HTTP); err == nil {
		try = append(try, fmt.Sprintf("curl -H \"Authorization: FlespiToken $TOKEN\" %s:%s/gw/devices/all", localHost(host), port))
	}
	fmt.Fprintln(out, "  try: "+strings.Join(try, "    "))
}

// localHost is where a client on this machine reaches a listener bound to
// host: "localhost" for every interface.
func localHost(host string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		return "localhost"
	}
	return host
}
