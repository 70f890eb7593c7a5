package deviceapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
)

// Defaults of API fields left zero.
const (
	DefaultNamespace     = "$devices/"
	DefaultRPCTimeout    = 10 * time.Second
	DefaultMaxChunkSize  = 64 << 10
	DefaultMaxClientRPC  = 8
	DefaultMaxSubDevices = 100_000
	DefaultClaimDuration = 24 * time.Hour
)

// API serves ThingsBoard's device MQTT API through an embedded broker. Its
// Authenticator admits devices, each with a private topic namespace and
// an interceptor that serves its publishes; its methods let the embedding
// program reach devices (RPC, shared attributes, firmware).
//
// Set the fields before calling Authenticator, and leave them; the zero
// value of each optional field is documented on it.
type API struct {
	// Broker is the broker the devices connect to, for what the API
	// publishes to them (the embedded broker: it must be the Server whose
	// Config.Authenticator is this API's Authenticator). Required.
	Broker broker.Broker
	// Handler receives the devices' telemetry as messages; a publish is
	// acknowledged only once Handler returned nil. Required.
	Handler channel.Handler
	// ChannelID and ProtocolID are stamped as "channel.id" and
	// "protocol.id"; zero leaves them out.
	ChannelID, ProtocolID int64

	// Credentials finds devices by what they present at CONNECT. Nil: no
	// device is known (only provisioning clients are admitted).
	Credentials Credentials
	// Attributes keeps client and shared attributes; nil means an
	// in-memory store (MemoryAttributes).
	Attributes AttributeStore
	// Claims records claim registrations; nil means MemoryClaims.
	Claims ClaimStore
	// Provisioner provisions devices; nil answers every provisioning
	// request with NOT_FOUND.
	Provisioner Provisioner
	// Packages keeps firmware and software assignments; nil means
	// MemoryPackages.
	Packages PackageStore
	// RPC answers client-side RPC (a device's requests); nil answers each
	// with {"error":"…"}.
	RPC RPCHandler

	// Namespace is the root of the devices' private topic spaces: device
	// ident's topics are Namespace + ident + "/" + the topic it uses.
	// "" means DefaultNamespace ("$devices/"); a '/' is added when missing.
	// Start it with '$' so that no "#" subscription of another client
	// covers it.
	Namespace string
	// RPCTimeout bounds a server-side RPC call whose context has no
	// deadline, and a client-side RPC handler; 0 means 10 s.
	RPCTimeout time.Duration
	// MaxChunkSize bounds a firmware chunk (and a whole-file download); 0
	// means 64 KiB (ThingsBoard's default maximum payload).
	MaxChunkSize int
	// MaxClientRPC bounds the client-side RPC calls of one connection
	// running at once; more wait (the device's next packets wait too). 0
	// means 8.
	MaxClientRPC int
	// MaxSubDevices bounds the devices gateways may speak for; 0 means
	// 100,000.
	MaxSubDevices int
	// AckInvalid acknowledges an invalid publish of an MQTT 3.1.1 device
	// instead of closing its connection (ThingsBoard's device profile
	// option "send PUBACK on PUBLISH message validation failure"). MQTT 5
	// devices always get PUBACK with reason 0x99.
	AckInvalid bool
	// SubDeviceIdent returns the ident of a device a gateway names; nil
	// means the name itself (it must then be a valid ident). A gateway is
	// trusted to speak for the devices it names, as in ThingsBoard:
	// return an error to refuse a name.
	SubDeviceIdent func(gateway Device, name string) (string, error)
	// Properties, when set, returns the MQTT 5 user properties of every
	// message the API publishes to device ident (shared attribute
	// updates, attribute and RPC responses, server-side RPC requests,
	// firmware chunks; to a gateway for its devices, the gateway's
	// ident): what the embedding program vouches for, such as flespi's
	// "cid" of the device's account. Provisioning answers, which go to a
	// client that is no device yet, carry none. Nil: none.
	Properties func(ident string) []broker.UserProperty
	// Logger receives the API's logs; nil means slog.Default().
	Logger *slog.Logger

	once     sync.Once
	root     string
	attrs    AttributeStore
	claims   ClaimStore
	packages PackageStore
	log      *slog.Logger
	stats    counters
	lastWarn atomic.Int64

	rpcID   atomic.Int32
	rpcMu   sync.Mutex
	pending map[rpcKey]chan []byte

	subMu sync.RWMutex
	subs  map[string]subDevice // sub-device ident → its gateway
}

type rpcKey struct {
	ident string
	id    int
}

type subDevice struct {
	gateway string // the gateway's ident
	name    string // the name the gateway uses
}

