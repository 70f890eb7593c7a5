// A small MQTT 5 client over WebSocket, written for the console: QoS 0 and
// 1 both ways, subscription identifiers (so that each message goes to the
// subscriptions that asked for it, $filter and $share included, as the
// broker decided), user properties, retained flags, keep-alive, and
// reconnection that subscribes again. Nothing else: no QoS 2, no topic
// aliases, no persistent session.

const enc = new TextEncoder();
const dec = new TextDecoder();

// Packet types.
const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7,
  SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, PINGREQ = 12, PINGRESP = 13, DISCONNECT = 14;

// Reason codes a person may meet here (MQTT 5 §2.4).
export const reasons = {
  0x00: 'success', 0x01: 'granted QoS 1', 0x02: 'granted QoS 2', 0x10: 'no matching subscribers',
  0x11: 'no subscription existed', 0x80: 'unspecified error', 0x81: 'malformed packet', 0x82: 'protocol error',
  0x83: 'implementation specific error', 0x84: 'unsupported protocol version', 0x85: 'client identifier not valid',
  0x86: 'bad user name or password', 0x87: 'not authorized', 0x88: 'server unavailable', 0x89: 'server busy',
  0x8B: 'server shutting down', 0x8D: 'keep alive timeout', 0x8E: 'session taken over', 0x8F: 'topic filter invalid',
  0x90: 'topic name invalid', 0x91: 'packet identifier in use', 0x93: 'receive maximum exceeded', 0x95: 'packet too large',
  0x97: 'quota exceeded', 0x99: 'payload format invalid', 0x9A: 'retain not supported', 0x9B: 'QoS not supported',
  0x9E: 'shared subscriptions not supported', 0x9F: 'connection rate exceeded', 0xA1: 'subscription identifiers not supported',
  0xA2: 'wildcard subscriptions not supported',
};

export function reasonText(code) {
  const name = reasons[code] || 'reason';
  return `${name} (0x${code.toString(16).padStart(2, '0')})`;
}

// --- encoding -------------------------------------------------------------

