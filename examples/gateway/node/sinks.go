package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/internal/tlsconf"
	"github.com/gnssgate/gnssgate/stream"
	"github.com/gnssgate/gnssgate/stream/httpsink"
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
	}
	if build, ok := n.cfg.Sinks[s.ProtocolName]; ok {
		return build(s.Configuration)
	}
	return nil, nil, &registry.ValidationError{Field: "protocol_name",
		Reason: fmt.Sprintf("stream protocol %q is not available in this gateway", s.ProtocolName)}
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
