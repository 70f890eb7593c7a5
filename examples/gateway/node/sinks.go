package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker/paho"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/amqpsink"
	"github.com/gnssgate/gnssgate/stream/httpsink"
	"github.com/gnssgate/gnssgate/stream/mqttsink"
	"github.com/gnssgate/gnssgate/stream/wialonsink"
)

// HTTPStreamConfig is the configuration of a stream with protocol_name
// "http".
type HTTPStreamConfig struct {
	URI     string            `json:"uri"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Gzip    bool              `json:"gzip,omitempty"`
	TLS     tlsconf.Files     `json:"tls,omitempty"`
	// Retry and Permanent move HTTP statuses between "retried" and
	// "refused for good".
	Retry     []int `json:"retry_status,omitempty"`
	Permanent []int `json:"permanent_status,omitempty"`
	// Timeout bounds each request, in seconds; 0 means 30.
	Timeout int `json:"timeout,omitempty"`
	// MaxBatch bounds the messages per request; 0 means 1,000.
	MaxBatch int `json:"max_batch,omitempty"`
}

// sinkFor builds a stream's sink from its protocol and configuration, and
// the stream options the configuration sets.
func (n *Node) sinkFor(s *registry.Stream) (stream.Sink, func(*stream.Config), error) {
	switch s.ProtocolName {
	case "http":
		var c HTTPStreamConfig
		if err := decodeConfig(s.Configuration, &c); err != nil {
			return nil, nil, err
		}
		h := http.Header{}
		for k, v := range c.Headers {
			h.Set(k, v)
		}
		tc, err := c.TLS.Client()
		if err != nil {
			return nil, nil, &registry.ValidationError{Field: "configuration.tls", Reason: err.Error()}
		}
		sink, err := httpsink.New(&httpsink.Config{URL: c.URI, Method: c.Method, Header: h, Gzip: c.Gzip, TLS: tc,
			Retry: c.Retry, Permanent: c.Permanent})
		if err != nil {
			return nil, nil, &registry.ValidationError{Field: "configuration.uri", Reason: err.Error()}
		}
		return sink, func(sc *stream.Config) {
			if c.Timeout > 0 {
				sc.WriteTimeout = time.Duration(c.Timeout) * time.Second
			}
			sc.MaxBatch = c.MaxBatch
		}, nil
	case "mqtt":
		var c MQTTStreamConfig
		if err := decodeConfig(s.Configuration, &c); err != nil {
			return nil, nil, err
		}
		return n.mqttSink(&c)
	case "wialon-retranslator":
		var c WialonStreamConfig
		if err := decodeConfig(s.Configuration, &c); err != nil {
			return nil, nil, err
		}
		tc, err := tlsIf(c.TLS)
		if err != nil {
			return nil, nil, err
		}
		sink, err := wialonsink.New(&wialonsink.Config{Addr: c.URI, TLS: tc, Window: c.Window})
		if err != nil {
			return nil, nil, &registry.ValidationError{Field: "configuration.uri", Reason: err.Error()}
		}
		return sink, nil, nil
	case "amqp":
		var c AMQPStreamConfig
		if err := decodeConfig(s.Configuration, &c); err != nil {
			return nil, nil, err
		}
		tc, err := tlsIf(c.TLS)
		if err != nil {
			return nil, nil, err
		}
		sink, err := amqpsink.New(&amqpsink.Config{URL: c.URI, TLS: tc, Exchange: c.Exchange, RoutingKey: c.RoutingKey,
			AllowUnroutable: c.AllowUnroutable, Transient: c.Transient})
		if err != nil {
			return nil, nil, &registry.ValidationError{Field: "configuration.uri", Reason: err.Error()}
		}
		return sink, nil, nil
	}
	if build, ok := n.cfg.Sinks[s.ProtocolName]; ok {
		return build(s.Configuration)
	}
	return nil, nil, &registry.ValidationError{Field: "protocol_name",
		Reason: fmt.Sprintf("stream protocol %q is not available in this gateway", s.ProtocolName)}
}

// MQTTStreamConfig is the configuration of a stream with protocol_name
// "mqtt": each message published with QoS 1 to Topic (masks such as
// %ident% and %device.id%), on the gateway's own broker when URI is empty,
// else on the MQTT 5 broker at URI (mqtt://, tls://, ws://, wss://).
type MQTTStreamConfig struct {
	URI         string        `json:"uri,omitempty"`
	Topic       string        `json:"topic"`
	Username    string        `json:"username,omitempty"`
	Password    string        `json:"password,omitempty"`
	ClientID    string        `json:"client_id,omitempty"`
	TLS         tlsconf.Files `json:"tls,omitempty"`
	MaxInFlight int           `json:"max_in_flight,omitempty"`
	Retain      bool          `json:"retain,omitempty"`
}

// WialonStreamConfig is the configuration of a stream with protocol_name
// "wialon-retranslator": URI is the receiver's host:port.
type WialonStreamConfig struct {
	URI    string         `json:"uri"`
	TLS    *tlsconf.Files `json:"tls,omitempty"`
	Window int            `json:"window,omitempty"`
}

// AMQPStreamConfig is the configuration of a stream with protocol_name
// "amqp": URI is amqp://user:password@host:5672/vhost (or amqps://).
type AMQPStreamConfig struct {
	URI             string         `json:"uri"`
	Exchange        string         `json:"exchange,omitempty"`
	RoutingKey      string         `json:"routing_key,omitempty"`
	TLS             *tlsconf.Files `json:"tls,omitempty"`
	AllowUnroutable bool           `json:"allow_unroutable,omitempty"`
	Transient       bool           `json:"transient,omitempty"`
}

// tlsIf returns the client TLS configuration of f, or nil without f.
func tlsIf(f *tlsconf.Files) (*tls.Config, error) {
	if f == nil {
		return nil, nil
	}
	c, err := f.Client()
	if err != nil {
		return nil, &registry.ValidationError{Field: "configuration.tls", Reason: err.Error()}
	}
	return c, nil
}

// mqttSink builds an MQTT stream's sink: on the gateway's broker, or on an
// external one, connected at the first Write (a target that is down when
// the gateway starts is retried like any other).
func (n *Node) mqttSink(c *MQTTStreamConfig) (stream.Sink, func(*stream.Config), error) {
	cfg := &mqttsink.Config{Broker: n.Broker, Topic: c.Topic, MaxInFlight: c.MaxInFlight, Retain: c.Retain}
	if c.URI == "" {
		sink, err := mqttsink.New(cfg)
		if err != nil {
			return nil, nil, &registry.ValidationError{Field: "configuration.topic", Reason: err.Error()}
		}
		return sink, nil, nil
	}
	tc, err := c.TLS.Client()
	if err != nil {
		return nil, nil, &registry.ValidationError{Field: "configuration.tls", Reason: err.Error()}
	}
	if c.TLS.Empty() {
		tc = nil
	}
	pcfg := paho.Config{Server: c.URI, Username: c.Username, Password: c.Password, ClientID: c.ClientID, TLS: tc, Logger: n.logger}
	probe := *cfg
	probe.Broker = n.Broker // validates the topic template without connecting
	if _, err := mqttsink.New(&probe); err != nil {
		return nil, nil, &registry.ValidationError{Field: "configuration.topic", Reason: err.Error()}
	}
	return &remoteMQTT{cfg: *cfg, paho: pcfg}, nil, nil
}

// remoteMQTT is an MQTT sink on an external broker, connected lazily.
type remoteMQTT struct {
	cfg  mqttsink.Config
	paho paho.Config
	mu   sync.Mutex
	b    *paho.Broker
	sink *mqttsink.Sink
}

func (r *remoteMQTT) Write(ctx context.Context, b *stream.Batch) error {
	r.mu.Lock()
	if r.sink == nil {
		pb, err := paho.New(ctx, r.paho)
		if err != nil {
			r.mu.Unlock()
			return fmt.Errorf("mqtt stream: connecting to %s: %w", r.paho.Server, err)
		}
		cfg := r.cfg
		cfg.Broker = pb
		sink, err := mqttsink.New(&cfg)
		if err != nil {
			pb.Close()
			r.mu.Unlock()
			return stream.Permanent(err)
		}
		r.b, r.sink = pb, sink
	}
	sink := r.sink
	r.mu.Unlock()
	return sink.Write(ctx, b)
}

// Close disconnects from the external broker.
func (r *remoteMQTT) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.b != nil {
		return r.b.Close()
	}
	return nil
}

// SinkFactory builds a sink from a stream's configuration; Config.Sinks
// adds protocols to the gateway.
type SinkFactory func(configuration json.RawMessage) (stream.Sink, func(*stream.Config), error)

// decodeConfig reads a stream configuration, refusing unknown fields.
func decodeConfig(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return &registry.ValidationError{Field: "configuration", Reason: err.Error()}
	}
	return nil
}
