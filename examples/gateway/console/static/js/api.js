// The REST API, called as curl calls it: Authorization: FlespiToken <token>.

export class APIError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
    this.reason = reason;
  }
}

export class API {
  constructor(token) { this.token = token; }

  async call(method, path, body) {
    const init = { method, headers: { Authorization: 'FlespiToken ' + this.token }, cache: 'no-store' };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let resp;
    try {
      resp = await fetch(path, init);
    } catch (e) {
      throw new APIError(0, 'the gateway did not answer: ' + e.message);
    }
    let out = null;
    try {
      out = await resp.json();
    } catch {
      throw new APIError(resp.status, `${resp.status} ${resp.statusText}`);
    }
    if (!resp.ok || (out.errors && !out.result)) {
      const reason = out && out.errors ? out.errors.map((e) => e.reason).join('; ') : `${resp.status} ${resp.statusText}`;
      throw new APIError(resp.status, reason);
    }
    return out;
  }

  get(path) { return this.call('GET', path); }
  post(path, body) { return this.call('POST', path, body); }
  put(path, body) { return this.call('PUT', path, body); }
  del(path) { return this.call('DELETE', path); }

  // result returns an answer's result list.
  async list(path) { return (await this.get(path)).result || []; }
}

// seg encodes a path segment: a selector keeps its meaning (SplitPath
// decodes %2F without splitting).
export const seg = (s) => encodeURIComponent(String(s));

// data encodes flespi's data= query parameter.
export const data = (obj) => 'data=' + encodeURIComponent(JSON.stringify(obj));
