package deviceapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/protocol"
)

// ErrRPCTimeout: the device did not answer a server-side RPC call in time.
var ErrRPCTimeout = errors.New("deviceapi: RPC call timed out")

// RPCHandler answers client-side RPC: a device's request
// {"method":…,"params":…}. The result (JSON) is published to the device on
// the response topic of the request's form; an error is sent as
// {"error":"…"}. ServeRPC runs on its own goroutine; ctx ends after
// API.RPCTimeout or when the device disconnects.
type RPCHandler interface {
	ServeRPC(ctx context.Context, d Device, method string, params []byte) (result []byte, err error)
}

// RPCHandlerFunc adapts a function to an RPCHandler.
type RPCHandlerFunc func(ctx context.Context, d Device, method string, params []byte) ([]byte, error)

// ServeRPC calls f.
func (f RPCHandlerFunc) ServeRPC(ctx context.Context, d Device, method string, params []byte) ([]byte, error) {
	return f(ctx, d, method, params)
}

// Call sends a server-side RPC request {"method":…,"params":…} to the
// device and waits for its answer, which it returns as the device sent it
// (normally JSON). params is marshalled with encoding/json (a
// json.RawMessage or []byte holding JSON goes as is; nil is null).
//
// The request is published at QoS 1 to each topic form a device may have
// subscribed to (v1/devices/me/rpc/request/{id}, v2/r/req/{id},
// v2/r/req/j/{id}), or, for a device a gateway speaks for, to the
// gateway's v1/gateway/rpc. A device that is offline with a persistent
// session gets it when it reconnects, as long as the call still waits:
// the message expires with ctx's deadline (API.RPCTimeout when ctx has
// none). Call returns ErrRPCTimeout when the time is up, ctx.Err() when
// ctx is cancelled.
func (a *API) Call(ctx context.Context, ident, method string, params any) ([]byte, error) {
	a.init()
	wait := a.rpcTimeout()
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	if wait <= 0 {
		return nil, ErrRPCTimeout
	}
	id := a.nextRPCID()
	ch := make(chan []byte, 1)
	key := rpcKey{ident, id}
	a.rpcMu.Lock()
	a.pending[key] = ch
	a.rpcMu.Unlock()
	defer func() {
		a.rpcMu.Lock()
		delete(a.pending, key)
		a.rpcMu.Unlock()
	}()
	if err := a.sendRPC(ctx, ident, id, method, params, wait); err != nil {
		return nil, err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-ch:
		a.stats.rpcAnswered.Add(1)
		return r, nil
	case <-t.C:
		a.stats.rpcTimeouts.Add(1)
		return nil, ErrRPCTimeout
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			a.stats.rpcTimeouts.Add(1)
			return nil, ErrRPCTimeout
		}
		return nil, ctx.Err()
	}
}

// Notify sends a one-way RPC request: no answer is awaited (the device's,
// if any, is counted as unmatched). It expires like Call's.
func (a *API) Notify(ctx context.Context, ident, method string, params any) error {
	a.init()
	wait := a.rpcTimeout()
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	}
	return a.sendRPC(ctx, ident, a.nextRPCID(), method, params, wait)
}

func (a *API) nextRPCID() int {
	for {
		id := a.rpcID.Add(1)
		if id > 0 {
			return int(id)
		}
		a.rpcID.CompareAndSwap(id, 0) // wrapped: start again at 1
	}
}

func (a *API) sendRPC(ctx context.Context, ident string, id int, method string, params any, expiry time.Duration) error {
	p, err := marshalParams(params)
	if err != nil {
		return err
	}
	body := protocol.AppendJSONString([]byte(`{"method":`), method)
	body = append(append(append(body, `,"params":`...), p...), '}')
	if sd, ok := a.subDevice(ident); ok {
		b := protocol.AppendJSONString([]byte(`{"device":`), sd.name)
		b = append(append(b, `,"data":{"id":`...), strconv.Itoa(id)...)
		b = append(append(b, ','), body[1:]...)
		if err := a.publish(ctx, sd.gateway, TopicGatewayRPC, append(b, '}'), expiry); err != nil {
			return err
		}
		a.stats.rpcSent.Add(1)
		return nil
	}
	if err := CheckIdent(ident); err != nil {
		return err
	}
	for _, t := range rpcRequestTopics {
		if err := a.publish(ctx, ident, t+strconv.Itoa(id), body, expiry); err != nil {
			return err
		}
	}
	a.stats.rpcSent.Add(1)
	return nil
}

