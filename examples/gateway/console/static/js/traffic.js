// Traffic: a recording channel's connections, frame by frame beside what
// the codec decoded and the reply, and their export as a traffic file and
// as a protocoltest golden case.

import { $, h, clear, time, bytes, download } from './dom.js';
import { seg } from './api.js';

const pageChunks = 300;

// hexGroups splits hex into 4-byte groups for reading.
function hexGroups(hex) {
  const out = [];
  for (let i = 0; i < hex.length; i += 8) out.push(hex.slice(i, i + 8));
  return out.join(' ');
}

function clock(ts) {
  if (!ts) return '';
  const d = new Date(ts * 1000);
  return d.toTimeString().slice(0, 8) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

export class TrafficView {
  constructor(app) {
    this.app = app;
    this.channel = $('#traffic-channel');
    this.device = $('#traffic-device');
    this.error = $('#traffic-error');
    this.list = $('#traffic-list tbody');
    this.chunks = $('#traffic-chunks tbody');
    this.head = $('#traffic-head');
    this.more = $('#traffic-more');
    this.rec = null; // the recording shown
    $('#traffic-form').addEventListener('submit', (e) => { e.preventDefault(); this.loadList(); });
    this.channel.addEventListener('change', () => { this.recordingState(); this.loadList(); });
    this.device.addEventListener('change', () => this.loadList());
    $('#traffic-record').addEventListener('click', () => this.toggleRecording());
    this.more.addEventListener('click', () => this.loadChunks(this.next));
    app.on('channels', () => { app.fillChannels(this.channel, { trackers: true }); this.recordingState(); });
    app.on('devices', () => app.fillDevices(this.device, { any: 'all devices' }));
  }

  show() {
    this.app.fillChannels(this.channel, { trackers: true });
    this.app.fillDevices(this.device, { any: 'all devices' });
    if (!this.shown && this.app.current !== null) {
      // Start from the selected device's channel.
      this.device.value = String(this.app.current);
    }
    this.shown = true;
    this.recordingState();
    this.loadList();
  }

  hide() {}

  fail(e) { this.error.textContent = e.reason || e.message; this.error.hidden = false; }

  recordingState() {
    const c = this.app.channels.get(Number(this.channel.value));
    const btn = $('#traffic-record');
    if (!c) { btn.hidden = true; $('#traffic-recording-state').textContent = ''; return; }
    const on = !!(c.configuration && c.configuration.record);
    $('#traffic-recording-state').textContent = on ? `channel ${c.id} records every connection` : `channel ${c.id} does not record`;
    btn.hidden = false;
    btn.textContent = on ? 'Stop recording' : 'Start recording';
  }

  async toggleRecording() {
    const c = this.app.channels.get(Number(this.channel.value));
    if (!c) return;
    const on = !(c.configuration && c.configuration.record);
    if (!window.confirm(`${on ? 'Start' : 'Stop'} recording on channel ${c.id} (${c.name})? The channel restarts: its devices reconnect.` +
      (on ? ' Recordings hold positions: treat them as personal data.' : ''))) return;
    try {
      await this.app.api.put(`/gw/channels/${c.id}`, { configuration: { record: on } });
      await this.app.loadChannels();
    } catch (e) { this.fail(e); }
  }

  async loadList() {
    this.error.hidden = true;
    const dev = this.device.value;
    const path = dev ? `/gw/devices/${dev}/traffic?limit=200` : this.channel.value ? `/gw/channels/${this.channel.value}/traffic?limit=200` : null;
    if (!path) return;
    let recs;
    try { recs = await this.app.api.list(path); } catch (e) { this.fail(e); clear(this.list); return; }
    clear(this.list);
    if (recs.length === 0) {
      this.list.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No recordings. A channel records once "Start recording" is on; each connection becomes one recording.')));
      return;
    }
    for (const r of recs) {
      this.list.append(h('tr', { class: 'recording-row', dataset: { name: r.name }, onclick: (e) => this.open(r, e.currentTarget) },
        h('td', { title: `channel ${r.channel_id}` }, time(r.connected)),
        h('td', { class: 'mono' }, r.ident || '(unidentified)'),
        h('td', { class: 'num' }, r.conn_id),
        h('td', { class: 'num' }, bytes(r.size))));
    }
  }

  base(r) { return `/gw/channels/${r.channel_id}/traffic/${seg(r.ident || '_unidentified')}/${seg(r.name)}`; }

  async open(r, row) {
    for (const tr of this.list.rows) tr.classList.toggle('selected', tr === row);
    this.rec = r;
    clear(this.chunks);
    clear(this.head);
    await this.loadChunks(0);
  }

  async loadChunks(from) {
    const r = this.rec;
    let v;
    try {
      v = (await this.app.api.list(`${this.base(r)}?from=${from}&count=${pageChunks}`))[0];
    } catch (e) { this.fail(e); return; }
    if (from === 0) this.header(v);
    for (const c of v.chunks) this.chunks.append(this.row(c));
    this.next = v.from + v.chunks.length;
    this.more.hidden = !v.more;
  }

  header(v) {
    const file = v.name;
    const decode = `go run ./examples/decode -p ${v.protocol_name}${v.transport === 'udp' ? ' -transport udp' : ''} -replies -f ${file}`;
    this.head.replaceChildren(
      h('p', {}, h('strong', {}, `${v.protocol_name} · ${v.transport}`),
        ` · device ${v.ident || '(unidentified)'}`, v.peer ? ` · peer ${v.peer}` : '',
        ` · connection ${v.conn_id} · connected ${time(v.connected)} · ${bytes(v.size)}`),
      h('div', { class: 'row wrap' },
        h('button', { type: 'button', id: 'traffic-download-hex', onclick: () => this.export('hex') }, 'Download traffic file (.hex)'),
        h('button', { type: 'button', id: 'traffic-download-txtar', onclick: () => this.export('txtar') }, 'Download golden case (.txtar)')),
      h('p', { class: 'hint' }, 'Replay: ', h('code', {}, decode), '. Golden case: save it in ',
        h('code', {}, `protocol/${v.protocol_name}/testdata/`), ', add Want: lines from the device\'s documentation, and run ',
        h('code', {}, `go test ./protocol/${v.protocol_name} -run TestGolden`), '.'),
    );
  }

  async export(format) {
    try {
      const f = (await this.app.api.list(`${this.base(this.rec)}/${format}`))[0];
      download(f.name, f.content);
    } catch (e) { this.fail(e); }
  }

  row(c) {
    const decoded = [];
    if (c.dir === '<') decoded.push(h('span', { class: 'muted' }, 'sent to the device'));
    for (const f of c.frames || []) {
      const frame = h('div', { class: 'frame' });
      if (c.frames.length > 1 || f.hex !== c.hex) frame.append(h('div', { class: 'mono muted small' }, `frame ${f.hex.length / 2} bytes: ${hexGroups(f.hex).slice(0, 80)}${f.hex.length > 72 ? '…' : ''}`));
      if (f.messages.length === 0) frame.append(h('div', { class: 'muted' }, f.ident ? `no message (ident ${f.ident})` : 'no message'));
      for (const m of f.messages) {
        frame.append(h('div', { class: 'decoded-message' }, Object.entries(m).map(([k, val]) =>
          h('span', { class: 'kv' }, h('span', { class: 'k' }, k), '=', h('span', { class: 'v' }, JSON.stringify(val))))));
      }
      for (const resp of f.responses || []) frame.append(h('div', {}, 'command answer: ', resp.text || resp.hex));
      if (f.reply) frame.append(h('div', { class: 'reply' }, 'reply ', h('span', { class: 'mono' }, hexGroups(f.reply)), f.close ? ' and close' : ''));
      decoded.push(frame);
    }
    if (c.error) decoded.push(h('div', { class: 'error' }, c.error));
    return h('tr', { class: c.dir === '<' ? 'out chunk-row' : 'in chunk-row', dataset: { index: c.index } },
      h('td', { class: 'num' }, c.index),
      h('td', { class: 'muted' }, clock(c.time)),
      h('td', { class: 'dir', title: c.dir === '<' ? 'server to device' : 'device to server' }, c.dir === '<' ? '◀' : '▶'),
      h('td', { class: 'mono hex' }, hexGroups(c.hex)),
      h('td', { class: 'decoded' }, decoded));
  }
}
