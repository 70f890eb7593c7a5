package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/channel/deviceapi"
	"github.com/gnssgate/gnssgate/examples/gateway/cluster"
	"github.com/gnssgate/gnssgate/examples/gateway/history"
	"github.com/gnssgate/gnssgate/examples/gateway/ingest"
	"github.com/gnssgate/gnssgate/examples/gateway/platform"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/examples/internal/fdlimit"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/gnssgate/gnssgate/store"
	"github.com/gnssgate/gnssgate/store/memory"
	"github.com/gnssgate/gnssgate/store/pebble"
	"github.com/gnssgate/gnssgate/stream"
)

// Listen is an address to listen on, and whether it is the gateway's
// default (a taken default port is skipped with a warning; an address the
// operator gave must be bound, or the gateway does not start).
type Listen struct {
	Addr    string
	Default bool
}

// Config configures a Node. Its zero value runs a gateway that keeps
// everything in memory and listens nowhere but its channels.
type Config struct {
	// DataDir keeps the store (DataDir/store), the registry
	// (DataDir/registry), dead letters (DataDir/deadletter) and the
	// embedded broker's sessions, queued and retained messages
	// (DataDir/broker); "" keeps everything in memory.
	DataDir string
	// HTTP serves the REST API, HTTP channels, /metrics, /healthz and
	// /readyz; MQTT and MQTTWebSocket the embedded broker. Empty addresses
	// are not served.
	HTTP, MQTT, MQTTWebSocket Listen
	// MasterToken is the root account's token; "" generates one the first
	// time (DataDir keeps it) and reports it through OnMasterToken.
	MasterToken string
	// OnMasterToken is told a generated master token, once.
	OnMasterToken func(key string)
	// Channels are declared channels, created or updated by name at start.
	Channels []ChannelSpec
	// ExplicitChannels says the operator listed Channels (flags or the
	// config file): channels from the default table then do not start.
	ExplicitChannels bool
	// Devices, Streams and Tokens are declared objects, created or updated
	// at start (devices by ident, streams by name, tokens by key).
	Devices []registry.Device
	Streams []registry.Stream
	Tokens  []TokenSpec
	// Codecs builds a channel's codec by protocol name (examples/internal/
	// codecs.New in the gateway binary).
	Codecs func(name string, lenient bool) (protocol.Codec, bool)
	// HTTPCodecs builds the request decoder of a protocol devices speak
	// over HTTP (OsmAnd): its channel is an HTTP channel on its own
	// address, or at /http/{id} on the gateway's HTTP server.
	HTTPCodecs func(name string, lenient bool) (channel.RequestDecoder, bool)
	// Sinks adds stream protocols beyond "http".
	Sinks map[string]SinkFactory
	// Broker, when set, is the bus instead of the embedded broker (an
	// external MQTT broker through broker/paho); the MQTT listeners then
	// serve ThingsBoard's device API only (devicebroker.go), and REST over
	// MQTT is answered on the bus (mqttrest.go).
	Broker broker.Broker
	// LogMaxAge is the log's retention; 0 means store.DefaultLogMaxAge.
	LogMaxAge time.Duration
	// HTTPHandlers, when set, adds handlers to the HTTP server (/metrics,
	// the console).
	HTTPHandlers func(*http.ServeMux)
	// AccountCheckInterval is how often accounts' stored messages are
	// counted against their limits; 0 means 30 s.
	AccountCheckInterval time.Duration
	// Cluster, when set, makes this node one of several acting as one:
	// the store, dead letters, registry and leases are the Cluster's
	// (DataDir then keeps only traffic recordings), and singleton jobs
	// run under leases (see Cluster). nil runs a gateway alone.
	Cluster *Cluster
	// ShutdownTimeout bounds the graceful shutdown; 0 means 10 s.
	ShutdownTimeout time.Duration
	// StateInterval is how often the live state of channels and streams
	// (connections, counters) is published on their retained state
	// topics when it changed; 0 means 5 s.
	StateInterval time.Duration
	// MaxConnections bounds the connections open at once on all of the
	// node's TCP listeners (trackers, MQTT and HTTP clients): one over it
	// is closed as soon as it is accepted. 0 means the process's open-file
	// limit less what the node's databases and outgoing connections need,
	// so that sockets never take the files the store must open; negative
	// means no bound.
	MaxConnections int
	Logger         *slog.Logger
}

