package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gnssgate/gnssgate/channel"
	"github.com/gnssgate/gnssgate/examples/gateway/registry"
	"github.com/gnssgate/gnssgate/examples/gateway/rest"
	"github.com/gnssgate/gnssgate/protocol"
)

// sharedCommands hands commands for devices connected to no node over to
// whichever node the device connects to next. In a cluster, a command
// POSTed for such a device is kept in the registry's KV (one key per
// device, "cmd/<device id>", a JSON list of at most maxCommands), not in
// the memory of the node that took the REST call. Every node watches
// those keys and, at every device login, claims the queued commands of
// the devices connected to it (a compare-and-set of the list naming its
// instance), sends them through its channel and writes their progress
// (sent, replied, expired, failed) back to the key, so that any node
// lists them.
//
// A claim by a node that died before the command went out is taken over
// by the next node the device logs in to (its instance is no longer
// alive); a command sent just before its node died may go twice (at
// least once, as for every command the channel sends).
type sharedCommands struct {
	n    *Node
	p    *peers
	stop func()
	// claiming holds the devices being claimed now, so that a burst of
	// watch events does not start one claim per event.
	mu       sync.Mutex
	claiming map[int64]bool
	// waiting holds the devices whose lists have queued commands, from
	// the watch; known is false when the lists could not be read at start
	// (then every login reads its device's list).
	waiting map[int64]bool
	known   bool
	// held are the claimed commands this node's channels have not sent
	// yet, by ident: a device that leaves this node before they go out
	// gets them back in the shared list, for the node it logs in to next.
	held map[string][]*heldCommand
}

type heldCommand struct {
	deviceID, cmdID int64
	call            *channel.Call
	released        bool // under sharedCommands.mu
}

// sharedCommand is one command in a device's shared list.
type sharedCommand struct {
	rest.Command
	// Expires is when the command's TTL ends (Unix seconds).
	Expires float64 `json:"expires"`
	// Claim is the node instance that took the command to send it.
	Claim string `json:"claim,omitempty"`
	// Ident is the device's ident when the command was queued.
	Ident string `json:"ident"`
}

const cmdPrefix = "cmd/"

func cmdKey(deviceID int64) string { return cmdPrefix + strconv.FormatInt(deviceID, 10) }

// newSharedCommands starts following the shared command lists of the
// node's deployment (a single node keeps its commands in memory).
func newSharedCommands(n *Node, p *peers) *sharedCommands {
	c := &sharedCommands{n: n, p: p, claiming: map[int64]bool{}, waiting: map[int64]bool{}, held: map[string][]*heldCommand{}}
	c.stop = n.kv.Watch(cmdPrefix, func(e registry.Entry) {
		id, list, ok := c.parse(e, false)
		if !ok {
			return
		}
		for _, sc := range list {
			if c.claimable(sc) && n.devices.here(sc.Ident) {
				go c.claim(id, sc.Ident)
				return
			}
		}
	})
	// The lists there already (the watch reports later changes only).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if es, err := n.kv.List(ctx, cmdPrefix); err != nil {
		n.logger.Warn("queued commands not read at start: every login looks them up", "err", err)
	} else {
		c.mu.Lock()
		c.known = true
		c.mu.Unlock()
		for _, e := range es {
			c.parse(e, true)
		}
	}
	n.Registry.Devices.Watch(func(ch registry.Change[registry.Device]) {
		if ch.New == nil && ch.Old != nil {
			go n.kv.Delete(context.Background(), cmdKey(ch.Old.ID), registry.AnyRevision)
		}
	})
	return c
}

// parse decodes a device's list and notes whether it has commands waiting,
// so that a login looks the list up only then. The lists read at start
// (listed) only add: the watch, started first, may have seen newer ones.
func (c *sharedCommands) parse(e registry.Entry, listed bool) (int64, []sharedCommand, bool) {
	id, err := strconv.ParseInt(strings.TrimPrefix(e.Key, cmdPrefix), 10, 64)
	if err != nil {
		return 0, nil, false
	}
	var list []sharedCommand
	if e.Value != nil && json.Unmarshal(e.Value, &list) != nil {
		return 0, nil, false
	}
	waiting := false
	for _, sc := range list {
		waiting = waiting || sc.Status == "queued"
	}
	c.mu.Lock()
	if waiting {
		c.waiting[id] = true
	} else if !listed {
		delete(c.waiting, id)
	}
	c.mu.Unlock()
	return id, list, true
}