class Writer {
  constructor() { this.parts = []; this.len = 0; }
  bytes(b) { this.parts.push(b); this.len += b.length; return this; }
  u8(v) { return this.bytes(Uint8Array.of(v & 0xff)); }
  u16(v) { return this.bytes(Uint8Array.of((v >> 8) & 0xff, v & 0xff)); }
  varint(v) { return this.bytes(varint(v)); }
  str(s) { const b = enc.encode(s); return this.u16(b.length).bytes(b); }
  done() {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

function varint(v) {
  const out = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return Uint8Array.from(out);
}

function packet(type, flags, body) {
  return new Writer().u8((type << 4) | flags).varint(body.length).bytes(body).done();
}

// --- decoding -------------------------------------------------------------

class Reader {
  constructor(b) { this.b = b; this.o = 0; }
  left() { return this.b.length - this.o; }
  need(n) { if (this.o + n > this.b.length) throw new Error('malformed packet'); }
  u8() { this.need(1); return this.b[this.o++]; }
  u16() { this.need(2); const v = (this.b[this.o] << 8) | this.b[this.o + 1]; this.o += 2; return v; }
  u32() { this.need(4); const v = ((this.b[this.o] << 24) >>> 0) + (this.b[this.o + 1] << 16) + (this.b[this.o + 2] << 8) + this.b[this.o + 3]; this.o += 4; return v; }
  varint() {
    let v = 0, mul = 1;
    for (let i = 0; i < 4; i++) {
      const b = this.u8();
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
    }
    throw new Error('malformed variable byte integer');
  }
  take(n) { this.need(n); const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  bin() { return this.take(this.u16()); }
  str() { return dec.decode(this.bin()); }
  // props reads an MQTT 5 property list.
  props() {
    const n = this.varint();
    const end = this.o + n;
    const p = { user: [], subIds: [] };
    while (this.o < end) {
      const id = this.varint();
      switch (id) {
        case 0x01: p.payloadFormat = this.u8(); break;
        case 0x02: p.expiry = this.u32(); break;
        case 0x03: p.contentType = this.str(); break;
        case 0x08: p.responseTopic = this.str(); break;
        case 0x09: p.correlation = this.bin(); break;
        case 0x0B: p.subIds.push(this.varint()); break;
        case 0x11: p.sessionExpiry = this.u32(); break;
        case 0x12: p.assignedClientId = this.str(); break;
        case 0x13: p.serverKeepAlive = this.u16(); break;
        case 0x15: p.authMethod = this.str(); break;
        case 0x16: p.authData = this.bin(); break;
        case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2A: p['b' + id] = this.u8(); break;
        case 0x18: case 0x27: p['i' + id] = this.u32(); break;
        case 0x1A: case 0x1C: p['s' + id] = this.str(); break;
        case 0x1F: p.reason = this.str(); break;
        case 0x21: case 0x22: p['w' + id] = this.u16(); break;
        case 0x23: p.topicAlias = this.u16(); break;
        case 0x26: p.user.push([this.str(), this.str()]); break;
        default: throw new Error(`unknown property 0x${id.toString(16)}`);
      }
    }
    if (this.o !== end) throw new Error('malformed properties');
    return p;
  }
}

// --- the client -------------------------------------------------------------

// Client connects to url with a token as username. Events: "status"
// (detail: {state, reason}).
export class Client extends EventTarget {
  constructor(url, { username, clientId, keepAlive = 30 } = {}) {
    super();
    this.url = url;
    this.username = username;
    this.clientId = clientId || 'console-' + Math.random().toString(36).slice(2, 10);
    this.keepAlive = keepAlive;
    this.state = 'disconnected';
    this.nextPacket = 1;
    this.nextSub = 1;
    this.pending = new Map(); // packet id -> {resolve, reject}
    this.subs = new Map(); // subscription id -> {id, filter, qos, handlers, code}
    this.buf = new Uint8Array(0);
    this.closed = false;
    this.retry = 500;
  }

  setState(state, reason = '') {
    this.state = state;
    this.dispatchEvent(new CustomEvent('status', { detail: { state, reason } }));
  }

  // connect opens the connection and resolves on CONNACK; after that the
  // client reconnects by itself until close().
  connect() {
    return new Promise((resolve, reject) => {
      this.closed = false;
      this.refused = false;
      this.open(resolve, reject);
    });
  }

  open(resolve, reject) {
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url, ['mqtt']);
    } catch (e) {
      this.setState('disconnected', String(e));
      if (reject) reject(e);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.buf = new Uint8Array(0);
    this.onConnack = { resolve, reject };
    ws.addEventListener('open', () => {
      const body = new Writer().str('MQTT').u8(5).u8(0x80 | 0x02).u16(this.keepAlive).varint(0)
        .str(this.clientId).str(this.username || '').done();
      ws.send(packet(CONNECT, 0, body));
    });
    ws.addEventListener('message', (ev) => { if (this.ws === ws) this.receive(new Uint8Array(ev.data)); });
    ws.addEventListener('close', () => this.dropped(ws, 'connection closed'));
    ws.addEventListener('error', () => this.dropped(ws, 'connection failed'));
  }

  dropped(ws, reason) {
    if (this.ws !== ws) return;
    this.ws = null;
    clearInterval(this.ping);
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
    if (this.onConnack && this.onConnack.reject) this.onConnack.reject(new Error(this.lastReason || reason));
    this.onConnack = null;
    this.setState('disconnected', this.lastReason || reason);
    if (!this.closed && !this.refused) {
      setTimeout(() => { if (!this.closed) this.open(); }, this.retry);
      this.retry = Math.min(this.retry * 2, 15000);
    }
  }

  close() {
    this.closed = true;
    if (this.ws) {
      try { this.ws.send(packet(DISCONNECT, 0, Uint8Array.of(0))); } catch { /* closing anyway */ }
      this.ws.close();
    }
  }

  send(b) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new Error('MQTT is not connected');
    this.ws.send(b);
  }

  receive(chunk) {
    const b = new Uint8Array(this.buf.length + chunk.length);
    b.set(this.buf);
    b.set(chunk, this.buf.length);
    let o = 0;
    for (;;) {
      if (b.length - o < 2) break;
      let len = 0, mul = 1, i = o + 1, complete = false;
      for (; i < b.length && i < o + 5; i++) {
        len += (b[i] & 0x7f) * mul;
        mul *= 128;
        if (!(b[i] & 0x80)) { complete = true; i++; break; }
      }
      if (!complete || b.length - i < len) break;
      try {
        this.handle(b[o] >> 4, b[o] & 0x0f, new Reader(b.subarray(i, i + len)));
      } catch (e) {
        this.lastReason = 'bad packet from the server: ' + e.message;
        this.ws && this.ws.close();
        return;
      }
      o = i + len;
    }
    this.buf = b.slice(o);
  }

  handle(type, flags, r) {
    switch (type) {
      case CONNACK: {
        r.u8();
        const code = r.u8();
        const props = r.props();
        const c = this.onConnack;
        this.onConnack = null;
        if (code >= 0x80) {
          this.lastReason = reasonText(code) + (props.reason ? ': ' + props.reason : '');
          this.refused = code === 0x86 || code === 0x87;
          if (c && c.reject) c.reject(new Error(this.lastReason));
          this.ws.close();
          return;
        }
        this.retry = 500;
        this.lastReason = '';
        if (props.assignedClientId) this.clientId = props.assignedClientId;
        const ka = props.serverKeepAlive !== undefined ? props.serverKeepAlive : this.keepAlive;
        if (ka > 0) this.ping = setInterval(() => { try { this.send(Uint8Array.of(PINGREQ << 4, 0)); } catch { /* reconnecting */ } }, ka * 500);
        this.setState('connected');
        if (c && c.resolve) c.resolve();
        for (const [id, s] of this.subs) this.sendSubscribe(id, s).catch(() => {});
        return;
      }
      case PUBLISH: {
        const qos = (flags >> 1) & 3;
        const topic = r.str();
        const id = qos > 0 ? r.u16() : 0;
        const props = r.props();
        const payload = r.take(r.left());
        if (qos === 1) this.send(packet(PUBACK, 0, new Writer().u16(id).done()));
        if (qos === 2) this.send(packet(PUBREC, 0, new Writer().u16(id).done()));
        const msg = { topic, payload, qos, retain: !!(flags & 1), dup: !!(flags & 8), props, time: Date.now() };
        for (const sid of props.subIds) {
          const s = this.subs.get(sid);
          if (!s) continue;
          for (const h of s.handlers) {
            try { h.handler(msg); } catch (e) { console.error(e); }
          }
        }
        return;
      }
      case PUBACK: case PUBCOMP: {
        const id = r.u16();
        const code = r.left() > 0 ? r.u8() : 0;
        this.settle(id, code);
        return;
      }
      case PUBREL: {
        const id = r.u16();
        this.send(packet(PUBCOMP, 0, new Writer().u16(id).done()));
        return;
      }
      case SUBACK: case UNSUBACK: {
        const id = r.u16();
        r.props();
        const codes = Array.from(r.take(r.left()));
        this.settle(id, codes);
        return;
      }
      case PINGRESP:
        return;
      case DISCONNECT: {
        const code = r.left() > 0 ? r.u8() : 0;
        const props = r.left() > 0 ? r.props() : {};
        this.lastReason = 'the server disconnected: ' + reasonText(code) + (props.reason ? ': ' + props.reason : '');
        return;
      }
    }
  }

  settle(id, value) {
    const p = this.pending.get(id);
    if (p) {
      this.pending.delete(id);
      p.resolve(value);
    }
  }

  packetId() {
    for (;;) {
      const id = this.nextPacket;
      this.nextPacket = this.nextPacket % 65535 + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  request(type, flags, build) {
    return new Promise((resolve, reject) => {
      const id = this.packetId();
      try {
        this.send(packet(type, flags, build(id)));
      } catch (e) {
        reject(e);
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  // subscribe subscribes to filter ($share and $filter prefixes included)
  // and calls handler(msg) for each message it brings. It resolves to a
  // handle {filter, qos, code} (code ≥ 0x80 is the broker's refusal). The
  // subscription is kept, and made again after a reconnection, until
  // unsubscribe(handle). MQTT has one subscription per filter: handlers of
  // the same filter share it.
  async subscribe(filter, qos, handler) {
    let s = this.byFilter(filter);
    const handle = { filter, qos, code: null, handler };
    if (!s) {
      s = { id: this.nextSub++, filter, qos, handlers: new Set(), code: null };
      this.subs.set(s.id, s);
    } else if (qos <= s.qos && s.code !== null && s.code < 0x80) {
      s.handlers.add(handle);
      handle.code = s.code;
      return handle;
    }
    s.qos = Math.max(s.qos, qos);
    s.handlers.add(handle);
    try {
      await this.sendSubscribe(s.id, s);
    } catch (e) {
      this.drop(s, handle);
      throw e;
    }
    handle.code = s.code;
    if (s.code >= 0x80) this.drop(s, handle);
    return handle;
  }

  byFilter(filter) {
    for (const s of this.subs.values()) if (s.filter === filter) return s;
    return null;
  }

  drop(s, handle) {
    s.handlers.delete(handle);
    if (s.handlers.size === 0) this.subs.delete(s.id);
  }

  async sendSubscribe(id, s) {
    const codes = await this.request(SUBSCRIBE, 2, (pid) => {
      const props = new Writer().u8(0x0B).varint(id).done();
      return new Writer().u16(pid).varint(props.length).bytes(props).str(s.filter).u8(s.qos).done();
    });
    s.code = codes[0];
  }

  async unsubscribe(handle) {
    const s = this.byFilter(handle.filter);
    if (!s) return;
    this.drop(s, handle);
    if (s.handlers.size > 0 || this.state !== 'connected') return;
    await this.request(UNSUBSCRIBE, 2, (pid) => new Writer().u16(pid).varint(0).str(s.filter).done());
  }

  // publish sends a message; with QoS 1 it resolves to the PUBACK's reason
  // code, with QoS 0 to 0 once written.
  publish(topic, payload, { qos = 0, retain = false } = {}) {
    const data = typeof payload === 'string' ? enc.encode(payload) : payload;
    const flags = (qos << 1) | (retain ? 1 : 0);
    if (qos === 0) {
      this.send(packet(PUBLISH, flags, new Writer().str(topic).varint(0).bytes(data).done()));
      return Promise.resolve(0);
    }
    return this.request(PUBLISH, flags, (pid) => new Writer().str(topic).u16(pid).varint(0).bytes(data).done());
  }
}

// payloadText decodes a payload as text.
export function payloadText(b) { return dec.decode(b); }