func marshalParams(params any) ([]byte, error) {
	switch p := params.(type) {
	case nil:
		return []byte("null"), nil
	case []byte:
		if !json.Valid(p) {
			return nil, errors.New("deviceapi: RPC params are not JSON")
		}
		return p, nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("deviceapi: RPC params: %w", err)
	}
	return b, nil
}

// rpcResponse completes the call a device's reply answers.
func (s *session) rpcResponse(m broker.Message, ident, idText string, payload []byte) embedded.Verdict {
	id, ok := parseRequestID(idText)
	if !ok {
		return s.invalid(m, fmt.Errorf("RPC response id %.20q is not a number", idText))
	}
	s.api.completeRPC(ident, id, payload)
	return handled
}

func (a *API) completeRPC(ident string, id int, payload []byte) {
	a.rpcMu.Lock()
	ch := a.pending[rpcKey{ident, id}]
	delete(a.pending, rpcKey{ident, id})
	a.rpcMu.Unlock()
	if ch == nil {
		a.stats.rpcUnmatched.Add(1)
		return
	}
	ch <- payload
}

// clientRPC serves a device's RPC request on its own goroutine and
// acknowledges the publish at once.
func (s *session) clientRPC(ctx context.Context, m broker.Message, rt requestTopic, idText string) embedded.Verdict {
	id, ok := parseRequestID(idText)
	if !ok {
		return s.invalid(m, fmt.Errorf("RPC request id %.20q is not a number", idText))
	}
	req, err := ParseRPCRequest(m.Payload)
	if err != nil {
		return s.invalid(m, err)
	}
	a := s.api
	if s.rpcSem == nil {
		n := a.MaxClientRPC
		if n <= 0 {
			n = DefaultMaxClientRPC
		}
		s.rpcSem = make(chan struct{}, n)
	}
	select {
	case s.rpcSem <- struct{}{}:
	case <-ctx.Done():
		return embedded.Verdict{Handled: true, NoAck: true}
	}
	topic := rt.reply + strconv.Itoa(id)
	go func() {
		defer func() { <-s.rpcSem }()
		body := a.serveClientRPC(ctx, s.dev, req)
		if err := a.publish(context.WithoutCancel(ctx), s.dev.Ident, topic, body, a.rpcTimeout()); err != nil {
			a.warn("deviceapi: client RPC answer not sent", "device", s.dev.Ident, "err", err)
			return
		}
		a.stats.clientRPC.Add(1)
	}()
	return handled
}

func (a *API) serveClientRPC(ctx context.Context, d Device, req RPCRequest) (body []byte) {
	if a.RPC == nil {
		return rpcError("no handler for RPC method " + strconv.Quote(req.Method))
	}
	ctx, cancel := context.WithTimeout(ctx, a.rpcTimeout())
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("deviceapi: RPC handler panicked", "device", d.Ident, "method", req.Method, "panic", p)
			body = rpcError("internal error")
		}
	}()
	res, err := a.RPC.ServeRPC(ctx, d, req.Method, req.Params)
	switch {
	case err != nil:
		return rpcError(err.Error())
	case len(res) == 0:
		return []byte("{}")
	case !json.Valid(res):
		return protocol.AppendJSONString(nil, string(res))
	}
	return res
}

func rpcError(msg string) []byte {
	return append(protocol.AppendJSONString([]byte(`{"error":`), msg), '}')
}

