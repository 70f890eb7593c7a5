package node

import (
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/gnssgate/gnssgate/examples/gateway/platform"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

// AccountNamespace is the topic space of an account on the gateway's
// broker: the broker's own for the root account, "$accounts/<cid>/" for a
// subaccount. A subaccount's MQTT clients live inside theirs (two
// accounts may both use "sensors/1" without seeing each other), and the
// gateway publishes the subaccount's platform topics there; the '$' keeps
// a "#" subscription of another account from covering it.
func AccountNamespace(cid int64) string {
	if cid == registry.RootCID || cid == 0 {
		return ""
	}
	return "$accounts/" + strconv.FormatInt(cid, 10) + "/"
}

// namespaceAccount is AccountNamespace's inverse: the subaccount whose
// space ns is.
func namespaceAccount(ns string) (int64, bool) {
	rest, ok := strings.CutPrefix(ns, "$accounts/")
	if !ok {
		return 0, false
	}
	cid, after, ok := strings.Cut(rest, "/")
	if !ok || after != "" || !decimal(cid) {
		return 0, false
	}
	n, err := strconv.ParseInt(cid, 10, 64)
	if err != nil || n == registry.RootCID || n == 0 {
		return 0, false
	}
	return n, true
}

// eachDevice calls yield with every registered device's id and ident.
func (n *Node) eachDevice(yield func(id int64, ident string) bool) {
	for _, d := range n.Registry.Devices.List() {
		if !yield(d.ID, d.Configuration.Ident) {
			return
		}
	}
}

// deviceIdent returns the ident of a registered device.
func (n *Node) deviceIdent(id int64) (string, bool) {
	d, ok := n.Registry.Devices.Get(id)
	return d.Configuration.Ident, ok
}

// deviceCID returns the account of a device by ident (the root's when
// unregistered).
func (n *Node) deviceCID(ident string) int64 {
	if _, cid, ok := n.Registry.DeviceAccountByIdent(ident); ok {
		return cid
	}
	return registry.RootCID
}

// objectCID returns the account of a channel, device or stream.
func (n *Node) objectCID(kind string, id int64) int64 {
	switch kind {
	case "channels":
		c, _ := n.Registry.Channels.Get(id)
		return c.CID
	case "devices":
		d, _ := n.Registry.Devices.Get(id)
		return d.CID
	case "streams":
		s, _ := n.Registry.Streams.Get(id)
		return s.CID
	case "accounts":
		return id // an account's events are its own
	}
	return 0
}

// The kinds of refused attempts to reach another account that the MQTT
// side counts (the REST API's are rest.RefusedAccount and
// rest.RefusedObject).
const (
	// RefusedTopic: a publish or subscription outside what the client's
	// token allows, such as another account's "$accounts/…" space.
	RefusedTopic = "mqtt_topic"
	// RefusedSpace: a SUBSCRIBE whose "cid" user property names an
	// account the token may not act in.
	RefusedSpace = "mqtt_cid"
	// RefusedProbe: a subscription admitted in the client's own space
	// that asks for another account, and so sees nothing: a
	// "$filter/message=cid==N…" of an account the token may not act in,
	// or a platform topic naming such an account or one of its objects
	// ("flespi/state/gw/devices/<its device>/…").
	RefusedProbe = "mqtt_probe"
)

// refusals counts refused attempts to reach another account, by kind
// (Snapshot.Refusals, and the gnssgate_account_refusals_total metric).
type refusals struct {
	mu sync.Mutex
	m  map[string]int64
}

func (r *refusals) add(kind string) {
	r.mu.Lock()
	if r.m == nil {
		r.m = map[string]int64{}
	}
	r.m[kind]++
	r.mu.Unlock()
}

func (r *refusals) snapshot() map[string]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.m)
}

// telemetryTopic reports whether topic is a device's retained telemetry
// topic, flespi/state/gw/devices/{id}/telemetry/{param}, in the gateway's
// space or an account's (AccountNamespace). Only the gateway publishes
// there (clients cannot publish into flespi/), and a clustered node
// publishes every value again from the store when it takes the history
// lease (republishTelemetry): the embedded broker need not write them to
// disk (embedded.Config.VolatileRetained). Unclustered, the broker keeps
// none of them (platform.TelemetrySource).
func telemetryTopic(topic string) bool {
	if rest, ok := strings.CutPrefix(topic, "$accounts/"); ok {
		cid, after, ok := strings.Cut(rest, "/")
		if !ok || !decimal(cid) {
			return false
		}
		topic = after
	}
	return platform.DeviceTelemetryTopic(topic)
}

// decimal reports whether s is an id: decimal digits only (no sign).
func decimal(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}
