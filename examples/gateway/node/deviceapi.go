package node

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/channel/deviceapi"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/protocol"
)

// DeviceAPIProtocol is the protocol name of the channel that serves
// ThingsBoard's device MQTT API on the gateway's broker.
const DeviceAPIProtocol = "thingsboard"

// deviceAPIChannel makes sure the device API's channel exists: it is
// served by the embedded broker on the MQTT listeners, so it has no
// address of its own, and it runs whatever channels the operator lists
// (set enabled false to turn it off).
func (n *Node) deviceAPIChannel(ctx context.Context) (registry.Channel, error) {
	for _, c := range n.Registry.Channels.List() {
		if c.ProtocolName == DeviceAPIProtocol && c.CID == registry.RootCID {
			return c, nil
		}
	}
	return n.Registry.Channels.Create(ctx, registry.Channel{Meta: registry.Meta{CID: registry.RootCID},
		Name: "device-api", ProtocolName: DeviceAPIProtocol, Enabled: true, Origin: "builtin"})
}

// deviceCredentials finds the devices of the device API in the registry:
// by access token (the MQTT username), by basic MQTT credentials, or by the
// fingerprint of their X.509 certificate.
type deviceCredentials struct{ n *Node }

func (c deviceCredentials) LookupDevice(_ context.Context, cred deviceapi.Credential) (deviceapi.Device, error) {
	r := c.n.Registry
	if ch, ok := r.Channels.Get(c.n.deviceAPI.ChannelID); !ok || !ch.Enabled {
		return deviceapi.Device{}, deviceapi.ErrUnknownDevice
	}
	var id int64
	var found bool
	switch {
	case cred.Certificate != nil:
		id, found = r.Devices.Lookup("certificate=" + deviceapi.Fingerprint(cred.Certificate))
	case cred.Username != "":
		if id, found = r.Devices.Lookup("access_token=" + cred.Username); found {
			break
		}
		for _, clientID := range []string{cred.ClientID, ""} {
			if id, found = r.Devices.Lookup("mqtt=" + clientID + "|" + cred.Username); found {
				d, _ := r.Devices.Get(id)
				found = subtle.ConstantTimeCompare([]byte(d.Configuration.Password), cred.Password) == 1
				break
			}
		}
	}
	if !found {
		return deviceapi.Device{}, deviceapi.ErrUnknownDevice
	}
	d, ok := r.Devices.Get(id)
	if !ok {
		return deviceapi.Device{}, deviceapi.ErrUnknownDevice
	}
	return deviceapi.Device{Ident: d.Configuration.Ident, Name: d.Name, Gateway: d.Configuration.Gateway}, nil
}

// kvAttributes keeps the device API's attributes in the registry's KV, so
// that they survive restarts and are shared by nodes.
type kvAttributes struct{ kv registry.KV }

func attrKey(ident string, scope deviceapi.Scope) string {
	return "attr/" + scope.String() + "/" + ident
}

func (s kvAttributes) load(ctx context.Context, ident string, scope deviceapi.Scope) (map[string]json.RawMessage, uint64, error) {
	raw, rev, err := s.kv.Get(ctx, attrKey(ident, scope))
	if errors.Is(err, registry.ErrNotFound) {
		return map[string]json.RawMessage{}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, 0, fmt.Errorf("attributes of %s: %w", ident, err)
	}
	return m, rev, nil
}

