package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
)

// Config is the gateway's configuration.
type Config struct {
	Data      string        `yaml:"data"`
	HTTP      string        `yaml:"http"`
	MQTT      string        `yaml:"mqtt"`
	MQTTWS    string        `yaml:"mqtt-ws"`
	Channel   []string      `yaml:"channel"`
	Token     string        `yaml:"token"`
	LogFormat string        `yaml:"log-format"`
	LogLevel  string        `yaml:"log-level"`
	LogMaxAge time.Duration `yaml:"log-max-age"`
	// MaxConnections bounds open connections on all listeners; 0 derives
	// it from the open-file limit (node.Config.MaxConnections).
	MaxConnections int    `yaml:"max-connections"`
	TLSCert        string `yaml:"tls-cert"`
	TLSKey         string `yaml:"tls-key"`
	TLSCA          string `yaml:"tls-ca"`
	// ConsoleTiles is the web console's map tile URL template; "" or
	// "none" draws a coordinate grid only.
	ConsoleTiles string `yaml:"console-tiles"`
	// Store, Broker, StoreReplicas and Node make a node of several acting
	// as one (docs/scaling.md).
	Store         string `yaml:"store"`
	StoreReplicas int    `yaml:"store-replicas"`
	Broker        string `yaml:"broker"`
	Node          string `yaml:"node"`
	// Pprof serves Go's runtime profiles (net/http/pprof) on its own
	// address; "" is off.
	Pprof string `yaml:"pprof"`

	// Objects a deployment declares (file only).
	Channels []Channel    `yaml:"channels"`
	Devices  []DeviceSpec `yaml:"devices"`
	Streams  []StreamSpec `yaml:"streams"`
	Tokens   []TokenSpec  `yaml:"tokens"`

	// set records the options given by a flag or the file, rather than
	// left at their defaults.
	set map[string]bool
}

// Channel declares a channel in the file.
type Channel struct {
	Name              string        `yaml:"name"`
	Protocol          string        `yaml:"protocol"`
	TCP               string        `yaml:"tcp"`
	UDP               string        `yaml:"udp"`
	TLS               string        `yaml:"tls"`
	Certificate       tlsconf.Files `yaml:"certificate"`
	AutoCreateDevices *bool         `yaml:"auto_create_devices"`
	Lenient           bool          `yaml:"lenient"`
	Record            bool          `yaml:"record"`
	IdentField        string        `yaml:"ident_field"`
	Topics            []string      `yaml:"topics"`
	IdentTopicLevel   int           `yaml:"ident_topic_level"`
	// Proxy forwards the channel's devices to upstream servers too.
	Proxy *registry.ProxyConfig `yaml:"proxy"`
}

// DeviceSpec, StreamSpec and TokenSpec are the REST API's objects, in
// YAML (the same field names).
type (
	DeviceSpec = map[string]any
	StreamSpec = map[string]any
	TokenSpec  struct {
		Key  string        `yaml:"key"`
		Info string        `yaml:"info"`
		ACL  *registry.ACL `yaml:"acl"`
	}
)

// Option is one setting: a flag and the config key of the same name.
type Option struct {
	Name    string // flag and key
	Arg     string // placeholder in -h
	Default string
	Usage   string
}

