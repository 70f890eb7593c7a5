// Package mqtt311 is a small MQTT 3.1.1 client for this module's tests and
// examples: paho.golang, the module's MQTT client, speaks MQTT 5 only, and
// devices in the field still mostly speak 3.1.1. It does CONNECT with
// credentials and a clean or persistent session, SUBSCRIBE, UNSUBSCRIBE,
// PUBLISH at QoS 0 and 1 in both directions (incoming QoS 1 messages are
// acknowledged once they are handed over, or by Ack), keep-alive pings and
// DISCONNECT. No QoS 2, no reconnection, no resending: a test decides when
// to reconnect. Packets are encoded and decoded by mochi-mqtt's packets
// package, as in the embedded broker.
package mqtt311

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Options configure a connection. The zero value is a clean session with
// a client identifier chosen by the broker and no keep-alive.
type Options struct {
	ClientID string
	Username string
	// Password is sent when not nil (an empty one included).
	Password []byte
	// Persistent asks for a persistent session (clean session flag unset).
	Persistent bool
	// KeepAlive is announced to the broker; the client pings at half of
	// it. 0 means no keep-alive.
	KeepAlive time.Duration
	// ManualAck leaves incoming QoS 1 messages unacknowledged until Ack.
	ManualAck bool
	// MaxPacket bounds an incoming packet; 0 means 1 MiB.
	MaxPacket int
	// ReadBufferSize is the size of the connection's read buffer; 0 means
	// 4096. A subscriber of a busy topic reads many messages per system
	// call with a larger one (64 KiB or more).
	ReadBufferSize int
	// OnMessage, when set, gets every application message instead of
	// Messages (which then only closes when the connection ends): it is
	// called from the goroutine that reads the connection, in order, and
	// no packet is read until it returns, so it must be quick. The
	// message's Payload is valid only during the call: it lies in the
	// read buffer, which is reused. A subscriber of a busy topic saves a
	// goroutine hand-off and two allocations per message.
	OnMessage func(Message)
}

// Message is an application message received from the broker.
type Message struct {
	Topic    string
	Payload  []byte
	QoS      byte
	Retain   bool
	Dup      bool
	PacketID uint16
}

// Subscription is one filter of a SUBSCRIBE.
type Subscription struct {
	Filter string
	QoS    byte
}

// RefusedError is a CONNACK with a non-zero return code.
type RefusedError struct{ Code byte }

func (e *RefusedError) Error() string {
	return fmt.Sprintf("mqtt311: connection refused, return code %d", e.Code)
}

// ErrClosed: the connection ended before the operation completed.
var ErrClosed = errors.New("mqtt311: connection closed")

// Client is one MQTT 3.1.1 connection. Its methods are safe for
// concurrent use.
type Client struct {
	nc        net.Conn
	opts      Options
	wmu       sync.Mutex
	mu        sync.Mutex
	nextID    uint16
	waits     map[uint16]chan *packets.Packet
	msgs      chan Message
	done      chan struct{}
	closeOnce sync.Once
	err       error
}

