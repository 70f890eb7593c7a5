// Devices: the table a selector chooses, and their live map.

import { $, h, clear, time, ago, caret, syntaxPlace, offsetOf } from './dom.js';
import { seg, data } from './api.js';
import { LiveMap } from './map.js';

const fields = 'id,name,configuration,protocol_name,connected,last_active,telemetry';
const maxTracks = 50;

// keyTelemetry are the parameters the table shows beside the position.
const keyTelemetry = [
  ['position.speed', (v) => `${Math.round(v)} km/h`],
  ['engine.ignition.status', (v) => (v ? 'ignition on' : 'ignition off')],
  ['external.powersource.voltage', (v) => `power ${Number(v).toFixed(1)} V`],
  ['battery.voltage', (v) => `battery ${Number(v).toFixed(2)} V`],
  ['battery.level', (v) => `battery ${v} %`],
  ['position.satellites', (v) => `${v} sat`],
];

export class DevicesView {
  constructor(app) {
    this.app = app;
    this.rows = new Map(); // id -> {device, tel, tr}
    this.loaded = false;
    this.form = $('#devices-form');
    this.input = $('#devices-selector');
    this.error = $('#devices-error');
    this.tbody = $('#devices-table tbody');
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.load(); });
    app.on('message', ({ id, msg }) => this.message(id, msg));
    app.on('connected', ({ id, connected }) => {
      const r = this.rows.get(id);
      if (r) { r.device.connected = connected; this.render(r); }
    });
    app.on('select', (id) => this.highlight(id));
    setInterval(() => { if (!$('#view-devices').hidden) for (const r of this.rows.values()) this.renderActive(r); }, 5000);
  }

  show() {
    if (!this.map) this.map = new LiveMap($('#map'), $('#map-note'), $('#map-legend'), this.app.config);
    this.map.invalidate();
    if (!this.loaded) this.load();
  }

  hide() {}

  async load() {
    this.loaded = true;
    const sel = this.input.value.trim() || 'all';
    this.error.replaceChildren();
    this.error.hidden = true;
    let list;
    try {
      list = await this.app.api.list(`/gw/devices/${seg(sel)}?fields=${fields}`);
    } catch (e) {
      this.showError(sel, e.reason || e.message);
      return;
    }
    const ids = new Set(list.map((d) => d.id));
    this.rows = new Map();
    clear(this.tbody);
    for (const d of list) {
      const tel = {};
      for (const [k, v] of Object.entries(d.telemetry || {})) tel[k] = v && typeof v === 'object' && 'value' in v ? v.value : v;
      const r = { device: d, tel, tr: h('tr', { dataset: { device: d.id }, class: 'device-row', onclick: () => this.app.select(d.id) }) };
      this.rows.set(d.id, r);
      this.render(r);
      this.tbody.append(r.tr);
    }
    $('#devices-count').textContent = `${list.length} device${list.length === 1 ? '' : 's'} selected by ${sel}`;
    this.map.keep(ids);
    for (const r of this.rows.values()) {
      const lat = r.tel['position.latitude'], lon = r.tel['position.longitude'];
      if (typeof lat === 'number' && typeof lon === 'number') this.map.position(r.device.id, this.name(r), lat, lon, r.tel.timestamp || r.device.last_active || 0);
    }
    this.map.fit(true);
    this.highlight(this.app.current);
    this.loadTracks(list.slice(0, maxTracks));
  }

  showError(text, reason) {
    const place = syntaxPlace(reason);
    this.error.hidden = false;
    if (place) {
      const pre = h('pre', { class: 'caret' });
      caret(pre, text, offsetOf(text, place.line, place.column), reason);
      this.error.replaceChildren(pre);
    } else {
      this.error.textContent = reason;
    }
  }

  // loadTracks draws each device's recent positions from its history.
  async loadTracks(list) {
    const q = data({ count: 200, reverse: true, fields: 'timestamp,position.latitude,position.longitude', filter: "exists('position.latitude')" });
    await Promise.all(list.map(async (d) => {
      try {
        const msgs = await this.app.api.list(`/gw/devices/${d.id}/messages?${q}`);
        const pts = msgs.reverse().filter((m) => typeof m['position.latitude'] === 'number')
          .map((m) => [m['position.latitude'], m['position.longitude'], m.timestamp || 0]);
        if (pts.length > 0 && this.rows.has(d.id)) this.map.setTrack(d.id, this.name(this.rows.get(d.id)), pts);
      } catch { /* a token may not read history: the map still moves live */ }
    }));
  }

  name(r) { return r.device.name || (r.device.configuration && r.device.configuration.ident) || `device ${r.device.id}`; }

  message(id, msg) {
    const r = this.rows.get(id);
    if (!r) {
      // A device this table has not seen: the selector may select it.
      if (this.loaded && !this.reloadTimer) this.reloadTimer = setTimeout(() => { this.reloadTimer = null; this.app.loadDevices(); this.load(); }, 1500);
      return;
    }
    for (const [k, v] of Object.entries(msg)) r.tel[k] = v;
    r.device.last_active = Math.max(r.device.last_active || 0, msg['server.timestamp'] || 0);
    this.render(r);
    const lat = msg['position.latitude'], lon = msg['position.longitude'];
    if (typeof lat === 'number' && typeof lon === 'number' && this.map) {
      this.map.position(id, this.name(r), lat, lon, msg.timestamp || msg['server.timestamp'] || 0);
      this.map.fit();
    }
  }

  render(r) {
    const d = r.device, tel = r.tel;
    const lat = tel['position.latitude'], lon = tel['position.longitude'];
    const chips = [];
    for (const [k, fmt] of keyTelemetry) if (tel[k] !== undefined && tel[k] !== null) chips.push(h('span', { class: 'chip', title: k }, fmt(tel[k])));
    r.active = h('td', { class: 'active', title: time(d.last_active) }, ago(d.last_active));
    r.tr.replaceChildren(
      h('td', { class: 'num' }, d.id),
      h('td', {}, d.name || ''),
      h('td', { class: 'mono ident' }, (d.configuration && d.configuration.ident) || ''),
      h('td', {}, d.protocol_name || ''),
      h('td', {}, h('span', { class: d.connected ? 'dot on' : 'dot off', title: d.connected ? 'connected' : 'not connected' }), d.connected ? ' yes' : ' no'),
      r.active,
      h('td', { class: 'mono position' }, typeof lat === 'number' ? `${lat.toFixed(5)}, ${lon.toFixed(5)}` : '—'),
      h('td', {}, chips),
    );
    r.tr.classList.toggle('selected', d.id === this.app.current);
  }

  renderActive(r) {
    if (r.active) { r.active.textContent = ago(r.device.last_active); r.active.title = time(r.device.last_active); }
  }

  highlight(id) {
    for (const r of this.rows.values()) r.tr.classList.toggle('selected', r.device.id === id);
    if (this.map && id !== null) this.map.focus(id);
  }
}
