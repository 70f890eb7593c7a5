package embedded

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gnssgate/gnssgate/broker"
	"github.com/mochi-mqtt/server/v2/packets"
)

// This file is the inbound side of a publish: a client's PUBLISH (topic
// aliases, authorization, the reserved "flespi/" prefix and REST over
// MQTT), the QoS 1 and 2 acknowledgements the broker owes the publisher
// (PUBACK, PUBREC, then PUBCOMP for its PUBREL), in-process Publish, and
// Server.publish, where every message enters routing (deliver.go).

// reservedPrefix is flespi's platform namespace: client publishes there are
// acknowledged and discarded, except REST over MQTT.
const reservedPrefix = "flespi/"

const restPrefix = "flespi/rest/"

// Publish routes m to every matching subscription, network or in-process,
// and stores it when retained (an empty retained payload deletes the
// retained message). It returns after m is queued for every subscriber
// (with a data directory: for the commit that queues it for them; Sync
// waits for that); in-process publishes are not subject to the Authorizer
// nor to the reserved "flespi/" prefix.
func (s *Server) Publish(ctx context.Context, m broker.Message) error {
	if s.ctx.Err() != nil {
		return broker.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validTopicName(m.Topic) {
		return fmt.Errorf("%w: %q", broker.ErrBadTopic, m.Topic)
	}
	if m.QoS > 2 {
		return fmt.Errorf("embedded: QoS %d out of range", m.QoS)
	}
	msg := fromBroker(m, s.now())
	s.stats.msgsIn.Add(1)
	s.publish(msg, routed{})
	return nil
}

// publish adds the configured properties, keeps msg when it is retained,
// routes it and hands it to the persistence layer, which queues it for its
// sessions and completes r (the publisher's acknowledgement) once it is
// committed: at once in memory, after the commit with a data directory.
func (s *Server) publish(msg *message, r routed) {
	s.addTimestamp(msg)
	msg.setSize()
	// A RetainedSource's topics are delivered as any retained publish but
	// not kept: the source serves them to later subscribers.
	if msg.retain && !s.owned(msg.topic) {
		if s.retained.set(msg) {
			r.retain = true
		} else {
			s.log.Warn("embedded: retained message limit reached, not retaining", "topic", msg.topic)
		}
	}
	mt := matchPool.Get().(*matches)
	s.route(msg, mt)
	r.msg, r.targets = msg, mt.targets
	s.state.publish(r)
	mt.reset()
	matchPool.Put(mt)
}

// addTimestamp adds the "timestamp" user property of Config.Timestamps
// to msg when it has none.
func (s *Server) addTimestamp(msg *message) {
	if s.cfg.Timestamps && !hasUserProperty(msg.props.user, "timestamp") {
		ts := float64(msg.created.UnixNano()) / 1e9
		user := make([]packets.UserProperty, len(msg.props.user), len(msg.props.user)+1)
		copy(user, msg.props.user)
		msg.props.user = append(user, packets.UserProperty{Key: "timestamp",
			Val: strconv.FormatFloat(ts, 'f', -1, 64)})
	}
}

// handlePublish handles a client's PUBLISH: it resolves the topic, checks
// it may publish there, routes the message and acknowledges it.
func (c *conn) handlePublish(se *session, pk *packets.Packet, body []byte) error {
	s := c.srv
	if err := decode(packets.Publish, func() error { return pk.PublishDecode(body) }); err != nil {
		return err
	}
	qos, id := pk.FixedHeader.Qos, pk.PacketID
	if qos > 0 && id == 0 {
		return &ProtocolError{Code: 0x82, Packet: "PUBLISH", Err: errors.New("QoS > 0 without packet ID")}
	}
	topic, err := c.publishTopic(pk)
	if err != nil {
		return err
	}
	s.stats.msgsIn.Add(1)
	if qos == 2 {
		se.mu.Lock()
		_, dup := se.inQoS2[id]
		full := !dup && len(se.inQoS2) >= s.lim.maxInflight
		se.mu.Unlock()
		if dup {
			// Already received and routed: acknowledge again, route nothing.
			c.ack(se, packets.Pubrec, id, 0)
			return nil
		}
		if full {
			return &ProtocolError{Code: 0x93, Packet: "PUBLISH", Err: errors.New("receive maximum exceeded")}
		}
	}
	r := routed{from: c, fromSe: se, ackID: id}
	switch qos {
	case 1:
		r.ackType = packets.Puback
	case 2:
		r.ackType = packets.Pubrec
	}
	if ic := c.interceptor(); ic != nil {
		if done, err := c.intercept(ic, se, topic, pk, r); done || err != nil {
			return err
		}
	}
	if strings.HasPrefix(topic, sysPrefix) {
		r.ackCode = 0x87 // the broker's statistics are its own
	} else if err := s.auth.Authorize(s.ctx, c.client, topic, true); err != nil {
		r.ackCode = 0x87
		if !errors.Is(err, broker.ErrNotAuthorized) {
			r.ackCode = 0x80
		}
	} else if strings.HasPrefix(topic, reservedPrefix) {
		if s.cfg.REST != nil && strings.HasPrefix(topic, restPrefix) {
			c.serveREST(topic, pk)
		}
	} else {
		s.publish(c.inboundMessage(se, c.inTopic(topic), pk), r)
		return nil
	}
	// Nothing to route; the acknowledgement still keeps its place in line.
	s.state.publish(r)
	return nil
}

// publishTopic returns the topic of a PUBLISH, resolving and recording MQTT 5
// topic aliases.
func (c *conn) publishTopic(pk *packets.Packet) (string, error) {
	topic := pk.TopicName
	if c.version == 5 {
		p := &pk.Properties
		if len(p.SubscriptionIdentifier) > 0 {
			return "", &ProtocolError{Code: 0x82, Packet: "PUBLISH", Err: errors.New("subscription identifier in PUBLISH")}
		}
		if p.TopicAliasFlag {
			a := p.TopicAlias
			if a == 0 || a > c.srv.lim.topicAliasMax {
				return "", &ProtocolError{Code: 0x94, Packet: "PUBLISH", Err: fmt.Errorf("topic alias %d out of range", a)}
			}
			if topic == "" {
				t, ok := c.aliasIn[a]
				if !ok {
					return "", &ProtocolError{Code: 0x82, Packet: "PUBLISH", Err: fmt.Errorf("unknown topic alias %d", a)}
				}
				topic = t
			} else {
				if c.aliasIn == nil {
					c.aliasIn = make(map[uint16]string)
				}
				c.aliasIn[a] = strings.Clone(topic)
			}
		}
	}
	if !validTopicName(topic) {
		return "", &ProtocolError{Code: 0x90, Packet: "PUBLISH", Err: fmt.Errorf("%w: %q", broker.ErrBadTopic, topic)}
	}
	return topic, nil
}

// inboundMessage makes the message of a client's PUBLISH. It points into
// the packet's body, which the read loop allocated for this packet alone.
func (c *conn) inboundMessage(se *session, topic string, pk *packets.Packet) *message {
	m := &message{topic: topic, payload: pk.Payload, qos: pk.FixedHeader.Qos, retain: pk.FixedHeader.Retain,
		created: c.srv.now(), origin: se}
	if c.version == 5 {
		p := &pk.Properties
		m.props = msgProps{payloadFormat: p.PayloadFormat, payloadFormatSet: p.PayloadFormatFlag,
			contentType: p.ContentType, responseTopic: p.ResponseTopic, correlation: p.CorrelationData, user: p.User}
		if p.MessageExpiryInterval > 0 {
			m.expiry = m.created.Add(time.Duration(p.MessageExpiryInterval) * time.Second)
		}
	}
	c.stamp(m)
	return m
}

// handlePubrel completes an inbound QoS 2 publish: the packet ID is free
// again and the client gets its PUBCOMP (0x92 for an ID it never used).
func (c *conn) handlePubrel(se *session, id uint16) {
	se.mu.Lock()
	_, ok := se.inQoS2[id]
	delete(se.inQoS2, id)
	se.mu.Unlock()
	if !ok {
		c.ack(se, packets.Pubcomp, id, 0x92)
		return
	}
	c.waitCtrl(se)
	c.srv.state.releasedIn(se, id, func() { c.ackNoWait(se, packets.Pubcomp, id, 0) })
}

// serveREST runs a REST-over-MQTT request and publishes the answer to its
// Response Topic, if the client may publish there.
func (c *conn) serveREST(topic string, pk *packets.Packet) {
	s := c.srv
	method, uri, _ := strings.Cut(strings.TrimPrefix(topic, restPrefix), "/")
	req := RESTRequest{Client: c.client, Method: strings.ToLower(method), URI: uri, Body: pk.Payload,
		Properties: userProperties(pk.Properties.User)}
	rt := strings.Clone(pk.Properties.ResponseTopic)
	corr := slices.Clone(pk.Properties.CorrelationData)
	if c.restSem == nil {
		c.restSem = make(chan struct{}, 4)
	}
	ctx := c.hookCtx()
	select {
	case c.restSem <- struct{}{}:
	case <-ctx.Done():
		return
	}
	go func() {
		defer func() { <-c.restSem }()
		resp := s.cfg.REST.ServeREST(ctx, req)
		c.answerREST(req, topic, rt, corr, resp)
	}()
}
