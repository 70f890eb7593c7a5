package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/platform"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/protocol"
)

// settingsRuntime reads and writes device settings through the channels
// (the protocol's protocol.Settings commands) and keeps them in the
// registry (registry.Settings), so that:
//
//   - a value written is pending until the device confirms it, in the KV:
//     a device that is offline, or a gateway that restarts, loses nothing;
//     the pending values are sent whenever the device logs in;
//   - the value the device last reported is kept and retained on
//     flespi/state/gw/devices/{id}/settings/{name};
//   - every answer is kept, also one that comes after the REST call that
//     asked for it gave up waiting.
type settingsRuntime struct {
	n *Node

	mu       sync.Mutex
	inflight map[settingKey]*settingCall

	// pending names each device's settings with a write waiting for it,
	// from the registry's watch and, once run has read them all, its list
	// (loaded); a login of a device with none reads nothing. Until loaded,
	// logins read the registry.
	pendingMu sync.Mutex
	pending   map[int64]map[string]bool
	loaded    bool
}

type settingKey struct {
	device int64
	name   string
}

// settingCall is a setting's command on its way: sent (or queued by the
// channel) and not answered yet.
type settingCall struct {
	call      *channel.Call
	value     *string       // the value written; nil for a read
	done      chan struct{} // closed once the outcome is kept
	forgotten bool          // under settingsRuntime.mu: DELETE came first
}

// settingCommandTTL is how long a setting's command waits for the device's
// answer. A write not answered by then stays pending and goes again at the
// device's next login.
const settingCommandTTL = 5 * time.Minute

func newSettingsRuntime(n *Node) *settingsRuntime {
	s := &settingsRuntime{n: n, inflight: map[settingKey]*settingCall{}, pending: map[int64]map[string]bool{}}
	n.Registry.Settings().Watch(s.watch)
	n.Registry.Devices.Watch(func(ch registry.Change[registry.Device]) {
		if ch.New == nil && ch.Old != nil {
			go s.deviceDeleted(ch.Old.ID, ch.Old.CID)
		}
	})
	return s
}

// watch follows every change of a setting into the pending index.
func (s *settingsRuntime) watch(deviceID int64, name string, st *registry.Setting) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	setPending(s.pending, deviceID, name, st != nil && st.Pending != nil)
}

func setPending(m map[int64]map[string]bool, deviceID int64, name string, pending bool) {
	names := m[deviceID]
	if pending {
		if names == nil {
			names = map[string]bool{}
			m[deviceID] = names
		}
		names[name] = true
		return
	}
	delete(names, name)
	if len(names) == 0 {
		delete(m, deviceID)
	}
}

// loadPending completes the index from a list of every setting read after
// the watch began. Every write the list shows pending is added: the list
// may be older than what the watch saw, and a write taken meanwhile costs
// that device's logins a read of the registry, no more, while one left out
// would never be sent.
func (s *settingsRuntime) loadPending(list []registry.Setting) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	for _, st := range list {
		if st.Pending != nil {
			setPending(s.pending, st.DeviceID, st.Name, true)
		}
	}
	s.loaded = true
}

// mayHavePending reports whether a device may have a pending write: false
// only when the index is loaded and holds none.
func (s *settingsRuntime) mayHavePending(deviceID int64) bool {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	return !s.loaded || len(s.pending[deviceID]) > 0
}

func unixNow() float64 { return float64(time.Now().UnixMicro()) / 1e6 }

// route finds a device's protocol settings and, when the device is
// connected, the channel server to reach it through.
func (s *settingsRuntime) route(d registry.Device) (protocol.Settings, *channel.Server, error) {
	ident := d.Configuration.Ident
	var srv *channel.Server
	proto := ""
	if chID, ok := s.n.devices.channelOf(ident); ok {
		srv = s.n.channels.servers()[chID]
		if c, found := s.n.Registry.Channels.Get(chID); found {
			proto = c.ProtocolName
		}
	}
	if proto == "" {
		proto = d.ProtocolName
	}
	var codec protocol.Codec
	if srv != nil {
		codec = srv.Codec
	} else if proto != "" {
		codec, _ = s.n.codec(proto, false)
	}
	if codec == nil {
		return nil, nil, &rest.Error{Status: http.StatusConflict,
			Reason: fmt.Sprintf("device %d has never connected: its protocol, and how to reach its settings, is unknown", d.ID)}
	}
	settings, ok := codec.(protocol.Settings)
	if !ok {
		return nil, nil, &rest.Error{Status: http.StatusNotImplemented,
			Reason: fmt.Sprintf("protocol %s has no settings the gateway can read or write", codec.Name())}
	}
	if srv != nil && srv.Conn(ident) == nil {
		srv = nil // not connected now
	}
	return settings, srv, nil
}

func badSetting(err error) error {
	return &rest.Error{Status: http.StatusBadRequest, Reason: err.Error()}
}

