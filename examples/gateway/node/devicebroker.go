package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gnssgate/gnssgate/broker/embedded"
	"github.com/gnssgate/gnssgate/channel/deviceapi"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/protocol"
)

// ThingsBoard's device MQTT API when the bus is an external broker. The
// API cannot run through that broker (its "v1/devices/me/…" topics name no
// device: docs/scaling.md), so each node serves it itself, on its -mqtt
// and -mqtt-ws listeners, with an embedded broker that admits devices
// only (no tokens: the platform topics are on the external bus). Devices
// connect to any node through the load balancer, as trackers do; their
// telemetry goes into the shared log like any channel's.
//
// Server-side RPC and shared attributes from the REST API of any node go
// to the node the device is connected to: the node taking the call asks
// the others (over NATS) which one holds a connected session of the
// device, and has that one call it. A firmware or software package is
// kept by the node that took the assignment, so it is assigned there when
// the device is connected there, and refused with 409 when the device is
// connected to another node.

// newDeviceAPI builds the device API, its channel and its stores.
func (n *Node) newDeviceAPI(ctx context.Context) error {
	devCh, err := n.deviceAPIChannel(ctx)
	if err != nil {
		return err
	}
	n.deviceAPI = &deviceapi.API{Handler: n.ingest.Handler(devCh), ChannelID: devCh.ID,
		Credentials: deviceCredentials{n}, Attributes: kvAttributes{n.kv}, Logger: n.logger}
	return nil
}

// openDeviceBroker opens the device-only broker of a node whose bus is an
// external broker.
func (n *Node) openDeviceBroker(ctx context.Context) error {
	if err := n.newDeviceAPI(ctx); err != nil {
		return err
	}
	dir := ""
	if n.cfg.DataDir != "" {
		dir = filepath.Join(n.cfg.DataDir, "broker")
	}
	var err error
	n.devBroker, err = embedded.Open(&embedded.Config{
		Authenticator: n.deviceAPI.Authenticator(nil), // devices only
		Timestamps:    true,
		SysInterval:   -1,
		Logger:        n.logger,
		DataDir:       dir,
	})
	if err != nil {
		return fmt.Errorf("device API broker: %w", err)
	}
	n.deviceAPI.Broker = n.devBroker
	return nil
}

// deviceHere reports whether device ident has a connected session on this
// node's device API.
func (n *Node) deviceHere(ident string) bool {
	b := n.embedded
	if b == nil {
		b = n.devBroker
	}
	if b == nil || n.deviceAPI == nil {
		return false
	}
	sessions, err := b.Sessions(n.deviceAPI.DeviceNamespace(ident))
	if err != nil {
		return false
	}
	for _, s := range sessions {
		if s.Connected {
			return true
		}
	}
	return false
}

// deviceNode returns the other node device ident is connected to through
// the device API, if any.
func (l *live) deviceNode(ident string) (string, bool) {
	p := l.n.peers
	if p == nil || l.n.deviceHere(ident) {
		return "", false
	}
	for _, r := range p.askAll(peerRequest{Op: "devapi-here", Ident: ident}) {
		if r.Instance != "" {
			return r.Instance, true
		}
	}
	return "", false
}

// deviceAPIRequest is a device API call handed to the node the device is
// connected to.
type deviceAPIRequest struct {
	Call    string                     `json:"call"` // "rpc", "notify", "shared"
	Method  string                     `json:"method,omitempty"`
	Params  json.RawMessage            `json:"params,omitempty"`
	Timeout time.Duration              `json:"timeout,omitempty"`
	Set     map[string]json.RawMessage `json:"set,omitempty"`
	Delete  []string                   `json:"delete,omitempty"`
}

// serveDeviceAPI runs a call handed over by another node.
func (l *live) serveDeviceAPI(ctx context.Context, d registry.Device, q deviceAPIRequest) (json.RawMessage, error) {
	switch q.Call {
	case "rpc", "notify":
		return l.deviceRPCLocal(ctx, d, q.Method, q.Params, q.Call == "rpc", q.Timeout)
	case "shared":
		set := make([]deviceapi.Attribute, 0, len(q.Set))
		for k, raw := range q.Set {
			v, err := protocol.ParseValueJSON(raw)
			if err != nil {
				return nil, &rest.Error{Status: http.StatusBadRequest, Reason: fmt.Sprintf("attribute %q: %v", k, err)}
			}
			set = append(set, deviceapi.Attribute{Key: k, Value: v})
		}
		return nil, l.setSharedLocal(ctx, d, set, q.Delete)
	}
	return nil, &rest.Error{Status: http.StatusBadRequest, Reason: fmt.Sprintf("unknown device API call %q", q.Call)}
}

// askDeviceNode hands a device API call to node instance.
func (l *live) askDeviceNode(ctx context.Context, instance string, d registry.Device, q deviceAPIRequest) (json.RawMessage, error) {
	raw, _ := json.Marshal(d)
	body, _ := json.Marshal(q)
	r, err := l.n.peers.ask(ctx, instance, peerRequest{Op: "devapi", Device: raw, Body: body, Wait: q.Timeout})
	if err != nil {
		return nil, err
	}
	return r.Body, nil
}
