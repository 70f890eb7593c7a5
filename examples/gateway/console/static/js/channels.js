// Channels and streams: status, counters, lag, connections (close one),
// and a device's command queue (send, see the answer).

import { $, h, clear, time, ago, bytes } from './dom.js';

const refreshMs = 3000;

export class ChannelsView {
  constructor(app) {
    this.app = app;
    this.selected = null; // channel id whose connections are shown
    this.cmdDevice = $('#command-device');
    $('#command-form').addEventListener('submit', (e) => { e.preventDefault(); this.send(); });
    this.cmdDevice.addEventListener('change', () => this.commands());
    $('#connections-close-all').addEventListener('click', () => this.closeAll());
    app.on('devices', () => app.fillDevices(this.cmdDevice));
  }

  show() {
    this.app.fillDevices(this.cmdDevice);
    this.refresh();
    this.timer = setInterval(() => this.refresh(), refreshMs);
  }

  hide() { clearInterval(this.timer); }

  async refresh() {
    await Promise.all([this.channels(), this.streams(), this.connections(), this.commands()]);
  }

  async channels() {
    let list;
    try { list = await this.app.api.list('/gw/channels/all'); } catch { return; }
    const tbody = clear($('#channels-table tbody'));
    for (const c of list) {
      const rec = c.configuration && c.configuration.record;
      tbody.append(h('tr', { class: c.id === this.selected ? 'channel-row selected' : 'channel-row', dataset: { channel: c.id }, onclick: () => { this.selected = c.id; this.refresh(); } },
        h('td', { class: 'num' }, c.id), h('td', {}, c.name), h('td', {}, c.protocol_name),
        h('td', { class: 'mono' }, c.uri || ''),
        h('td', {}, h('span', { class: c.running ? 'dot on' : 'dot off' }), c.running ? ' running' : ' stopped', c.error ? h('div', { class: 'error small' }, c.error) : ''),
        h('td', { class: 'num connections-count' }, c.connections_count),
        h('td', {}, rec ? 'on' : 'off'),
        h('td', {}, h('button', { type: 'button', class: 'link' }, 'connections'))));
    }
  }

  async streams() {
    let list;
    try { list = await this.app.api.list('/gw/streams/all'); } catch { return; }
    const tbody = clear($('#streams-table tbody'));
    if (list.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 11, class: 'muted' }, 'No streams (POST /gw/streams).')));
    for (const s of list) {
      const c = s.counters || {};
      tbody.append(h('tr', { class: 'stream-row' },
        h('td', { class: 'num' }, s.id), h('td', {}, s.name), h('td', {}, s.protocol_name),
        h('td', {}, h('span', { class: s.connected ? 'dot on' : 'dot off' }), ' ', s.enabled ? s.state || '' : 'disabled'),
        h('td', { class: 'num' }, s.queue_size), h('td', { class: 'num' }, c.lag !== undefined ? `${c.lag.toFixed(1)} s` : ''),
        h('td', { class: 'num' }, c.read ?? ''), h('td', { class: 'num' }, c.accepted ?? ''), h('td', { class: 'num' }, c.rejected ?? ''),
        h('td', { class: 'num' }, c.dead_lettered ?? ''), h('td', { class: 'error small' }, c.last_error || '')));
    }
  }

  async connections() {
    const pane = $('#connections-pane');
    if (this.selected === null) { pane.hidden = true; return; }
    let list;
    try { list = await this.app.api.list(`/gw/channels/${this.selected}/connections`); } catch { return; }
    pane.hidden = false;
    $('#connections-title').textContent = `Connections of channel ${this.selected}`;
    const tbody = clear($('#connections-table tbody'));
    if (list.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No connections.')));
    for (const c of list) {
      const dev = c.ident ? this.app.deviceByIdent(c.ident) : null;
      tbody.append(h('tr', { class: 'connection-row', dataset: { ident: c.ident || '' } },
        h('td', { class: 'num' }, c.id), h('td', { class: 'mono' }, c.ident || '(not identified)'), h('td', { class: 'mono' }, `${c.network} ${c.peer}`),
        h('td', { title: c.since }, time(Date.parse(c.since) / 1000)), h('td', {}, ago(Date.parse(c.last_activity) / 1000)),
        h('td', { class: 'num' }, `${bytes(c.bytes_in)} / ${bytes(c.bytes_out)}`), h('td', { class: 'num' }, `${c.messages_in} / ${c.messages_out}`),
        h('td', { class: 'num' }, c.pending),
        h('td', {}, dev ? h('button', { type: 'button', class: 'close-connection', onclick: () => this.close(dev) }, 'close') : '')));
    }
  }

  // close closes a device's connections (DELETE /gw/devices/{id}/connections).
  async close(dev) {
    try { await this.app.api.del(`/gw/devices/${dev.id}/connections`); } catch (e) { window.alert(e.reason || e.message); }
    this.refresh();
  }

  async closeAll() {
    if (this.selected === null || !window.confirm(`Close every connection of channel ${this.selected}?`)) return;
    try { await this.app.api.del(`/gw/channels/${this.selected}/connections`); } catch (e) { window.alert(e.reason || e.message); }
    this.refresh();
  }

  async send() {
    const err = $('#command-error');
    err.textContent = '';
    const id = this.cmdDevice.value;
    if (!id) return;
    const cmd = { name: $('#command-name').value.trim() || 'custom', properties: { text: $('#command-text').value }, ttl: Number($('#command-ttl').value) || 0 };
    try { await this.app.api.post(`/gw/devices/${id}/commands`, [cmd]); } catch (e) { err.textContent = e.reason || e.message; }
    this.commands();
  }

  async commands() {
    const id = this.cmdDevice.value;
    const tbody = $('#commands-table tbody');
    if (!id) { clear(tbody); return; }
    let list;
    try { list = await this.app.api.list(`/gw/devices/${id}/commands`); } catch { return; }
    clear(tbody);
    if (list.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, `No commands for device ${id}.`)));
    for (const c of list.slice().reverse()) {
      tbody.append(h('tr', { class: 'command-row' },
        h('td', { class: 'num' }, c.id), h('td', {}, c.name), h('td', { class: 'mono' }, (c.properties && c.properties.text) || ''),
        h('td', {}, h('span', { class: `chip status-${c.status}` }, c.status)),
        h('td', { class: c.error ? 'error' : 'mono' }, c.response || c.error || ''), h('td', { class: 'muted' }, time(c.timestamp))));
    }
  }
}
