package config

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeFile writes a config file in a fresh directory and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c := Defaults()
	want := Config{
		Data: "./data", HTTP: ":8080", MQTT: ":1883", MQTTWS: ":8083",
		LogFormat: "text", LogLevel: "info", LogMaxAge: 720 * time.Hour,
		ConsoleTiles: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
	}
	want.set = map[string]bool{}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("Defaults() = %+v\nwant %+v", *c, want)
	}
	for _, o := range Options {
		if c.IsSet(o.Name) {
			t.Errorf("IsSet(%q) on defaults", o.Name)
		}
	}
	// Parse without arguments is the defaults.
	p, err := Parse(nil, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, c) {
		t.Errorf("Parse(nil) = %+v, want the defaults", *p)
	}
}

// TestFlagsAndKeys sets every option once by a flag and once by a key of
// the file: both give the same value, and IsSet reports it.
func TestFlagsAndKeys(t *testing.T) {
	for _, tc := range []struct {
		name, flag, yaml string
		get              func(*Config) any
		want             any
	}{
		{"data", "/var/lib/gw", "/var/lib/gw", func(c *Config) any { return c.Data }, "/var/lib/gw"},
		{"http", "127.0.0.1:9080", `"127.0.0.1:9080"`, func(c *Config) any { return c.HTTP }, "127.0.0.1:9080"},
		{"mqtt", ":1884", `":1884"`, func(c *Config) any { return c.MQTT }, ":1884"},
		{"mqtt-ws", ":8084", `":8084"`, func(c *Config) any { return c.MQTTWS }, ":8084"},
		{"channel", "teltonika=:5027", `["teltonika=:5027"]`, func(c *Config) any { return c.Channel }, []string{"teltonika=:5027"}},
		{"tls-cert", "c.pem", "c.pem", func(c *Config) any { return c.TLSCert }, "c.pem"},
		{"tls-key", "k.pem", "k.pem", func(c *Config) any { return c.TLSKey }, "k.pem"},
		{"tls-ca", "ca.pem", "ca.pem", func(c *Config) any { return c.TLSCA }, "ca.pem"},
		{"token", "0123456789abcdef", "0123456789abcdef", func(c *Config) any { return c.Token }, "0123456789abcdef"},
		{"log-format", "json", "json", func(c *Config) any { return c.LogFormat }, "json"},
		{"log-level", "debug", "debug", func(c *Config) any { return c.LogLevel }, "debug"},
		{"log-max-age", "36h", "36h", func(c *Config) any { return c.LogMaxAge }, 36 * time.Hour},
		{"max-connections", "5000", "5000", func(c *Config) any { return c.MaxConnections }, 5000},
		{"store", "nats://a:4222,nats://b:4222", "nats://a:4222,nats://b:4222", func(c *Config) any { return c.Store }, "nats://a:4222,nats://b:4222"},
		{"store", "tls://a:4222", "tls://a:4222", func(c *Config) any { return c.Store }, "tls://a:4222"},
		{"store-replicas", "3", "3", func(c *Config) any { return c.StoreReplicas }, 3},
		{"broker", "mqtt://u:p@broker:1883", "mqtt://u:p@broker:1883", func(c *Config) any { return c.Broker }, "mqtt://u:p@broker:1883"},
		{"node", "n1", "n1", func(c *Config) any { return c.Node }, "n1"},
		{"console-tiles", "none", "none", func(c *Config) any { return c.ConsoleTiles }, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			byFlag, err := Parse([]string{"-" + tc.name, tc.flag}, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("flag: %v", err)
			}
			if got := tc.get(byFlag); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("flag: got %#v, want %#v", got, tc.want)
			}
			if !byFlag.IsSet(tc.name) {
				t.Errorf("flag: IsSet(%q) = false", tc.name)
			}
			file := writeFile(t, tc.name+": "+tc.yaml+"\n")
			byKey, err := Parse([]string{"-config", file}, &bytes.Buffer{})
			if err != nil {
				t.Fatalf("key: %v", err)
			}
			if got := tc.get(byKey); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("key: got %#v, want %#v", got, tc.want)
			}
			if !byKey.IsSet(tc.name) {
				t.Errorf("key: IsSet(%q) = false", tc.name)
			}
		})
	}
}