// kept returns the setting the gateway keeps (an empty one when none),
// giving up a pending write whose time ran out.
func (s *settingsRuntime) kept(ctx context.Context, deviceID int64, name string) (registry.Setting, error) {
	st, err := s.n.Registry.Settings().Get(ctx, deviceID, name)
	if errors.Is(err, registry.ErrNotFound) {
		return registry.Setting{DeviceID: deviceID, Name: name}, nil
	}
	if err != nil || !expired(st) {
		return st, err
	}
	return s.n.Registry.Settings().Update(ctx, deviceID, name, expire)
}

func expired(st registry.Setting) bool {
	return st.Pending != nil && st.Expire > 0 && unixNow() >= st.Expire
}

func expire(st *registry.Setting) error {
	if expired(*st) {
		st.Error = fmt.Sprintf("the write of %q expired before the device took it", *st.Pending)
		st.Pending, st.Requested, st.Expire = nil, 0, 0
	}
	return nil
}

// ReadSetting implements rest.SettingsLive.
func (s *settingsRuntime) ReadSetting(ctx context.Context, d registry.Device, name string, wait time.Duration) (registry.Setting, error) {
	codec, srv, err := s.route(d)
	if err != nil {
		return registry.Setting{}, err
	}
	if _, err := codec.ReadSetting(name); err != nil {
		return registry.Setting{}, badSetting(err)
	}
	if wait <= 0 || srv == nil {
		return s.kept(ctx, d.ID, name)
	}
	sc, err := s.send(d, srv, codec, name, nil)
	if err != nil {
		return registry.Setting{}, err
	}
	return s.await(ctx, d.ID, name, sc, wait)
}

// WriteSetting implements rest.SettingsLive.
func (s *settingsRuntime) WriteSetting(ctx context.Context, d registry.Device, name, value string, ttl, wait time.Duration) (registry.Setting, error) {
	codec, srv, err := s.route(d)
	if err != nil {
		return registry.Setting{}, err
	}
	if _, err := codec.WriteSetting(name, value); err != nil {
		return registry.Setting{}, badSetting(err)
	}
	t := unixNow()
	st, err := s.n.Registry.Settings().Update(ctx, d.ID, name, func(st *registry.Setting) error {
		st.Pending, st.Requested, st.Expire, st.Error = &value, t, 0, ""
		if ttl > 0 {
			st.Expire = t + ttl.Seconds()
		}
		return nil
	})
	if err != nil || srv == nil {
		return st, err // offline: it goes at the device's next login
	}
	sc, err := s.send(d, srv, codec, name, &value)
	if err != nil {
		return registry.Setting{}, err
	}
	if wait <= 0 {
		return st, nil
	}
	return s.await(ctx, d.ID, name, sc, wait)
}

// await waits up to wait for a setting's command to be answered and
// returns the setting as kept then.
func (s *settingsRuntime) await(ctx context.Context, deviceID int64, name string, sc *settingCall, wait time.Duration) (registry.Setting, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	answered := true
	select {
	case <-sc.done:
	case <-timer.C:
		answered = false
	case <-ctx.Done():
		return registry.Setting{}, ctx.Err()
	}
	st, err := s.kept(ctx, deviceID, name)
	if err == nil && !answered {
		// Said, not kept: the answer may still come, and will be kept.
		st.Error = fmt.Sprintf("no answer from the device within %v", wait)
	}
	return st, err
}

// ForgetSetting implements rest.SettingsLive.
func (s *settingsRuntime) ForgetSetting(ctx context.Context, d registry.Device, name string) error {
	key := settingKey{d.ID, name}
	s.mu.Lock()
	if sc := s.inflight[key]; sc != nil {
		sc.forgotten = true
		if _, sent := sc.call.Sent(); !sent {
			sc.call.Cancel()
		}
		delete(s.inflight, key)
	}
	s.mu.Unlock()
	if err := s.n.Registry.Settings().Delete(ctx, d.ID, name); err != nil {
		return err
	}
	s.clear(ctx, d.ID, d.CID, name)
	return nil
}

// send sends a setting's read (value nil) or write through srv and keeps
// its outcome when the device answers.
func (s *settingsRuntime) send(d registry.Device, srv *channel.Server, codec protocol.Settings, name string, value *string) (*settingCall, error) {
	var cmd protocol.Command
	var err error
	if value == nil {
		cmd, err = codec.ReadSetting(name)
	} else {
		cmd, err = codec.WriteSetting(name, *value)
	}
	if err != nil {
		return nil, badSetting(err)
	}
	key := settingKey{d.ID, name}
	s.mu.Lock()
	if sc := s.inflight[key]; sc != nil && !isDone(sc.done) && sameValue(sc.value, value) {
		s.mu.Unlock()
		return sc, nil // already on its way
	}
	sc := &settingCall{value: value, done: make(chan struct{})}
	sc.call = srv.Send(d.Configuration.Ident, cmd, settingCommandTTL)
	s.inflight[key] = sc
	s.mu.Unlock()
	go s.outcome(d.ID, name, codec, sc)
	return sc, nil
}