// ChannelSpec declares a channel.
type ChannelSpec struct {
	Name          string
	Protocol      string
	TCP, UDP, TLS Listen
	// Config is the rest of the channel's configuration.
	Config registry.ChannelConfig
	// Origin is "default" for the default table, "config" otherwise.
	Origin string
}

// TokenSpec declares a token with a known key.
type TokenSpec struct {
	Key  string
	Info string
	ACL  *registry.ACL
}

// Node is one running gateway: channels, log, history, telemetry, platform
// topics, streams, REST API and broker, wired together.
type Node struct {
	cfg       Config
	logger    *slog.Logger
	db        store.Store
	dead      store.Store
	kv        registry.KV
	Registry  *registry.Registry
	Broker    broker.Broker
	embedded  *embedded.Server
	devBroker *embedded.Server // with an external broker: serves the device API only
	deviceAPI *deviceapi.API
	ingest    *ingest.Ingest
	API       *rest.API
	state     *platform.State
	accounts  *platform.Accounts
	tel       *platform.Telemetry
	telSource *platform.TelemetrySource // the embedded broker's retained telemetry, unclustered

	channels *channelRuntime
	streams  *streamRuntime
	devices  *deviceState
	limits   *limits
	refusals refusals
	settings *settingsRuntime
	elector  cluster.Elector
	peers    *peers          // nil without a Cluster connection
	conns    *fdlimit.Budget // nil: connections unbounded
	// filesNeeded is what the node's databases may hold open.
	filesNeeded int

	mu        sync.Mutex
	addrs     Addrs
	listeners []net.Listener
	ready     chan struct{}
}

// Addrs are the addresses a running node listens on.
type Addrs struct {
	HTTP, MQTT, MQTTWebSocket string
	// Channels maps channel ids to their TCP, UDP and TLS addresses.
	Channels map[int64][3]string
	// Skipped lists the default listeners that could not bind.
	Skipped []string
}

