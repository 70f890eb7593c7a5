package deviceapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/tidwall/gjson"
)

// MQTT 5 reason codes the API answers with (ThingsBoard's
// MqttReasonCodes).
const (
	codeNotAuthorized    = 0x87
	codeImplSpecific     = 0x83
	codeTopicInvalid     = 0x90
	codePayloadInvalid   = 0x99
	maxRememberedChunks  = 64
	otaErrPayloadTooLong = "PAYLOAD_TOO_LARGE"
	otaErrNotFound       = "NOT_FOUND"
	otaErrFailure        = "FAILURE"
)

// session is one device connection: the broker calls InterceptPublish for
// each of its publishes, one at a time, on the connection's read loop.
type session struct {
	api       *API
	dev       Device
	provision bool
	ns        string
	version   byte
	remote    net.Addr

	conn   *channel.Conn  // made at the first telemetry
	chunks map[string]int // OTA request id → chunk size
	rpcSem chan struct{}  // client-side RPC calls running
}

var _ embedded.Interceptor = (*session)(nil)

var handled = embedded.Verdict{Handled: true}

// InterceptPublish implements embedded.Interceptor: every publish of a
// device is served here and never routed.
func (s *session) InterceptPublish(ctx context.Context, _ *embedded.Client, m broker.Message) embedded.Verdict {
	s.api.stats.publishes.Add(1)
	if s.provision {
		return s.provisionPublish(ctx, m)
	}
	t := m.Topic
	switch t {
	case TopicTelemetry, TopicTelemetryShort, TopicTelemetryShortJSON:
		return s.telemetry(ctx, m)
	case TopicAttributes, TopicAttributesShort, TopicAttributesShortJ:
		return s.postAttributes(ctx, m)
	case TopicClaim:
		return s.claim(ctx, m)
	}
	if rt, id, ok := matchRequest(t, attrRequestTopics); ok {
		return s.attributeRequest(ctx, m, rt, id)
	}
	for _, p := range rpcResponsePrefixes {
		if id, ok := strings.CutPrefix(t, p); ok {
			return s.rpcResponse(m, s.dev.Ident, id, m.Payload)
		}
	}
	if rt, id, ok := matchRequest(t, clientRPCTopics); ok {
		return s.clientRPC(ctx, m, rt, id)
	}
	if kind, reqID, chunk, ok, valid := otaRequest(t); ok {
		if !valid {
			return s.invalid(m, errors.New("OTA request id or chunk is not a number"))
		}
		return s.otaChunk(ctx, m, kind, reqID, chunk)
	}
	if strings.HasPrefix(t, topicGatewayPrefix) {
		return s.gateway(ctx, m)
	}
	return s.unknownTopic(m)
}

// invalid answers a payload (or request id) the API cannot use as
// ThingsBoard does: MQTT 5 devices (and all with AckInvalid) get PUBACK
// 0x99, MQTT 3.1.1 devices have their connection closed.
func (s *session) invalid(m broker.Message, err error) embedded.Verdict {
	s.api.stats.invalid.Add(1)
	s.api.warn("deviceapi: invalid publish", "device", s.dev.Ident, "topic", m.Topic, "err", err)
	if s.version == 5 || s.api.AckInvalid {
		return embedded.Verdict{Handled: true, Code: codePayloadInvalid}
	}
	return embedded.Verdict{Handled: true, NoAck: true, Disconnect: true, Code: codePayloadInvalid}
}

func (s *session) unknownTopic(m broker.Message) embedded.Verdict {
	s.api.stats.unknownTopics.Add(1)
	s.api.warn("deviceapi: publish to a topic the device API does not serve", "device", s.dev.Ident, "topic", m.Topic)
	return embedded.Verdict{Handled: true, Code: codeTopicInvalid}
}

// failed answers a publish whose data could not be stored: no PUBACK (the
// device keeps the data and sends it again) and the connection closed, as
// ThingsBoard does.
func (s *session) failed(m broker.Message, err error) embedded.Verdict {
	s.api.warn("deviceapi: publish not stored; not acknowledged", "device", s.dev.Ident, "topic", m.Topic, "err", err)
	return embedded.Verdict{Handled: true, NoAck: true, Disconnect: true, Code: codeImplSpecific}
}

