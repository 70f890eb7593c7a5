package paho

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/eclipse/paho.golang/packets"
)

// clientStore keeps the session's unacknowledged outgoing packets (paho's
// client store). paho's memory store encodes every PUBLISH into a growing
// bytes.Buffer when it enters the session, only to read it back if the
// connection drops before the PUBACK: several allocations and a copy of
// the whole packet per publish, about a fifth of a publish's CPU. This
// store keeps a PUBLISH as a packet instead, with its own copy of the
// payload and correlation data (the caller may reuse its buffers once
// Publish returned, and a resend can come after that), and encodes it
// only when paho asks for it back: after a reconnection, to resend it.
// Other packets (PUBREL, QoS 2 only) are encoded as paho's store does.
type clientStore struct {
	mu   sync.Mutex
	data map[uint16]stored
	seq  uint64 // order of Put, for List
}

// storedPublish is a stored PUBLISH with its properties.
type storedPublish struct {
	pub   packets.Publish
	props packets.Properties
}

type stored struct {
	seq uint64
	pub *packets.Publish // a PUBLISH
	raw []byte           // anything else, encoded
}

func newClientStore() *clientStore {
	return &clientStore{data: map[uint16]stored{}}
}

func (s *clientStore) Put(packetID uint16, packetType byte, w io.WriterTo) error {
	var e stored
	if p, ok := w.(*packets.Publish); ok && packetType == packets.PUBLISH {
		// The packet and its properties in one allocation: Put runs for
		// every publish, between taking the send quota and writing.
		c := &storedPublish{pub: *p}
		if p.Properties != nil {
			c.props = *p.Properties
			c.props.CorrelationData = bytes.Clone(p.Properties.CorrelationData)
			c.pub.Properties = &c.props
		}
		c.pub.Payload = bytes.Clone(p.Payload)
		e.pub = &c.pub
	} else {
		var b bytes.Buffer
		if _, err := w.WriteTo(&b); err != nil {
			return fmt.Errorf("broker/paho: storing packet %d: %w", packetID, err)
		}
		e.raw = b.Bytes()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.seq = s.seq
	s.seq++
	s.data[packetID] = e
	return nil
}

func (s *clientStore) Get(packetID uint16) (io.ReadCloser, error) {
	s.mu.Lock()
	e, ok := s.data[packetID]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("broker/paho: packet %d is not in the session store", packetID)
	}
	raw := e.raw
	if e.pub != nil {
		var b bytes.Buffer
		if _, err := e.pub.WriteTo(&b); err != nil {
			return nil, fmt.Errorf("broker/paho: encoding stored packet %d: %w", packetID, err)
		}
		raw = b.Bytes()
	}
	return io.NopCloser(bytes.NewReader(raw)), nil
}

func (s *clientStore) Delete(id uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.data[id]; !ok {
		// paho's store reports it too: it may reveal a bug elsewhere.
		return fmt.Errorf("broker/paho: request to delete packet %d, which is not in the session store", id)
	}
	delete(s.data, id)
	return nil
}

func (s *clientStore) Quarantine(id uint16) error { return s.Delete(id) }

// List returns the stored packet ids in the order they were stored.
func (s *clientStore) List() ([]uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]uint16, 0, len(s.data))
	for id := range s.data {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b uint16) int {
		sa, sb := s.data[a].seq, s.data[b].seq
		switch {
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
	return ids, nil
}

func (s *clientStore) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.data)
	return nil
}
