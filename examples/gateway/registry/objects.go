package registry

import (
	"encoding/json"
	"time"

	"github.com/gnssgate/gnssgate/internal/tlsconf"
)

// Meta is what every object has: its id, unique within its kind, and the
// id of the account that owns it (flespi's "cid").
type Meta struct {
	ID  int64 `json:"id"`
	CID int64 `json:"cid"`
}

func (m *Meta) meta() *Meta { return m }

// RootCID is the account of the master token: the gateway's own.
const RootCID = 1

// Channel is a listener for one tracker protocol (flespi's channel).
type Channel struct {
	Meta
	Name         string `json:"name"`
	ProtocolName string `json:"protocol_name"`
	Enabled      bool   `json:"enabled"`
	// Configuration says where and how the channel listens.
	Configuration ChannelConfig  `json:"configuration"`
	Metadata      map[string]any `json:"metadata,omitempty"`
	// Origin says where the channel was declared: "default" (the
	// gateway's table of usual ports), "config" (flags or the config
	// file), or "" (the REST API). It decides which channels start when
	// the operator lists channels explicitly.
	Origin string `json:"origin,omitempty"`
}

// ChannelConfig is a channel's "configuration".
type ChannelConfig struct {
	// TCP and UDP are listen addresses ("host:port", ":5027"); either may
	// be empty. An HTTP channel without TCP is served by the gateway's HTTP
	// server at /http/{channel id}; an MQTT channel listens nowhere (it
	// subscribes to Topics).
	TCP string `json:"tcp,omitempty"`
	UDP string `json:"udp,omitempty"`
	// TLS listens for devices that encrypt: the protocol over TLS 1.2+,
	// with Certificate (its CA, when set, requires client certificates
	// signed by it).
	TLS         string        `json:"tls,omitempty"`
	Certificate tlsconf.Files `json:"certificate,omitempty"`
	// AutoCreateDevices registers a device for every new ident that sends
	// a message (nil means true). With false, messages of unregistered
	// idents are stored without "device.id".
	AutoCreateDevices *bool `json:"auto_create_devices,omitempty"`
	// Lenient keeps frames with a bad checksum or length, marked.
	Lenient bool `json:"lenient,omitempty"`
	// Record keeps every connection's raw traffic (the traffic viewer).
	Record bool `json:"record,omitempty"`
	// IdentField names the parameter holding the ident (HTTP and MQTT
	// channels); "" means "ident".
	IdentField string `json:"ident_field,omitempty"`
	// Topics are the MQTT filters an MQTT channel subscribes to, on the
	// gateway's broker; IdentTopicLevel, when positive, takes the ident
	// from that level of the topic (from 1).
	Topics          []string `json:"topics,omitempty"`
	IdentTopicLevel int      `json:"ident_topic_level,omitempty"`
	// Proxy, when set, forwards every device's frames to upstream servers
	// too (moving a fleet from another platform); see ProxyConfig.
	Proxy *ProxyConfig `json:"proxy,omitempty"`
}

// AutoCreate reports the effective AutoCreateDevices.
func (c ChannelConfig) AutoCreate() bool { return c.AutoCreateDevices == nil || *c.AutoCreateDevices }

// Device is a registered tracker (flespi's device).
type Device struct {
	Meta
	Name           string         `json:"name"`
	ProtocolName   string         `json:"protocol_name,omitempty"`
	DeviceTypeName string         `json:"device_type_name,omitempty"`
	Configuration  DeviceConfig   `json:"configuration"`
	Groups         []string       `json:"groups,omitempty"`
	Metadata       map[string]any `json:"metadata,omitempty"`
	// MessagesTTL is how long the device's history keeps messages, in
	// seconds: 0 means the gateway's default (365 days), -1 forever.
	MessagesTTL int64 `json:"messages_ttl"`
	// MessagesRotate caps the device's history size in kilobytes; 0 means
	// no cap.
	MessagesRotate int64 `json:"messages_rotate"`
}

