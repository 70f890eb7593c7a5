package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
)

// channelRuntime runs the registry's channels: it starts, restarts and
// stops them as the registry changes.
type channelRuntime struct {
	n        *Node
	declared map[string]bool // channel names the operator listed this run

	mu      sync.Mutex
	ctx     context.Context
	running map[int64]*runningChannel
}

// runningChannel is one started channel.
type runningChannel struct {
	ch            registry.Channel
	srv           *channel.Server // tracker protocols
	http          *channel.HTTP   // protocol "http"
	tcp, udp, tls string          // bound addresses
	err           error
	stop          context.CancelFunc
	done          sync.WaitGroup
}

func newChannelRuntime(n *Node) *channelRuntime {
	r := &channelRuntime{n: n, running: map[int64]*runningChannel{}, declared: map[string]bool{}}
	for _, c := range n.cfg.Channels {
		r.declared[c.Name] = true
	}
	return r
}

// shouldRun says whether a channel runs now: enabled, and, for a channel
// declared by the defaults or a config, declared this run (an operator who
// lists channels runs only those).
func (r *channelRuntime) shouldRun(c *registry.Channel) bool {
	switch {
	case !c.Enabled || c.ProtocolName == DeviceAPIProtocol: // the broker serves the device API
		return false
	case c.Origin == "default":
		return !r.n.cfg.ExplicitChannels
	case c.Origin == "config":
		return r.declared[c.Name]
	}
	return true
}

// start runs every channel that should run and follows the registry. A
// channel the operator declared that cannot listen is an error.
func (r *channelRuntime) start(ctx context.Context) error {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
	var errs []error
	for _, c := range r.n.Registry.Channels.List() {
		r.apply(c.ID)
		if rc := r.get(c.ID); rc != nil && rc.err != nil && c.Origin == "config" {
			errs = append(errs, rc.err)
		}
	}
	r.n.Registry.Channels.Watch(func(ch registry.Change[registry.Channel]) {
		id := int64(0)
		if ch.New != nil {
			id = ch.New.ID
		} else {
			id = ch.Old.ID
		}
		go r.apply(id)
	})
	return errors.Join(errs...)
}

// apply brings channel id's runtime in line with the registry.
func (r *channelRuntime) apply(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.ctx.Err() != nil {
		return
	}
	c, exists := r.n.Registry.Channels.Get(id)
	cur := r.running[id]
	want := exists && r.shouldRun(&c)
	if cur != nil && want && reflect.DeepEqual(cur.ch, c) {
		return
	}
	if cur != nil {
		r.stopOne(cur)
		delete(r.running, id)
	}
	if want {
		r.running[id] = r.startOne(c)
	}
}

// startOne starts a channel's server and listeners. A failure to listen is
// kept on the channel (its REST state shows it) and, for a channel the
// operator declared explicitly, logged as an error.
func (r *channelRuntime) startOne(c registry.Channel) *runningChannel {
	ctx, cancel := context.WithCancel(r.ctx)
	rc := &runningChannel{ch: c, stop: cancel}
	n := r.n
	handler := n.ingest.Handler(c)
	dec, viaHTTP := n.httpDecoder(c.ProtocolName, c.Configuration.Lenient)
	switch {
	case c.ProtocolName == "http" || viaHTTP:
		rc.http = &channel.HTTP{Handler: handler, ChannelID: c.ID, IdentField: c.Configuration.IdentField, Decoder: dec, Logger: n.logger}
		if c.Configuration.TCP != "" {
			ln, err := n.bind("channel "+c.Name, "tcp", r.listen(c, c.Configuration.TCP), "-channel")
			rc.err = err
			if ln != nil {
				rc.tcp = ln.Addr().String()
				srv := &http.Server{Handler: rc.http}
				rc.done.Add(1)
				go func() {
					defer rc.done.Done()
					go func() { <-ctx.Done(); srv.Close() }()
					srv.Serve(ln)
				}()
			}
		}
		return rc
	case c.ProtocolName == "mqtt":
		m := &channel.MQTT{Broker: n.Broker, Topics: c.Configuration.Topics, Handler: handler, ChannelID: c.ID,
			IdentField: c.Configuration.IdentField, IdentTopicLevel: c.Configuration.IdentTopicLevel, Logger: n.logger}
		rc.done.Add(1)
		go func() {
			defer rc.done.Done()
			// One node at a time subscribes (every node would ingest each
			// message otherwise): the channel is a singleton job.
			err := n.leased(ctx, "channel."+strconv.FormatInt(c.ID, 10), func(ctx context.Context, _ uint64) error { return m.Run(ctx) })
			if err != nil && !errors.Is(err, context.Canceled) {
				n.logger.Error("mqtt channel stopped", "channel", c.ID, "err", err)
			}
		}()
		return rc
	}
	codec, ok := n.codec(c.ProtocolName, c.Configuration.Lenient)
	if !ok {
		rc.err = fmt.Errorf("protocol %q is not available", c.ProtocolName)
		return rc
	}
	rc.srv = &channel.Server{Codec: codec, Handler: handler, ChannelID: c.ID, Logger: n.logger.With("channel", c.ID),
		ConnState: func(conn *channel.Conn, st channel.ConnState) {
			n.devices.connState(c.ID, conn, st)
			n.settings.connState(c.ID, conn, st)
		}}
	rc.srv.Proxy = c.Configuration.Proxy.Channel()
	if c.Configuration.Record && n.cfg.DataDir != "" {
		rc.srv.Record = &channel.DirRecorder{Dir: n.trafficDir(c.ID)}
	}
	if c.Configuration.TCP != "" {
		ln, err := n.bind("channel "+c.Name+" (tcp)", "tcp", r.listen(c, c.Configuration.TCP), "-channel "+c.ProtocolName+"=ADDR")
		rc.err = errors.Join(rc.err, err)
		if ln != nil {
			rc.tcp = ln.Addr().String()
			rc.done.Add(1)
			go func() { defer rc.done.Done(); rc.srv.Serve(ctx, ln) }()
		}
	}
	if c.Configuration.TLS != "" {
		tc, err := c.Configuration.Certificate.Server()
		var ln net.Listener
		if err == nil {
			ln, err = n.bind("channel "+c.Name+" (tls)", "tcp", r.listen(c, c.Configuration.TLS), "-channel "+c.ProtocolName+"=tls://ADDR")
		}
		rc.err = errors.Join(rc.err, err)
		if ln != nil {
			rc.tls = ln.Addr().String()
			rc.done.Add(1)
			go func() { defer rc.done.Done(); rc.srv.Serve(ctx, tls.NewListener(ln, tc)) }()
		}
	}
	if c.Configuration.UDP != "" {
		pc, err := n.bindUDP("channel "+c.Name+" (udp)", r.listen(c, c.Configuration.UDP), "-channel "+c.ProtocolName+"=udp://ADDR")
		rc.err = errors.Join(rc.err, err)
		if pc != nil {
			rc.udp = pc.LocalAddr().String()
			rc.done.Add(1)
			go func() { defer rc.done.Done(); rc.srv.ServePacket(ctx, pc) }()
		}
	}
	if rc.err != nil {
		n.logger.Error("channel did not start fully", "channel", c.ID, "name", c.Name, "err", rc.err)
	}
	return rc
}

