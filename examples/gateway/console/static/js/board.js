// The MQTT board: subscribe to what the token allows, publish, and see
// retained state.

import { $, h, clear, time } from './dom.js';
import { payloadText, reasonText } from './mqtt.js';

const maxMessages = 500;
const maxPayload = 4096;

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 1); } catch { return text; }
}

function userProp(m, key) {
  for (const [k, v] of m.props.user) if (k === key) return v;
  return '';
}

export class BoardView {
  constructor(app) {
    this.app = app;
    this.subs = new Map(); // filter -> handle
    this.retained = new Map(); // topic -> row
    this.board = $('#board tbody');
    $('#sub-form').addEventListener('submit', (e) => { e.preventDefault(); this.subscribe($('#sub-topic').value.trim(), Number($('#sub-qos').value)); });
    for (const b of document.querySelectorAll('#view-mqtt button[data-topic]')) {
      b.addEventListener('click', () => { $('#sub-topic').value = b.dataset.topic; this.subscribe(b.dataset.topic, 1); });
    }
    $('#pub-form').addEventListener('submit', (e) => { e.preventDefault(); this.publish(); });
    $('#board-clear').addEventListener('click', () => clear(this.board));
  }

  show() {}
  hide() {}

  async subscribe(filter, qos) {
    if (!filter || this.subs.has(filter)) return;
    const row = h('tr', { class: 'sub-row' }, h('td', { class: 'mono' }, filter), h('td', { class: 'muted' }, 'subscribing…'), h('td', {}));
    $('#subs tbody').append(row);
    let handle;
    try {
      handle = await this.app.subscribe(filter, qos, (m) => this.message(filter, m));
    } catch (e) {
      row.cells[1].textContent = e.message;
      row.cells[1].className = 'error';
      row.cells[2].append(h('button', { type: 'button', class: 'link', onclick: () => row.remove() }, 'remove'));
      return;
    }
    if (handle.code >= 0x80) {
      row.cells[1].textContent = 'refused: ' + reasonText(handle.code);
      row.cells[1].className = 'error';
      row.cells[2].append(h('button', { type: 'button', class: 'link', onclick: () => row.remove() }, 'remove'));
      return;
    }
    this.subs.set(filter, handle);
    row.cells[1].textContent = `QoS ${handle.code} granted`;
    row.cells[2].append(h('button', {
      type: 'button', class: 'link',
      onclick: async () => { this.subs.delete(filter); row.remove(); await this.app.mqtt.unsubscribe(handle).catch(() => {}); },
    }, 'unsubscribe'));
  }

  message(filter, m) {
    const text = payloadText(m.payload);
    const ts = userProp(m, 'timestamp');
    if (m.retain) this.retain(m.topic, text, ts);
    const shown = text.length > maxPayload ? text.slice(0, maxPayload) + '…' : text;
    const flags = [`QoS ${m.qos}`];
    if (m.retain) flags.push('retained');
    const tr = h('tr', { class: 'board-row fresh' },
      h('td', { class: 'muted', title: ts ? `timestamp ${ts}` : '' }, time(m.time / 1000)),
      h('td', { class: 'mono topic' }, m.topic, h('div', { class: 'muted small' }, 'via ' + filter)),
      h('td', {}, flags.map((f) => h('span', { class: f === 'retained' ? 'chip retained' : 'chip' }, f))),
      h('td', {}, h('pre', { class: 'payload' }, shown === '' ? '(empty)' : pretty(shown))));
    this.board.prepend(tr);
    while (this.board.rows.length > maxMessages) this.board.lastElementChild.remove();
  }

  // retain keeps the latest retained value of each topic; an empty one
  // clears it.
  retain(topic, text, ts) {
    const tbody = $('#retained tbody');
    const old = this.retained.get(topic);
    if (text === '') {
      if (old) old.remove();
      this.retained.delete(topic);
      return;
    }
    const tr = h('tr', { class: 'retained-row' }, h('td', { class: 'mono' }, topic), h('td', { class: 'mono' }, text.length > 200 ? text.slice(0, 200) + '…' : text),
      h('td', { class: 'muted' }, ts ? time(Number(ts)) : ''));
    if (old) old.replaceWith(tr);
    else {
      // Keep the table sorted by topic.
      const after = [...tbody.rows].find((r) => r.cells[0].textContent > topic);
      tbody.insertBefore(tr, after || null);
    }
    this.retained.set(topic, tr);
  }

  async publish() {
    const out = $('#pub-result');
    const topic = $('#pub-topic').value.trim();
    if (!this.app.mqtt) { out.textContent = 'MQTT over WebSocket is not served by this gateway'; return; }
    try {
      const code = await this.app.mqtt.publish(topic, $('#pub-payload').value, { qos: Number($('#pub-qos').value), retain: $('#pub-retain').checked });
      out.textContent = Number($('#pub-qos').value) === 0 ? 'sent' : `acknowledged: ${reasonText(code)}`;
      out.className = code >= 0x80 ? 'error' : 'hint';
    } catch (e) {
      out.textContent = e.message;
      out.className = 'error';
    }
  }
}
