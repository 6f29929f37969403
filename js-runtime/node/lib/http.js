// Node's `http` client on the Rust HTTP client (reqwest, crates/hooks/src/node/http.rs).
// `ClientRequest` is a Writable that collects the body and sends the request at `end()`;
// `IncomingMessage` is a Readable pulling the response body chunk by chunk from Rust. Events
// follow Node's order ('socket', 'finish', 'response', the response's 'end', then 'close'),
// which is what axios (through follow-redirects), got@11 and node-fetch@2 listen to.
// Connection pooling is reqwest's; agents are accepted and only their TLS options are read.
// Servers are not provided.
const EventEmitter = require('events/');
const { Writable, Readable } = require('./stream.js');
const { Buffer } = require('buffer/');
const { URL, urlToHttpOptions } = require('./url.js');
const { systemError, abortError } = require('./errors.js');
const { tlsOptions } = require('./tls-options.js');
const { STATUS_CODES, METHODS } = require('../generated/constants.js');
const ops = Deno.core.ops;

class Agent extends EventEmitter {
  constructor(options = {}) {
    super();
    this.options = { ...options };
    this.keepAlive = Boolean(options.keepAlive);
    this.maxSockets = options.maxSockets ?? Infinity;
    this.maxFreeSockets = options.maxFreeSockets ?? 256;
    this.maxTotalSockets = options.maxTotalSockets ?? Infinity;
    this.sockets = {};
    this.freeSockets = {};
    this.requests = {};
    this.defaultPort = 80;
    this.protocol = 'http:';
  }
  getName(o = {}) {
    return `${o.host || 'localhost'}:${o.port || ''}:${o.localAddress || ''}`;
  }
  destroy() {}
}
const globalAgent = new Agent();

// Node keeps the first value of these when a response repeats them, and joins the others.
const SINGLE = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

function headerObject(pairs) {
  const headers = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    if (key === 'set-cookie') (headers[key] ||= []).push(value);
    else if (!(key in headers)) headers[key] = value;
    else if (!SINGLE.has(key)) headers[key] += (key === 'cookie' ? '; ' : ', ') + value;
  }
  return headers;
}

// Stands in for the connection: what libraries read from or call on `req.socket`.
function requestSocket(req) {
  const socket = new EventEmitter();
  Object.assign(socket, {
    connecting: false,
    writable: true,
    readable: true,
    destroyed: false,
    encrypted: req.protocol === 'https:' ? true : undefined,
    authorized: req.protocol === 'https:' ? true : undefined,
    remoteAddress: req.host,
    remotePort: Number(req.port),
    remoteFamily: req.host.includes(':') ? 'IPv6' : 'IPv4',
    localAddress: undefined,
    localPort: undefined,
    bytesWritten: 0,
    bytesRead: 0,
    setTimeout: (ms, cb) => {
      req._idle(ms, cb && (() => cb.call(socket)));
      return socket;
    },
    setNoDelay: () => socket,
    setKeepAlive: () => socket,
    ref: () => socket,
    unref: () => socket,
    address: () => ({}),
    destroy: (e) => {
      req.destroy(e);
      return socket;
    },
    end: () => socket,
    write: () => true,
    getPeerCertificate: () => ({}),
    getProtocol: () => (req.protocol === 'https:' ? 'TLSv1.3' : null),
    alpnProtocol: false,
  });
  return socket;
}

class IncomingMessage extends Readable {
  constructor(socket, head) {
    super();
    this.socket = this.connection = socket;
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.httpVersion = '1.1';
    this.statusCode = head.status;
    this.statusMessage = head.statusText || STATUS_CODES[head.status] || '';
    this.rawHeaders = head.headers.flat();
    this.headers = headerObject(head.headers);
    this.headersDistinct = {};
    for (const [name, value] of head.headers) (this.headersDistinct[name.toLowerCase()] ||= []).push(value);
    this.trailers = {};
    this.rawTrailers = [];
    this.complete = false;
    this.aborted = false;
    this.url = '';
    this.method = null;
    this._rid = head.rid;
    this._reading = false;
  }