// Options lists every setting.
var Options = []Option{
	{"config", "FILE", "", "read settings and declared objects from this YAML file (flags win)"},
	{"data", "DIR", "./data", "keep the store, the registry and the broker's state in DIR"},
	{"http", "ADDR", ":8080", "serve the REST API, HTTP channels, /metrics, /healthz and /readyz on ADDR"},
	{"mqtt", "ADDR", ":1883", "serve the embedded MQTT broker on ADDR (TCP)"},
	{"mqtt-ws", "ADDR", ":8083", "serve the embedded MQTT broker over WebSocket on ADDR (path /mqtt)"},
	{"channel", "PROTOCOL=ADDR", "", "run a channel (repeatable; PROTOCOL=udp://ADDR for UDP, PROTOCOL=tls://ADDR for TLS); when given, only the listed channels run"},
	{"tls-cert", "FILE", "", "certificate (PEM chain) of tls:// channels"},
	{"tls-key", "FILE", "", "private key (PEM) of tls:// channels"},
	{"tls-ca", "FILE", "", "CA (PEM) whose client certificates tls:// channels require; empty accepts devices without one"},
	{"token", "SECRET", "", "the master token (at least 16 characters); without it a new data directory gets one, printed once"},
	{"log-format", "FORMAT", "text", "log format: text or json"},
	{"log-level", "LEVEL", "info", "log level: debug, info, warn, error"},
	{"log-max-age", "DURATION", "720h", "how long the log keeps messages for streams and channels' buffers"},
	{"max-connections", "N", "0", "connections open at once on all listeners (trackers, MQTT, HTTP); more are closed on accept; 0 means the open-file limit (ulimit -n) less what the store needs"},
	{"store", "URL", "", "keep the log, history, telemetry, registry and leases in NATS JetStream at URL (nats://host:4222, several comma-separated) instead of DIR, shared by every gateway node that names it (docs/scaling.md)"},
	{"store-replicas", "N", "0", "replicas of the streams and buckets -store creates; 0 means 3 on a cluster of three or more NATS servers, else 1"},
	{"broker", "URL", "", "use this external MQTT 5 broker (mqtt://[user:pass@]host:1883, mqtts://, ws://) as the bus instead of the embedded one; -mqtt and -mqtt-ws then serve ThingsBoard's device MQTT API only"},
	{"node", "NAME", "", "this node's name in logs, leases and presence when several share a -store; empty means the host name"},
	{"pprof", "ADDR", "", "serve Go's runtime profiles (net/http/pprof: CPU, heap, goroutines) on ADDR, e.g. 127.0.0.1:6060, with no authentication: keep it on loopback; empty: off"},
	{"console-tiles", "URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "map tiles of the web console (/console/): a URL template with {z}, {x}, {y}; none draws a coordinate grid only"},
}

// Defaults returns the configuration with every option at its default.
func Defaults() *Config {
	c := &Config{set: map[string]bool{}}
	for _, o := range Options {
		c.setValue(o.Name, o.Default, false)
	}
	return c
}

// IsSet reports whether an option was given by a flag or the file.
func (c *Config) IsSet(name string) bool { return c.set[name] }

func (c *Config) setValue(name, v string, explicit bool) error {
	switch name {
	case "config":
	case "data":
		c.Data = v
	case "http":
		c.HTTP = v
	case "pprof":
		c.Pprof = v
	case "mqtt":
		c.MQTT = v
	case "mqtt-ws":
		c.MQTTWS = v
	case "channel":
		if v != "" {
			c.Channel = append(c.Channel, v)
		}
	case "token":
		c.Token = v
	case "log-format":
		if v != "text" && v != "json" {
			return fmt.Errorf("-log-format: want text or json, not %q", v)
		}
		c.LogFormat = v
	case "log-level":
		if !slices.Contains([]string{"debug", "info", "warn", "error"}, v) {
			return fmt.Errorf("-log-level: want debug, info, warn or error, not %q", v)
		}
		c.LogLevel = v
	case "tls-cert":
		c.TLSCert = v
	case "tls-key":
		c.TLSKey = v
	case "tls-ca":
		c.TLSCA = v
	case "log-max-age":
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("-log-max-age: %v", err)
		}
		c.LogMaxAge = d
	case "console-tiles":
		c.ConsoleTiles = v
	case "max-connections":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("-max-connections: want a number of connections, 0 for the file limit's, not %q", v)
		}
		c.MaxConnections = n
	case "store":
		if v != "" && !strings.HasPrefix(v, "nats://") && !strings.HasPrefix(v, "tls://") {
			return fmt.Errorf("-store: want nats://host:port (several comma-separated), not %q", v)
		}
		c.Store = v
	case "store-replicas":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 5 {
			return fmt.Errorf("-store-replicas: want 0 to 5, not %q", v)
		}
		c.StoreReplicas = n
	case "broker":
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || u.Host == "" {
				return fmt.Errorf("-broker: want mqtt://host:port, not %q", v)
			}
		}
		c.Broker = v
	case "node":
		c.Node = v
	default:
		return fmt.Errorf("unknown option %q", name)
	}
	if explicit {
		c.set[name] = true
	}
	return nil
}

