package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/config"
)

// A channel declared in the config file can be a proxy channel.
func TestConfigFileProxyChannel(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	yaml := `channels:
  - name: fleet
    protocol: teltonika
    tcp: ":5027"
    record: true
    proxy:
      upstreams: ["old-platform.example:5027", "mirror.example:5027"]
      ack: ours
      reply_timeout: 5
`
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]string{"-config", file}, newBuf())
	if err != nil {
		t.Fatal(err)
	}
	specs, explicit, err := channels(cfg)
	if err != nil || !explicit || len(specs) != 1 {
		t.Fatalf("channels: %+v %v %v", specs, explicit, err)
	}
	p := specs[0].Config.Proxy.Channel()
	if len(p.Upstreams) != 2 || p.Upstreams[1] != "mirror.example:5027" || p.Ack != channel.AckOurs || p.ReplyTimeout.Seconds() != 5 {
		t.Fatalf("proxy %+v", p)
	}
}
