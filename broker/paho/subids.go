package paho

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/eclipse/paho.golang/autopaho"
	mqtt "github.com/eclipse/paho.golang/paho"
	"github.com/gorilla/websocket"

	"github.com/gnssgate/gnssgate/internal/wsstream"
)

// A server may deliver a message that matches several subscriptions of one
// client as a single PUBLISH carrying every matching subscription
// identifier (MQTT 5 §3.3.4). paho's packet codec keeps only the last
// identifier, so routing by it would lose the other subscriptions. The
// adapter therefore dials the connection itself and reads it through
// subIDConn, which rewrites such a PUBLISH before paho sees it: the
// identifiers move into one user property under a key random to this
// Broker (so no publisher can forge it), which onPublish removes again.
// A PUBLISH with at most one identifier, and every other packet, passes
// unchanged.

// dial opens the connection for autopaho (its AttemptConnection), as
// autopaho itself would for the URL's scheme, and wraps it in subIDConn.
// autopaho's proxy support (the all_proxy variable) is not reproduced.
func (b *Broker) dial(ctx context.Context, cc autopaho.ClientConfig, u *url.URL) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cc.ConnectTimeout)
	defer cancel()
	var conn net.Conn
	var err error
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss":
		d := *websocket.DefaultDialer
		d.Subprotocols = []string{"mqtt"}
		if strings.EqualFold(u.Scheme, "wss") {
			d.TLSClientConfig = cc.TlsCfg
		}
		var ws *websocket.Conn
		ws, _, err = d.DialContext(ctx, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("websocket: %w", err)
		}
		conn = wsstream.New(ws, false)
	case "tls", "ssl", "mqtts":
		d := tls.Dialer{Config: cc.TlsCfg}
		conn, err = d.DialContext(ctx, "tcp", u.Host)
	default:
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", u.Host)
	}
	if err != nil {
		return nil, err
	}
	return newSubIDConn(conn, b.idKey), nil
}

// subIDConn is a net.Conn whose reads present every PUBLISH with several
// subscription identifiers rewritten (see above). It is a sync.Locker so
// that paho serialises its writes on it, and it writes each packet in one
// call.
type subIDConn struct {
	net.Conn
	sync.Mutex // paho's write lock
	key        string
	r          *bufio.Reader
	head       [5]byte // fixed header of the current packet
	out, next  []byte  // bytes not yet read: out first
	pass       int     // bytes of the current packet's body to pass through
	w          packetWriter
}

func newSubIDConn(c net.Conn, key string) *subIDConn {
	return &subIDConn{Conn: c, key: key, r: bufio.NewReader(c), w: packetWriter{w: c}}
}

