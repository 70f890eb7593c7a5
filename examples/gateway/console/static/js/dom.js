// Small DOM helpers: elements are built with h() and text is always set as
// text, never parsed as HTML (payloads and names come from devices).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function clear(el) { el.replaceChildren(); return el; }

// time formats Unix seconds as a local date and time.
export function time(ts) {
  if (!ts) return '—';
  const d = new Date(ts * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// ago says how long ago Unix time ts was.
export function ago(ts) {
  if (!ts) return 'never';
  const s = Math.max(0, Date.now() / 1000 - ts);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

// download saves text as a file named name.
export function download(name, text, type = 'text/plain') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// caret shows text with the byte at offset marked, and a line with a caret
// under it: where a parser stopped.
export function caret(el, text, offset, reason) {
  clear(el);
  const enc = new TextEncoder();
  // offset counts bytes; find the character it falls on.
  let chars = 0, b = 0;
  for (const ch of text) {
    const n = enc.encode(ch).length;
    if (b + n > offset) break;
    b += n;
    chars += ch.length;
  }
  const before = text.slice(0, chars);
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = before.length - lineStart;
  const lineEnd = text.indexOf('\n', chars);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  el.append(
    h('span', { class: 'caret-text' }, line.slice(0, column), h('mark', { text: line.slice(column, column + 1) || ' ' }), line.slice(column + 1)),
    '\n', ' '.repeat(column) + '^ ' + reason,
  );
  el.hidden = false;
}

// syntaxPlace reads "(line:column)" at the end of an API error's reason.
export function syntaxPlace(reason) {
  const m = /\((\d+):(\d+)\)\s*$/.exec(reason || '');
  return m ? { line: +m[1], column: +m[2] } : null;
}

// offsetOf turns a 1-based line and byte column into a byte offset.
export function offsetOf(text, line, column) {
  const lines = text.split('\n');
  let off = 0;
  const enc = new TextEncoder();
  for (let i = 0; i < line - 1 && i < lines.length; i++) off += enc.encode(lines[i]).length + 1;
  return off + column - 1;
}