func (s *session) telemetry(ctx context.Context, m broker.Message) embedded.Verdict {
	now := time.Now()
	msgs, err := ParseTelemetry(m.Payload, now)
	if err != nil {
		return s.invalid(m, err)
	}
	for i := range msgs {
		msgs[i].SetString(protocol.ParamIdent, s.dev.Ident)
	}
	return s.deliver(ctx, m, msgs, now)
}

// deliver gives messages to the Handler; the publish is acknowledged only
// when it accepted them.
func (s *session) deliver(ctx context.Context, m broker.Message, msgs []protocol.Message, now time.Time) embedded.Verdict {
	if len(msgs) == 0 {
		return handled
	}
	a := s.api
	peer := ""
	if s.remote != nil {
		peer = s.remote.String()
	}
	channel.Stamp(msgs, now, a.ChannelID, a.ProtocolID, peer, "")
	if s.conn == nil {
		s.conn = channel.NewConn(ctx, "mqtt", s.remote, s.dev.Ident)
	}
	s.conn.Received(len(m.Payload), len(msgs))
	if err := s.handle(msgs); err != nil {
		a.stats.handlerErrors.Add(1)
		return s.failed(m, err)
	}
	a.stats.messages.Add(uint64(len(msgs)))
	return handled
}

// handle calls the Handler, turning a panic into an error.
func (s *session) handle(msgs []protocol.Message) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("deviceapi: handler panic: %v", p)
			s.api.log.Error("deviceapi: handler panicked", "device", s.dev.Ident, "panic", p)
		}
	}()
	if s.api.Handler == nil {
		return channel.ErrNoHandler
	}
	return s.api.Handler.HandleMessages(s.conn.Context(), s.conn, msgs)
}

func (s *session) postAttributes(ctx context.Context, m broker.Message) embedded.Verdict {
	attrs, err := ParseAttributes(m.Payload)
	if err != nil {
		return s.invalid(m, err)
	}
	if err := s.api.attrs.SetAttributes(ctx, s.dev.Ident, ClientScope, attrs); err != nil {
		return s.failed(m, err)
	}
	s.api.stats.attributeUpdates.Add(1)
	return handled
}

// attributeRequest answers {"clientKeys":…,"sharedKeys":…} with
// {"client":{…},"shared":{…}} on the reply topic of the request's form.
func (s *session) attributeRequest(ctx context.Context, m broker.Message, rt requestTopic, idText string) embedded.Verdict {
	id, ok := parseRequestID(idText)
	if !ok {
		return s.invalid(m, fmt.Errorf("request id %.20q is not a number", idText))
	}
	req, err := ParseAttributeRequest(m.Payload)
	if err != nil {
		return s.invalid(m, err)
	}
	body, err := s.api.attributeReply(ctx, s.dev.Ident, req)
	if err != nil {
		return s.failed(m, err)
	}
	if err := s.api.publish(ctx, s.dev.Ident, rt.reply+strconv.Itoa(id), body, 0); err != nil {
		return s.failed(m, err)
	}
	s.api.stats.attributeRequests.Add(1)
	return handled
}

// attributeReply builds ThingsBoard's answer to an attribute request:
// both lists empty asks for every attribute of both scopes; otherwise
// each scope is answered for the keys listed in it. Empty scopes are left
// out.
func (a *API) attributeReply(ctx context.Context, ident string, req AttributeRequest) ([]byte, error) {
	all := len(req.ClientKeys) == 0 && len(req.SharedKeys) == 0
	var client, shared []Attribute
	var err error
	if all || len(req.ClientKeys) > 0 {
		if client, err = a.attrs.Attributes(ctx, ident, ClientScope, req.ClientKeys); err != nil {
			return nil, err
		}
	}
	if all || len(req.SharedKeys) > 0 {
		if shared, err = a.attrs.Attributes(ctx, ident, SharedScope, req.SharedKeys); err != nil {
			return nil, err
		}
	}
	b := []byte{'{'}
	if len(client) > 0 {
		b = append(appendAttributesJSON(append(b, `"client":{`...), client), '}')
	}
	if len(shared) > 0 {
		if len(client) > 0 {
			b = append(b, ',')
		}
		b = append(appendAttributesJSON(append(b, `"shared":{`...), shared), '}')
	}
	return append(b, '}'), nil
}