// Connect sends a CONNECT on nc and waits for the CONNACK. It returns
// whether the broker had a session for the client. A refusal is a
// *RefusedError; nc is then closed.
func Connect(ctx context.Context, nc net.Conn, o Options) (*Client, bool, error) {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4}
	keepAlive := uint16(o.KeepAlive / time.Second)
	pk.Connect = packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: o.ClientID,
		Clean: !o.Persistent, Keepalive: keepAlive}
	if o.Username != "" {
		pk.Connect.Username, pk.Connect.UsernameFlag = []byte(o.Username), true
	}
	if o.Password != nil {
		pk.Connect.Password, pk.Connect.PasswordFlag = o.Password, true
	}
	var buf bytes.Buffer
	if err := pk.ConnectEncode(&buf); err != nil {
		nc.Close()
		return nil, false, err
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	size := o.ReadBufferSize
	if size <= 0 {
		size = 4096
	}
	br := bufio.NewReaderSize(nc, size)
	if _, err := nc.Write(buf.Bytes()); err != nil {
		nc.Close()
		return nil, false, err
	}
	max := o.MaxPacket
	if max <= 0 {
		max = 1 << 20
	}
	ca, err := readPacket(br, max)
	if err != nil {
		nc.Close()
		return nil, false, fmt.Errorf("mqtt311: reading CONNACK: %w", err)
	}
	if ca.FixedHeader.Type != packets.Connack {
		nc.Close()
		return nil, false, fmt.Errorf("mqtt311: expected CONNACK, got %s", packets.PacketNames[ca.FixedHeader.Type])
	}
	if ca.ReasonCode != 0 {
		nc.Close()
		return nil, false, &RefusedError{Code: ca.ReasonCode}
	}
	nc.SetDeadline(time.Time{})
	o.MaxPacket = max
	c := &Client{nc: nc, opts: o, waits: make(map[uint16]chan *packets.Packet),
		msgs: make(chan Message, 1024), done: make(chan struct{})}
	go c.readLoop(br)
	if keepAlive > 0 {
		go c.pingLoop(o.KeepAlive / 2)
	}
	return c, ca.SessionPresent, nil
}

// Dial connects to addr over TCP and then as Connect.
func Dial(ctx context.Context, addr string, o Options) (*Client, bool, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return Connect(ctx, nc, o)
}

// Messages delivers the application messages the broker sends, in order.
// It is closed when the connection ends.
func (c *Client) Messages() <-chan Message { return c.msgs }

// Done is closed when the connection has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns why the connection ended (nil while it is up, io.EOF when
// the broker closed it).
func (c *Client) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Publish sends an application message; at QoS 1 it waits for the
// PUBACK. It returns ErrClosed when the connection ends first.
func (c *Client) Publish(ctx context.Context, topic string, payload []byte, qos byte, retain bool) error {
	if qos > 1 {
		return errors.New("mqtt311: QoS 2 is not supported")
	}
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Retain: retain},
		ProtocolVersion: 4, TopicName: topic, Payload: payload}
	var wait chan *packets.Packet
	if qos == 1 {
		pk.PacketID, wait = c.reserve()
		defer c.release(pk.PacketID)
	}
	var buf bytes.Buffer
	if err := pk.PublishEncode(&buf); err != nil {
		return err
	}
	if err := c.write(buf.Bytes()); err != nil {
		return err
	}
	if wait == nil {
		return nil
	}
	_, err := c.await(ctx, wait)
	return err
}

// Subscribe subscribes to filters and returns the SUBACK's return codes
// (the granted QoS, or 0x80 for a refused filter).
func (c *Client) Subscribe(ctx context.Context, subs ...Subscription) ([]byte, error) {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: 4}
	for _, s := range subs {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: s.Filter, Qos: s.QoS})
	}
	id, wait := c.reserve()
	defer c.release(id)
	pk.PacketID = id
	var buf bytes.Buffer
	if err := pk.SubscribeEncode(&buf); err != nil {
		return nil, err
	}
	if err := c.write(buf.Bytes()); err != nil {
		return nil, err
	}
	sa, err := c.await(ctx, wait)
	if err != nil {
		return nil, err
	}
	return sa.ReasonCodes, nil
}

// Unsubscribe removes subscriptions and waits for the UNSUBACK.
func (c *Client) Unsubscribe(ctx context.Context, filters ...string) error {
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsubscribe, Qos: 1}, ProtocolVersion: 4}
	for _, f := range filters {
		pk.Filters = append(pk.Filters, packets.Subscription{Filter: f})
	}
	id, wait := c.reserve()
	defer c.release(id)
	pk.PacketID = id
	var buf bytes.Buffer
	if err := pk.UnsubscribeEncode(&buf); err != nil {
		return err
	}
	if err := c.write(buf.Bytes()); err != nil {
		return err
	}
	_, err := c.await(ctx, wait)
	return err
}