func (a *API) init() {
	a.once.Do(func() {
		a.root = a.Namespace
		if a.root == "" {
			a.root = DefaultNamespace
		}
		if !strings.HasSuffix(a.root, "/") {
			a.root += "/"
		}
		a.attrs, a.claims, a.packages = a.Attributes, a.Claims, a.Packages
		if a.attrs == nil {
			a.attrs = &MemoryAttributes{}
		}
		if a.claims == nil {
			a.claims = &MemoryClaims{}
		}
		if a.packages == nil {
			a.packages = &MemoryPackages{}
		}
		a.log = a.Logger
		if a.log == nil {
			a.log = slog.Default()
		}
		a.pending = make(map[rpcKey]chan []byte)
		a.subs = make(map[string]subDevice)
	})
}

func (a *API) rpcTimeout() time.Duration {
	if a.RPCTimeout > 0 {
		return a.RPCTimeout
	}
	return DefaultRPCTimeout
}

func (a *API) maxChunk() int {
	if a.MaxChunkSize > 0 {
		return a.MaxChunkSize
	}
	return DefaultMaxChunkSize
}

// DeviceNamespace returns the broker topic prefix of device ident's
// private topics: the device's "v1/devices/me/attributes" is the broker's
// DeviceNamespace(ident) + "v1/devices/me/attributes".
func (a *API) DeviceNamespace(ident string) string {
	a.init()
	return a.root + ident + "/"
}

// warn logs at Warn level at most once a second (a misbehaving device
// must not flood the log), at Debug otherwise; counters count everything.
func (a *API) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := a.lastWarn.Load()
	if now-last >= int64(time.Second) && a.lastWarn.CompareAndSwap(last, now) {
		a.log.Warn(msg, args...)
		return
	}
	a.log.Debug(msg, args...)
}

// Authenticator returns the broker Authenticator of the device API. It
// admits, in ThingsBoard's order: a client whose user name or client ID is
// "provision" (for provisioning only); a client with a TLS certificate
// known to Credentials; a client whose client ID, user name and password
// Credentials knows (an access token as user name, or basic MQTT
// credentials). Other clients go to next (the embedding program's own
// clients; nil: none), and when next refuses them too, or there is no
// next, they are refused with ThingsBoard's CONNACK codes: 0x86 when a
// user name or password was presented (MQTT 3.1.1: 5), 0x85 for an
// unknown client ID alone (3.1.1: 2), 0x87 otherwise (3.1.1: 5).
//
// Devices may subscribe to the device API's downlink topics only, in
// their own namespace; the broker's Authorizer must be the default
// TokenAuthorizer (or honour Token.Subscribe).
func (a *API) Authenticator(next embedded.Authenticator) embedded.Authenticator {
	a.init()
	return embedded.AuthenticatorFunc(func(ctx context.Context, info embedded.ConnectInfo) (*embedded.Token, error) {
		if info.Username == provisionUser || info.ClientID == provisionUser {
			a.stats.connects.Add(1)
			return a.provisionToken(info), nil
		}
		cred := Credential{ClientID: info.ClientID, Username: info.Username, Password: info.Password}
		if info.TLS != nil && len(info.TLS.PeerCertificates) > 0 {
			cert := info.TLS.PeerCertificates[0]
			if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
				a.stats.refused.Add(1)
				return nil, &embedded.RefuseError{Code: 0x87, Err: errors.New("deviceapi: client certificate outside its validity period")}
			}
			cred.Certificate = cert
		}
		err := ErrUnknownDevice
		var dev Device
		if a.Credentials != nil {
			dev, err = a.Credentials.LookupDevice(ctx, cred)
		}
		switch {
		case err == nil:
			if err := CheckIdent(dev.Ident); err != nil {
				a.stats.refused.Add(1)
				a.log.Error("deviceapi: credentials gave a device with a bad ident", "err", err)
				return nil, &embedded.RefuseError{Code: 0x80, Err: err}
			}
			a.stats.connects.Add(1)
			return a.deviceToken(dev, info), nil
		case !errors.Is(err, ErrUnknownDevice):
			a.stats.refused.Add(1)
			a.log.Error("deviceapi: credentials lookup failed", "err", err)
			return nil, &embedded.RefuseError{Code: 0x88, Err: err} // server unavailable
		}
		if next != nil {
			tok, err := next.Authenticate(ctx, info)
			if err == nil || !errors.Is(err, embedded.ErrBadCredentials) && !errors.Is(err, broker.ErrNotAuthorized) {
				return tok, err
			}
		}
		a.stats.refused.Add(1)
		return nil, refusal(info, cred.Certificate != nil)
	})
}

// refusal is ThingsBoard's CONNACK for unknown credentials
// (MqttTransportHandler.onValidateDeviceResponse), with the codes it
// sends to MQTT 3.1.1 clients (ReturnCodeResolver: "bad user name or
// password" becomes "not authorized").
func refusal(info embedded.ConnectInfo, cert bool) error {
	hasUser, hasPass := info.Username != "", info.Password != nil
	code := byte(0x87)
	switch {
	case cert:
	case hasUser && hasPass && info.ClientID != "" || hasUser != hasPass:
		code = 0x86
		if info.ProtocolVersion != 5 {
			code = 0x87 // 3.1.1 return code 5
		}
	case info.ClientID != "":
		code = 0x85
	}
	return &embedded.RefuseError{Code: code, Err: ErrUnknownDevice}
}