func sameValue(a, b *string) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// outcome keeps what the device answered to a setting's command.
func (s *settingsRuntime) outcome(deviceID int64, name string, codec protocol.Settings, sc *settingCall) {
	defer close(sc.done)
	<-sc.call.Done()
	key := settingKey{deviceID, name}
	s.mu.Lock()
	forgotten := sc.forgotten
	if s.inflight[key] == sc {
		delete(s.inflight, key)
	}
	s.mu.Unlock()
	resp, err := sc.call.Result()
	log := s.n.logger.With("device", deviceID, "setting", name)
	if err != nil {
		// Expired, connection closed, gateway stopping: a write stays
		// pending and goes again at the next login.
		log.Debug("setting command not answered", "err", err)
		return
	}
	if forgotten {
		return
	}
	value, verr := codec.SettingValue(name, resp)
	ctx := context.Background()
	st, err := s.n.Registry.Settings().Update(ctx, deviceID, name, func(st *registry.Setting) error {
		written := sc.value != nil && st.Pending != nil && *st.Pending == *sc.value
		switch {
		case verr == nil:
			st.Current, st.Updated, st.Error = &value, unixNow(), ""
		case errors.Is(verr, protocol.ErrSettingRefused):
			st.Error = verr.Error()
		default:
			// Not an answer about this setting (answers are matched first
			// in, first out): a write is tried again at the next login.
			st.Error = verr.Error()
			written = false
		}
		if written {
			st.Pending, st.Requested, st.Expire = nil, 0, 0
		}
		return nil
	})
	if err != nil {
		log.Error("setting not kept", "err", err)
		return
	}
	if verr != nil {
		log.Info("setting not read or written", "err", verr)
		return
	}
	s.publish(ctx, st)
}

// connState sends a device's pending settings when it logs in.
func (s *settingsRuntime) connState(chID int64, c *channel.Conn, st channel.ConnState) {
	if st != channel.StateIdentified {
		return
	}
	ident := c.Ident()
	go s.deliver(chID, ident)
}

func (s *settingsRuntime) deliver(chID int64, ident string) {
	d, ok := s.n.Registry.DeviceByIdent(ident)
	if !ok || !s.mayHavePending(d.ID) {
		return
	}
	srv := s.n.channels.servers()[chID]
	if srv == nil {
		return
	}
	codec, ok := srv.Codec.(protocol.Settings)
	if !ok {
		return
	}
	ctx := context.Background()
	list, err := s.n.Registry.Settings().List(ctx, d.ID)
	for attempt := 1; err != nil && attempt < 5 && srv.Conn(ident) != nil; attempt++ {
		// A shared registry may be electing a leader: try again while the
		// device is connected.
		time.Sleep(time.Second)
		list, err = s.n.Registry.Settings().List(ctx, d.ID)
	}
	if err != nil {
		s.n.logger.Error("pending settings not read", "device", d.ID, "err", err)
		return
	}
	for _, st := range list {
		if st.Pending == nil {
			continue
		}
		if expired(st) {
			s.n.Registry.Settings().Update(ctx, d.ID, st.Name, expire)
			continue
		}
		if _, err := s.send(d, srv, codec, st.Name, st.Pending); err != nil {
			s.n.Registry.Settings().Update(ctx, d.ID, st.Name, func(st *registry.Setting) error {
				st.Error = err.Error()
				return nil
			})
		}
	}
}

func settingTopic(deviceID int64, name string) string {
	return platform.StatePrefix + "devices/" + strconv.FormatInt(deviceID, 10) + "/settings/" + name
}

// publish retains a setting's current value.
func (s *settingsRuntime) publish(ctx context.Context, st registry.Setting) {
	if st.Current != nil {
		s.n.state.Property(ctx, "devices", st.DeviceID, "settings/"+st.Name, *st.Current)
	}
}

// clear removes a setting's retained value, in the device's account's
// space.
func (s *settingsRuntime) clear(ctx context.Context, deviceID, cid int64, name string) {
	m := broker.Message{Topic: AccountNamespace(cid) + settingTopic(deviceID, name), QoS: 1, Retain: true,
		Properties: broker.Properties{UserProperties: cidProperty(cid)}}
	if err := s.n.Broker.Publish(ctx, m); err != nil && ctx.Err() == nil {
		s.n.logger.Warn("setting state not cleared", "device", deviceID, "setting", name, "err", err)
	}
}

func (s *settingsRuntime) deviceDeleted(id, cid int64) {
	ctx := context.Background()
	list, err := s.n.Registry.Settings().List(ctx, id)
	if err != nil {
		return
	}
	for _, st := range list {
		s.n.Registry.Settings().Delete(ctx, id, st.Name)
		s.clear(ctx, id, cid, st.Name)
	}
}

// run publishes the kept values once the node listens: a broker without
// persistence lost them in a restart.
func (s *settingsRuntime) run(ctx context.Context) error {
	select {
	case <-s.n.ready:
	case <-ctx.Done():
		return nil
	}
	list, err := s.n.Registry.Settings().List(ctx, 0)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	s.loadPending(list)
	for _, st := range list {
		s.publish(ctx, st)
	}
	return nil
}