func (s *session) claim(ctx context.Context, m broker.Message) embedded.Verdict {
	c, err := ParseClaimRequest(m.Payload)
	if err != nil {
		return s.invalid(m, err)
	}
	if err := s.api.registerClaim(ctx, s.dev.Ident, c); err != nil {
		return s.failed(m, err)
	}
	return handled
}

func (a *API) registerClaim(ctx context.Context, ident string, c ClaimRequest) error {
	d := c.Duration
	if d <= 0 {
		d = DefaultClaimDuration
	}
	if err := a.claims.RegisterClaim(ctx, Claim{Ident: ident, SecretKey: c.SecretKey, Expires: time.Now().Add(d)}); err != nil {
		return err
	}
	a.stats.claims.Add(1)
	return nil
}

// otaChunk answers v2/{fw|sw}/request/{id}/chunk/{n}: the payload is the
// chunk size in bytes (empty: the size this request id used before, or the
// whole image); the chunk goes to v2/{fw|sw}/response/{id}/chunk/{n}, an
// empty one past the end of the image; errors go to v2/{fw|sw}/error.
func (s *session) otaChunk(ctx context.Context, m broker.Message, kind PackageKind, reqID string, chunk int) embedded.Verdict {
	a := s.api
	size := 0
	if p := strings.TrimSpace(string(m.Payload)); p != "" {
		n, ok := parseRequestID(p)
		if !ok {
			return s.invalid(m, fmt.Errorf("chunk size %.20q is not a number", p))
		}
		size = n
		if s.chunks == nil || len(s.chunks) >= maxRememberedChunks {
			s.chunks = make(map[string]int)
		}
		s.chunks[reqID] = size
	} else {
		size = s.chunks[reqID]
	}
	if size > a.maxChunk() {
		return s.otaError(ctx, m, kind, otaErrPayloadTooLong)
	}
	pkg, err := a.packages.Package(ctx, s.dev.Ident, kind)
	if errors.Is(err, ErrNoPackage) {
		return s.otaError(ctx, m, kind, otaErrNotFound)
	}
	if err != nil || pkg.Content == nil {
		a.warn("deviceapi: package lookup failed", "device", s.dev.Ident, "kind", kind, "err", err)
		return s.otaError(ctx, m, kind, otaErrFailure)
	}
	var data []byte
	switch off := int64(chunk) * int64(size); {
	case size == 0 && pkg.Size > int64(a.maxChunk()):
		return s.otaError(ctx, m, kind, otaErrPayloadTooLong)
	case size == 0:
		data = make([]byte, pkg.Size)
		_, err = pkg.Content.ReadAt(data, 0)
	case off < pkg.Size:
		data = make([]byte, min(int64(size), pkg.Size-off))
		_, err = pkg.Content.ReadAt(data, off)
	}
	if err != nil {
		a.warn("deviceapi: reading package failed", "device", s.dev.Ident, "kind", kind, "err", err)
		return s.otaError(ctx, m, kind, otaErrFailure)
	}
	topic := "v2/" + kind.prefix() + "/response/" + reqID + "/chunk/" + strconv.Itoa(chunk)
	if err := a.publish(ctx, s.dev.Ident, topic, data, 0); err != nil {
		return s.failed(m, err)
	}
	a.stats.otaChunks.Add(1)
	return handled
}

// otaError publishes ThingsBoard's OTA error status. ThingsBoard then
// closes the connection; here it stays open, so the device gets the error
// (a closing connection does not send what is queued).
func (s *session) otaError(ctx context.Context, m broker.Message, kind PackageKind, status string) embedded.Verdict {
	s.api.warn("deviceapi: OTA request refused", "device", s.dev.Ident, "kind", kind, "status", status)
	if err := s.api.publish(ctx, s.dev.Ident, "v2/"+kind.prefix()+"/error", []byte(status), 0); err != nil {
		return s.failed(m, err)
	}
	return handled
}