// Write writes each packet in one call (packetwriter.go); paho holds the
// lock around the pieces of a packet.
func (c *subIDConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// maxPacket is MQTT's largest remaining length.
const maxPacket = 268435455

// Read is called by paho's one reading goroutine only.
func (c *subIDConn) Read(p []byte) (int, error) {
	if len(c.out) == 0 && len(c.next) > 0 {
		c.out, c.next = c.next, nil
	}
	if len(c.out) > 0 {
		n := copy(p, c.out)
		c.out = c.out[n:]
		return n, nil
	}
	if c.pass > 0 {
		n, err := c.r.Read(p[:min(len(p), c.pass)])
		c.pass -= n
		return n, err
	}
	h, err := c.r.ReadByte()
	if err != nil {
		return 0, err
	}
	head := append(c.head[:0], h)
	length, ok := 0, false
	for i := 0; i < 4; i++ {
		d, err := c.r.ReadByte()
		if err != nil {
			// Hand over what was read; paho sees the error next.
			c.out = head
			return c.Read(p)
		}
		head = append(head, d)
		length |= int(d&0x7F) << (7 * i)
		if d < 0x80 {
			ok = true
			break
		}
	}
	if !ok {
		return 0, errors.New("broker/paho: malformed remaining length from the server")
	}
	if head[0]>>4 != 3 { // not a PUBLISH: stream it
		c.out = head
		c.pass = length
		return c.Read(p)
	}
	body, err := readBody(c.r, length)
	if err != nil {
		return 0, err
	}
	if nb, changed := rewritePublish(head[0], body, c.key); changed {
		head, body = appendVarint(head[:1], len(nb)), nb
	}
	c.out, c.next = head, body
	return c.Read(p)
}

// readBody reads a packet body of length bytes. Beyond 64 KiB memory
// follows the bytes that arrive, not the length the server claims.
func readBody(r io.Reader, length int) ([]byte, error) {
	if length <= 64<<10 {
		body := make([]byte, length)
		_, err := io.ReadFull(r, body)
		return body, err
	}
	var buf bytes.Buffer
	buf.Grow(64 << 10)
	_, err := io.CopyN(&buf, r, int64(length))
	return buf.Bytes(), err
}

// rewritePublish returns the body of a PUBLISH (fixed header flags in h)
// with its subscription identifiers moved into one user property named
// key, whose value lists them in decimal, comma separated. It reports
// false, and the body is to be sent on unchanged, when there are fewer
// than two identifiers or the packet is malformed (paho rejects it then).
func rewritePublish(h byte, body []byte, key string) ([]byte, bool) {
	if len(body) < 2 {
		return nil, false
	}
	i := 2 + int(binary.BigEndian.Uint16(body))
	if (h>>1)&3 != 0 {
		i += 2 // packet identifier
	}
	if i > len(body) {
		return nil, false
	}
	plen, n := readVarint(body[i:])
	if n == 0 || i+n+plen > len(body) {
		return nil, false
	}
	props := body[i+n : i+n+plen]
	// First pass without allocating: most messages have one identifier.
	count := 0
	if !walkProps(props, func(_, id int) { count += min(id, 1) }) || count < 2 {
		return nil, false
	}
	// The other properties, then the identifiers as "5,300,70000".
	kept := make([]byte, 0, len(props)+len(key)+10*count+8)
	var val []byte
	start := 0
	walkProps(props, func(end, id int) {
		if id == 0 {
			kept = append(kept, props[start:end]...)
		} else {
			if len(val) > 0 {
				val = append(val, ',')
			}
			val = strconv.AppendInt(val, int64(id), 10)
		}
		start = end
	})
	if len(val) > 0xFFFF {
		return nil, false
	}
	kept = append(kept, 38)
	kept = binary.BigEndian.AppendUint16(kept, uint16(len(key)))
	kept = append(kept, key...)
	kept = binary.BigEndian.AppendUint16(kept, uint16(len(val)))
	kept = append(kept, val...)
	out := make([]byte, 0, len(body)+len(key)+len(val)+8)
	out = append(out, body[:i]...)
	out = appendVarint(out, len(kept))
	out = append(out, kept...)
	out = append(out, body[i+n+plen:]...)
	if len(out) > maxPacket {
		return nil, false
	}
	return out, true
}

// walkProps calls fn for every property in props with the offset just
// past it and, for a subscription identifier, its value (0 otherwise;
// identifiers start at 1). It reports false for a malformed property list.
func walkProps(props []byte, fn func(end, subID int)) bool {
	for j := 0; j < len(props); {
		id := props[j]
		j++
		var size int
		switch id {
		case 1, 23, 25, 36, 37, 40, 41, 42:
			size = 1
		case 19, 33, 34, 35:
			size = 2
		case 2, 17, 24, 39:
			size = 4
		case 11:
			v, m := readVarint(props[j:])
			if m == 0 || v == 0 {
				return false
			}
			j += m
			fn(j, v)
			continue
		case 3, 8, 9, 18, 21, 22, 26, 28, 31:
			s, ok := stringLen(props[j:])
			if !ok {
				return false
			}
			size = s
		case 38:
			s1, ok := stringLen(props[j:])
			if !ok {
				return false
			}
			s2, ok := stringLen(props[j+s1:])
			if !ok {
				return false
			}
			size = s1 + s2
		default:
			return false
		}
		if j+size > len(props) {
			return false
		}
		j += size
		fn(j, 0)
	}
	return true
}

// stringLen returns the size of the length-prefixed string or binary
// data at the start of b, prefix included.
func stringLen(b []byte) (int, bool) {
	if len(b) < 2 {
		return 0, false
	}
	n := 2 + int(binary.BigEndian.Uint16(b))
	return n, n <= len(b)
}

// readVarint decodes an MQTT variable byte integer; n is 0 when b does not
// start with a valid one.
func readVarint(b []byte) (v, n int) {
	for i := 0; i < 4 && i < len(b); i++ {
		v |= int(b[i]&0x7F) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

func appendVarint(b []byte, v int) []byte {
	for {
		d := byte(v & 0x7F)
		v >>= 7
		if v > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if v == 0 {
			return b
		}
	}
}

// subscriptionIDs returns the subscription identifiers of p: those
// subIDConn moved into the user property key (which it removes from p), or
// paho's single one, or none.
func subscriptionIDs(p *mqtt.Publish, key string) []int {
	pr := p.Properties
	if pr == nil {
		return nil
	}
	if n := len(pr.User); n > 0 && pr.User[n-1].Key == key {
		val := pr.User[n-1].Value
		pr.User = pr.User[:n-1]
		if len(pr.User) == 0 {
			pr.User = nil
		}
		ids := make([]int, 0, strings.Count(val, ",")+1)
		for s := range strings.SplitSeq(val, ",") {
			if id, err := strconv.Atoi(s); err == nil {
				ids = append(ids, id)
			}
		}
		return ids
	}
	if pr.SubscriptionIdentifier != nil {
		return []int{*pr.SubscriptionIdentifier}
	}
	return nil
}