// Parse reads the command line (without the program name): defaults, then
// the -config file, then the other flags. -h prints the options to out and
// returns flag.ErrHelp.
func Parse(args []string, out io.Writer) (*Config, error) {
	c := Defaults()
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() { Usage(out) }
	var file string
	var flagErr error
	channelFlag := false
	for _, o := range Options {
		if o.Name == "config" {
			fs.StringVar(&file, "config", "", o.Usage)
			continue
		}
		fs.Func(o.Name, o.Usage, func(v string) error {
			if o.Name == "channel" && !channelFlag {
				c.Channel, channelFlag = nil, true // -channel flags replace the file's list
			}
			if err := c.setValue(o.Name, v, true); err != nil {
				flagErr = err
				return err
			}
			return nil
		})
	}
	// The file first: scan for -config, then parse the flags over it.
	for i, a := range args {
		if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "config="); ok && strings.HasPrefix(a, "-") {
			file = v
		} else if (a == "-config" || a == "--config") && i+1 < len(args) {
			file = args[i+1]
		}
	}
	if file != "" {
		if err := c.load(file); err != nil {
			return nil, err
		}
	}
	if err := fs.Parse(args); err != nil {
		if flagErr != nil {
			return nil, flagErr
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (options start with -)", fs.Arg(0))
	}
	return c, nil
}

// load reads a YAML file over c.
func (c *Config) load(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("-config: %w", err)
	}
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var f Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", file, err)
	}
	for key := range raw {
		switch key {
		case "channels", "devices", "streams", "tokens":
			continue
		case "channel":
			for _, v := range f.Channel {
				if err := c.setValue("channel", v, true); err != nil {
					return fmt.Errorf("%s: %w", file, err)
				}
			}
			continue
		}
		var v string
		switch key {
		case "data":
			v = f.Data
		case "http":
			v = f.HTTP
		case "mqtt":
			v = f.MQTT
		case "mqtt-ws":
			v = f.MQTTWS
		case "token":
			v = f.Token
		case "log-format":
			v = f.LogFormat
		case "log-level":
			v = f.LogLevel
		case "log-max-age":
			v = f.LogMaxAge.String()
		case "tls-cert":
			v = f.TLSCert
		case "tls-key":
			v = f.TLSKey
		case "tls-ca":
			v = f.TLSCA
		case "console-tiles":
			v = f.ConsoleTiles
		case "max-connections":
			v = strconv.Itoa(f.MaxConnections)
		case "store":
			v = f.Store
		case "store-replicas":
			v = strconv.Itoa(f.StoreReplicas)
		case "broker":
			v = f.Broker
		case "node":
			v = f.Node
		case "pprof":
			v = f.Pprof
		default:
			return fmt.Errorf("%s: unknown key %q", file, key)
		}
		if err := c.setValue(key, v, true); err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
	}
	c.Channels, c.Devices, c.Streams, c.Tokens = f.Channels, f.Devices, f.Streams, f.Tokens
	return nil
}

// Usage prints the options.
func Usage(out io.Writer) {
	fmt.Fprintf(out, "Usage: gateway [options]\n\nRuns a telematics gateway: tracker channels, a durable store, flespi's REST API\nand MQTT platform topics, streams. Every option is also a key of the -config file.\n\n")
	for _, o := range Options {
		head := "  -" + o.Name
		if o.Arg != "" {
			head += " " + o.Arg
		}
		fmt.Fprintf(out, "%s\n    \t%s", head, o.Usage)
		if o.Default != "" {
			fmt.Fprintf(out, " (default %s)", o.Default)
		}
		fmt.Fprintln(out)
	}
}

// Markdown returns the options as the README's table.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| flag / key | default | what |\n|---|---|---|\n")
	for _, o := range Options {
		arg := ""
		if o.Arg != "" {
			arg = " " + o.Arg
		}
		def := o.Default
		if def == "" {
			def = "—"
		} else {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `-%s%s` | %s | %s |\n", o.Name, arg, def, o.Usage)
	}
	return b.String()
}

// ChannelFlag is one -channel value: PROTOCOL=ADDR, PROTOCOL=udp://ADDR or
// PROTOCOL=tls://ADDR (tcp:// is the default scheme).
type ChannelFlag struct {
	Protocol string
	Network  string // "tcp", "udp" or "tls"
	Addr     string
}

