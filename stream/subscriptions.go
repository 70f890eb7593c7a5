package stream

import (
	"slices"
	"sync"

	"github.com/gnssgate/gnssgate/protocol"
)

// Subscriptions is the set of channels and devices a stream forwards, as a
// flespi stream subscribes to them. A message is forwarded when its
// "channel.id" is a subscribed channel, or its "device.id" a subscribed
// device, or — for devices given by ident — its "ident" a subscribed ident.
// A message that matches several subscriptions (its channel and its device)
// is one record of the log, so it is forwarded once.
//
// The zero value subscribes to nothing. Subscriptions may change while the
// stream runs; a change applies to the records read after it. Safe for
// concurrent use.
type Subscriptions struct {
	mu       sync.RWMutex
	all      bool
	channels map[int64]struct{}
	devices  map[int64]struct{}
	idents   map[string]struct{}
}

// SetAll makes the stream forward every message of the log (true), or only
// the subscribed ones (false).
func (s *Subscriptions) SetAll(all bool) {
	s.mu.Lock()
	s.all = all
	s.mu.Unlock()
}

// AddChannel subscribes to the messages of a channel ("channel.id").
func (s *Subscriptions) AddChannel(id int64) { s.set(&s.channels, id, true) }

// RemoveChannel unsubscribes a channel.
func (s *Subscriptions) RemoveChannel(id int64) { s.set(&s.channels, id, false) }

// AddDevice subscribes to the messages of a registered device ("device.id").
func (s *Subscriptions) AddDevice(id int64) { s.set(&s.devices, id, true) }

// RemoveDevice unsubscribes a device.
func (s *Subscriptions) RemoveDevice(id int64) { s.set(&s.devices, id, false) }

// AddIdent subscribes to the messages of a device by its "ident".
func (s *Subscriptions) AddIdent(ident string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.idents == nil {
		s.idents = make(map[string]struct{})
	}
	s.idents[ident] = struct{}{}
}

// RemoveIdent unsubscribes an ident.
func (s *Subscriptions) RemoveIdent(ident string) {
	s.mu.Lock()
	delete(s.idents, ident)
	s.mu.Unlock()
}

func (s *Subscriptions) set(m *map[int64]struct{}, id int64, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !on {
		delete(*m, id)
		return
	}
	if *m == nil {
		*m = make(map[int64]struct{})
	}
	(*m)[id] = struct{}{}
}

// Channels lists the subscribed channel ids, sorted.
func (s *Subscriptions) Channels() []int64 { return s.ids(s.channels) }

// Devices lists the subscribed device ids, sorted.
func (s *Subscriptions) Devices() []int64 { return s.ids(s.devices) }

// Idents lists the subscribed idents, sorted.
func (s *Subscriptions) Idents() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.idents))
	for k := range s.idents {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *Subscriptions) ids(m map[int64]struct{}) []int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Match reports whether m is forwarded.
func (s *Subscriptions) Match(m *protocol.Message) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.all {
		return true
	}
	if len(s.channels) > 0 {
		if id, ok := m.Int(protocol.ParamChannelID); ok {
			if _, ok := s.channels[id]; ok {
				return true
			}
		}
	}
	if len(s.devices) > 0 {
		if id, ok := m.Int(protocol.ParamDeviceID); ok {
			if _, ok := s.devices[id]; ok {
				return true
			}
		}
	}
	if len(s.idents) > 0 {
		if _, ok := s.idents[m.Ident()]; ok {
			return true
		}
	}
	return false
}
