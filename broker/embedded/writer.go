package embedded

import (
	"runtime"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// writeBatch bounds the deliveries taken per lock acquisition.
const writeBatch = 64

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

var itemsPool = sync.Pool{New: func() any { s := make([]writeItem, 0, writeBatch); return &s }}

// writeLoop drains the connection's work: control packets first, then
// messages from the session, in one write per round when the client keeps
// up. It is started by signal and returns when there is nothing left, so
// that idle connections have no writer goroutine; only one runs at a time.
func (c *conn) writeLoop() {
	se := c.sess.Load()
	ip := itemsPool.Get().(*[]writeItem)
	defer itemsPool.Put(ip)
	items := *ip
	for {
		c.wstate.Store(writerRunning)
		if !c.drain(se, items) {
			// Nothing will drain c.ctrl any more: release a reader
			// waiting for room in it.
			se.mu.Lock()
			c.closing = true
			se.broadcastLocked()
			se.mu.Unlock()
			c.close()
			c.endWriting()
			return
		}
		// Yield once before going idle: publishers about to add work
		// then share this goroutine and this write.
		runtime.Gosched()
		if c.wstate.CompareAndSwap(writerRunning, writerIdle) {
			if c.park != nil {
				c.releaseDeferred()
			}
			return
		}
	}
}

// drain writes everything pending; false means the connection is done
// (closing, or a write failed).
func (c *conn) drain(se *session, items []writeItem) bool {
	// The buffer is taken once there is something to write: the writer
	// started after each CONNACK usually finds nothing, and a burst of
	// connections would otherwise churn 16 KB buffers through the pool.
	var bp *[]byte
	var buf []byte
	defer func() {
		if bp != nil {
			putBuf(bp, buf)
		}
	}()
	var dropped []uint16
	for {
		se.mu.Lock()
		// Swap buffers only when there is something to take, so c.ctrl
		// and c.ctrlSpare never share an array.
		ctrl := c.ctrl
		if len(ctrl) > 0 {
			c.ctrl, c.ctrlSpare = c.ctrlSpare[:0], nil
		}
		closing := c.closing
		items = items[:0]
		if !closing {
			items = se.takeLocked(items, int(c.limit), writeBatch)
		}
		if len(ctrl) > 0 {
			se.broadcastLocked()
		}
		se.mu.Unlock()
		if len(ctrl) == 0 && len(items) == 0 {
			if len(buf) > 0 && !c.write(buf) {
				return false
			}
			return !closing
		}
		if bp == nil {
			bp = bufPool.Get().(*[]byte)
			buf = (*bp)[:0]
		}
		if len(ctrl) > 0 {
			buf = append(buf, ctrl...)
			if cap(ctrl) <= ctrlLimit*2 {
				c.ctrlSpare = ctrl // no longer referenced by c.ctrl
			}
		}
		now := c.srv.now()
		for i := range items {
			var ok bool
			buf, ok = c.appendItem(buf, &items[i], now)
			if !ok && items[i].id != 0 {
				dropped = append(dropped, items[i].id)
			}
			if ok && !items[i].rel {
				c.srv.stats.msgsOut.Add(1)
			}
			items[i] = writeItem{}
		}
		for _, id := range dropped {
			se.ack(id)
		}
		dropped = dropped[:0]
		if len(buf) >= 32<<10 || closing {
			if !c.write(buf) {
				return false
			}
			buf = buf[:0]
		}
		if closing {
			return false
		}
	}
}

func putBuf(bp *[]byte, buf []byte) {
	if cap(buf) > 256<<10 {
		return
	}
	*bp = buf[:0]
	bufPool.Put(bp)
}

func (c *conn) write(b []byte) bool {
	nc, err := c.netConn() // a parked connection may have released its socket
	if err != nil {
		return false
	}
	nc.SetWriteDeadline(c.srv.now().Add(c.srv.lim.writeTimeout))
	if _, err := nc.Write(b); err != nil {
		c.srv.log.Debug("embedded: write", "client", c.client.ID, "err", err)
		return false
	}
	return true
}

// appendItem encodes a PUBLISH or PUBREL. It reports false when the
// message was not sent: expired, or larger than the client accepts.
func (c *conn) appendItem(dst []byte, it *writeItem, now time.Time) ([]byte, bool) {
	if it.rel {
		return append(dst, packets.Pubrel<<4|2, 2, byte(it.id>>8), byte(it.id)), true
	}
	m := it.d.msg
	var expiry uint32
	if !m.expiry.IsZero() {
		left := m.expiry.Sub(now)
		if left <= 0 {
			return dst, false
		}
		expiry = uint32((left + time.Second - 1) / time.Second)
	}
	name := c.outTopic(m.topic, it.d.space)
	topic, alias, newAlias := name, uint16(0), false
	if c.version == 5 && c.aliasOutMax > 0 {
		if a, ok := c.aliasOut[topic]; ok {
			alias, topic = a, ""
		} else if len(c.aliasOut) < int(c.aliasOutMax) {
			alias = uint16(len(c.aliasOut) + 1)
			c.aliasOut[topic] = alias
			newAlias = true
		}
	}
	start := len(dst)
	// Properties go first into the tail of dst, then move behind the header.
	var props []byte
	if c.version == 5 {
		p := &m.props
		props = dst[len(dst):]
		if p.payloadFormatSet {
			props = append(props, packets.PropPayloadFormat, p.payloadFormat)
		}
		if expiry > 0 {
			props = append(props, packets.PropMessageExpiryInterval, byte(expiry>>24), byte(expiry>>16), byte(expiry>>8), byte(expiry))
		}
		if p.contentType != "" {
			props = appendString(append(props, packets.PropContentType), p.contentType)
		}
		if p.responseTopic != "" {
			props = appendString(append(props, packets.PropResponseTopic), p.responseTopic)
		}
		if p.correlation != nil {
			props = append(props, packets.PropCorrelationData, byte(len(p.correlation)>>8), byte(len(p.correlation)))
			props = append(props, p.correlation...)
		}
		for _, id := range it.d.subIDs {
			props = appendVarint(append(props, packets.PropSubscriptionIdentifier), id)
		}
		if alias > 0 {
			props = append(props, packets.PropTopicAlias, byte(alias>>8), byte(alias))
		}
		for _, u := range p.user {
			props = appendString(appendString(append(props, packets.PropUser), u.Key), u.Val)
		}
	}
	rem := 2 + len(topic) + len(m.payload)
	if it.d.qos > 0 {
		rem += 2
	}
	if c.version == 5 {
		rem += varintLen(len(props)) + len(props)
	}
	total := 1 + varintLen(rem) + rem
	if (c.maxOut > 0 && total > c.maxOut) || rem > 268435455 {
		if newAlias {
			delete(c.aliasOut, name)
		}
		return dst[:start], false
	}
	// Move the properties out of the way and write the packet in place.
	var propBuf [256]byte
	saved := append(propBuf[:0], props...)
	dst = dst[:start]
	h := byte(packets.Publish<<4) | it.d.qos<<1
	if it.dup && it.d.qos > 0 {
		h |= 0x08
	}
	if it.d.retain {
		h |= 0x01
	}
	dst = append(dst, h)
	dst = appendVarint(dst, rem)
	dst = appendString(dst, topic)
	if it.d.qos > 0 {
		dst = append(dst, byte(it.id>>8), byte(it.id))
	}
	if c.version == 5 {
		dst = appendVarint(dst, len(saved))
		dst = append(dst, saved...)
	}
	return append(dst, m.payload...), true
}
