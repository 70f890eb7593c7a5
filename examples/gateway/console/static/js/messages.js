// Messages: a device's or channel's history and live tail, each message
// expandable, with a filter expression and export.

import { $, h, clear, time, caret, syntaxPlace, offsetOf, download } from './dom.js';
import { data } from './api.js';
import { payloadText, reasonText } from './mqtt.js';

const maxRows = 2000;

export class MessagesView {
  constructor(app) {
    this.app = app;
    this.msgs = []; // newest first
    this.source = $('#messages-source');
    this.filter = $('#messages-filter');
    this.live = $('#messages-live');
    this.error = $('#messages-error');
    this.tbody = $('#messages-table tbody');
    this.sub = null;
    $('#messages-form').addEventListener('submit', (e) => { e.preventDefault(); this.loadHistory(); });
    this.live.addEventListener('change', () => this.tail());
    this.source.addEventListener('change', () => { this.msgs = []; this.render(); if (this.live.checked) this.tail(); });
    this.filter.addEventListener('change', () => { if (this.live.checked) this.tail(); });
    $('#messages-csv').addEventListener('click', () => this.exportCSV());
    $('#messages-json').addEventListener('click', () => this.exportJSON());
    $('#messages-clear').addEventListener('click', () => { this.msgs = []; this.render(); });
    app.on('devices', () => this.fillSources());
    app.on('channels', () => this.fillSources());
    app.on('select', (id) => { if (this.source.value !== `d${id}`) { this.source.value = `d${id}`; this.msgs = []; this.render(); if (this.live.checked) this.tail(); } });
    this.fillSources();
  }

  fillSources() {
    const keep = this.source.value || (this.app.current !== null ? `d${this.app.current}` : '');
    clear(this.source);
    const devs = h('optgroup', { label: 'Devices' });
    for (const d of [...this.app.devices.values()].sort((a, b) => a.id - b.id)) devs.append(h('option', { value: `d${d.id}` }, `device ${d.id} — ${this.app.deviceName(d.id)}`));
    const chans = h('optgroup', { label: 'Channels' });
    for (const c of [...this.app.channels.values()].sort((a, b) => a.id - b.id)) chans.append(h('option', { value: `c${c.id}` }, `channel ${c.id} — ${c.name}`));
    this.source.append(devs, chans);
    if (keep && [...this.source.options].some((o) => o.value === keep)) this.source.value = keep;
  }

  show() { this.fillSources(); }
  hide() {}

  parsed() {
    const v = this.source.value;
    return { kind: v[0] === 'c' ? 'channels' : 'devices', id: Number(v.slice(1)) };
  }

  showError(text, reason) {
    this.error.hidden = false;
    const place = syntaxPlace(reason);
    if (place && text) {
      const pre = h('pre', { class: 'caret' });
      caret(pre, text, offsetOf(text, place.line, place.column), reason);
      this.error.replaceChildren(pre);
    } else {
      this.error.textContent = reason;
    }
  }

  clearError() { this.error.hidden = true; this.error.replaceChildren(); }

  async loadHistory() {
    if (!this.source.value) return;
    const { kind, id } = this.parsed();
    const count = Math.max(1, Math.min(100000, Number($('#messages-count').value) || 100));
    const filter = this.filter.value.trim();
    const q = { count };
    if (filter) q.filter = filter;
    if (kind === 'devices') q.reverse = true;
    else q.from = Date.now() / 1000 - 3600;
    this.clearError();
    let list;
    try {
      list = await this.app.api.list(`/gw/${kind}/${id}/messages?${data(q)}`);
    } catch (e) {
      const reason = e.reason || e.message;
      this.showError(reason.startsWith('filter:') ? filter : '', reason);
      return;
    }
    if (kind === 'channels') list.reverse();
    this.msgs = list;
    $('#messages-count-note').textContent = kind === 'devices'
      ? `${list.length} newest message${list.length === 1 ? '' : 's'} of device ${id}${filter ? ' matching the filter' : ''}`
      : `${list.length} message${list.length === 1 ? '' : 's'} of channel ${id} from the last hour${filter ? ' matching the filter' : ''}`;
    this.render();
  }

