package deviceapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/protocol"
	"github.com/tidwall/gjson"
)

// The gateway API: one MQTT connection (a Device with Gateway set)
// speaking for many devices, named in the payloads (ThingsBoard's
// v1/gateway/… topics). Invalid payloads get the device API's answer
// (PUBACK 0x99, or the 3.1.1 connection closed); entries of a batch that
// are not of the expected shape are skipped, and a batch left empty is
// invalid, as in ThingsBoard.

func (s *session) gateway(ctx context.Context, m broker.Message) embedded.Verdict {
	a := s.api
	if !s.dev.Gateway {
		a.stats.unknownTopics.Add(1)
		a.warn("deviceapi: gateway API used by a device that is not a gateway", "device", s.dev.Ident, "topic", m.Topic)
		return embedded.Verdict{Handled: true, Code: codeNotAuthorized}
	}
	a.stats.gatewayPublishes.Add(1)
	var o gjson.Result
	var err error
	if o, err = parseJSON(m.Payload, "gateway payload"); err == nil && !o.IsObject() {
		err = badPayload("gateway payload is %s, not an object", kindOf(o))
	}
	if err != nil {
		return s.invalid(m, err)
	}
	switch m.Topic {
	case TopicGatewayConnect, TopicGatewayDisconnect:
		name := o.Get("device")
		if name.Type != gjson.String || name.Str == "" {
			return s.invalid(m, badPayload(`no "device" name`))
		}
		if _, err := s.subIdent(name.Str); err != nil {
			return s.invalid(m, err)
		}
		return handled
	case TopicGatewayTelemetry:
		return s.gatewayTelemetry(ctx, m, o)
	case TopicGatewayAttributes:
		return s.gatewayAttributes(ctx, m, o)
	case TopicGatewayAttrRequest:
		return s.gatewayAttributeRequest(ctx, m, o)
	case TopicGatewayRPC:
		name, id := o.Get("device"), o.Get("id")
		if name.Type != gjson.String || id.Type != gjson.Number || !o.Get("data").Exists() {
			return s.invalid(m, badPayload(`gateway RPC reply needs "device", "id" and "data"`))
		}
		ident, err := s.subIdent(name.Str)
		if err != nil {
			return s.invalid(m, err)
		}
		n, ok := parseRequestID(id.Raw)
		if !ok {
			return s.invalid(m, badPayload("gateway RPC reply id %.20q", id.Raw))
		}
		a.completeRPC(ident, n, []byte(o.Get("data").Raw))
		return handled
	case TopicGatewayClaim:
		return s.gatewayClaim(ctx, m, o)
	}
	return s.unknownTopic(m)
}

// subIdent resolves the ident of a device the gateway names and records
// that the gateway speaks for it.
func (s *session) subIdent(name string) (string, error) {
	a := s.api
	ident := name
	if a.SubDeviceIdent != nil {
		var err error
		if ident, err = a.SubDeviceIdent(s.dev, name); err != nil {
			return "", err
		}
	}
	if err := CheckIdent(ident); err != nil {
		return "", fmt.Errorf("%w: device %.40q: %v", ErrBadPayload, name, err)
	}
	if ident == s.dev.Ident {
		return "", fmt.Errorf("%w: a gateway cannot name itself", ErrBadPayload)
	}
	sd := subDevice{gateway: s.dev.Ident, name: name}
	a.subMu.RLock()
	cur, ok := a.subs[ident]
	a.subMu.RUnlock()
	if ok && cur == sd {
		return ident, nil
	}
	max := a.MaxSubDevices
	if max <= 0 {
		max = DefaultMaxSubDevices
	}
	a.subMu.Lock()
	defer a.subMu.Unlock()
	if _, ok := a.subs[ident]; !ok && len(a.subs) >= max {
		return "", errors.New("deviceapi: too many devices behind gateways (API.MaxSubDevices)")
	}
	a.subs[ident] = sd
	return ident, nil
}

// subDevice returns the gateway a device was last heard through.
func (a *API) subDevice(ident string) (subDevice, bool) {
	a.subMu.RLock()
	defer a.subMu.RUnlock()
	sd, ok := a.subs[ident]
	return sd, ok
}

// gatewayTelemetry: {"Device A":[{"ts":…,"values":{…}},{…}],"Device B":[…]};
// every device's messages go to the Handler in one call.
func (s *session) gatewayTelemetry(ctx context.Context, m broker.Message, o gjson.Result) embedded.Verdict {
	now := time.Now()
	var msgs []protocol.Message
	var err error
	o.ForEach(func(k, v gjson.Result) bool {
		if !v.IsArray() {
			s.api.warn("deviceapi: gateway telemetry entry is not an array, skipped", "gateway", s.dev.Ident, "device", k.String())
			return true
		}
		var ident string
		if ident, err = s.subIdent(k.String()); err != nil {
			return false
		}
		p := telemetryParser{now: now}
		var dm []protocol.Message
		if dm, err = p.parse(v); err != nil {
			return false
		}
		for i := range dm {
			dm[i].SetString(protocol.ParamIdent, ident)
		}
		msgs = append(msgs, dm...)
		return true
	})
	if err == nil && len(msgs) == 0 {
		err = badPayload("gateway telemetry holds no device's telemetry")
	}
	if err != nil {
		return s.invalid(m, err)
	}
	return s.deliver(ctx, m, msgs, now)
}

