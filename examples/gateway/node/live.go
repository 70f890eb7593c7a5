package node

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/protocol"
)

// deviceState tracks what only the running node knows of devices: their
// connections and when they were last active.
type deviceState struct {
	n  *Node
	mu sync.Mutex
	// conns counts each ident's identified connections, by channel.
	conns map[string]map[int64]int
	// last holds each ident's newest server time seen by the history
	// writer (or read back from telemetry after a restart).
	last map[string]float64
	// lastChannel holds the channel each ident was last identified on by
	// this node: its telemetry says so too, but only once the history
	// writer has stored a message of it, and a command may be posted
	// before that.
	lastChannel map[string]int64

	cmdMu    sync.Mutex
	nextCmd  int64
	commands map[int64][]*command // by device id, newest last
}

// command is a queued command and its call.
type command struct {
	rest.Command
	call *channel.Call
}

func newDeviceState(n *Node) *deviceState {
	return &deviceState{n: n, conns: map[string]map[int64]int{}, last: map[string]float64{}, lastChannel: map[string]int64{}, commands: map[int64][]*command{}}
}

// maxCommands is how many commands a device's list keeps.
const maxCommands = 100

// connState follows a channel's connections: a device is connected while
// it has an identified connection on any channel.
func (s *deviceState) connState(chID int64, c *channel.Conn, st channel.ConnState) {
	if st == channel.StateClosed {
		s.n.limits.closed(c)
	}
	ident := c.Ident()
	if ident == "" {
		return
	}
	s.mu.Lock()
	m := s.conns[ident]
	before := len(m) > 0
	switch st {
	case channel.StateIdentified:
		if m == nil {
			m = map[int64]int{}
			s.conns[ident] = m
		}
		m[chID]++
		s.lastChannel[ident] = chID
	case channel.StateClosed:
		if m[chID] > 0 {
			if m[chID]--; m[chID] == 0 {
				delete(m, chID)
			}
		}
		if len(m) == 0 {
			delete(s.conns, ident)
		}
	}
	after := len(s.conns[ident]) > 0
	var ch int64
	for id := range s.conns[ident] {
		ch = id
	}
	s.mu.Unlock()
	if before == after {
		return
	}
	if p := s.n.peers; p != nil {
		p.connected(ident, ch) // 0: gone from this node
		if after {
			go p.cmds.login(ident)
		} else {
			p.cmds.logout(ident)
		}
	}
	id, ok := s.n.Registry.DeviceIDByIdent(ident)
	if !ok {
		return
	}
	ctx := context.Background()
	s.n.state.Property(ctx, "devices", id, "connected", after)
	event := "disconnected"
	if after {
		event = "connected"
	}
	s.n.state.Event(ctx, "devices", id, event, map[string]any{"ident": ident, "channel_id": chID, "peer": c.RemoteAddr().String()})
}

// active records a device's newest server time (history writer's Active).
func (s *deviceState) active(ident string, serverTime float64) {
	s.mu.Lock()
	if serverTime > s.last[ident] {
		s.last[ident] = serverTime
	}
	s.mu.Unlock()
}

// here reports whether device ident is connected to this node.
func (s *deviceState) here(ident string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns[ident]) > 0
}

func (s *deviceState) state(ident string) rest.DeviceState {
	s.mu.Lock()
	st := rest.DeviceState{Connected: len(s.conns[ident]) > 0, LastActive: s.last[ident]}
	s.mu.Unlock()
	if st.LastActive == 0 || s.n.clustered() {
		// After a restart, or when other nodes take the device's
		// messages: the (shared) telemetry knows.
		if vals, err := s.n.db.Telemetry().Get(context.Background(), ident, protocol.ParamServerTimestamp); err == nil && len(vals) > 0 {
			if v, _ := vals[0].Value.Float(); v > st.LastActive {
				st.LastActive = v
				s.active(ident, v)
			}
		}
	}
	return st
}

// connectedOn returns a channel device ident is connected to on this node.
func (s *deviceState) connectedOn(ident string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.conns[ident] {
		return ch, true
	}
	return 0, false
}

