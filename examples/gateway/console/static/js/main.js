// The console's shell: sign-in, navigation, the REST and MQTT connections
// every view shares, and the devices and channels they pick from.

import { API, APIError } from './api.js';
import { Client, reasonText, payloadText } from './mqtt.js';
import { $, $$, h, clear } from './dom.js';
import { DevicesView } from './devices.js';
import { MessagesView } from './messages.js';
import { TrafficView } from './traffic.js';
import { ExpressionsView } from './expressions.js';
import { BoardView } from './board.js';
import { ChannelsView } from './channels.js';

const tokenKey = 'gnssgate-console-token';

class App extends EventTarget {
  constructor() {
    super();
    this.devices = new Map();
    this.channels = new Map();
    this.current = null;
    this.mqtt = null;
    this.views = {};
  }

  emit(name, detail) { this.dispatchEvent(new CustomEvent(name, { detail })); }
  on(name, fn) { this.addEventListener(name, (e) => fn(e.detail)); }

  async start() {
    this.config = await (await fetch('config.json', { cache: 'no-store' })).json();
    $('#login-form').addEventListener('submit', (e) => { e.preventDefault(); this.signIn($('#token').value.trim()); });
    $('#logout').addEventListener('click', () => this.signOut());
    const saved = sessionStorage.getItem(tokenKey);
    if (saved) this.signIn(saved);
    else this.showLogin();
  }

  showLogin(error = '') {
    $('#login').hidden = false;
    $('#nav').hidden = true;
    $('#logout').hidden = true;
    $('#mqtt-status').hidden = true;
    for (const v of $$('.view')) v.hidden = true;
    $('#login-error').textContent = error;
    $('#token').focus();
  }

  async signIn(token) {
    if (!token) return;
    const api = new API(token);
    try {
      await api.get('/gw/devices/all?fields=id&limit=1');
    } catch (e) {
      // 403: a valid token whose ACL does not list devices; it may still
      // do other things.
      if (!(e instanceof APIError) || e.status !== 403) {
        sessionStorage.removeItem(tokenKey);
        this.showLogin(e.status === 401 ? 'The gateway does not know this token.' : e.message);
        return;
      }
    }
    sessionStorage.setItem(tokenKey, token);
    this.api = api;
    $('#token').value = '';
    $('#login').hidden = true;
    $('#nav').hidden = false;
    $('#logout').hidden = false;
    await Promise.all([this.loadDevices(), this.loadChannels()]);
    this.views = {
      devices: new DevicesView(this), messages: new MessagesView(this), traffic: new TrafficView(this),
      expressions: new ExpressionsView(this), mqtt: new BoardView(this), channels: new ChannelsView(this),
    };
    window.addEventListener('hashchange', () => this.route());
    this.connectMQTT(token);
    this.route();
  }

  signOut() {
    sessionStorage.removeItem(tokenKey);
    if (this.mqtt) this.mqtt.close();
    location.hash = '';
    location.reload();
  }

  route() {
    const name = (location.hash || '#devices').slice(1).split('/')[0];
    const view = this.views[name] ? name : 'devices';
    for (const [n, v] of Object.entries(this.views)) {
      const el = $('#view-' + n);
      if (n === view) {
        el.hidden = false;
        v.show();
      } else if (!el.hidden) {
        el.hidden = true;
        v.hide();
      }
    }
    for (const a of $$('#nav a')) a.classList.toggle('active', a.dataset.view === view);
  }

  // --- shared objects ---------------------------------------------------------

  async loadDevices() {
    try {
      const list = await this.api.list('/gw/devices/all?fields=id,name,configuration,protocol_name');
      this.devices = new Map(list.map((d) => [d.id, d]));
    } catch {
      this.devices = new Map();
    }
    this.emit('devices');
  }

  async loadChannels() {
    try {
      const list = await this.api.list('/gw/channels/all');
      this.channels = new Map(list.map((c) => [c.id, c]));
    } catch {
      this.channels = new Map();
    }
    this.emit('channels');
  }

  deviceName(id) {
    const d = this.devices.get(id);
    if (!d) return `device ${id}`;
    return d.name || (d.configuration && d.configuration.ident) || `device ${id}`;
  }

  deviceByIdent(ident) {
    for (const d of this.devices.values()) if (d.configuration && d.configuration.ident === ident) return d;
    return null;
  }

  // select makes a device the one the views work on.
  select(id) {
    this.current = id;
    this.emit('select', id);
  }

  // fillDevices puts the devices in a <select>, keeping its choice or the
  // current device.
  fillDevices(sel, { any = '' } = {}) {
    const keep = sel.value || (this.current !== null ? String(this.current) : '');
    clear(sel);
    if (any) sel.append(h('option', { value: '' }, any));
    for (const d of [...this.devices.values()].sort((a, b) => a.id - b.id)) {
      sel.append(h('option', { value: d.id }, `${d.id} — ${this.deviceName(d.id)}`));
    }
    if (keep && [...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }

  fillChannels(sel, { trackers = false } = {}) {
    const keep = sel.value;
    clear(sel);
    for (const c of [...this.channels.values()].sort((a, b) => a.id - b.id)) {
      if (trackers && (c.protocol_name === 'http' || c.protocol_name === 'mqtt')) continue;
      sel.append(h('option', { value: c.id }, `${c.id} — ${c.name} (${c.protocol_name})`));
    }
    if (keep && [...sel.options].some((o) => o.value === keep)) sel.value = keep;
  }

  // --- MQTT ---------------------------------------------------------------------

  connectMQTT(token) {
    const status = $('#mqtt-status');
    status.hidden = false;
    if (!this.config.mqtt_port) {
      status.textContent = 'MQTT: not served (-mqtt-ws)';
      status.className = 'status off';
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${location.hostname}:${this.config.mqtt_port}${this.config.mqtt_path}`;
    this.mqtt = new Client(url, { username: token });
    this.mqtt.addEventListener('status', (e) => {
      const { state, reason } = e.detail;
      status.textContent = state === 'connected' ? 'MQTT connected' : `MQTT ${state}${reason ? ': ' + reason : ''}`;
      status.className = 'status ' + (state === 'connected' ? 'on' : 'off');
      this.emit('mqtt', state);
    });
    this.mqtt.connect().then(() => this.platformSubscriptions()).catch(() => { /* the status says why; it retries */ });
  }

  // platformSubscriptions follows every device's messages and connection
  // state for the table and the map.
  async platformSubscriptions() {
    const msgs = await this.subscribe('flespi/message/gw/devices/+', 1, (m) => {
      const id = Number(m.topic.split('/').pop());
      let msg;
      try { msg = JSON.parse(payloadText(m.payload)); } catch { return; }
      this.emit('message', { id, msg });
    });
    if (msgs.code >= 0x80) $('#mqtt-status').textContent += ` (device messages: ${reasonText(msgs.code)})`;
    await this.subscribe('flespi/state/gw/devices/+/connected', 1, (m) => {
      const id = Number(m.topic.split('/')[4]);
      const text = payloadText(m.payload);
      if (text !== '') this.emit('connected', { id, connected: text === 'true' });
    });
  }

  // subscribe subscribes when MQTT is there; it resolves to the handle.
  subscribe(filter, qos, handler) {
    if (!this.mqtt) return Promise.reject(new Error('MQTT over WebSocket is not served by this gateway'));
    return this.mqtt.subscribe(filter, qos, handler);
  }
}

const app = new App();
window.addEventListener('DOMContentLoaded', () => {
  app.start().catch((e) => {
    document.body.prepend(h('p', { class: 'error' }, 'The console did not start: ' + e.message));
  });
});