// ownRetention reports whether the device's history retention is not the
// default.
func (d *Device) ownRetention() bool { return d.MessagesTTL != 0 || d.MessagesRotate != 0 }

// DeviceConfig is a device's "configuration".
type DeviceConfig struct {
	Ident    string `json:"ident"`
	Phone    string `json:"phone,omitempty"`
	Password string `json:"password,omitempty"`
	// AccessToken is the device's credential for the device MQTT API
	// (ThingsBoard's access token, the MQTT username).
	AccessToken string `json:"access_token,omitempty"`
	// ClientID and Username, with Password, are the device's basic MQTT
	// credentials for the device API (ThingsBoard's "MQTT Basic"); an
	// empty ClientID accepts any client identifier.
	ClientID string `json:"client_id,omitempty"`
	Username string `json:"username,omitempty"`
	// Certificate is the SHA-256 fingerprint (hex) of the device's X.509
	// client certificate, for the device API over TLS.
	Certificate string `json:"certificate,omitempty"`
	// Gateway lets the device speak ThingsBoard's gateway API for others.
	Gateway bool `json:"gateway,omitempty"`
}

// Stream forwards messages to another platform (flespi's stream).
type Stream struct {
	Meta
	Name string `json:"name"`
	// ProtocolName is the sink: "http", "mqtt", "wialon-retranslator",
	// "amqp".
	ProtocolName string `json:"protocol_name"`
	// Configuration is the sink's, as its protocol defines it.
	Configuration json.RawMessage `json:"configuration,omitempty"`
	Enabled       bool            `json:"enabled"`
	// QueueTTL drops messages older than this many seconds; 0 keeps them
	// as long as the log does.
	QueueTTL int64 `json:"queue_ttl"`
	// ValidateMessage is a filter expression messages must match.
	ValidateMessage string `json:"validate_message,omitempty"`
	// ConvertMessage keeps only some parameters and chooses nested JSON.
	ConvertMessage *Convert `json:"convert_message,omitempty"`
	// Channels and Devices are the stream's subscriptions.
	Channels []int64        `json:"channels"`
	Devices  []int64        `json:"devices"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// Convert is a stream's convert_message.
type Convert struct {
	Fields []string `json:"fields,omitempty"`
	Nested bool     `json:"nested,omitempty"`
}

// Token is an access token (flespi's platform token).
type Token struct {
	Meta
	Info string `json:"info"`
	// Key is the secret. It is returned once, by the call that creates
	// the token, and never stored: the registry keeps its SHA-256.
	Key  string `json:"key,omitempty"`
	Hash string `json:"hash,omitempty"`
	// Expire is when the token stops working (Unix seconds); 0 never.
	Expire int64 `json:"expire"`
	// ACL limits the token; nil gives it every right of its account.
	ACL *ACL `json:"acl,omitempty"`
}

// Expired reports whether the token has expired at now.
func (t *Token) Expired(now time.Time) bool { return t.Expire > 0 && now.Unix() >= t.Expire }

// ACL lists what a token may do. An empty list denies that kind of access.
type ACL struct {
	// REST lists the API calls allowed: a URI pattern ("gw/devices/*",
	// "gw/streams/12/*"; '*' matches any run of characters) and the
	// methods (empty: all).
	REST []RESTRule `json:"rest,omitempty"`
	// Publish and Subscribe are MQTT topic filters.
	Publish   []string `json:"publish,omitempty"`
	Subscribe []string `json:"subscribe,omitempty"`
	// Subaccounts lets the token see and act in its account's
	// subaccounts (a token without an ACL may).
	Subaccounts bool `json:"subaccounts,omitempty"`
}

// RESTRule is one REST permission.
type RESTRule struct {
	URI     string   `json:"uri"`
	Methods []string `json:"methods,omitempty"`
}