// ParseChannel parses a -channel value.
func ParseChannel(s string) (ChannelFlag, error) {
	proto, addr, ok := strings.Cut(s, "=")
	if !ok || proto == "" || addr == "" {
		return ChannelFlag{}, fmt.Errorf("-channel %q: want PROTOCOL=ADDR, e.g. teltonika=:5027 or teltonika=udp://:5027", s)
	}
	f := ChannelFlag{Protocol: proto, Network: "tcp", Addr: addr}
	if scheme, rest, ok := strings.Cut(addr, "://"); ok {
		if scheme != "tcp" && scheme != "udp" && scheme != "tls" {
			return ChannelFlag{}, fmt.Errorf("-channel %q: scheme %q: want tcp://, udp:// or tls://", s, scheme)
		}
		f.Network, f.Addr = scheme, rest
	}
	return f, nil
}

// Objects turns the file's declared devices and streams into registry
// objects, through their JSON (the REST API's field names).
func (c *Config) Objects() ([]registry.Device, []registry.Stream, error) {
	var devs []registry.Device
	for i, d := range c.Devices {
		var v registry.Device
		if err := viaJSON(d, &v); err != nil {
			return nil, nil, fmt.Errorf("devices[%d]: %w", i, err)
		}
		devs = append(devs, v)
	}
	var streams []registry.Stream
	for i, s := range c.Streams {
		v := registry.Stream{Enabled: true}
		if err := viaJSON(s, &v); err != nil {
			return nil, nil, fmt.Errorf("streams[%d]: %w", i, err)
		}
		streams = append(streams, v)
	}
	return devs, streams, nil
}

func viaJSON(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(out)
}

// Ports is the table of usual ports of the gateway's default channels:
// the ports trackers are usually configured for (Traccar's numbering),
// TCP, and UDP where the protocol has it. The README shows it.
var Ports = map[string]struct {
	Port int
	UDP  bool
	// UDPOnly: the protocol has no stream framing (CalAmp LM Direct).
	UDPOnly bool
}{
	"teltonika":           {Port: 5027, UDP: true},
	"gt06":                {Port: 5023, UDP: false},
	"wialon-ips":          {Port: 5039, UDP: true},
	"queclink":            {Port: 5004, UDP: true},
	"h02":                 {Port: 5013, UDP: true},
	"gps103":              {Port: 5001, UDP: true},
	"tk103":               {Port: 5002, UDP: true},
	"meitrack":            {Port: 5020, UDP: true},
	"ruptela":             {Port: 5046, UDP: true},
	"galileosky":          {Port: 5034, UDP: true},
	"navtelecom":          {Port: 5180, UDP: false},
	"jt808":               {Port: 5015, UDP: true},
	"egts":                {Port: 5176, UDP: false},
	"arnavi":              {Port: 5100, UDP: false},
	"suntech":             {Port: 5011, UDP: true},
	"calamp":              {Port: 5082, UDP: true, UDPOnly: true},
	"osmand":              {Port: 5055},
	"watch":               {Port: 5093, UDP: false},
	"wialon-retranslator": {Port: 20163, UDP: false},
}

// DefaultChannels returns a channel for every protocol of names that has a
// usual port, sorted by name.
func DefaultChannels(names []string) []Channel {
	var out []Channel
	for _, n := range names {
		p, ok := Ports[n]
		if !ok {
			continue
		}
		addr := fmt.Sprintf(":%d", p.Port)
		c := Channel{Name: n, Protocol: n, TCP: addr}
		if p.UDP {
			c.UDP = addr
		}
		if p.UDPOnly {
			c.TCP = ""
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ChannelsMarkdown returns the README's table of default channels for the
// protocols in names.
func ChannelsMarkdown(names []string) string {
	var b strings.Builder
	b.WriteString("| protocol | TCP | UDP |\n|---|---|---|\n")
	for _, c := range DefaultChannels(names) {
		tcp, udp := "—", "—"
		if c.TCP != "" {
			tcp = c.TCP
		}
		if c.UDP != "" {
			udp = c.UDP
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", c.Name, tcp, udp)
	}
	return b.String()
}