// Ack acknowledges a QoS 1 message received with Options.ManualAck.
func (c *Client) Ack(m Message) error {
	if m.QoS == 0 {
		return nil
	}
	return c.write([]byte{packets.Puback << 4, 2, byte(m.PacketID >> 8), byte(m.PacketID)})
}

// Disconnect sends DISCONNECT and closes the connection.
func (c *Client) Disconnect() error {
	err := c.write([]byte{packets.Disconnect << 4, 0})
	c.Close()
	return err
}

// Close closes the connection without DISCONNECT, as a device losing its
// network does.
func (c *Client) Close() error {
	err := c.nc.Close()
	<-c.done
	return err
}

func (c *Client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		return fmt.Errorf("%w: %v", ErrClosed, err)
	}
	return nil
}

func (c *Client) reserve() (uint16, chan *packets.Packet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		c.nextID++
		if c.nextID == 0 {
			c.nextID = 1
		}
		if _, used := c.waits[c.nextID]; !used {
			ch := make(chan *packets.Packet, 1)
			c.waits[c.nextID] = ch
			return c.nextID, ch
		}
	}
}

func (c *Client) release(id uint16) {
	c.mu.Lock()
	delete(c.waits, id)
	c.mu.Unlock()
}

func (c *Client) await(ctx context.Context, wait chan *packets.Packet) (*packets.Packet, error) {
	select {
	case pk := <-wait:
		return pk, nil
	case <-c.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Client) readLoop(br *bufio.Reader) {
	err := c.read(br)
	c.closeOnce.Do(func() {
		c.err = err
		c.nc.Close()
		close(c.done)
		close(c.msgs)
	})
}

func (c *Client) read(br *bufio.Reader) error {
	// Automatic PUBACKs of the packets already read go out in one write
	// once the read buffer is drained: a subscriber of a busy topic pays a
	// system call per read, not per message.
	var acks []byte
	for {
		if len(acks) > 0 && br.Buffered() == 0 {
			if err := c.write(acks); err != nil {
				return err
			}
			acks = acks[:0]
		}
		if c.opts.OnMessage != nil {
			m, ok, err := readPublish(br, c.opts.MaxPacket, c.opts.OnMessage)
			if err != nil {
				return err
			}
			if ok {
				if m.QoS > 0 && !c.opts.ManualAck {
					acks = append(acks, packets.Puback<<4, 2, byte(m.PacketID>>8), byte(m.PacketID))
				}
				continue
			}
		}
		pk, err := readPacket(br, c.opts.MaxPacket)
		if err != nil {
			return err
		}
		switch pk.FixedHeader.Type {
		case packets.Publish:
			m := Message{Topic: pk.TopicName, Payload: pk.Payload, QoS: pk.FixedHeader.Qos,
				Retain: pk.FixedHeader.Retain, Dup: pk.FixedHeader.Dup, PacketID: pk.PacketID}
			c.msgs <- m
			if m.QoS > 0 && !c.opts.ManualAck {
				acks = append(acks, packets.Puback<<4, 2, byte(m.PacketID>>8), byte(m.PacketID))
			}
		case packets.Puback, packets.Suback, packets.Unsuback:
			c.mu.Lock()
			ch := c.waits[pk.PacketID]
			c.mu.Unlock()
			if ch != nil {
				select {
				case ch <- pk:
				default:
				}
			}
		case packets.Pingresp:
		default:
			return fmt.Errorf("mqtt311: unexpected %s from the broker", packets.PacketNames[pk.FixedHeader.Type])
		}
	}
}

func (c *Client) pingLoop(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if c.write([]byte{packets.Pingreq << 4, 0}) != nil {
				return
			}
		}
	}
}