func (a *API) deviceToken(dev Device, info embedded.ConnectInfo) *embedded.Token {
	subs := deviceSubscriptions
	if dev.Gateway {
		subs = append(slices.Clone(deviceSubscriptions), gatewaySubscriptions...)
	}
	s := &session{api: a, dev: dev, ns: a.DeviceNamespace(dev.Ident), version: info.ProtocolVersion, remote: info.RemoteAddr}
	return &embedded.Token{Name: "device:" + dev.Ident, Publish: []string{"#"}, Subscribe: subs,
		Namespace: s.ns, Intercept: s}
}

func (a *API) provisionToken(info embedded.ConnectInfo) *embedded.Token {
	s := &session{api: a, provision: true, ns: defaultProvisionNamespace + randomHex(12) + "/",
		version: info.ProtocolVersion, remote: info.RemoteAddr}
	return &embedded.Token{Name: "device:provision", Publish: []string{"#"}, Subscribe: []string{TopicProvisionResponse},
		Namespace: s.ns, Intercept: s}
}

// publish sends a message to device ident, in its namespace, at QoS 1
// with the user properties API.Properties gives the device's messages.
func (a *API) publish(ctx context.Context, ident, topic string, payload []byte, expiry time.Duration) error {
	var props []broker.UserProperty
	if a.Properties != nil {
		props = a.Properties(ident)
	}
	return a.publishIn(ctx, a.DeviceNamespace(ident), topic, payload, expiry, props)
}

// publishIn sends a message into a namespace at QoS 1.
func (a *API) publishIn(ctx context.Context, ns, topic string, payload []byte, expiry time.Duration, props []broker.UserProperty) error {
	if a.Broker == nil {
		return errors.New("deviceapi: API.Broker is not set")
	}
	m := broker.Message{Topic: ns + topic, Payload: payload, QoS: 1}
	m.Properties.Expiry = expiry
	m.Properties.UserProperties = props
	if err := a.Broker.Publish(ctx, m); err != nil {
		return fmt.Errorf("deviceapi: publishing to %s: %w", topic, err)
	}
	return nil
}

// Stats is a snapshot of the API's counters.
type Stats struct {
	Connects          uint64 // devices (and provisioning clients) admitted
	Refused           uint64 // CONNECTs refused
	Publishes         uint64 // device publishes served
	Messages          uint64 // telemetry messages the Handler accepted
	HandlerErrors     uint64 // Handler failures: no PUBACK, connection closed
	Invalid           uint64 // invalid payloads or request ids (0x99, or the 3.1.1 connection closed)
	UnknownTopics     uint64 // publishes to topics the API does not serve (0x90)
	AttributeUpdates  uint64 // client attribute publishes stored
	AttributeRequests uint64 // attribute requests answered
	RPCSent           uint64 // server-side RPC requests published
	RPCAnswered       uint64 // ... answered by the device
	RPCTimeouts       uint64 // ... not answered in time
	RPCUnmatched      uint64 // device RPC replies matching no pending call
	ClientRPC         uint64 // client-side RPC requests answered
	Claims            uint64 // claim registrations stored
	Provisions        uint64 // provisioning requests answered
	OTAChunks         uint64 // firmware and software chunks sent
	GatewayPublishes  uint64 // gateway API publishes served
}

type counters struct {
	connects, refused, publishes, messages, handlerErrors, invalid, unknownTopics atomic.Uint64
	attributeUpdates, attributeRequests                                           atomic.Uint64
	rpcSent, rpcAnswered, rpcTimeouts, rpcUnmatched, clientRPC                    atomic.Uint64
	claims, provisions, otaChunks, gatewayPublishes                               atomic.Uint64
}

// Stats returns the API's counters.
func (a *API) Stats() Stats {
	c := &a.stats
	return Stats{
		Connects: c.connects.Load(), Refused: c.refused.Load(), Publishes: c.publishes.Load(),
		Messages: c.messages.Load(), HandlerErrors: c.handlerErrors.Load(), Invalid: c.invalid.Load(),
		UnknownTopics: c.unknownTopics.Load(), AttributeUpdates: c.attributeUpdates.Load(),
		AttributeRequests: c.attributeRequests.Load(), RPCSent: c.rpcSent.Load(),
		RPCAnswered: c.rpcAnswered.Load(), RPCTimeouts: c.rpcTimeouts.Load(), RPCUnmatched: c.rpcUnmatched.Load(),
		ClientRPC: c.clientRPC.Load(), Claims: c.claims.Load(), Provisions: c.provisions.Load(),
		OTAChunks: c.otaChunks.Load(), GatewayPublishes: c.gatewayPublishes.Load(),
	}
}