func (s kvAttributes) change(ctx context.Context, ident string, scope deviceapi.Scope, fn func(map[string]json.RawMessage)) error {
	for range 20 {
		m, rev, err := s.load(ctx, ident, scope)
		if err != nil {
			return err
		}
		fn(m)
		b, _ := json.Marshal(m)
		if _, err = s.kv.Put(ctx, attrKey(ident, scope), b, rev); !errors.Is(err, registry.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("%w: attributes of %s keep changing", registry.ErrConflict, ident)
}

func (s kvAttributes) SetAttributes(ctx context.Context, ident string, scope deviceapi.Scope, attrs []deviceapi.Attribute) error {
	return s.change(ctx, ident, scope, func(m map[string]json.RawMessage) {
		for _, a := range attrs {
			m[a.Key] = a.Value.AppendJSON(nil)
		}
	})
}

func (s kvAttributes) DeleteAttributes(ctx context.Context, ident string, scope deviceapi.Scope, keys []string) error {
	return s.change(ctx, ident, scope, func(m map[string]json.RawMessage) {
		for _, k := range keys {
			delete(m, k)
		}
	})
}

func (s kvAttributes) Attributes(ctx context.Context, ident string, scope deviceapi.Scope, keys []string) ([]deviceapi.Attribute, error) {
	m, _, err := s.load(ctx, ident, scope)
	if err != nil {
		return nil, err
	}
	var out []deviceapi.Attribute
	for k, raw := range m {
		if keys != nil && !slices.Contains(keys, k) {
			continue
		}
		v, err := protocol.ParseValueJSON(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, deviceapi.Attribute{Key: k, Value: v})
	}
	slices.SortFunc(out, func(a, b deviceapi.Attribute) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// errNoDeviceAPI answers device API calls on a node that serves no
// device API.
var errNoDeviceAPI = &rest.Error{Status: http.StatusNotImplemented, Reason: "this gateway serves no device MQTT API"}

// DeviceRPC calls a method on a device over the device API and, when wait
// is set, returns its answer: on this node, or on the node the device is
// connected to.
func (l *live) DeviceRPC(ctx context.Context, d registry.Device, method string, params json.RawMessage, wait bool, timeout time.Duration) (json.RawMessage, error) {
	if l.n.deviceAPI == nil {
		return nil, errNoDeviceAPI
	}
	if inst, ok := l.deviceNode(d.Configuration.Ident); ok {
		call := "notify"
		if wait {
			call = "rpc"
			if timeout <= 0 {
				timeout = deviceapi.DefaultRPCTimeout
			}
		}
		return l.askDeviceNode(ctx, inst, d, deviceAPIRequest{Call: call, Method: method, Params: params, Timeout: timeout})
	}
	return l.deviceRPCLocal(ctx, d, method, params, wait, timeout)
}

func (l *live) deviceRPCLocal(ctx context.Context, d registry.Device, method string, params json.RawMessage, wait bool, timeout time.Duration) (json.RawMessage, error) {
	api := l.n.deviceAPI
	var p any = params
	if len(params) == 0 {
		p = struct{}{}
	}
	if !wait {
		return nil, api.Notify(ctx, d.Configuration.Ident, method, p)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	out, err := api.Call(ctx, d.Configuration.Ident, method, p)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &rest.Error{Status: http.StatusGatewayTimeout, Reason: fmt.Sprintf("device %d did not answer %q in time", d.ID, method)}
	}
	return out, err
}

// DeviceAttributes returns a device's client and shared attributes.
func (l *live) DeviceAttributes(ctx context.Context, d registry.Device) (client, shared []deviceapi.Attribute, err error) {
	store := kvAttributes{l.n.kv}
	if client, err = store.Attributes(ctx, d.Configuration.Ident, deviceapi.ClientScope, nil); err != nil {
		return nil, nil, err
	}
	shared, err = store.Attributes(ctx, d.Configuration.Ident, deviceapi.SharedScope, nil)
	return client, shared, err
}

// SetSharedAttributes sets (or, with nil values, deletes) shared
// attributes and pushes them to the device.
func (l *live) SetSharedAttributes(ctx context.Context, d registry.Device, set []deviceapi.Attribute, del []string) error {
	if l.n.deviceAPI == nil {
		return errNoDeviceAPI
	}
	if inst, ok := l.deviceNode(d.Configuration.Ident); ok {
		q := deviceAPIRequest{Call: "shared", Set: map[string]json.RawMessage{}, Delete: del}
		for _, a := range set {
			q.Set[a.Key] = a.Value.AppendJSON(nil)
		}
		_, err := l.askDeviceNode(ctx, inst, d, q)
		return err
	}
	return l.setSharedLocal(ctx, d, set, del)
}

func (l *live) setSharedLocal(ctx context.Context, d registry.Device, set []deviceapi.Attribute, del []string) error {
	api := l.n.deviceAPI
	if len(set) > 0 {
		if err := api.SetShared(ctx, d.Configuration.Ident, set); err != nil {
			return err
		}
	}
	if len(del) > 0 {
		return api.DeleteShared(ctx, d.Configuration.Ident, del...)
	}
	return nil
}

// AssignPackage gives a device a firmware or software image to download.
func (l *live) AssignPackage(ctx context.Context, d registry.Device, kind deviceapi.PackageKind, pkg *deviceapi.Package) error {
	api := l.n.deviceAPI
	if api == nil {
		return errNoDeviceAPI
	}
	if _, ok := l.deviceNode(d.Configuration.Ident); ok {
		// The node that takes the assignment serves the image's chunks.
		return &rest.Error{Status: http.StatusConflict, Reason: fmt.Sprintf("device %d is connected to another gateway node, which would serve the package: assign it there, or while it is connected to none", d.ID)}
	}
	return api.AssignPackage(ctx, d.Configuration.Ident, kind, pkg)
}