// New opens the node's store and registry and builds its parts; Run starts
// them.
func New(ctx context.Context, cfg Config) (*Node, error) {
	n := &Node{cfg: cfg, logger: cfg.Logger, ready: make(chan struct{})}
	if n.logger == nil {
		n.logger = slog.Default()
	}
	if err := n.open(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// open builds the parts, from the bottom up.
func (n *Node) open(ctx context.Context) error {
	var err error
	// 1. The store: the durable log, device history, telemetry.
	storeCfg := store.Config{Log: store.LogConfig{MaxAge: n.cfg.LogMaxAge}, Logger: n.logger,
		History: store.HistoryConfig{ForDevice: n.retention}}
	n.elector = cluster.NewLocal()
	if c := n.cfg.Cluster; c != nil {
		n.db, n.dead, n.kv, n.elector = c.Store, c.DeadLetter, c.KV, c.Elector
		if n.cfg.Broker == nil {
			n.logger.Warn("several gateway nodes with embedded brokers: MQTT clients see only what their node publishes; give every node one external broker (-broker)")
		}
	} else if n.cfg.DataDir == "" {
		n.db, n.dead, n.kv = memory.New(&storeCfg), memory.New(nil), registry.NewMemoryKV()
	} else {
		if err := os.MkdirAll(n.cfg.DataDir, 0o755); err != nil {
			return err
		}
		db, err := pebble.Open(filepath.Join(n.cfg.DataDir, "store"), &pebble.Options{Config: storeCfg})
		if err != nil {
			return err
		}
		n.db = db
		// Dead letters are few: small memtables, and 16 open tables per
		// instance.
		small := &pebble.Options{CacheSize: 4 << 20, MemTableSize: 2 << 20, MaxOpenFiles: 16, Config: store.Config{Logger: n.logger}}
		dead, err := pebble.Open(filepath.Join(n.cfg.DataDir, "deadletter"), small)
		if err != nil {
			return err
		}
		n.dead = dead
		kv, err := registry.OpenPebbleKV(filepath.Join(n.cfg.DataDir, "registry"))
		if err != nil {
			return err
		}
		n.kv = kv
		n.filesNeeded = pebble.FilesNeeded(nil) + pebble.FilesNeeded(small) + registry.PebbleKVFiles
	}
	n.conns = n.connectionBudget()

	// 2. The registry: channels, devices, streams, tokens.
	known := func(name string) bool {
		_, ok := n.codec(name, false)
		return ok || n.overHTTP(name) || name == "mqtt" || name == DeviceAPIProtocol
	}
	ropts := &registry.Options{Protocols: known,
		ListensOptional: func(name string) bool { return n.overHTTP(name) || name == DeviceAPIProtocol }}
	if n.clustered() {
		// Nodes share the id counters: reserve ids by the hundred, so that
		// a fleet registering at once does not race on them per device.
		ropts.IDBlock = 100
	}
	if n.Registry, err = registry.Open(ctx, n.kv, ropts); err != nil {
		return err
	}
	if err := n.declare(ctx); err != nil {
		return err
	}

	// 3. Ingest: channel → device → log.
	n.devices = newDeviceState(n)
	n.limits = newLimits(n)
	n.ingest = &ingest.Ingest{Log: n.db.Log(), Registry: n.Registry, Logger: n.logger, Active: n.devices.active,
		Admit: n.limits.admit}

	n.accounts = &platform.Accounts{Namespace: AccountNamespace, Account: namespaceAccount, Device: n.deviceCID, Object: n.objectCID}

	// 4. The bus: the embedded broker, its tokens from the registry, REST
	// over MQTT answered by the API, and ThingsBoard's device API, whose
	// devices authenticate with their registry credentials.
	n.API = &rest.API{Registry: n.Registry, Store: n.db, LogMaxAge: n.logMaxAge(), Logger: n.logger, Refused: n.refusals.add}
	n.Broker = n.cfg.Broker
	if n.Broker == nil {
		auth := embedded.Authenticator(embedded.AuthenticatorFunc(n.authenticateMQTT))
		if err := n.newDeviceAPI(ctx); err != nil {
			return err
		}
		brokerDir := ""
		if n.cfg.DataDir != "" {
			brokerDir = filepath.Join(n.cfg.DataDir, "broker")
		}
		bcfg := &embedded.Config{
			Authenticator: n.deviceAPI.Authenticator(auth),
			Authorizer:    mqttAuthorizer{n},
			REST:          embedded.RESTHandlerFunc(n.serveRESTOverMQTT),
			Timestamps:    true,
			Logger:        n.logger,
			DataDir:       brokerDir,
			// Clustered, retained telemetry is republished from the store
			// when a node takes the history lease (republishTelemetry):
			// no write to disk per value.
			VolatileRetained: telemetryTopic,
		}
		if !n.clustered() {
			// The broker asks the store for telemetry when someone
			// subscribes, and the node publishes only changes someone
			// receives. (Clustered, changes are seen by the history
			// writer's node alone, which may not be this one.)
			n.telSource = &platform.TelemetrySource{Telemetry: n.db.Telemetry(), Accounts: n.accounts,
				Devices: n.eachDevice, Ident: n.deviceIdent}
			bcfg.RetainedSource = n.telSource
		}
		if n.embedded, err = embedded.Open(bcfg); err != nil {
			return err
		}
		n.deviceAPI.Broker = n.embedded
		n.Broker = n.embedded
	} else if err := n.openDeviceBroker(ctx); err != nil {
		return err
	}
	n.state = &platform.State{Broker: n.Broker, Accounts: n.accounts, Logger: n.logger}

	n.channels = newChannelRuntime(n)
	n.streams = newStreamRuntime(n)
	n.settings = newSettingsRuntime(n)
	n.API.Live = &live{n}
	n.API.Ingest = n.ingestREST
	n.tel = &platform.Telemetry{Broker: n.Broker, Accounts: n.accounts, Logger: n.logger, DeviceID: n.Registry.DeviceIDByIdent,
		Device: n.Registry.DeviceAccountByIdent}
	if n.telSource != nil {
		n.tel.Subscribed, n.tel.SubscribedUnder = n.embedded.Subscribed, n.embedded.SubscribedUnder
	}
	if c := n.cfg.Cluster; c != nil && c.Conn != nil {
		if n.peers, err = newPeers(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// overHTTP reports whether devices speak a protocol over HTTP: flespi's
// HTTP channel ("http") and the HTTPCodecs.
func (n *Node) overHTTP(name string) bool {
	if name == "http" {
		return true
	}
	_, ok := n.httpDecoder(name, false)
	return ok
}

func (n *Node) httpDecoder(name string, lenient bool) (channel.RequestDecoder, bool) {
	if n.cfg.HTTPCodecs == nil {
		return nil, false
	}
	return n.cfg.HTTPCodecs(name, lenient)
}

// codec returns the codec of a protocol.
func (n *Node) codec(name string, lenient bool) (protocol.Codec, bool) {
	if n.cfg.Codecs == nil {
		return nil, false
	}
	return n.cfg.Codecs(name, lenient)
}

func (n *Node) logMaxAge() time.Duration {
	if n.cfg.LogMaxAge != 0 {
		return n.cfg.LogMaxAge
	}
	return store.DefaultLogMaxAge
}

// retention is a device's history retention: its messages_ttl and
// messages_rotate.
func (n *Node) retention(ident string) store.Retention {
	if n.Registry == nil {
		return store.Retention{}
	}
	ttl, rotate := n.Registry.DeviceRetention(ident)
	r := store.Retention{MaxAge: time.Duration(ttl) * time.Second, MaxBytes: rotate << 10}
	if ttl < 0 {
		r.MaxAge = -1
	}
	return r
}

// Run starts the node and serves until ctx ends, then shuts down
// gracefully: listeners close, frames in hand finish (nothing is
// acknowledged that was not stored), consumers stop, the store closes.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}

	// Log consumers: history and telemetry, the platform message topics,
	// and the operator's streams — each a stream.Stream of the log, each
	// on one node at a time (leased: see Cluster).
	historySink := &history.Writer{Messages: n.db.Messages(), Telemetry: n.db.Telemetry()}
	// Telemetry is published by the node that writes it: the store's Watch
	// reports this node's updates, and only the history writer's holder
	// makes any. So it follows the history lease with no lease of its own.
	stopTel := n.tel.Watch(n.db.Telemetry())
	defer stopTel()
	for _, c := range []struct {
		name    string
		sink    stream.Sink
		noJSON  bool
		maxWait time.Duration
	}{
		// History batches wait a moment to fill: each costs fsyncs
		// (telemetry and messages, then the cursor) whatever its size,
		// and nobody waits on history for an acknowledgement.
		{"history", historySink, true, historyMaxWait},
		{"platform", &platform.Messages{Broker: n.Broker, Accounts: n.accounts}, false, 0},
	} {
		run(c.name, func(ctx context.Context) error {
			return n.leased(ctx, c.name, func(ctx context.Context, fence uint64) error {
				cfg := stream.Config{Name: c.name, NoJSON: c.noJSON, StartAt: stream.StartOldest, MaxWait: c.maxWait,
					RetryMax: 5 * time.Second, Logger: n.logger, Fence: fence}
				n.tuneShared(c.name, &cfg)
				s, err := stream.New(n.db.Log(), c.sink, &cfg)
				if err != nil {
					return err
				}
				if c.name == "history" && n.clustered() {
					// The retained telemetry of a node that died may lack
					// its last changes: the new writer publishes it all.
					go n.republishTelemetry(ctx)
				}
				return s.Run(ctx)
			})
		})
	}
	run("telemetry", n.tel.Run)
	run("live-state", func(ctx context.Context) error {
		return n.leased(ctx, "live-state", func(ctx context.Context, _ uint64) error { return n.publishLiveState(ctx) })
	})
	run("account-storage", func(ctx context.Context) error {
		every := n.cfg.AccountCheckInterval
		if every <= 0 {
			every = 30 * time.Second
		}
		if n.clustered() {
			return n.limits.watchStorageShared(ctx, every)
		}
		return n.limits.watchStorage(ctx, every)
	})
	if !n.clustered() && n.telSource == nil {
		// An external broker lost retained state in its restart, or was
		// given none by this node yet (the embedded one asks the store).
		run("telemetry-republish", n.republishTelemetry)
	}
	if n.clustered() {
		run("settings", n.retried("settings", n.settings.run))
	} else {
		run("settings", n.settings.run)
	}
	n.streams.start(ctx)
	run("streams", n.streams.run)

	// Listeners: the broker, the HTTP server, the channels.
	if err := n.listen(ctx, run); err != nil {
		cancel()
		wg.Wait()
		return err
	}
	if err := n.channels.start(ctx); err != nil {
		n.shutdown()
		cancel()
		wg.Wait()
		return err
	}
	n.watchObjects(ctx)
	close(n.ready)
	n.logger.Info("gateway running", "data", n.cfg.DataDir)

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		n.logger.Error("gateway stopping", "err", err)
	}
	n.shutdown()
	cancel()
	wg.Wait()
	if n.peers != nil {
		n.peers.close()
	}
	return err
}

// SetHTTPHandlers adds handlers to the HTTP server (/metrics, the console);
// call it before Run.
func (n *Node) SetHTTPHandlers(fn func(*http.ServeMux)) { n.cfg.HTTPHandlers = fn }

// Ready is closed once the node listens.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Addrs returns where the running node listens.
func (n *Node) Addrs() Addrs {
	n.mu.Lock()
	a := n.addrs
	a.Skipped = slices.Clone(a.Skipped)
	n.mu.Unlock()
	a.Channels = n.channels.addrs() // not under n.mu: starting a channel takes both, in the other order
	return a
}

// listen starts the HTTP server and the broker's listeners.
func (n *Node) listen(ctx context.Context, run func(string, func(context.Context) error)) error {
	if n.cfg.HTTP.Addr != "" {
		ln, err := n.bind("http", "tcp", n.cfg.HTTP, "-http")
		if err != nil {
			return err
		}
		if ln != nil {
			srv := &http.Server{Handler: n.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
			n.mu.Lock()
			n.addrs.HTTP = ln.Addr().String()
			n.mu.Unlock()
			run("http", func(ctx context.Context) error {
				go func() {
					<-ctx.Done()
					sctx, cancel := context.WithTimeout(context.Background(), n.shutdownTimeout())
					defer cancel()
					srv.Shutdown(sctx)
				}()
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					return err
				}
				return nil
			})
		}
	}
	mqtt := n.embedded
	if mqtt == nil {
		run("rest-over-mqtt", n.serveBusREST)
		// An external bus: the listeners serve the device API only.
		if mqtt = n.devBroker; mqtt == nil {
			return nil
		}
	}
	if n.cfg.MQTT.Addr != "" {
		ln, err := n.bind("mqtt", "tcp", n.cfg.MQTT, "-mqtt")
		if err != nil {
			return err
		}
		if ln != nil {
			n.mu.Lock()
			n.addrs.MQTT = ln.Addr().String()
			n.mu.Unlock()
			run("mqtt", func(ctx context.Context) error { return ignoreClosed(mqtt.Serve(ctx, ln)) })
		}
	}
	if n.cfg.MQTTWebSocket.Addr != "" {
		ln, err := n.bind("mqtt-ws", "tcp", n.cfg.MQTTWebSocket, "-mqtt-ws")
		if err != nil {
			return err
		}
		if ln != nil {
			n.mu.Lock()
			n.addrs.MQTTWebSocket = ln.Addr().String()
			n.mu.Unlock()
			// Each connection reads its own opening handshake: no
			// http.Server, whose hijacked connections leave ~15 KB of
			// garbage each, and idle clients park like TCP ones.
			run("mqtt-ws", func(ctx context.Context) error { return ignoreClosed(mqtt.ServeWebSocket(ctx, ln)) })
		}
	}
	return nil
}

func ignoreClosed(err error) error {
	if errors.Is(err, broker.ErrClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// bind listens on l; a default address that is taken is skipped (nil
// listener) and reported, any other failure is an error naming the flag.
func (n *Node) bind(what, network string, l Listen, flag string) (net.Listener, error) {
	ln, err := net.Listen(network, l.Addr)
	if err == nil {
		if n.conns != nil {
			ln = n.conns.Listener(ln)
		}
		n.mu.Lock()
		n.listeners = append(n.listeners, ln)
		n.mu.Unlock()
		return ln, nil
	}
	return nil, n.bindFailed(what, l, flag, err)
}

// filesReserved is kept beyond the databases' files for what else the
// node opens: listeners, outgoing connections (streams, NATS, proxy
// upstreams), traffic recordings, its own log file.
const filesReserved = 256

// connectionBudget is the bound Config.MaxConnections describes.
func (n *Node) connectionBudget() *fdlimit.Budget {
	size := n.cfg.MaxConnections
	if size < 0 {
		return nil
	}
	if size == 0 {
		limit, err := fdlimit.Current()
		if err != nil {
			return nil
		}
		size = int(min(limit, 1<<30)) - n.filesNeeded - filesReserved
		if size < 64 {
			n.logger.Warn("the open-file limit leaves room for few connections; raise it (ulimit -n)", "limit", limit, "connections", size)
			size = 64
		}
	}
	return fdlimit.NewBudget(size)
}

// bindFailed reports a listener that could not bind: a default address
// that is taken is skipped (nil error) and said in the banner, any other
// failure is an error naming the flag.
func (n *Node) bindFailed(what string, l Listen, flag string, err error) error {
	if l.Default {
		msg := fmt.Sprintf("%s on %s did not start (%v); move it with %s", what, l.Addr, shortErr(err), flag)
		n.logger.Warn(msg)
		n.mu.Lock()
		n.addrs.Skipped = append(n.addrs.Skipped, msg)
		n.mu.Unlock()
		return nil
	}
	return fmt.Errorf("%s: cannot listen on %s: %v", what, l.Addr, shortErr(err))
}

func shortErr(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

func (n *Node) shutdownTimeout() time.Duration {
	if n.cfg.ShutdownTimeout > 0 {
		return n.cfg.ShutdownTimeout
	}
	return 10 * time.Second
}

// shutdown stops accepting, lets channels finish the frames in hand, then
// closes the broker.
func (n *Node) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), n.shutdownTimeout())
	defer cancel()
	n.channels.shutdown(ctx)
	n.mu.Lock()
	for _, ln := range n.listeners {
		ln.Close()
	}
	n.mu.Unlock()
}

// Close releases the store, the registry and the broker. Call it after Run
// returned.
func (n *Node) Close() error {
	var errs []error
	if n.peers != nil {
		n.peers.close()
	}
	if n.embedded != nil {
		n.embedded.Close()
	}
	if n.devBroker != nil {
		n.devBroker.Close()
	}
	if n.Registry != nil {
		n.Registry.Close()
	}
	if n.cfg.Cluster != nil {
		return nil // the Cluster's parts are its owner's to close
	}
	if n.db != nil {
		errs = append(errs, n.db.Close())
	}
	if n.dead != nil {
		errs = append(errs, n.dead.Close())
	}
	if n.kv != nil {
		errs = append(errs, n.kv.Close())
	}
	return errors.Join(errs...)
}

// historyMaxWait is how long a history batch waits to fill once it has a
// message: at 2,000 devices sending a record a second, batches of ten
// messages cost the gateway as much CPU as 6,000 devices' larger ones.
const historyMaxWait = 20 * time.Millisecond

// republishTelemetry publishes every device's telemetry as retained state
// once at start: a broker without persistence lost it in the restart.
func (n *Node) republishTelemetry(ctx context.Context) error {
	select {
	case <-n.ready:
	case <-ctx.Done():
		return nil
	}
	for _, d := range n.Registry.Devices.List() {
		if err := n.tel.PublishDevice(ctx, n.db.Telemetry(), d.Configuration.Ident); err != nil && !errors.Is(err, store.ErrNotFound) {
			if ctx.Err() != nil {
				return nil
			}
			n.logger.Warn("telemetry republish failed", "device", d.ID, "err", err)
		}
	}
	return nil
}

// ingestREST stores messages POSTed to a device through the API.
func (n *Node) ingestREST(ctx context.Context, msgs []protocol.Message) error {
	return n.ingest.Append(ctx, registry.Channel{}, msgs)
}

// Snapshot is the node's state for a metrics exporter, read at once from
// the live parts (no second copy of state).
type Snapshot struct {
	Channels []ChannelSnapshot
	Streams  []StreamSnapshot
	Log      store.LogStats
	Ingest   ingest.Stats
	Devices  int
	// Connected counts devices with an identified connection.
	Connected int
	// Refusals counts refused attempts to reach another account's
	// objects, spaces or topics, by kind (rest.RefusedAccount, …).
	Refusals map[string]int64
	// Connections is what is open on the node's listeners, MaxConnections
	// their bound (0: none) and ConnectionsRejected those closed at once
	// because the bound was reached.
	Connections, MaxConnections int
	ConnectionsRejected         uint64
	// Broker is the embedded MQTT broker's state and counters (sessions,
	// subscriptions, messages in and out…); nil with an external broker.
	Broker *embedded.Stats
	// Engines are the Pebble instances' counters of the node's own store
	// (store/pebble); nil with another store.
	Engines []pebble.EngineStats
}

// ChannelSnapshot is one running tracker channel's counters.
type ChannelSnapshot struct {
	ID       int64
	Name     string
	Protocol string
	Stats    channel.Stats
}

// StreamSnapshot is one stream's counters.
type StreamSnapshot struct {
	ID    int64
	Name  string
	Stats stream.Stats
}

// Snapshot reads the node's state.
func (n *Node) Snapshot(ctx context.Context) (Snapshot, error) {
	var s Snapshot
	for id, srv := range n.channels.servers() {
		c, _ := n.Registry.Channels.Get(id)
		s.Channels = append(s.Channels, ChannelSnapshot{ID: id, Name: c.Name, Protocol: c.ProtocolName, Stats: srv.Stats()})
	}
	for _, def := range n.Registry.Streams.List() {
		if st, ok := n.streams.stats(def.ID); ok {
			s.Streams = append(s.Streams, StreamSnapshot{ID: def.ID, Name: def.Name, Stats: st})
		}
	}
	var err error
	s.Log, err = n.db.Log().Stats(ctx)
	s.Ingest = n.ingest.Stats()
	s.Devices = n.Registry.Devices.Len()
	n.devices.mu.Lock()
	s.Connected = len(n.devices.conns)
	n.devices.mu.Unlock()
	s.Refusals = n.refusals.snapshot()
	if n.conns != nil {
		s.Connections, s.MaxConnections, s.ConnectionsRejected = n.conns.InUse(), n.conns.Size(), n.conns.Rejected()
	}
	if n.embedded != nil {
		st := n.embedded.Stats()
		s.Broker = &st
	}
	if db, ok := n.db.(interface{ EngineStats() []pebble.EngineStats }); ok {
		s.Engines = db.EngineStats()
	}
	return s, err
}

// ObserveAppend, when set before Run, is told how long each channel batch
// took to become durable: the wait a tracker has for its ACK.
func (n *Node) ObserveAppend(fn func(time.Duration)) { n.ingest.Observe = fn }