// provisionPublish serves a client connected as "provision": its
// requests on /provision/request (or /provision) are answered on
// /provision/response; anything else closes the connection, as
// ThingsBoard does.
func (s *session) provisionPublish(ctx context.Context, m broker.Message) embedded.Verdict {
	a := s.api
	if m.Topic != TopicProvisionRequest && m.Topic != TopicProvision {
		a.stats.unknownTopics.Add(1)
		a.warn("deviceapi: provisioning client published outside /provision/request", "topic", m.Topic)
		return embedded.Verdict{Handled: true, Code: codeTopicInvalid, Disconnect: true}
	}
	req, err := ParseProvisionRequest(m.Payload)
	if err != nil {
		if errors.Is(err, errMissingField) {
			a.stats.invalid.Add(1)
			a.warn("deviceapi: provisioning request refused", "err", err)
			return embedded.Verdict{Handled: true, Code: codeImplSpecific, Disconnect: true}
		}
		return s.invalid(m, err)
	}
	res := ProvisionResult{Status: ProvisionNotFound}
	if a.Provisioner != nil {
		if res, err = a.Provisioner.Provision(ctx, req); err != nil {
			a.warn("deviceapi: provisioning failed", "device", req.DeviceName, "err", err)
			return embedded.Verdict{Handled: true, Code: codeImplSpecific, Disconnect: true}
		}
	}
	if err := a.publishIn(ctx, s.ns, TopicProvisionResponse, provisionReply(res), 0, nil); err != nil {
		return s.failed(m, err)
	}
	a.stats.provisions.Add(1)
	return handled
}

var errMissingField = errors.New("deviceapi: provisioning request lacks provisionDeviceKey or provisionDeviceSecret")

// ParseProvisionRequest parses a provisioning request (ThingsBoard's
// JSON form).
func ParseProvisionRequest(payload []byte) (ProvisionRequest, error) {
	o, err := parseJSON(payload, "provisioning request")
	if err != nil {
		return ProvisionRequest{}, err
	}
	if !o.IsObject() {
		return ProvisionRequest{}, badPayload("provisioning request is %s, not an object", kindOf(o))
	}
	str := func(name string) string {
		v := o.Get(name)
		if v.Type == gjson.String {
			return v.Str
		}
		if v.Type == gjson.Number {
			return v.Raw
		}
		return ""
	}
	r := ProvisionRequest{DeviceName: str("deviceName"), Key: str("provisionDeviceKey"),
		Secret: str("provisionDeviceSecret"), CredentialsType: str("credentialsType"), Token: str("token"),
		ClientID: str("clientId"), Username: str("username"), Password: str("password"), Hash: str("hash"),
		Gateway: o.Get("gateway").Type == gjson.True}
	if !o.Get("provisionDeviceKey").Exists() || !o.Get("provisionDeviceSecret").Exists() {
		return r, errMissingField
	}
	return r, nil
}

// provisionReply is ThingsBoard's provisioning response.
func provisionReply(r ProvisionResult) []byte {
	switch r.Status {
	case ProvisionSuccess:
	case ProvisionNotFound:
		return []byte(`{"errorMsg":"Provision data was not found!","status":"NOT_FOUND"}`)
	default:
		return []byte(`{"errorMsg":"Failed to provision device!","status":"FAILURE"}`)
	}
	b := []byte(`{"credentialsValue":`)
	switch r.CredentialsType {
	case CredentialsMQTTBasic:
		b = append(b, `{"clientId":`...)
		b = protocol.AppendJSONString(b, r.ClientID)
		b = append(b, `,"userName":`...)
		b = protocol.AppendJSONString(b, r.Username)
		b = append(b, `,"password":`...)
		b = protocol.AppendJSONString(b, r.Password)
		b = append(b, '}')
	case CredentialsX509:
		b = protocol.AppendJSONString(b, r.Hash)
	default:
		b = protocol.AppendJSONString(b, r.Token)
	}
	b = append(b, `,"credentialsType":`...)
	b = protocol.AppendJSONString(b, r.CredentialsType)
	return append(b, `,"status":"SUCCESS"}`...)
}