  _read() {
    if (this._reading || this._rid === null) return;
    this._reading = true;
    ops.op_node_http_read(this._rid).then(
      (chunk) => {
        this._reading = false;
        if (this.destroyed) return;
        if (chunk === null) {
          this.complete = true;
          this._release();
          return this.push(null);
        }
        this.socket.bytesRead += chunk.length;
        this.req?._touch();
        if (this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))) this._read();
      },
      (e) => {
        this._reading = false;
        if (!this.destroyed) this.destroy(systemError(e));
      },
    );
  }

  _release() {
    if (this._rid !== null) ops.op_node_http_close(this._rid);
    this._rid = null;
  }

  _destroy(err, cb) {
    if (!this.complete) {
      this.aborted = true;
      this.emit('aborted');
    }
    this._release();
    cb(err);
  }

  setTimeout(ms, cb) {
    this.socket.setTimeout(ms, cb);
    return this;
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function invalidArg(code, message) {
  const e = new TypeError(message);
  e.code = code;
  return e;
}

class ClientRequest extends Writable {
  constructor(input, options, cb, defaults = { protocol: 'http:', port: 80, agent: globalAgent }) {
    // Not destroyed after 'finish': the response is still to come.
    super({ emitClose: false, autoDestroy: false, decodeStrings: true });
    if (typeof input === 'string') input = urlToHttpOptions(new URL(input));
    else if (input instanceof URL) input = urlToHttpOptions(input);
    else [cb, options, input] = [options, input, {}];
    if (typeof options === 'function') [cb, options] = [options, {}];
    options = { ...input, ...options };

    this.agent = options.agent === undefined ? defaults.agent : options.agent;
    const protocol = options.protocol || this.agent?.protocol || defaults.protocol;
    if (protocol !== defaults.protocol) throw invalidArg('ERR_INVALID_PROTOCOL', `Protocol "${protocol}" not supported. Expected "${defaults.protocol}"`);
    this.protocol = protocol;
    this.method = String(options.method || 'GET').toUpperCase();
    if (!TOKEN.test(this.method)) throw invalidArg('ERR_INVALID_HTTP_TOKEN', `Method must be a valid HTTP token ["${options.method}"]`);
    this.host = options.hostname || (options.host || 'localhost').replace(/:\d+$/, '');
    if (this.host.startsWith('[')) this.host = this.host.slice(1, -1);
    this.port = options.port || this.agent?.defaultPort || defaults.port;
    this.path = options.path || '/';
    if (/[\u0000-\u0020]/.test(this.path)) throw invalidArg('ERR_UNESCAPED_CHARACTERS', 'Request path contains unescaped characters');
    this._tls = protocol === 'https:' ? tlsOptions({ ...this.agent?.options, ...options }) : undefined;
    this._headers = new Map();
    const given = options.headers;
    if (Array.isArray(given)) for (let i = 0; i < given.length; i += 2) this.setHeader(given[i], given[i + 1]);
    else if (given) for (const [k, v] of Object.entries(given)) if (v !== undefined) this.setHeader(k, v);
    if (options.auth && !this.hasHeader('authorization')) this.setHeader('Authorization', 'Basic ' + Buffer.from(options.auth).toString('base64'));

    this._chunks = [];
    this._timer = null;
    this._idleMs = 0;
    this._closed = false;
    this.aborted = false;
    this.reusedSocket = false;
    this.maxHeadersCount = null;
    this.res = null;
    this.headersSent = false;
    // As in Node, `req.socket` is set when 'socket' is emitted.
    this.socket = this.connection = null;
    this._socket = requestSocket(this);
    if (cb) this.once('response', cb);
    if (options.timeout) this.setTimeout(options.timeout);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) globalThis.process.nextTick(() => this.destroy(abortError(signal.reason)));
      else signal.addEventListener('abort', () => this.destroy(abortError(signal.reason)), { once: true });
    }
    globalThis.process.nextTick(() => {
      if (this.destroyed) return;
      this.socket = this.connection = this._socket;
      this.emit('socket', this.socket);
      this.socket.emit('connect');
    });
  }

  setHeader(name, value) {
    if (this.headersSent) throw invalidArg('ERR_HTTP_HEADERS_SENT', 'Cannot set headers after they are sent to the client');
    if (typeof name !== 'string' || !TOKEN.test(name)) throw invalidArg('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
    if (value === undefined) throw invalidArg('ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "undefined" for header "${name}"`);
    this._headers.set(name.toLowerCase(), [name, value]);
    return this;
  }
  getHeader(name) {
    return this._headers.get(String(name).toLowerCase())?.[1];
  }
  hasHeader(name) {
    return this._headers.has(String(name).toLowerCase());
  }
  removeHeader(name) {
    this._headers.delete(String(name).toLowerCase());
  }
  getHeaders() {
    return Object.fromEntries([...this._headers].map(([k, [, v]]) => [k, v]));
  }
  getHeaderNames() {
    return [...this._headers.keys()];
  }
  getRawHeaderNames() {
    return [...this._headers.values()].map(([n]) => n);
  }
  flushHeaders() {}
  setNoDelay() {}
  setSocketKeepAlive() {}

  // Node's socket idle timeout: 'timeout' after `ms` without progress; the request stays open.
  setTimeout(ms, cb) {
    this._idle(ms, cb);
    return this;
  }
  _idle(ms, cb) {
    if (cb) this.once('timeout', cb);
    this._idleMs = ms;
    this._touch();
  }
  _touch() {
    clearTimeout(this._timer);
    this._timer = this._idleMs > 0 && !this._closed ? setTimeout(() => {
      this.emit('timeout');
      this._socket.emit('timeout');
    }, this._idleMs) : null;
  }

  abort() {
    if (this.aborted) return;
    this.aborted = true;
    globalThis.process.nextTick(() => this.emit('abort'));
    this.destroy();
  }

  _write(chunk, encoding, cb) {
    this._chunks.push(chunk);
    cb();
  }

  _final(cb) {
    this.headersSent = true;
    this._send();
    cb();
  }

  _send() {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    const url = `${this.protocol}//${host}:${this.port}${this.path}`;
    const headers = [];
    for (const [name, value] of this._headers.values()) {
      for (const v of Array.isArray(value) ? value : [value]) headers.push([name, String(v)]);
    }
    const body = Buffer.concat(this._chunks);
    this._socket.bytesWritten = body.length;
    this._chunks = [];
    this._touch();
    ops.op_node_http_request({ method: this.method, url, headers, follow: false, tls: this._tls }, body).then(
      (head) => {
        if (this.destroyed) return ops.op_node_http_close(head.rid);
        const res = new IncomingMessage(this._socket, head);
        res.req = this;
        this.res = res;
        this._touch();
        res.once('end', () => this._finish());
        res.once('close', () => this._finish());
        if (!this.emit('response', res)) res.resume();
      },
      (e) => this.destroy(systemError(e)),
    );
  }

  _finish() {
    if (this._closed) return;
    this._closed = true;
    clearTimeout(this._timer);
    globalThis.process.nextTick(() => {
      this._socket.emit('close', false);
      this.emit('close');
    });
  }

  _destroy(err, cb) {
    if (this.res && !this.res.destroyed) this.res.destroy();
    this._socket.destroyed = true;
    cb(err);
    this._finish();
  }
}

function request(input, options, cb) {
  return new ClientRequest(input, options, cb);
}

function get(input, options, cb) {
  const req = request(input, options, cb);
  req.end();
  return req;
}

const noServer = () => {
  throw new Error('http.createServer() is not available to Rectus hooks');
};

// Servers are not provided; the class exists for libraries' `instanceof` checks.
class ServerResponse extends Writable {
  constructor() {
    super();
    noServer();
  }
}

module.exports = {
  Agent,
  globalAgent,
  ClientRequest,
  IncomingMessage,
  OutgoingMessage: Writable,
  ServerResponse,
  STATUS_CODES,
  METHODS,
  request,
  get,
  createServer: noServer,
  Server: noServer,
  maxHeaderSize: 16384,
  validateHeaderName: (name) => {
    if (!TOKEN.test(name)) throw invalidArg('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
  },
  validateHeaderValue: () => {},
};