// mayWait reports whether a device may have commands waiting in its list.
func (c *sharedCommands) mayWait(deviceID int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.known || c.waiting[deviceID]
}

func (c *sharedCommands) close() {
	if c != nil && c.stop != nil {
		c.stop()
	}
}

// claimable reports whether a command waits for a node to send it: queued,
// in time, and taken by no live node.
func (c *sharedCommands) claimable(sc sharedCommand) bool {
	return sc.Status == "queued" && unixNow() < sc.Expires &&
		(sc.Claim == "" || (sc.Claim != c.p.self && c.p.knowsAlive() && !c.p.isAlive(sc.Claim)))
}

// load reads a device's shared list and its revision (0: none).
func (c *sharedCommands) load(ctx context.Context, deviceID int64) ([]sharedCommand, uint64, error) {
	raw, rev, err := c.n.kv.Get(ctx, cmdKey(deviceID))
	if errors.Is(err, registry.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var list []sharedCommand
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, 0, fmt.Errorf("commands of device %d: %w", deviceID, err)
	}
	return list, rev, nil
}

// change applies fn to a device's list by compare-and-set, retried while
// other nodes change it meanwhile. fn reports whether it changed anything.
func (c *sharedCommands) change(ctx context.Context, deviceID int64, fn func([]sharedCommand) ([]sharedCommand, bool)) ([]sharedCommand, error) {
	for range 50 {
		list, rev, err := c.load(ctx, deviceID)
		if err != nil {
			return nil, err
		}
		list, changed := fn(list)
		if !changed {
			return list, nil
		}
		if len(list) > maxCommands {
			list = list[len(list)-maxCommands:]
		}
		raw, _ := json.Marshal(list)
		_, err = c.n.kv.Put(ctx, cmdKey(deviceID), raw, rev)
		if err == nil {
			return list, nil
		}
		if !errors.Is(err, registry.ErrConflict) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: commands of device %d keep changing", registry.ErrConflict, deviceID)
}

// queue keeps a command for device d, connected to no node now, in the
// shared list; the node it logs in to next sends it (and the node it is
// connected to already, if it came meanwhile: every node watches the
// lists).
func (c *sharedCommands) queue(ctx context.Context, d registry.Device, cmd rest.Command) (rest.Command, error) {
	cmd.ID, cmd.Status, cmd.Timestamp = c.n.devices.commandID(), "queued", unixNow()
	ttl := time.Duration(cmd.TTL) * time.Second
	if ttl <= 0 {
		ttl = channel.DefaultCommandTTL
	}
	sc := sharedCommand{Command: cmd, Expires: cmd.Timestamp + ttl.Seconds(), Ident: d.Configuration.Ident}
	if _, err := c.change(ctx, d.ID, func(list []sharedCommand) ([]sharedCommand, bool) {
		return append(list, sc), true
	}); err != nil {
		return cmd, err
	}
	if c.n.devices.here(sc.Ident) {
		// It logged in here between the caller's look and the write.
		go c.claim(d.ID, sc.Ident)
	}
	return cmd, nil
}

// login claims device ident's queued commands when it logs in here.
func (c *sharedCommands) login(ident string) {
	if c == nil {
		return
	}
	if id, ok := c.n.Registry.DeviceIDByIdent(ident); ok && c.mayWait(id) {
		c.claim(id, ident)
	}
}

// claim takes the claimable commands of a device connected to this node
// and sends them through the channel it is connected to.
func (c *sharedCommands) claim(deviceID int64, ident string) {
	c.mu.Lock()
	if c.claiming[deviceID] {
		c.mu.Unlock()
		return
	}
	c.claiming[deviceID] = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.claiming, deviceID)
		c.mu.Unlock()
	}()
	chID, ok := c.n.devices.connectedOn(ident)
	if !ok {
		return
	}
	srv := c.n.channels.servers()[chID]
	if srv == nil {
		return
	}
	var taken []sharedCommand
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := c.change(ctx, deviceID, func(list []sharedCommand) ([]sharedCommand, bool) {
			taken = taken[:0]
			for i := range list {
				if c.claimable(list[i]) {
					list[i].Claim = c.p.self
					taken = append(taken, list[i])
				}
			}
			return list, len(taken) > 0
		})
		cancel()
		if err == nil {
			break
		}
		// The shared store may be electing a leader: try again while the
		// device is here.
		if attempt == 5 || !c.pause(time.Second) || !c.n.devices.here(ident) {
			c.n.logger.Warn("queued commands not claimed", "device", deviceID, "err", err)
			return
		}
	}
	for _, sc := range taken {
		text, _ := sc.Properties["text"].(string)
		name := sc.Name
		if name == "custom" {
			name = "" // the protocol's default text command
		}
		ttl := time.Until(time.UnixMicro(int64(sc.Expires * 1e6)))
		if ttl <= 0 {
			continue
		}
		h := &heldCommand{deviceID: deviceID, cmdID: sc.ID, call: srv.Send(ident, protocol.Command{Name: name, Text: text}, ttl)}
		c.mu.Lock()
		c.held[ident] = append(c.held[ident], h)
		c.mu.Unlock()
		go c.follow(ident, h)
	}
	if !c.n.devices.here(ident) {
		c.logout(ident) // it left while they were claimed
	}
}

