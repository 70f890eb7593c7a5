package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/internal/natskey"
	"github.com/gnssgate/gnssgate/stream"
)

// peers is a node's link to the other nodes of its deployment, over the
// Cluster's NATS connection:
//
//   - liveness: every node publishes a heartbeat on PREFIX.gw.beat each
//     beatEvery; a node not heard from for deadAfter is taken for dead
//     (core NATS, so that it works while JetStream elects leaders);
//   - presence: which node each device is connected to, in the JetStream
//     KV bucket PREFIX_presence (ident → node instance and channel), which
//     every node mirrors in memory through a watch: "connected" and the
//     routing of commands and settings are lookups, not requests. An
//     entry of a node that died is ignored (its instance is not alive);
//     the device's next connection overwrites it;
//   - requests: a node answers on PREFIX.gw.node.<instance> for the devices
//     connected to it (send a command, read or write a setting), and on
//     PREFIX.gw.all, with every other node, for what spans the cluster
//     (connections, their count, closing them, command lists, a stream's
//     counters on the node that runs it).
//
// Each node process has its own instance id (its name and a random
// suffix), so a restarted node is not mistaken for the one that died.
type peers struct {
	n        *Node
	nc       *nats.Conn
	subj     string // PREFIX.gw
	self     string // this process's instance id
	started  time.Time
	presence jetstream.KeyValue

	mu    sync.Mutex
	alive map[string]time.Time     // instance → last heartbeat
	where map[string]presenceEntry // ident → where it is connected (the bucket's mirror)

	pmu     sync.Mutex
	want    map[string]int64  // ident → channel it is connected to here (0: not here): to write
	mine    map[string]uint64 // ident → revision of the entry this node wrote
	kick    chan struct{}
	flushed chan struct{} // closed by the writer when want is empty

	cmds *sharedCommands // commands for devices connected to no node

	subs      []*nats.Subscription
	watch     jetstream.KeyWatcher
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

type presenceEntry struct {
	Instance string `json:"i"`
	Channel  int64  `json:"c"`
}

const (
	beatEvery = time.Second
	deadAfter = 3500 * time.Millisecond
	// askTimeout bounds a request to the other nodes; a node that does not
	// answer by then is left out (a scatter) or reported (a directed call).
	askTimeout = 3 * time.Second
)

func newPeers(ctx context.Context, n *Node) (*peers, error) {
	c := n.cfg.Cluster
	name := c.Node
	if name == "" {
		name = "node"
	}
	p := &peers{n: n, nc: c.Conn, subj: c.prefix() + ".gw", self: natskey.Token(name) + "-" + nuid.Next()[:10],
		alive: map[string]time.Time{}, where: map[string]presenceEntry{}, want: map[string]int64{}, mine: map[string]uint64{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), started: time.Now()}
	js, err := jetstream.New(c.Conn)
	if err != nil {
		return nil, err
	}
	rc, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cfg := jetstream.KeyValueConfig{Bucket: c.prefix() + "_presence", History: 1, Storage: jetstream.FileStorage}
	p.presence, err = js.CreateKeyValue(rc, cfg)
	if errors.Is(err, jetstream.ErrBucketExists) {
		p.presence, err = js.KeyValue(rc, cfg.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("presence bucket: %w", err)
	}
	// The mirror: current entries first, then every change.
	if p.watch, err = p.presence.WatchAll(ctx); err != nil {
		return nil, fmt.Errorf("presence watch: %w", err)
	}
	p.wg.Add(1)
	go p.follow()
	for subj, fn := range map[string]nats.MsgHandler{
		p.subj + ".beat":           p.onBeat,
		p.subj + ".node." + p.self: p.onDirect,
		p.subj + ".all":            p.onAll,
	} {
		sub, err := c.Conn.Subscribe(subj, fn)
		if err != nil {
			p.close()
			return nil, err
		}
		p.subs = append(p.subs, sub)
	}
	p.wg.Add(2)
	go p.beat()
	go p.writePresence()
	p.cmds = newSharedCommands(n, p)
	return p, nil
}

// close stops the peer link after writing the last presence changes (the
// channels have closed their connections by then) for up to a few
// seconds.
func (p *peers) close() { p.closeOnce.Do(p.doClose) }

func (p *peers) doClose() {
	p.pmu.Lock()
	var flushed chan struct{}
	if len(p.want) > 0 {
		flushed = make(chan struct{})
		p.flushed = flushed
	}
	p.pmu.Unlock()
	if flushed != nil {
		select {
		case <-flushed:
		case <-time.After(5 * time.Second):
		}
	}
	// Say goodbye: the others stop counting on this instance at once.
	p.nc.Publish(p.subj+".beat", []byte(`{"i":"`+p.self+`","bye":true}`))
	for _, s := range p.subs {
		s.Unsubscribe()
	}
	close(p.stop)
	p.cmds.close()
	if p.watch != nil {
		p.watch.Stop()
	}
	p.wg.Wait()
}

type beatMsg struct {
	Instance string `json:"i"`
	Bye      bool   `json:"bye,omitempty"`
}

func (p *peers) beat() {
	defer p.wg.Done()
	msg, _ := json.Marshal(beatMsg{Instance: p.self})
	t := time.NewTicker(beatEvery)
	defer t.Stop()
	for {
		p.nc.Publish(p.subj+".beat", msg)
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
	}
}

func (p *peers) onBeat(m *nats.Msg) {
	var b beatMsg
	if json.Unmarshal(m.Data, &b) != nil || b.Instance == "" {
		return
	}
	p.mu.Lock()
	if b.Bye {
		delete(p.alive, b.Instance)
	} else {
		p.alive[b.Instance] = time.Now()
	}
	p.mu.Unlock()
}

// others returns the instances alive now, other than this one.
func (p *peers) others() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for id, seen := range p.alive {
		if id != p.self && time.Since(seen) < deadAfter {
			out = append(out, id)
		}
	}
	return out
}

// knowsAlive reports whether this node has listened to heartbeats long
// enough to tell a dead node from one it has not heard from yet.
func (p *peers) knowsAlive() bool { return time.Since(p.started) >= deadAfter }

func (p *peers) isAlive(instance string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	seen, ok := p.alive[instance]
	return ok && time.Since(seen) < deadAfter
}

// --- presence ---------------------------------------------------------------

func (p *peers) follow() {
	defer p.wg.Done()
	for e := range p.watch.Updates() {
		if e == nil {
			continue // the current entries are in
		}
		ident, err := natskey.Parse(e.Key())
		if err != nil {
			continue
		}
		p.mu.Lock()
		var pe presenceEntry
		if e.Operation() == jetstream.KeyValuePut && json.Unmarshal(e.Value(), &pe) == nil {
			p.where[ident] = pe
		} else {
			delete(p.where, ident)
		}
		p.mu.Unlock()
	}
}

// located returns the live node another than this one that device ident
// is connected to.
func (p *peers) located(ident string) (presenceEntry, bool) {
	p.mu.Lock()
	pe, ok := p.where[ident]
	p.mu.Unlock()
	if !ok || pe.Instance == p.self || !p.isAlive(pe.Instance) {
		return presenceEntry{}, false
	}
	return pe, true
}

// connected records that device ident is (chID != 0) or is no longer
// (chID == 0) connected to this node; a writer puts it in the bucket.
// It never blocks the channel that calls it.
func (p *peers) connected(ident string, chID int64) {
	p.pmu.Lock()
	p.want[ident] = chID
	p.pmu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// writePresence writes the wanted presence, newest state per device, in
// the background. An entry is deleted only if it is still the one this
// node wrote (the device may have moved to another node meanwhile).
func (p *peers) writePresence() {
	defer p.wg.Done()
	for {
		select {
		case <-p.stop:
			return
		case <-p.kick:
		case <-time.After(time.Second):
		}
		for {
			p.pmu.Lock()
			var ident string
			var ch int64
			found := false
			for ident, ch = range p.want {
				found = true
				break
			}
			if !found {
				if p.flushed != nil {
					close(p.flushed)
					p.flushed = nil
				}
				p.pmu.Unlock()
				break
			}
			delete(p.want, ident)
			rev := p.mine[ident]
			p.pmu.Unlock()
			if err := p.writeOne(ident, ch, rev); err != nil {
				select {
				case <-p.stop:
					return
				default:
				}
				p.n.logger.Debug("presence not written; trying again", "ident", ident, "err", err)
				p.pmu.Lock()
				if _, newer := p.want[ident]; !newer {
					p.want[ident] = ch
				}
				p.pmu.Unlock()
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
}

func (p *peers) writeOne(ident string, ch int64, rev uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key := natskey.Token(ident)
	if ch != 0 {
		val, _ := json.Marshal(presenceEntry{Instance: p.self, Channel: ch})
		nrev, err := p.presence.Put(ctx, key, val)
		if err != nil {
			return err
		}
		p.pmu.Lock()
		p.mine[ident] = nrev
		p.pmu.Unlock()
		return nil
	}
	if rev == 0 {
		return nil
	}
	err := p.presence.Delete(ctx, key, jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) && !isCASConflict(err) {
		return err
	}
	p.pmu.Lock()
	if p.mine[ident] == rev {
		delete(p.mine, ident)
	}
	p.pmu.Unlock()
	return nil
}

func isCASConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// --- requests -----------------------------------------------------------------

// peerRequest is a request between nodes.
type peerRequest struct {
	From    string          `json:"from"`
	Op      string          `json:"op"`
	Channel int64           `json:"channel,omitempty"`
	Ident   string          `json:"ident,omitempty"`
	Device  json.RawMessage `json:"device,omitempty"` // registry.Device
	Command *rest.Command   `json:"command,omitempty"`
	ID      int64           `json:"id,omitempty"`
	Name    string          `json:"name,omitempty"`
	Value   *string         `json:"value,omitempty"`
	TTL     time.Duration   `json:"ttl,omitempty"`
	Wait    time.Duration   `json:"wait,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
}

// peerReply is a node's answer; Status and Reason carry an error.
type peerReply struct {
	Status  int                `json:"status,omitempty"`
	Reason  string             `json:"reason,omitempty"`
	Conns   []channel.ConnInfo `json:"conns,omitempty"`
	Count   int                `json:"count,omitempty"`
	Command *rest.Command      `json:"command,omitempty"`
	List    []rest.Command     `json:"list,omitempty"`
	Setting *registry.Setting  `json:"setting,omitempty"`
	Stream  *stream.Stats      `json:"stream,omitempty"`
	// Instance is the answering node's, where it says "here".
	Instance string          `json:"instance,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
}

func replyErr(err error) peerReply {
	var re *rest.Error
	if errors.As(err, &re) {
		return peerReply{Status: re.Status, Reason: re.Reason}
	}
	return peerReply{Status: http.StatusBadGateway, Reason: err.Error()}
}

func (r peerReply) err() error {
	if r.Status == 0 {
		return nil
	}
	return &rest.Error{Status: r.Status, Reason: r.Reason}
}

func respond(m *nats.Msg, r peerReply) {
	b, _ := json.Marshal(r)
	m.Respond(b)
}

// onDirect answers a request for a device connected to this node.
func (p *peers) onDirect(m *nats.Msg) {
	var q peerRequest
	if err := json.Unmarshal(m.Data, &q); err != nil {
		return
	}
	var d registry.Device
	if len(q.Device) > 0 {
		json.Unmarshal(q.Device, &d)
	}
	// Off the subscription's goroutine: a setting waits for the device.
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), q.Wait+askTimeout)
		defer cancel()
		l := &live{p.n}
		switch q.Op {
		case "send":
			if q.Command == nil {
				return
			}
			cmd, err := l.sendLocal(ctx, d, *q.Command)
			if err != nil {
				respond(m, replyErr(err))
				return
			}
			respond(m, peerReply{Command: &cmd})
		case "read", "write":
			var st registry.Setting
			var err error
			if q.Op == "read" {
				st, err = p.n.settings.ReadSetting(ctx, d, q.Name, q.Wait)
			} else if q.Value != nil {
				st, err = p.n.settings.WriteSetting(ctx, d, q.Name, *q.Value, q.TTL, q.Wait)
			}
			if err != nil {
				respond(m, replyErr(err))
				return
			}
			respond(m, peerReply{Setting: &st})
		case "devapi":
			var dq deviceAPIRequest
			if err := json.Unmarshal(q.Body, &dq); err != nil {
				respond(m, replyErr(err))
				return
			}
			out, err := l.serveDeviceAPI(ctx, d, dq)
			if err != nil {
				respond(m, replyErr(err))
				return
			}
			respond(m, peerReply{Body: out})
		case "forget":
			if err := p.n.settings.ForgetSetting(ctx, d, q.Name); err != nil {
				respond(m, replyErr(err))
				return
			}
			respond(m, peerReply{})
		}
	}()
}

// onAll answers a question asked of every node.
func (p *peers) onAll(m *nats.Msg) {
	var q peerRequest
	if err := json.Unmarshal(m.Data, &q); err != nil || q.From == p.self {
		return
	}
	l := &live{p.n}
	switch q.Op {
	case "conns":
		respond(m, peerReply{Conns: l.connectionsLocal(q.Channel, q.Ident)})
	case "count":
		respond(m, peerReply{Count: l.connCountLocal(q.Channel)})
	case "close":
		respond(m, peerReply{Count: l.closeLocal(q.Channel, q.Ident)})
	case "commands":
		respond(m, peerReply{List: l.commandsLocal(q.ID)})
	case "devapi-here":
		if p.n.deviceHere(q.Ident) {
			respond(m, peerReply{Instance: p.self})
		} else {
			respond(m, peerReply{})
		}
	case "stream":
		if st, ok := p.n.streams.stats(q.ID); ok {
			respond(m, peerReply{Stream: &st})
		} else {
			respond(m, peerReply{})
		}
	}
}

// ask sends a request to one node and waits for its answer.
func (p *peers) ask(ctx context.Context, instance string, q peerRequest) (peerReply, error) {
	q.From = p.self
	b, _ := json.Marshal(q)
	ctx, cancel := context.WithTimeout(ctx, q.Wait+askTimeout)
	defer cancel()
	m, err := p.nc.RequestWithContext(ctx, p.subj+".node."+instance, b)
	if err != nil {
		return peerReply{}, &rest.Error{Status: http.StatusBadGateway,
			Reason: fmt.Sprintf("the gateway node the device is connected to did not answer: %v", err)}
	}
	var r peerReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return peerReply{}, err
	}
	return r, r.err()
}

// askAll asks every other live node and returns the answers that came
// within askTimeout.
func (p *peers) askAll(q peerRequest) []peerReply {
	want := len(p.others())
	if want == 0 {
		return nil
	}
	q.From = p.self
	b, _ := json.Marshal(q)
	inbox := p.nc.NewRespInbox()
	sub, err := p.nc.SubscribeSync(inbox)
	if err != nil {
		return nil
	}
	defer sub.Unsubscribe()
	if err := p.nc.PublishRequest(p.subj+".all", inbox, b); err != nil {
		return nil
	}
	var out []peerReply
	deadline := time.Now().Add(askTimeout)
	for len(out) < want {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		var r peerReply
		if json.Unmarshal(m.Data, &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// --- the cluster-wide rest.Live ----------------------------------------------------

func (l *live) Connections(chID int64, ident string) []channel.ConnInfo {
	out := l.connectionsLocal(chID, ident)
	if p := l.n.peers; p != nil && (ident == "" || !l.n.devices.here(ident)) {
		for _, r := range p.askAll(peerRequest{Op: "conns", Channel: chID, Ident: ident}) {
			out = append(out, r.Conns...)
		}
		slices.SortFunc(out, func(a, b channel.ConnInfo) int { return a.Since.Compare(b.Since) })
	}
	return out
}

func (l *live) CloseConnections(chID int64, ident string) int {
	n := l.closeLocal(chID, ident)
	if p := l.n.peers; p != nil {
		for _, r := range p.askAll(peerRequest{Op: "close", Channel: chID, Ident: ident}) {
			n += r.Count
		}
	}
	return n
}

func (l *live) ChannelState(id int64) rest.ChannelState {
	st := l.n.channels.state(id)
	if p := l.n.peers; p != nil {
		for _, r := range p.askAll(peerRequest{Op: "count", Channel: id}) {
			st.ConnectionsCount += r.Count
		}
	}
	return st
}

func (l *live) DeviceState(ident string) rest.DeviceState {
	st := l.n.devices.state(ident)
	if p := l.n.peers; p != nil && !st.Connected {
		_, st.Connected = p.located(ident)
	}
	return st
}

func (l *live) StreamState(id int64) (stream.Stats, bool) {
	if st, ok := l.n.streams.stats(id); ok || l.n.peers == nil {
		return st, ok
	}
	for _, r := range l.n.peers.askAll(peerRequest{Op: "stream", ID: id}) {
		if r.Stream != nil {
			return *r.Stream, true
		}
	}
	return stream.Stats{}, false
}

// Send sends a command through the node the device is connected to: this
// one, or another (asked over NATS). A device connected nowhere gets it
// queued until its TTL: in a cluster in the shared KV, for the node it
// connects to next (sharedCommands); alone, on this node, on the channel
// of its last message.
func (l *live) Send(ctx context.Context, d registry.Device, cmd rest.Command) (rest.Command, error) {
	if p := l.n.peers; p != nil && !l.n.devices.here(d.Configuration.Ident) {
		if pe, ok := p.located(d.Configuration.Ident); ok {
			raw, _ := json.Marshal(d)
			r, err := p.ask(ctx, pe.Instance, peerRequest{Op: "send", Device: raw, Command: &cmd})
			if err != nil {
				return cmd, err
			}
			return *r.Command, nil
		}
		if _, ok := l.n.devices.channelOf(d.Configuration.Ident); !ok {
			return cmd, &rest.Error{Status: http.StatusConflict, Reason: fmt.Sprintf("device %d has never connected: no channel to send the command through", d.ID)}
		}
		return p.cmds.queue(ctx, d, cmd)
	}
	return l.sendLocal(ctx, d, cmd)
}

// Commands lists a device's commands kept by every node, and those queued
// in the cluster's shared lists.
func (l *live) Commands(deviceID int64) []rest.Command {
	out := l.commandsLocal(deviceID)
	if p := l.n.peers; p != nil {
		for _, r := range p.askAll(peerRequest{Op: "commands", ID: deviceID}) {
			out = append(out, r.List...)
		}
		out = append(out, p.cmds.list(deviceID)...)
		slices.SortFunc(out, func(a, b rest.Command) int {
			switch {
			case a.Timestamp < b.Timestamp:
				return -1
			case a.Timestamp > b.Timestamp:
				return 1
			}
			return int(a.ID - b.ID)
		})
	}
	return out
}

// remoteDevice returns the node device d is connected to, when that is
// another node.
func (l *live) remoteDevice(d registry.Device) (string, json.RawMessage, bool) {
	p := l.n.peers
	if p == nil || l.n.devices.here(d.Configuration.Ident) {
		return "", nil, false
	}
	pe, ok := p.located(d.Configuration.Ident)
	if !ok {
		return "", nil, false
	}
	raw, _ := json.Marshal(d)
	return pe.Instance, raw, true
}

// The node's rest.SettingsLive: a setting of a device connected to
// another node is read or written by that node (pending values live in
// the shared registry either way).

func (l *live) ReadSetting(ctx context.Context, d registry.Device, name string, wait time.Duration) (registry.Setting, error) {
	if inst, raw, ok := l.remoteDevice(d); ok && wait > 0 {
		r, err := l.n.peers.ask(ctx, inst, peerRequest{Op: "read", Device: raw, Name: name, Wait: wait})
		if err != nil {
			return registry.Setting{}, err
		}
		return *r.Setting, nil
	}
	return l.n.settings.ReadSetting(ctx, d, name, wait)
}

func (l *live) WriteSetting(ctx context.Context, d registry.Device, name, value string, ttl, wait time.Duration) (registry.Setting, error) {
	if inst, raw, ok := l.remoteDevice(d); ok {
		r, err := l.n.peers.ask(ctx, inst, peerRequest{Op: "write", Device: raw, Name: name, Value: &value, TTL: ttl, Wait: wait})
		if err != nil {
			return registry.Setting{}, err
		}
		return *r.Setting, nil
	}
	return l.n.settings.WriteSetting(ctx, d, name, value, ttl, wait)
}

func (l *live) ForgetSetting(ctx context.Context, d registry.Device, name string) error {
	if inst, raw, ok := l.remoteDevice(d); ok {
		_, err := l.n.peers.ask(ctx, inst, peerRequest{Op: "forget", Device: raw, Name: name})
		return err
	}
	return l.n.settings.ForgetSetting(ctx, d, name)
}

var _ rest.SettingsLive = (*live)(nil)
