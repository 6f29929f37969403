// Node's `net` client side: `Socket` is a Duplex over a tokio TCP stream held by Rust
// (crates/hooks/src/node/net.rs). One read op is in flight while the stream wants data; writes
// go out in order through the Duplex's own queue. Servers are not provided.
const { Duplex } = require('./stream.js');
const { Buffer } = require('buffer/');
const dns = require('./dns.js');
const { systemError } = require('./errors.js');
const ops = Deno.core.ops;

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const isIPv4 = (s) => IPV4.test(String(s));
function isIPv6(s) {
  s = String(s);
  if (!s.includes(':') || /[^0-9a-fA-F:.%]/.test(s.split('%')[0])) return false;
  try {
    new (require('./url.js').URL)(`http://[${s.split('%')[0]}]/`);
    return true;
  } catch {
    return false;
  }
}
const isIP = (s) => (isIPv4(s) ? 4 : isIPv6(s) ? 6 : 0);

function normalizeConnectArgs(args) {
  let [first, second, third] = args;
  let options, cb;
  if (first !== null && typeof first === 'object') [options, cb] = [{ ...first }, second];
  else if (typeof first === 'string' && !/^\d+$/.test(first)) [options, cb] = [{ path: first }, second];
  else if (typeof second === 'string') [options, cb] = [{ port: first, host: second }, third];
  else [options, cb] = [{ port: first }, second];
  return [options, typeof cb === 'function' ? cb : undefined];
}

class Socket extends Duplex {
  constructor(options = {}) {
    super({ allowHalfOpen: Boolean(options.allowHalfOpen), emitClose: true, decodeStrings: true });
    this.connecting = false;
    this.pending = true;
    this.bytesRead = 0;
    this.bytesWritten = 0;
    this.remoteAddress = undefined;
    this.remotePort = undefined;
    this.remoteFamily = undefined;
    this.localAddress = undefined;
    this.localPort = undefined;
    this._rid = null;
    this._readPending = false;
    this._wantRead = false;
    this._idleMs = 0;
    this._idleTimer = null;
    // Writes wait for this event while connecting (TLS sockets: 'secureConnect').
    this._openEvent = 'connect';
  }

  connect(...args) {
    const [options, cb] = normalizeConnectArgs(args);
    if (options.path) throw new Error('net: Unix domain sockets are not available to Rectus hooks');
    const port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      const e = new RangeError(`Port should be >= 0 and < 65536. Received ${options.port}.`);
      e.code = 'ERR_SOCKET_BAD_PORT';
      throw e;
    }
    const host = options.host || 'localhost';
    if (cb) this.once('connect', cb);
    this.connecting = true;
    const lookup = options.lookup || dns.lookup;
    const resolved = (address, family) => {
      this.emit('lookup', null, address, family, host);
      ops.op_node_tcp_connect(address, port).then(
        (info) => {
          if (this.destroyed) return ops.op_node_tcp_close(info.rid);
          Object.assign(this, { remoteAddress: info.remoteAddress, remotePort: info.remotePort, remoteFamily: info.remoteFamily, localAddress: info.localAddress, localPort: info.localPort });
          this._connected(info.rid);
        },
        (e) => this.destroy(systemError(e, { address, port })),
      );
    };
    if (isIP(host)) globalThis.process.nextTick(resolved, host, isIP(host));
    else
      lookup(host, { family: options.family || 0 }, (err, address, family) => {
        if (err) {
          this.emit('lookup', err, address, family, host);
          return this.destroy(err);
        }
        resolved(address, family);
      });
    return this;
  }

  // The connection `rid` is open (tls.js overrides this to wrap it in TLS first).
  _connected(rid) {
    Object.assign(this, { _rid: rid, connecting: false, pending: false });
    this._touch();
    this.emit('connect');
    this.emit('ready');
    if (this._wantRead) this._read();
  }

  // Hands the connection over (to a TLSSocket upgrading it); this socket reads no more.
  _release() {
    const rid = this._rid;
    this._rid = null;
    this._readPending = false;
    return rid;
  }

  _read() {
    if (this._rid === null) {
      this._wantRead = true;
      return;
    }
    if (this._readPending) return;
    this._readPending = true;
    const rid = this._rid;
    ops.op_node_tcp_read(rid).then(
      (chunk) => {
        if (this._rid !== rid) return;
        this._readPending = false;
        if (this.destroyed) return;
        if (chunk === null) return this.push(null);
        this.bytesRead += chunk.length;
        this._touch();
        if (this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))) this._read();
      },
      (e) => {
        if (this._rid !== rid) return;
        this._readPending = false;
        if (!this.destroyed) this.destroy(systemError(e));
      },
    );
  }

  _write(chunk, encoding, cb) {
    if (this.connecting) {
      this.once(this._openEvent, () => this._write(chunk, encoding, cb));
      return;
    }
    if (this._rid === null) return cb(new Error('This socket is closed'));
    ops.op_node_tcp_write(this._rid, chunk).then(
      () => {
        this.bytesWritten += chunk.length;
        this._touch();
        cb();
      },
      (e) => cb(systemError(e)),
    );
  }

  _final(cb) {
    if (this._rid === null) return cb();
    ops.op_node_tcp_shutdown(this._rid).then(() => cb(), (e) => cb(systemError(e)));
  }

  _destroy(err, cb) {
    clearTimeout(this._idleTimer);
    if (this._rid !== null) ops.op_node_tcp_close(this._rid);
    this._rid = null;
    this.connecting = false;
    cb(err);
  }

  // The idle timeout: 'timeout' after `ms` without reads or writes (the socket stays open).
  setTimeout(ms, cb) {
    this._idleMs = ms;
    if (cb) this.once('timeout', cb);
    this._touch();
    return this;
  }

  _touch() {
    clearTimeout(this._idleTimer);
    this._idleTimer = this._idleMs > 0 && !this.destroyed ? setTimeout(() => this.emit('timeout'), this._idleMs) : null;
  }

  get readyState() {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  address() {
    return this.localAddress ? { address: this.localAddress, family: this.remoteFamily, port: this.localPort } : {};
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
}

const connect = (...args) => {
  const [options] = normalizeConnectArgs(args);
  const socket = new Socket(options);
  if (options.timeout) socket.setTimeout(options.timeout);
  return socket.connect(...args);
};

const noServer = () => {
  throw new Error('net.createServer() is not available to Rectus hooks');
};

module.exports = { Socket, Stream: Socket, connect, createConnection: connect, isIP, isIPv4, isIPv6, createServer: noServer, Server: noServer };
