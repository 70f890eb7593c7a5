package paho

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
)

// Config configures a connection to an external MQTT 5 broker. The zero
// value of every field but Server has a documented default.
type Config struct {
	// Server is the broker's URL: mqtt://host:1883 (or tcp://), tls://,
	// mqtts:// or ssl:// for TLS, ws://host:port/path or wss:// for MQTT
	// over WebSocket. A bare "host:port" means mqtt://.
	Server string
	// TLS configures TLS and wss connections; nil uses the system roots.
	TLS *tls.Config

	// ClientID identifies the session on the broker. Empty means a random
	// "gnssgate-<uuid>", which gives a session that lives only as long as
	// this Broker value. Set it to resume the session after a restart.
	ClientID string
	// Username and Password authenticate the client (flespi: the token as
	// Username; ThingsBoard: the device access token as Username).
	Username string
	Password string

	// SessionExpiry is how long the broker keeps the session (subscriptions
	// and unacknowledged QoS 1 messages) after the connection drops. Zero
	// means 10 days (flespi's idle limit for persistent sessions); negative
	// means the session ends with the connection, which loses the messages
	// a handler refused (see Broker).
	SessionExpiry time.Duration
	// CleanStart discards a session the broker still holds for ClientID at
	// the first connection. Reconnections always resume the session.
	CleanStart bool

	// KeepAlive is the MQTT keep-alive interval; zero means 30 s.
	KeepAlive time.Duration
	// ConnectTimeout bounds each connection attempt; zero means 10 s.
	ConnectTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the delay between failed
	// connection attempts: a random delay of at least ReconnectMin (and at
	// least 1 ms) under a cap that doubles from 2×ReconnectMin up to
	// ReconnectMax (autopaho's exponential backoff). The first attempt
	// after a lost connection is immediate. Zero means 250 ms and 30 s.
	ReconnectMin, ReconnectMax time.Duration

	// QueueLen is the number of messages buffered per subscription before
	// the adapter stops reading from the broker (back-pressure). Zero means
	// 256.
	QueueLen int

	// Logger receives connection events and handler errors; nil means
	// slog.Default().
	Logger *slog.Logger
}

const defaultSessionExpiry = 10 * 24 * time.Hour

func (c Config) withDefaults() Config {
	if c.SessionExpiry == 0 {
		c.SessionExpiry = defaultSessionExpiry
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	if c.ReconnectMin <= 0 {
		c.ReconnectMin = 250 * time.Millisecond
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = 30 * time.Second
	}
	if c.ReconnectMax < c.ReconnectMin {
		c.ReconnectMax = c.ReconnectMin
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 256
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// reconnectBackoff returns the delay before connection attempt n of one
// reconnection (0 = the first, which is immediate): random between
// ReconnectMin and a cap that starts at twice ReconnectMin and doubles up to
// ReconnectMax, so that many clients do not reconnect in step.
func (c Config) reconnectBackoff() autopaho.Backoff {
	lo := max(c.ReconnectMin, time.Millisecond) // autopaho counts milliseconds
	if c.ReconnectMax <= lo {
		return autopaho.NewConstantBackoff(lo)
	}
	return autopaho.NewExponentialBackoff(lo, c.ReconnectMax, min(2*lo, c.ReconnectMax), 2)
}

// sessionExpirySeconds converts SessionExpiry to the CONNECT property.
func (c Config) sessionExpirySeconds() uint32 {
	if c.SessionExpiry < 0 {
		return 0
	}
	s := c.SessionExpiry / time.Second
	if s > 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(s)
}
