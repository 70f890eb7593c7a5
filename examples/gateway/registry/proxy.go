package registry

import (
	"net"
	"time"

	"github.com/gnssgate/gnssgate/channel"
)

// ProxyConfig is a channel's "configuration.proxy": the channel also
// forwards every device's frames to upstream servers, relays the first
// one's answers and keeps serving the device when they are down (package
// channel, [channel.Proxy], says how and why).
type ProxyConfig struct {
	// Upstreams are "host:port" addresses; the first one's answers reach
	// the devices.
	Upstreams []string `json:"upstreams" yaml:"upstreams"`
	// Ack is "upstream" (default: the first upstream's acknowledgements
	// while it is up, ours while it is down) or "ours" (always ours).
	Ack string `json:"ack,omitempty" yaml:"ack"`
	// ReplyTimeout is how many seconds the first upstream may leave a frame
	// unanswered before it is taken for down; 0 means 10.
	ReplyTimeout float64 `json:"reply_timeout,omitempty" yaml:"reply_timeout"`
	// RetryMax caps the seconds between reconnections; 0 means 60.
	RetryMax float64 `json:"retry_max,omitempty" yaml:"retry_max"`
	// MaxBacklog bounds the bytes held per device for an upstream that is
	// down; 0 means 64 KiB, -1 none.
	MaxBacklog int `json:"max_backlog,omitempty" yaml:"max_backlog"`
}

// Channel returns the channel package's configuration.
func (p *ProxyConfig) Channel() channel.Proxy {
	if p == nil {
		return channel.Proxy{}
	}
	ack, _ := channel.ParseProxyAck(p.Ack)
	return channel.Proxy{Upstreams: p.Upstreams, Ack: ack, ReplyTimeout: seconds(p.ReplyTimeout),
		RetryMax: seconds(p.RetryMax), MaxBacklog: p.MaxBacklog}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// check validates a channel's proxy configuration.
func (p *ProxyConfig) check(protocol string) error {
	if p == nil {
		return nil
	}
	switch {
	case protocol == "http" || protocol == "mqtt":
		return invalid("configuration.proxy", "only tracker protocols (TCP and UDP channels) can be proxied")
	case len(p.Upstreams) == 0:
		return invalid("configuration.proxy.upstreams", "at least one upstream host:port is required")
	case len(p.Upstreams) > 8:
		return invalid("configuration.proxy.upstreams", "at most 8 upstreams")
	case p.ReplyTimeout < 0 || p.RetryMax < 0:
		return invalid("configuration.proxy", "reply_timeout and retry_max must not be negative")
	case p.MaxBacklog < -1:
		return invalid("configuration.proxy.max_backlog", "-1 (none), 0 (default) or a number of bytes")
	}
	for _, u := range p.Upstreams {
		host, port, err := net.SplitHostPort(u)
		if err != nil || host == "" || port == "" {
			return invalid("configuration.proxy.upstreams", "%q is not host:port", u)
		}
	}
	if _, err := channel.ParseProxyAck(p.Ack); err != nil {
		return invalid("configuration.proxy.ack", `"upstream" or "ours", not %q`, p.Ack)
	}
	return nil
}