  // tail follows the source's message topic, through $filter when a
  // filter is given: the broker applies it, as for any subscriber.
  async tail() {
    if (this.sub) {
      const s = this.sub;
      this.sub = null;
      this.app.mqtt && this.app.mqtt.unsubscribe(s).catch(() => {});
    }
    if (!this.live.checked || !this.source.value) return;
    const { kind, id } = this.parsed();
    let topic = kind === 'devices' ? `flespi/message/gw/devices/${id}` : `flespi/message/gw/channels/${id}/+`;
    const filter = this.filter.value.trim();
    if (filter) topic = `$filter/payload=${encodeURIComponent(filter)}/${topic}`;
    this.clearError();
    try {
      const handle = await this.app.subscribe(topic, 1, (m) => {
        let msg;
        try { msg = JSON.parse(payloadText(m.payload)); } catch { return; }
        this.msgs.unshift(msg);
        if (this.msgs.length > maxRows) this.msgs.length = maxRows;
        this.prepend(msg);
      });
      if (handle.code >= 0x80) {
        this.live.checked = false;
        this.showError('', `live tail of ${topic}: ${reasonText(handle.code)}`);
        return;
      }
      this.sub = handle;
    } catch (e) {
      this.live.checked = false;
      this.showError('', 'live tail: ' + e.message);
    }
  }

  render() {
    clear(this.tbody);
    for (const m of this.msgs) this.tbody.append(...this.rows(m));
  }

  prepend(msg) {
    const rows = this.rows(msg);
    rows[0].classList.add('fresh');
    this.tbody.prepend(...rows);
    while (this.tbody.rows.length > maxRows * 2) this.tbody.lastElementChild.remove();
  }

  // rows makes a message's summary row and its (hidden) detail row.
  rows(m) {
    const keys = Object.keys(m).sort();
    const detail = h('tr', { class: 'detail', hidden: true },
      h('td', { colspan: 7 }, h('table', { class: 'params' }, h('tbody', {}, keys.map((k) =>
        h('tr', {}, h('th', {}, k), h('td', { class: 'mono' }, JSON.stringify(m[k]))))))));
    const toggle = h('td', { class: 'toggle' }, '▸');
    const lat = m['position.latitude'], lon = m['position.longitude'];
    const row = h('tr', {
      class: 'message-row',
      onclick: () => { detail.hidden = !detail.hidden; toggle.textContent = detail.hidden ? '▸' : '▾'; },
    },
    toggle,
    h('td', {}, time(m.timestamp)),
    h('td', { class: 'muted' }, time(m['server.timestamp'])),
    h('td', { class: 'mono' }, m.ident || ''),
    h('td', { class: 'mono' }, typeof lat === 'number' ? `${lat.toFixed(5)}, ${lon.toFixed(5)}` : '—'),
    h('td', {}, m['position.speed'] !== undefined ? `${m['position.speed']} km/h` : ''),
    h('td', { class: 'muted' }, `${keys.length} parameters`));
    return [row, detail];
  }

  fileBase() {
    const { kind, id } = this.parsed();
    return `messages-${kind === 'devices' ? 'device' : 'channel'}-${id}`;
  }

  exportJSON() {
    download(this.fileBase() + '.json', JSON.stringify(this.msgs, null, 1) + '\n', 'application/json');
  }

  // exportCSV writes one column per parameter, the usual ones first;
  // values that are not text or numbers are written as JSON.
  exportCSV() {
    const first = ['timestamp', 'server.timestamp', 'ident', 'device.id', 'channel.id', 'position.latitude', 'position.longitude', 'position.speed'];
    const all = new Set();
    for (const m of this.msgs) for (const k of Object.keys(m)) all.add(k);
    const cols = first.filter((k) => all.has(k)).concat([...all].filter((k) => !first.includes(k)).sort());
    const cell = (v) => {
      if (v === undefined || v === null) return '';
      const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
      return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    };
    const lines = [cols.map(cell).join(',')];
    for (const m of this.msgs) lines.push(cols.map((k) => cell(m[k])).join(','));
    download(this.fileBase() + '.csv', lines.join('\r\n') + '\r\n', 'text/csv');
  }
}
