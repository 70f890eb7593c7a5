// Expressions: evaluate an expression, a selector or a $filter
// subscription against a pasted message or a device's last message, with
// the parser's error and caret inline (POST /gw/expressions).

import { $, h, caret } from './dom.js';

export class ExpressionsView {
  constructor(app) {
    this.app = app;
    this.kind = $('#expr-kind');
    this.subject = $('#expr-subject');
    this.device = $('#expr-device');
    this.text = $('#expr-text');
    this.message = $('#expr-message');
    this.topic = $('#expr-topic');
    this.caret = $('#expr-caret');
    this.result = $('#expr-result');
    $('#expr-form').addEventListener('submit', (e) => { e.preventDefault(); this.evaluate(); });
    for (const el of [this.kind, this.subject]) el.addEventListener('change', () => { this.layout(); this.evaluate(); });
    this.device.addEventListener('change', () => this.evaluate());
    // Evaluate while typing, after a pause.
    for (const el of [this.text, this.message, this.topic]) {
      el.addEventListener('input', () => { clearTimeout(this.timer); this.timer = setTimeout(() => this.evaluate(), 400); });
    }
    app.on('devices', () => app.fillDevices(this.device));
    app.on('select', () => { this.device.value = String(app.current); });
    this.layout();
  }

  show() { this.app.fillDevices(this.device); }
  hide() {}

  layout() {
    const pasted = this.subject.value === 'pasted';
    $('#expr-device-label').hidden = pasted;
    $('#expr-message-label').hidden = !pasted;
    $('#expr-topic-label').hidden = this.kind.value !== 'topic';
    this.subject.options[0].textContent = this.kind.value === 'selector' ? 'the device (its REST object)' : "the device's last message";
  }

  async evaluate() {
    const text = this.text.value;
    if (!text.trim()) { this.result.replaceChildren(); this.caret.hidden = true; return; }
    const req = { expression: text, kind: this.kind.value };
    if (this.subject.value === 'pasted') {
      try {
        req.message = JSON.parse(this.message.value);
      } catch (e) {
        this.show1(h('p', { class: 'error' }, 'The message is not JSON: ' + e.message));
        return;
      }
    } else {
      req.device_id = Number(this.device.value);
    }
    if (this.kind.value === 'topic' && this.topic.value.trim()) req.topic = this.topic.value.trim();
    const seq = this.seq = (this.seq || 0) + 1;
    let r;
    try {
      r = (await this.app.api.post('/gw/expressions', req)).result[0];
    } catch (e) {
      if (seq === this.seq) { this.caret.hidden = true; this.show1(h('p', { class: 'error' }, e.reason || e.message)); }
      return;
    }
    if (seq !== this.seq) return; // a later evaluation is on its way
    this.render(r, text);
  }

  show1(...nodes) { this.result.replaceChildren(...nodes); }

  render(r, text) {
    if (!r.valid) {
      const e = r.error;
      caret(this.caret, text, e.offset, e.reason);
      this.caret.classList.add('bad');
      this.show1(h('p', { class: 'error', id: 'expr-error' }, `${e.reason} — line ${e.line}, column ${e.column}`));
      return;
    }
    this.caret.hidden = true;
    const verdict = r.matched;
    const what = { expression: verdict ? 'the filter passes the message' : 'the filter does not pass the message',
      selector: verdict ? 'the selector selects it' : 'the selector does not select it',
      topic: verdict ? 'the subscription receives the message' : 'the subscription does not receive the message' }[r.kind];
    const rows = [h('tr', {}, h('th', {}, 'verdict'), h('td', {}, h('span', { class: verdict ? 'badge yes' : 'badge no', id: 'expr-verdict' }, String(verdict)), ' ', what))];
    if (r.value !== undefined) rows.push(h('tr', {}, h('th', {}, 'value'), h('td', { class: 'mono', id: 'expr-value' }, JSON.stringify(r.value))));
    if (r.eval_error) rows.push(h('tr', {}, h('th', {}, 'no value'), h('td', { class: 'error' }, `${r.eval_error.reason}${r.eval_error.column ? ` (column ${r.eval_error.column})` : ''}`)));
    if (r.canonical) rows.push(h('tr', {}, h('th', {}, 'canonical form'), h('td', { class: 'mono' }, r.canonical)));
    if (r.fields && r.fields.length) rows.push(h('tr', {}, h('th', {}, 'reads'), h('td', { class: 'mono' }, r.fields.join(', '))));
    if (r.kind === 'topic') {
      rows.push(h('tr', {}, h('th', {}, 'topic filter'), h('td', { class: 'mono' }, r.topic_filter, r.share ? ` (shared by group ${r.share})` : '')));
      rows.push(h('tr', {}, h('th', {}, 'published on'), h('td', { class: 'mono' }, r.topic, r.topic_matched ? ' — the topic matches' : ' — the topic does not match')));
    }
    this.show1(h('table', { class: 'grid kv-table' }, h('tbody', {}, rows)),
      h('details', {}, h('summary', {}, r.kind === 'selector' && this.subject.value !== 'pasted' ? 'the device object tested' : 'the message tested'),
        h('pre', { class: 'mono' }, JSON.stringify(r.message, null, 1))));
  }
}