// SetShared stores shared attributes of the device and pushes them to it:
// {"key":value,…} to each topic form a device may subscribe to for
// updates (v1/devices/me/attributes, v2/a, v2/a/j), or, for a device a
// gateway speaks for, {"device":name,"data":{…}} to the gateway's
// v1/gateway/attributes. A device offline with a persistent session gets
// the update when it reconnects.
func (a *API) SetShared(ctx context.Context, ident string, attrs []Attribute) error {
	a.init()
	if len(attrs) == 0 {
		return nil
	}
	for _, at := range attrs {
		if !validKey(at.Key) {
			return fmt.Errorf("deviceapi: bad attribute key %.40q", at.Key)
		}
	}
	if err := a.attrs.SetAttributes(ctx, ident, SharedScope, attrs); err != nil {
		return err
	}
	return a.pushAttributes(ctx, ident, append(appendAttributesJSON([]byte{'{'}, attrs), '}'))
}

// DeleteShared removes shared attributes of the device and tells it:
// {"deleted":["key",…]}.
func (a *API) DeleteShared(ctx context.Context, ident string, keys ...string) error {
	a.init()
	if len(keys) == 0 {
		return nil
	}
	if err := a.attrs.DeleteAttributes(ctx, ident, SharedScope, keys); err != nil {
		return err
	}
	b := []byte(`{"deleted":[`)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.AppendJSONString(b, k)
	}
	return a.pushAttributes(ctx, ident, append(b, "]}"...))
}

func (a *API) pushAttributes(ctx context.Context, ident string, obj []byte) error {
	if sd, ok := a.subDevice(ident); ok {
		b := protocol.AppendJSONString([]byte(`{"device":`), sd.name)
		b = append(append(append(b, `,"data":`...), obj...), '}')
		return a.publish(ctx, sd.gateway, TopicGatewayAttributes, b, 0)
	}
	if err := CheckIdent(ident); err != nil {
		return err
	}
	for _, t := range attributeUpdateTopics {
		if err := a.publish(ctx, ident, t, obj, 0); err != nil {
			return err
		}
	}
	return nil
}

// AssignPackage assigns a firmware or software package to the device and
// tells it with ThingsBoard's shared attributes: fw_title, fw_version,
// fw_tag and fw_url (when set), fw_size, fw_checksum_algorithm and
// fw_checksum (sw_… for software). The device then downloads it in chunks.
// A nil pkg removes the assignment and those attributes. A package
// without a checksum gets one computed from its content.
func (a *API) AssignPackage(ctx context.Context, ident string, kind PackageKind, pkg *Package) error {
	a.init()
	pre := kind.prefix() + "_"
	if pkg == nil {
		if err := a.packages.AssignPackage(ctx, ident, kind, nil); err != nil {
			return err
		}
		return a.DeleteShared(ctx, ident, pre+"title", pre+"version", pre+"tag", pre+"url", pre+"size",
			pre+"checksum_algorithm", pre+"checksum")
	}
	p := *pkg
	if p.ChecksumAlgorithm == "" {
		p.ChecksumAlgorithm = "SHA256"
	}
	if p.Checksum == "" {
		if p.Content == nil {
			return errors.New("deviceapi: package without content")
		}
		data := make([]byte, p.Size)
		if _, err := p.Content.ReadAt(data, 0); err != nil {
			return fmt.Errorf("deviceapi: reading package: %w", err)
		}
		sum, err := ChecksumOf(p.ChecksumAlgorithm, data)
		if err != nil {
			return err
		}
		p.Checksum = sum
	}
	if err := a.packages.AssignPackage(ctx, ident, kind, &p); err != nil {
		return err
	}
	attrs := []Attribute{{pre + "title", protocol.String(p.Title)}, {pre + "version", protocol.String(p.Version)}}
	if p.Tag != "" {
		attrs = append(attrs, Attribute{pre + "tag", protocol.String(p.Tag)})
	}
	if p.URL != "" {
		attrs = append(attrs, Attribute{pre + "url", protocol.String(p.URL)})
	}
	attrs = append(attrs, Attribute{pre + "size", protocol.Int(p.Size)},
		Attribute{pre + "checksum_algorithm", protocol.String(p.ChecksumAlgorithm)},
		Attribute{pre + "checksum", protocol.String(p.Checksum)})
	return a.SetShared(ctx, ident, attrs)
}