// gatewayAttributes: {"Device A":{"k":v},…} as client attributes.
func (s *session) gatewayAttributes(ctx context.Context, m broker.Message, o gjson.Result) embedded.Verdict {
	type entry struct {
		ident string
		attrs []Attribute
	}
	var entries []entry
	var err error
	o.ForEach(func(k, v gjson.Result) bool {
		if !v.IsObject() {
			s.api.warn("deviceapi: gateway attributes entry is not an object, skipped", "gateway", s.dev.Ident, "device", k.String())
			return true
		}
		var e entry
		if e.ident, err = s.subIdent(k.String()); err != nil {
			return false
		}
		if e.attrs, err = attributesOf(v); err != nil {
			return false
		}
		entries = append(entries, e)
		return true
	})
	if err == nil && len(entries) == 0 {
		err = badPayload("gateway attributes hold no device's attributes")
	}
	if err != nil {
		return s.invalid(m, err)
	}
	for _, e := range entries {
		if err := s.api.attrs.SetAttributes(ctx, e.ident, ClientScope, e.attrs); err != nil {
			return s.failed(m, err)
		}
	}
	s.api.stats.attributeUpdates.Add(uint64(len(entries)))
	return handled
}

// gatewayAttributeRequest: {"id":1,"device":"A","client":true,"key":"k"}
// (or "keys":["k1","k2"]) answered on v1/gateway/attributes/response with
// {"id":1,"device":"A","value":v} for one key, {…,"values":{…}} for
// several.
func (s *session) gatewayAttributeRequest(ctx context.Context, m broker.Message, o gjson.Result) embedded.Verdict {
	name, id := o.Get("device"), o.Get("id")
	if name.Type != gjson.String || id.Type != gjson.Number {
		return s.invalid(m, badPayload(`gateway attribute request needs "id" and "device"`))
	}
	n, ok := parseRequestID(id.Raw)
	if !ok {
		return s.invalid(m, badPayload("gateway attribute request id %.20q", id.Raw))
	}
	ident, err := s.subIdent(name.Str)
	if err != nil {
		return s.invalid(m, err)
	}
	var keys []string
	if k := o.Get("key"); k.Exists() {
		if k.Type != gjson.String {
			return s.invalid(m, badPayload(`gateway attribute request "key" is not a string`))
		}
		keys = []string{k.Str}
	} else if keys, err = keyList(o.Get("keys")); err != nil {
		return s.invalid(m, err)
	}
	if len(keys) == 0 {
		return s.invalid(m, badPayload("gateway attribute request names no key"))
	}
	scope := SharedScope
	if o.Get("client").Type == gjson.True {
		scope = ClientScope
	}
	attrs, err := s.api.attrs.Attributes(ctx, ident, scope, keys)
	if err != nil {
		return s.failed(m, err)
	}
	b := append([]byte(`{"id":`), strconv.Itoa(n)...)
	b = protocol.AppendJSONString(append(b, `,"device":`...), name.Str)
	switch {
	case len(keys) == 1 && len(attrs) == 1:
		b = attrs[0].Value.AppendJSON(append(b, `,"value":`...))
	case len(attrs) > 0:
		b = append(appendAttributesJSON(append(b, `,"values":{`...), attrs), '}')
	}
	if err := s.api.publish(ctx, s.dev.Ident, TopicGatewayAttrResponse, append(b, '}'), 0); err != nil {
		return s.failed(m, err)
	}
	s.api.stats.attributeRequests.Add(1)
	return handled
}

// gatewayClaim: {"Device A":{"secretKey":"…","durationMs":…},…}.
func (s *session) gatewayClaim(ctx context.Context, m broker.Message, o gjson.Result) embedded.Verdict {
	type entry struct {
		ident string
		claim ClaimRequest
	}
	var entries []entry
	var err error
	o.ForEach(func(k, v gjson.Result) bool {
		if !v.IsObject() {
			return true
		}
		var e entry
		if e.ident, err = s.subIdent(k.String()); err != nil {
			return false
		}
		if e.claim, err = claimOf(v); err != nil {
			return false
		}
		entries = append(entries, e)
		return true
	})
	if err == nil && len(entries) == 0 {
		err = badPayload("gateway claim names no device")
	}
	if err != nil {
		return s.invalid(m, err)
	}
	for _, e := range entries {
		if err := s.api.registerClaim(ctx, e.ident, e.claim); err != nil {
			return s.failed(m, err)
		}
	}
	return handled
}