// pause waits d, or reports false if the node's peer link stops first.
func (c *sharedCommands) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.p.stop:
		return false
	}
}

// follow writes a claimed command's progress to the shared list: sent
// when it went out, then its outcome; or, when the device left this node
// before it went out, the command back in the queue (logout).
func (c *sharedCommands) follow(ident string, h *heldCommand) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for sent := false; !sent; {
		select {
		case <-h.call.Done():
			sent = true
		case <-t.C:
			_, sent = h.call.Sent()
		}
	}
	c.mu.Lock()
	released := h.released
	if !released {
		list := c.held[ident]
		for i, x := range list {
			if x == h {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(c.held, ident)
		} else {
			c.held[ident] = list
		}
	}
	c.mu.Unlock()
	if released {
		return
	}
	if _, sent := h.call.Sent(); sent {
		c.update(h.deviceID, h.cmdID, func(sc *sharedCommand) { sc.Status = "sent" })
	}
	<-h.call.Done()
	resp, err := h.call.Result()
	c.update(h.deviceID, h.cmdID, func(sc *sharedCommand) { setOutcome(&sc.Command, resp, err) })
}

// logout gives back the claimed commands not sent yet of a device that
// is no longer connected to this node: they are queued again, unclaimed,
// for whichever node it logs in to next.
func (c *sharedCommands) logout(ident string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	var back []*heldCommand
	for _, h := range c.held[ident] {
		if _, sent := h.call.Sent(); !sent {
			h.released = true
			back = append(back, h)
		}
	}
	delete(c.held, ident)
	c.mu.Unlock()
	if len(back) == 0 {
		return
	}
	go func() {
		for _, h := range back {
			h.call.Cancel()
			c.update(h.deviceID, h.cmdID, func(sc *sharedCommand) {
				if sc.Claim == c.p.self && sc.Status == "queued" {
					sc.Claim = ""
				}
			})
		}
	}()
}

// update changes one command of a device's shared list.
func (c *sharedCommands) update(deviceID, cmdID int64, fn func(*sharedCommand)) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.change(ctx, deviceID, func(list []sharedCommand) ([]sharedCommand, bool) {
		for i := range list {
			if list[i].ID == cmdID {
				fn(&list[i])
				return list, true
			}
		}
		return list, false
	})
	if err != nil {
		c.n.logger.Warn("command status not shared", "device", deviceID, "command", cmdID, "err", err)
	}
}

// list returns a device's shared commands; one whose TTL ended while it
// waited for its device shows as expired.
func (c *sharedCommands) list(deviceID int64) []rest.Command {
	if c == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), askTimeout)
	defer cancel()
	list, _, err := c.load(ctx, deviceID)
	if err != nil {
		c.n.logger.Warn("shared commands not read", "device", deviceID, "err", err)
		return nil
	}
	out := make([]rest.Command, 0, len(list))
	now := unixNow()
	for _, sc := range list {
		cmd := sc.Command
		if (cmd.Status == "queued" || cmd.Status == "sent") && now >= sc.Expires+1 {
			// Its node would have written the outcome by now, unless it
			// died; no node will send it any more.
			cmd.Status, cmd.Error = "expired", channel.ErrCommandExpired.Error()
		}
		out = append(out, cmd)
	}
	return out
}

// setOutcome records a command's result.
func setOutcome(cmd *rest.Command, resp protocol.CommandResponse, err error) {
	switch {
	case err == nil:
		cmd.Status, cmd.Response = "replied", resp.Text
		if resp.Text == "" && len(resp.Data) > 0 {
			cmd.Response = fmt.Sprintf("%x", resp.Data)
		}
	case isExpired(err):
		cmd.Status, cmd.Error = "expired", err.Error()
	default:
		cmd.Status, cmd.Error = "failed", err.Error()
	}
}
