// The web `fetch` with Headers, Request and Response, on the same Rust HTTP client as `http`
// (redirects followed there when `redirect` is 'follow'). Bodies: strings, Buffers and typed
// arrays, ArrayBuffer, URLSearchParams, Node Readables and async iterables. `Response.body` is
// a minimal reader (`getReader().read()` and `for await`); Blob and FormData are not provided.
const { Buffer } = require('buffer/');
const { URL, URLSearchParams } = require('./url.js');
const { systemError, abortError } = require('./errors.js');
const zlib = require('./zlib.js');
const { STATUS_CODES } = require('../generated/constants.js');
const ops = Deno.core.ops;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

class Headers {
  #map = new Map();
  constructor(init) {
    if (init instanceof Headers) init.forEach((value, name) => this.append(name, value));
    else if (init != null && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        if (pair.length !== 2) throw new TypeError('Headers constructor: expected name/value pair to be length 2');
        this.append(pair[0], pair[1]);
      }
    } else if (init != null) for (const name of Object.keys(init)) this.append(name, init[name]);
  }
  #key(name) {
    name = String(name);
    if (!TOKEN.test(name)) throw new TypeError(`Headers: invalid header name "${name}"`);
    return name.toLowerCase();
  }
  append(name, value) {
    const key = this.#key(name);
    (this.#map.get(key) ?? this.#map.set(key, []).get(key)).push(String(value).trim());
  }
  set(name, value) {
    this.#map.set(this.#key(name), [String(value).trim()]);
  }
  delete(name) {
    this.#map.delete(this.#key(name));
  }
  get(name) {
    const values = this.#map.get(this.#key(name));
    return values ? values.join(', ') : null;
  }
  getSetCookie() {
    return [...(this.#map.get('set-cookie') ?? [])];
  }
  has(name) {
    return this.#map.has(this.#key(name));
  }
  forEach(fn, thisArg) {
    for (const [name, value] of this) fn.call(thisArg, value, name, this);
  }
  *entries() {
    for (const name of [...this.#map.keys()].sort()) {
      if (name === 'set-cookie') for (const v of this.#map.get(name)) yield [name, v];
      else yield [name, this.get(name)];
    }
  }
  *keys() {
    for (const [name] of this.entries()) yield name;
  }
  *values() {
    for (const [, value] of this.entries()) yield value;
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  get [Symbol.toStringTag]() {
    return 'Headers';
  }
}

// A body is bytes already (`bytes`) or a source to drain once (`pull`: () => Promise<chunk|null>).
class Body {
  #bytes;
  #pull;
  #used = false;
  #encoding;
  constructor(bytes, pull = null, encoding = null) {
    this.#bytes = bytes;
    this.#pull = pull;
    this.#encoding = encoding;
  }
  get used() {
    return this.#used;
  }
  get empty() {
    return this.#bytes === null && this.#pull === null;
  }
  async all() {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    let bytes = this.#bytes;
    if (this.#pull) {
      const chunks = [];
      for (let c; (c = await this.#pull()) !== null; ) chunks.push(c);
      bytes = Buffer.concat(chunks);
    }
    bytes = Buffer.from(bytes ?? []);
    if (this.#encoding === 'gzip' || this.#encoding === 'x-gzip') return zlib.gunzipSync(bytes);
    if (this.#encoding === 'deflate') return zlib.inflateSync(bytes);
    return bytes;
  }
  stream() {
    if (this.empty) return null;
    const next = async () => {
      if (this.#used) return { done: true, value: undefined };
      if (!this.#pull || this.#encoding) {
        const value = new Uint8Array(await this.all());
        return { done: false, value };
      }
      const chunk = await this.#pull();
      if (chunk === null) {
        this.#used = true;
        return { done: true, value: undefined };
      }
      return { done: false, value: new Uint8Array(chunk) };
    };
    return {
      locked: false,
      getReader: () => ({ read: next, releaseLock() {}, cancel: async () => {} }),
      [Symbol.asyncIterator]: () => ({ next }),
      cancel: async () => {},
    };
  }
}

// Request bodies as bytes, and the content-type a body type implies.
async function bodyBytes(body) {
  if (body === undefined || body === null) return [null, null];
  if (typeof body === 'string') return [Buffer.from(body), 'text/plain;charset=UTF-8'];
  if (body instanceof URLSearchParams) return [Buffer.from(body.toString()), 'application/x-www-form-urlencoded;charset=UTF-8'];
  if (ArrayBuffer.isView(body)) return [Buffer.from(body.buffer, body.byteOffset, body.byteLength), null];
  if (body instanceof ArrayBuffer) return [Buffer.from(body), null];
  if (typeof body[Symbol.asyncIterator] === 'function') {
    const chunks = [];
    for await (const c of body) chunks.push(typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
    return [Buffer.concat(chunks), null];
  }
  throw new TypeError(`fetch: this body type is not supported by Rectus (${Object.prototype.toString.call(body)})`);
}

const kBody = Symbol('body');
const kSource = Symbol('source');

function mixBody(Class) {
  Object.defineProperties(Class.prototype, {
    body: { get() { return this[kBody].stream(); } },
    bodyUsed: { get() { return this[kBody].used; } },
  });
  Class.prototype.arrayBuffer = async function () {
    const b = await this[kBody].all();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  Class.prototype.bytes = async function () {
    return new Uint8Array(await this.arrayBuffer());
  };
  Class.prototype.text = async function () {
    return (await this[kBody].all()).toString('utf8');
  };
  Class.prototype.json = async function () {
    return JSON.parse(await this.text());
  };
  Class.prototype.blob = async function () {
    throw new TypeError('Blob is not available to Rectus hooks; use arrayBuffer()');
  };
  Class.prototype.formData = async function () {
    throw new TypeError('FormData is not available to Rectus hooks');
  };
}

class Request {
  constructor(input, init = {}) {
    const from = input instanceof Request ? input : null;
    let url;
    try {
      url = new URL(from ? from.url : String(input));
    } catch {
      throw new TypeError(`Failed to parse URL from ${input}`);
    }
    this.url = url.href;
    this.method = String(init.method ?? from?.method ?? 'GET').toUpperCase();
    this.headers = new Headers(init.headers ?? from?.headers);
    this.redirect = init.redirect ?? from?.redirect ?? 'follow';
    this.signal = init.signal ?? from?.signal ?? null;
    this.credentials = 'same-origin';
    this.mode = 'cors';
    this.cache = 'default';
    const body = init.body !== undefined ? init.body : from?.[kSource];
    if (body != null && (this.method === 'GET' || this.method === 'HEAD')) throw new TypeError('Request with GET/HEAD method cannot have body.');
    this[kSource] = body;
    const bytes = typeof body === 'string' ? Buffer.from(body) : ArrayBuffer.isView(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : null;
    this[kBody] = new Body(bytes);
  }
  clone() {
    return new Request(this);
  }
}
mixBody(Request);

class Response {
  constructor(body = null, init = {}, source = null) {
    this.status = init.status ?? 200;
    if (this.status < 200 || this.status > 599) throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
    this.statusText = init.statusText ?? '';
    this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    this.url = source?.url ?? '';
    this.redirected = source?.redirected ?? false;
    this.type = source?.type ?? 'default';
    if (source) this[kBody] = source.body;
    else {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body instanceof URLSearchParams ? Buffer.from(body.toString()) : ArrayBuffer.isView(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : body instanceof ArrayBuffer ? Buffer.from(body) : null;
      if (body != null && bytes === null) throw new TypeError('Response: this body type is not supported by Rectus');
      if (typeof body === 'string' && !this.headers.has('content-type')) this.headers.set('content-type', 'text/plain;charset=UTF-8');
      this[kBody] = new Body(bytes);
    }
  }
  get ok() {
    return this.status >= 200 && this.status < 300;
  }
  clone() {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    const pending = this[kBody].all();
    const copy = () => new Body(null, (() => {
      let done = false;
      return async () => (done ? null : ((done = true), await pending));
    })());
    this[kBody] = copy();
    return new Response(null, this, { url: this.url, redirected: this.redirected, type: this.type, body: copy() });
  }
  static json(data, init = {}) {
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(JSON.stringify(data), { ...init, headers });
  }
  static error() {
    const r = new Response(null, { status: 200 });
    Object.assign(r, { status: 0, type: 'error' });
    return r;
  }
  static redirect(url, status = 302) {
    return new Response(null, { status, headers: { location: new URL(url).href } });
  }
}
mixBody(Response);

const fetchFailed = (cause) => new TypeError('fetch failed', { cause });

async function fetch(input, init) {
  const request = new Request(input, init);
  const signal = request.signal;
  if (signal?.aborted) throw signal.reason ?? abortError();
  const [body, type] = await bodyBytes(request[kSource]);
  if (type && !request.headers.has('content-type')) request.headers.set('content-type', type);
  const url = new URL(request.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fetchFailed(new Error(`fetch: the ${url.protocol} scheme is not supported`));
  const headers = [...request.headers];
  if (!request.headers.has('accept')) headers.push(['accept', '*/*']);
  if (!request.headers.has('user-agent')) headers.push(['user-agent', 'node']);

  let onAbort;
  const aborted = new Promise((_, reject) => {
    onAbort = () => reject(signal.reason ?? abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  const sent = ops.op_node_http_request({ method: request.method, url: url.href, headers, follow: request.redirect === 'follow' }, body ?? new Uint8Array(0));
  let head;
  try {
    head = await Promise.race([sent.catch((e) => Promise.reject(fetchFailed(systemError(e)))), aborted]);
  } catch (e) {
    sent.then((h) => ops.op_node_http_close(h.rid), () => {});
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (request.redirect === 'error' && head.status >= 300 && head.status < 400) {
    ops.op_node_http_close(head.rid);
    throw fetchFailed(new Error('unexpected redirect'));
  }
  let rid = head.rid;
  const pull = async () => {
    if (rid === null) return null;
    if (signal?.aborted) {
      ops.op_node_http_close(rid);
      rid = null;
      throw signal.reason ?? abortError();
    }
    const chunk = await ops.op_node_http_read(rid).catch((e) => Promise.reject(fetchFailed(systemError(e))));
    if (chunk === null) {
      ops.op_node_http_close(rid);
      rid = null;
    }
    return chunk;
  };
  const responseHeaders = new Headers(head.headers);
  const encoding = responseHeaders.get('content-encoding')?.toLowerCase() ?? null;
  const nullBody = request.method === 'HEAD' || head.status === 204 || head.status === 304;
  if (nullBody) ops.op_node_http_close(rid);
  const response = new Response(null, { status: 200, headers: responseHeaders }, {
    url: head.url,
    redirected: head.url !== url.href,
    type: 'basic',
    body: nullBody ? new Body(null) : new Body(null, pull, encoding),
  });
  response.status = head.status;
  response.statusText = head.statusText || STATUS_CODES[head.status] || '';
  return response;
}

module.exports = { fetch, Headers, Request, Response };