// readPublish hands the PUBLISH at the head of br to handle, its payload
// still in br's buffer when it fits there; ok is false, and nothing read,
// when the next packet is of another type. It checks what mochi's
// PublishDecode does for MQTT 3.1.1: the topic's length and UTF-8, the
// packet identifier of QoS 1 and 2.
func readPublish(br *bufio.Reader, max int, handle func(Message)) (m Message, ok bool, err error) {
	head, err := br.Peek(1)
	if err != nil {
		return m, false, err
	}
	if head[0]>>4 != packets.Publish {
		return m, false, nil
	}
	var fh packets.FixedHeader
	if err := fh.Decode(head[0]); err != nil {
		return m, false, err
	}
	// The remaining length, a byte at a time: peeking further than the
	// packet could wait for bytes that are not coming.
	rem, n := 0, 1
	for shift := 0; ; shift += 7 {
		if n == 5 {
			return m, false, errors.New("mqtt311: malformed remaining length")
		}
		hdr, err := br.Peek(n + 1)
		if err != nil {
			return m, false, noEOF(err)
		}
		b := hdr[n]
		n++
		rem |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
	}
	if rem > max {
		return m, false, fmt.Errorf("mqtt311: packet of %d bytes, the limit is %d", rem, max)
	}
	br.Discard(n)
	body, err := br.Peek(rem)
	inBuffer := err == nil
	if errors.Is(err, bufio.ErrBufferFull) {
		body = make([]byte, rem)
		_, err = io.ReadFull(br, body)
	}
	if err != nil {
		return m, false, noEOF(err)
	}
	if len(body) < 2 {
		return m, false, fmt.Errorf("mqtt311: PUBLISH: %w", packets.ErrMalformedTopic)
	}
	tl := int(body[0])<<8 | int(body[1])
	if 2+tl > len(body) {
		return m, false, fmt.Errorf("mqtt311: PUBLISH: %w", packets.ErrMalformedTopic)
	}
	topic := body[2 : 2+tl]
	if !utf8.Valid(topic) || bytes.IndexByte(topic, 0) >= 0 {
		return m, false, fmt.Errorf("mqtt311: PUBLISH: %w", packets.ErrMalformedInvalidUTF8)
	}
	rest := body[2+tl:]
	m = Message{Topic: string(topic), QoS: fh.Qos, Retain: fh.Retain, Dup: fh.Dup}
	if fh.Qos > 0 {
		if len(rest) < 2 {
			return m, false, fmt.Errorf("mqtt311: PUBLISH: %w", packets.ErrMalformedPacketID)
		}
		m.PacketID, rest = uint16(rest[0])<<8|uint16(rest[1]), rest[2:]
	}
	m.Payload = rest
	handle(m)
	m.Payload = nil
	if inBuffer {
		br.Discard(rem)
	}
	return m, true, nil
}

// readPacket reads and decodes one packet of at most max bytes of body.
func readPacket(br *bufio.Reader, max int) (*packets.Packet, error) {
	b, err := br.ReadByte()
	if err != nil {
		return nil, err
	}
	var fh packets.FixedHeader
	if err := fh.Decode(b); err != nil {
		return nil, err
	}
	rem, shift := 0, 0
	for i := 0; ; i++ {
		if i == 4 {
			return nil, errors.New("mqtt311: malformed remaining length")
		}
		b, err := br.ReadByte()
		if err != nil {
			return nil, noEOF(err)
		}
		rem |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		shift += 7
	}
	if rem > max {
		return nil, fmt.Errorf("mqtt311: packet of %d bytes, the limit is %d", rem, max)
	}
	fh.Remaining = rem
	body := make([]byte, rem)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, noEOF(err)
	}
	pk := &packets.Packet{FixedHeader: fh, ProtocolVersion: 4}
	switch fh.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Puback:
		err = pk.PubackDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	case packets.Unsuback:
		err = pk.UnsubackDecode(body)
	case packets.Pingresp:
	default:
		err = fmt.Errorf("mqtt311: unexpected packet type %d", fh.Type)
	}
	return pk, err
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