// channelOf returns the channel a device is connected to now, or the one
// of its last message.
func (s *deviceState) channelOf(ident string) (int64, bool) {
	s.mu.Lock()
	for ch := range s.conns[ident] {
		s.mu.Unlock()
		return ch, true
	}
	ch, ok := s.lastChannel[ident]
	s.mu.Unlock()
	if ok {
		return ch, true
	}
	vals, err := s.n.db.Telemetry().Get(context.Background(), ident, protocol.ParamChannelID)
	if err != nil || len(vals) == 0 {
		return 0, false
	}
	return vals[0].Value.Int()
}

// live is the node's rest.Live.
type live struct{ n *Node }

// connectionsLocal lists this node's connections.
func (l *live) connectionsLocal(chID int64, ident string) []channel.ConnInfo {
	var out []channel.ConnInfo
	for id, srv := range l.n.channels.servers() {
		if chID != 0 && id != chID {
			continue
		}
		for _, c := range srv.Conns() {
			if ident == "" || c.Ident == ident {
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b channel.ConnInfo) int { return int(a.ID - b.ID) })
	return out
}

// connCountLocal counts this node's connections of a channel.
func (l *live) connCountLocal(chID int64) int {
	if srv := l.n.channels.servers()[chID]; srv != nil {
		return len(srv.Conns())
	}
	return 0
}

// closeLocal closes this node's connections.
func (l *live) closeLocal(chID int64, ident string) int {
	n := 0
	for id, srv := range l.n.channels.servers() {
		if chID != 0 && id != chID {
			continue
		}
		if ident == "" {
			n += srv.CloseAll()
		} else {
			n += srv.CloseIdent(ident)
		}
	}
	return n
}

// sendLocal queues a command on the channel the device is connected to (or
// last sent from); the channel sends it when the device is connected and
// identified, until its TTL.
func (l *live) sendLocal(ctx context.Context, d registry.Device, cmd rest.Command) (rest.Command, error) {
	s := l.n.devices
	chID, ok := s.channelOf(d.Configuration.Ident)
	if !ok {
		return cmd, &rest.Error{Status: http.StatusConflict, Reason: fmt.Sprintf("device %d has never connected: no channel to send the command through", d.ID)}
	}
	srv := l.n.channels.servers()[chID]
	if srv == nil {
		return cmd, &rest.Error{Status: http.StatusConflict, Reason: fmt.Sprintf("channel %d of device %d is not running", chID, d.ID)}
	}
	text, _ := cmd.Properties["text"].(string)
	name := cmd.Name
	if name == "custom" {
		name = "" // the protocol's default text command
	}
	ttl := time.Duration(cmd.TTL) * time.Second
	cmd.ID, cmd.Status, cmd.Timestamp = s.commandID(), "queued", unixNow()
	s.cmdMu.Lock()
	rec := &command{Command: cmd}
	list := append(s.commands[d.ID], rec)
	if len(list) > maxCommands {
		list = list[len(list)-maxCommands:]
	}
	s.commands[d.ID] = list
	call := srv.Send(d.Configuration.Ident, protocol.Command{Name: name, Text: text}, ttl)
	rec.call = call
	s.cmdMu.Unlock()
	go func() {
		<-call.Done()
		resp, err := call.Result()
		s.cmdMu.Lock()
		defer s.cmdMu.Unlock()
		setOutcome(&rec.Command, resp, err)
	}()
	return cmd, nil
}

// commandID returns a new command id: unique across nodes in a cluster
// (whose lists Commands merges), the time in microseconds, moving on by
// one when two come in the same one.
func (s *deviceState) commandID() int64 {
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	s.nextCmd++
	if s.n.clustered() {
		s.nextCmd = max(s.nextCmd, time.Now().UnixMicro())
	}
	return s.nextCmd
}

func isExpired(err error) bool { return errors.Is(err, channel.ErrCommandExpired) }

// commandsLocal lists the commands this node keeps for a device.
func (l *live) commandsLocal(deviceID int64) []rest.Command {
	s := l.n.devices
	s.cmdMu.Lock()
	defer s.cmdMu.Unlock()
	out := make([]rest.Command, 0, len(s.commands[deviceID]))
	for _, c := range s.commands[deviceID] {
		cmd := c.Command
		if _, sent := c.call.Sent(); sent && cmd.Status == "queued" {
			cmd.Status = "sent"
		}
		out = append(out, cmd)
	}
	return out
}