// Every option the table documents is a flag and a key: a new option
// added to Options but not to setValue or load fails here.
func TestEveryOptionIsHandled(t *testing.T) {
	for _, o := range Options {
		if o.Name == "config" {
			continue
		}
		c := Defaults()
		if err := c.setValue(o.Name, o.Default, true); err != nil {
			t.Errorf("setValue(%q, default %q): %v", o.Name, o.Default, err)
		}
		v := o.Default
		switch {
		case o.Name == "channel":
			v = "[]"
		case v == "":
			v = `""`
		}
		if _, err := Parse([]string{"-config", writeFile(t, o.Name+": "+v+"\n")}, &bytes.Buffer{}); err != nil {
			t.Errorf("key %q: %v", o.Name, err)
		}
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
data: /from/file
http: ":9000"
log-level: warn
channel: ["teltonika=:5027", "gt06=:5023"]
`)
	for _, tc := range []struct {
		name    string
		args    []string
		data    string
		http    string
		level   string
		channel []string
	}{
		{"file only", []string{"-config", file}, "/from/file", ":9000", "warn", []string{"teltonika=:5027", "gt06=:5023"}},
		{"flags win", []string{"-config", file, "-data", "/from/flag", "-log-level", "error"}, "/from/flag", ":9000", "error", []string{"teltonika=:5027", "gt06=:5023"}},
		{"flag before -config wins too", []string{"-http", ":7000", "-config", file}, "/from/file", ":7000", "warn", []string{"teltonika=:5027", "gt06=:5023"}},
		{"-config=FILE", []string{"-config=" + file}, "/from/file", ":9000", "warn", []string{"teltonika=:5027", "gt06=:5023"}},
		{"--config FILE", []string{"--config", file}, "/from/file", ":9000", "warn", []string{"teltonika=:5027", "gt06=:5023"}},
		{"-channel flags replace the file's list", []string{"-config", file, "-channel", "h02=:5013"}, "/from/file", ":9000", "warn", []string{"h02=:5013"}},
		{"repeated -channel flags", []string{"-channel", "h02=:5013", "-config", file, "-channel", "h02=udp://:5013"}, "/from/file", ":9000", "warn", []string{"h02=:5013", "h02=udp://:5013"}},
		{"-channel without a file", []string{"-channel", "h02=:5013", "-channel", "gt06=:5023"}, "./data", ":8080", "info", []string{"h02=:5013", "gt06=:5023"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if c.Data != tc.data || c.HTTP != tc.http || c.LogLevel != tc.level || !reflect.DeepEqual(c.Channel, tc.channel) {
				t.Errorf("got data %q http %q level %q channel %q\nwant data %q http %q level %q channel %q",
					c.Data, c.HTTP, c.LogLevel, c.Channel, tc.data, tc.http, tc.level, tc.channel)
			}
			if !c.IsSet("channel") {
				t.Error("IsSet(channel) = false")
			}
			if c.IsSet("mqtt") {
				t.Error("IsSet(mqtt) = true, given by neither")
			}
		})
	}
}

// Every option's error, by a flag and by the file (prefixed with its
// name). In the file, a value of the wrong YAML type is refused by the
// decoder, with its line, before the option sees it (fileWant).
func TestInvalidValues(t *testing.T) {
	for _, tc := range []struct{ name, value, want, fileWant string }{
		{"log-format", "xml", `-log-format: want text or json, not "xml"`, ""},
		{"log-level", "trace", `-log-level: want debug, info, warn or error, not "trace"`, ""},
		{"log-max-age", "a week", `-log-max-age: time: invalid duration "a week"`, "line 1: cannot unmarshal !!str `a week` into time.Duration"},
		{"max-connections", "many", `-max-connections: want a number of connections, 0 for the file limit's, not "many"`, "line 1: cannot unmarshal !!str `many` into int"},
		{"max-connections", "-1", `-max-connections: want a number of connections, 0 for the file limit's, not "-1"`, ""},
		{"store", "redis://x", `-store: want nats://host:port (several comma-separated), not "redis://x"`, ""},
		{"store-replicas", "6", `-store-replicas: want 0 to 5, not "6"`, ""},
		{"store-replicas", "-1", `-store-replicas: want 0 to 5, not "-1"`, ""},
		{"store-replicas", "two", `-store-replicas: want 0 to 5, not "two"`, "line 1: cannot unmarshal !!str `two` into int"},
		{"broker", "broker.local", `-broker: want mqtt://host:port, not "broker.local"`, ""},
		{"broker", "mqtt://%zz", `-broker: want mqtt://host:port, not "mqtt://%zz"`, ""},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			c, err := Parse([]string{"-" + tc.name, tc.value}, &bytes.Buffer{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("flag: err = %v, want %q", err, tc.want)
			}
			if c != nil {
				t.Error("flag: a config came back with the error")
			}
			file := writeFile(t, tc.name+": "+tc.value+"\n")
			_, err = Parse([]string{"-config", file}, &bytes.Buffer{})
			want := file + ": " + tc.want
			if tc.fileWant != "" {
				want = file + ": yaml: unmarshal errors:\n  " + tc.fileWant
			}
			if err == nil || err.Error() != want {
				t.Errorf("key: err = %v, want %q", err, want)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		want          []string // substrings of the error
	}{
		{"unknown key", "data: x\nlisten: :80\n", []string{"line 2: field listen not found"}},
		{"unknown channel field", "channels:\n  - name: a\n    port: 1\n", []string{"field port not found"}},
		{"unknown token field", "tokens:\n  - key: k\n    secret: s\n", []string{"field secret not found"}},
		{"malformed", "data: [\n", []string{"yaml:"}},
		{"not a mapping", "- data\n- http\n", []string{"cannot unmarshal"}},
		{"wrong type", "max-connections: lots\n", []string{"cannot unmarshal"}},
		{"channel not a list", "channel: teltonika=:5027\n", []string{"cannot unmarshal"}},
		{"duration as a number", "log-max-age: 60\n", []string{"line 1: cannot unmarshal !!int `60` into time.Duration"}},
		{"tab indentation", "data: x\n\thttp: y\n", []string{"yaml:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, tc.content)
			_, err := Parse([]string{"-config", file}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), file+": ") {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}

	_, err := Parse([]string{"-config", filepath.Join(t.TempDir(), "missing.yaml")}, &bytes.Buffer{})
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "-config: ") {
		t.Errorf("missing file: err = %v, want -config: … (fs.ErrNotExist)", err)
	}

	// An empty file (or only comments) is no error: nothing set.
	c, err := Parse([]string{"-config", writeFile(t, "# nothing yet\n")}, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("empty file: %v", err)
	}
	if c.IsSet("data") || c.Data != "./data" {
		t.Errorf("empty file changed data: %q", c.Data)
	}
}

func TestCommandLineErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"positional argument", []string{"-data", "d", "extra"}, `unexpected argument "extra" (options start with -)`},
		{"unknown flag", []string{"-listen", ":80"}, "flag provided but not defined: -listen"},
		{"missing value", []string{"-data"}, "flag needs an argument: -data"},
		{"-config without a value", []string{"-config"}, "flag needs an argument: -config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse(tc.args, &bytes.Buffer{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
			if c != nil {
				t.Errorf("a config came back with the error: %+v", c)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := Parse([]string{"-h"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	md := Markdown()
	for _, o := range Options {
		head := "  -" + o.Name
		if o.Arg != "" {
			head += " " + o.Arg
		}
		if !strings.Contains(out.String(), head+"\n    \t"+o.Usage) {
			t.Errorf("-h lacks %q", head)
		}
		if o.Default != "" && !strings.Contains(out.String(), "(default "+o.Default+")") {
			t.Errorf("-h lacks the default of -%s", o.Name)
		}
		if !strings.Contains(md, "| `-"+o.Name) {
			t.Errorf("Markdown lacks -%s", o.Name)
		}
	}
	if n := strings.Count(md, "\n"); n != len(Options)+2 {
		t.Errorf("Markdown has %d lines, want %d", n, len(Options)+2)
	}
}

func TestParseChannel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ChannelFlag
		err  string
	}{
		{in: "teltonika=:5027", want: ChannelFlag{"teltonika", "tcp", ":5027"}},
		{in: "teltonika=tcp://0.0.0.0:5027", want: ChannelFlag{"teltonika", "tcp", "0.0.0.0:5027"}},
		{in: "teltonika=udp://:5027", want: ChannelFlag{"teltonika", "udp", ":5027"}},
		{in: "gt06=tls://:5443", want: ChannelFlag{"gt06", "tls", ":5443"}},
		{in: "h02=[::1]:5013", want: ChannelFlag{"h02", "tcp", "[::1]:5013"}},
		{in: "teltonika", err: `-channel "teltonika": want PROTOCOL=ADDR, e.g. teltonika=:5027 or teltonika=udp://:5027`},
		{in: "=:5027", err: `-channel "=:5027": want PROTOCOL=ADDR`},
		{in: "teltonika=", err: `-channel "teltonika=": want PROTOCOL=ADDR`},
		{in: "teltonika=http://:80", err: `-channel "teltonika=http://:80": scheme "http": want tcp://, udp:// or tls://`},
	} {
		got, err := ParseChannel(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("ParseChannel(%q) err = %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("ParseChannel(%q): %v", tc.in, err)
		case got != tc.want:
			t.Errorf("ParseChannel(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestDeclaredObjects(t *testing.T) {
	file := writeFile(t, `
channels:
  - name: fleet
    protocol: teltonika
    tcp: ":5027"
    auto_create_devices: false
    proxy: {upstreams: ["tcp://old.example.com:5027"]}
devices:
  - name: truck 1
    configuration: {ident: "356307042441013", phone: "+37060000000"}
    metadata: {fleet_id: 10}
    messages_ttl: 86400
streams:
  - name: crm
    protocol_name: http
    configuration: {uri: "https://crm.example.com/in"}
    channels: [1]
  - name: off
    protocol_name: mqtt
    enabled: false
tokens:
  - key: 0123456789abcdef0123
    info: ops
`)
	c, err := Parse([]string{"-config", file}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Channels) != 1 || c.Channels[0].Name != "fleet" || c.Channels[0].TCP != ":5027" ||
		c.Channels[0].AutoCreateDevices == nil || *c.Channels[0].AutoCreateDevices ||
		c.Channels[0].Proxy == nil {
		t.Errorf("channels = %+v", c.Channels)
	}
	if len(c.Tokens) != 1 || c.Tokens[0].Key != "0123456789abcdef0123" || c.Tokens[0].Info != "ops" {
		t.Errorf("tokens = %+v", c.Tokens)
	}
	for _, k := range []string{"channel", "data", "channels"} {
		if c.IsSet(k) {
			t.Errorf("IsSet(%q) with only objects in the file", k)
		}
	}
	devs, streams, err := c.Objects()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 {
		t.Fatalf("devices = %+v", devs)
	}
	d := devs[0]
	if d.Name != "truck 1" || d.Configuration.Ident != "356307042441013" || d.Configuration.Phone != "+37060000000" ||
		d.MessagesTTL != 86400 || d.Metadata["fleet_id"] != float64(10) {
		t.Errorf("device = %+v", d)
	}
	if len(streams) != 2 {
		t.Fatalf("streams = %+v", streams)
	}
	if s := streams[0]; s.Name != "crm" || s.ProtocolName != "http" || !s.Enabled ||
		string(s.Configuration) != `{"uri":"https://crm.example.com/in"}` || !reflect.DeepEqual(s.Channels, []int64{1}) {
		t.Errorf("stream 0 = %+v (configuration %s)", s, s.Configuration)
	}
	if s := streams[1]; s.Name != "off" || s.Enabled {
		t.Errorf("stream 1 = %+v: enabled: false is kept", s)
	}
}

func TestObjectsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"unknown device field", "devices:\n  - name: a\n    configuration: {ident: x}\n    colour: red\n", `devices[0]: json: unknown field "colour"`},
		{"wrong device type", "devices:\n  - name: a\n  - name: [1, 2]\n", "devices[1]: json: cannot unmarshal"},
		{"unknown stream field", "streams:\n  - name: s\n    protocol_name: http\n    url: x\n", `streams[0]: json: unknown field "url"`},
		{"wrong stream type", "streams:\n  - name: s\n    channels: one\n", "streams[0]: json: cannot unmarshal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]string{"-config", writeFile(t, tc.content)}, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = c.Objects()
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q…", err, tc.want)
			}
		})
	}
}

func TestDefaultChannels(t *testing.T) {
	got := DefaultChannels([]string{"teltonika", "calamp", "unknown", "gt06"})
	want := []Channel{
		{Name: "calamp", Protocol: "calamp", UDP: ":5082"},
		{Name: "gt06", Protocol: "gt06", TCP: ":5023"},
		{Name: "teltonika", Protocol: "teltonika", TCP: ":5027", UDP: ":5027"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DefaultChannels = %+v\nwant %+v", got, want)
	}
	md := ChannelsMarkdown([]string{"teltonika", "calamp", "unknown", "gt06"})
	wantMD := "| protocol | TCP | UDP |\n|---|---|---|\n| `calamp` | — | :5082 |\n| `gt06` | :5023 | — |\n| `teltonika` | :5027 | :5027 |\n"
	if md != wantMD {
		t.Errorf("ChannelsMarkdown =\n%s\nwant\n%s", md, wantMD)
	}
	if DefaultChannels(nil) != nil {
		t.Error("DefaultChannels(nil) is not empty")
	}
}