// listen says whether a channel's address is a default one (skipped with
// a warning when taken).
func (r *channelRuntime) listen(c registry.Channel, addr string) Listen {
	return Listen{Addr: addr, Default: c.Origin == "default"}
}

// stopOne stops a channel gracefully: frames in hand finish.
func (r *channelRuntime) stopOne(rc *runningChannel) {
	if rc.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), r.n.shutdownTimeout())
		rc.srv.Shutdown(ctx)
		cancel()
	}
	rc.stop()
	rc.done.Wait()
}

// shutdown stops every channel.
func (r *channelRuntime) shutdown(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var wg sync.WaitGroup
	for id, rc := range r.running {
		wg.Add(1)
		go func() { defer wg.Done(); r.stopOne(rc) }()
		delete(r.running, id)
	}
	wg.Wait()
	r.ctx = nil
}

func (r *channelRuntime) addrs() map[int64][3]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int64][3]string{}
	for id, rc := range r.running {
		out[id] = [3]string{rc.tcp, rc.udp, rc.tls}
	}
	return out
}

func (r *channelRuntime) get(id int64) *runningChannel {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running[id]
}

// servers returns the running tracker servers, by channel id.
func (r *channelRuntime) servers() map[int64]*channel.Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[int64]*channel.Server{}
	for id, rc := range r.running {
		if rc.srv != nil {
			out[id] = rc.srv
		}
	}
	return out
}

func (r *channelRuntime) state(id int64) rest.ChannelState {
	if api := r.n.deviceAPI; api != nil && api.ChannelID == id {
		c, _ := r.n.Registry.Channels.Get(id)
		st := rest.ChannelState{Running: c.Enabled}
		if a := r.n.Addrs(); a.MQTT != "" {
			st.URI = "mqtt://" + a.MQTT
		}
		return st
	}
	rc := r.get(id)
	if rc == nil {
		return rest.ChannelState{}
	}
	st := rest.ChannelState{Running: true}
	var uris []string
	if rc.tcp != "" {
		uris = append(uris, "tcp://"+rc.tcp)
	}
	if rc.udp != "" {
		uris = append(uris, "udp://"+rc.udp)
	}
	if rc.tls != "" {
		uris = append(uris, "tls://"+rc.tls)
	}
	if rc.http != nil && rc.ch.Configuration.TCP == "" {
		uris = append(uris, "/http/"+strconv.FormatInt(id, 10))
	}
	st.URI = strings.Join(uris, ",")
	if rc.err != nil {
		st.Error = rc.err.Error()
	}
	if rc.srv != nil {
		st.ConnectionsCount = len(rc.srv.Conns())
	}
	return st
}

// bindUDP is bind for datagram sockets.
func (n *Node) bindUDP(what string, l Listen, flag string) (net.PacketConn, error) {
	pc, err := net.ListenPacket("udp", l.Addr)
	if err == nil {
		return pc, nil
	}
	return nil, n.bindFailed(what, l, flag, err)
}
