package node

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gnssgate/gnssgate/examples/gateway/registry"
)

// httpHandler is the gateway's HTTP server: the REST API, HTTP channels at
// /http/{channel id}, health and readiness.
func (n *Node) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/gw/", n.API)
	mux.Handle("/platform/", n.API)
	mux.Handle("/mqtt/", n.API)
	mux.HandleFunc("/http/{id}", n.serveHTTPChannel)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		select {
		case <-n.ready:
			w.Write([]byte("ready\n"))
		default:
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	})
	if n.cfg.HTTPHandlers != nil {
		n.cfg.HTTPHandlers(mux)
	}
	return mux
}

// serveHTTPChannel hands a request to the HTTP channel it names.
func (n *Node) serveHTTPChannel(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	rc := n.channels.get(id)
	if err != nil || rc == nil || rc.http == nil {
		http.Error(w, "no such HTTP channel", http.StatusNotFound)
		return
	}
	rc.http.ServeHTTP(w, r)
}

// watchObjects publishes every object's state on its retained topics
// (flespi/state/gw/…) as the registry changes, and once at start.
func (n *Node) watchObjects(ctx context.Context) {
	publish := func(kind string, id int64, old, obj any) {
		var a, b []byte
		if old != nil {
			a, _ = json.Marshal(withoutSecrets(old))
		}
		if obj != nil {
			b, _ = json.Marshal(withoutSecrets(obj))
		}
		n.state.Object(ctx, kind, id, a, b)
	}
	for _, c := range n.Registry.Channels.List() {
		publish("channels", c.ID, nil, c)
	}
	for _, d := range n.Registry.Devices.List() {
		publish("devices", d.ID, nil, d)
		n.state.Property(ctx, "devices", d.ID, "connected", n.devices.state(d.Configuration.Ident).Connected)
	}
	for _, s := range n.Registry.Streams.List() {
		publish("streams", s.ID, nil, s)
	}
	n.Registry.Channels.Watch(func(c registry.Change[registry.Channel]) {
		id, old, obj := changeOf(c, func(x *registry.Channel) int64 { return x.ID })
		go publish("channels", id, old, obj)
	})
	n.Registry.Devices.Watch(func(c registry.Change[registry.Device]) {
		id, old, obj := changeOf(c, func(x *registry.Device) int64 { return x.ID })
		go publish("devices", id, old, obj)
	})
	n.Registry.Streams.Watch(func(c registry.Change[registry.Stream]) {
		id, old, obj := changeOf(c, func(x *registry.Stream) int64 { return x.ID })
		go publish("streams", id, old, obj)
	})
}

// withoutSecrets is what a state topic shows of an object: a device's
// password and access token are its credentials, and a token allowed to
// subscribe to flespi/state/# (a dashboard's) must not learn them.
func withoutSecrets(v any) any {
	if d, ok := v.(registry.Device); ok {
		d.Configuration.Password, d.Configuration.AccessToken = "", ""
		return d
	}
	return v
}

// changeOf returns a change's object id, and its old and new values as
// interfaces that are nil (not typed nil pointers) when absent.
func changeOf[T any](c registry.Change[T], id func(*T) int64) (int64, any, any) {
	var old, obj any
	var oid int64
	if c.Old != nil {
		old, oid = *c.Old, id(c.Old)
	}
	if c.New != nil {
		obj, oid = *c.New, id(c.New)
	}
	return oid, old, obj
}
