// Node's `tls` client: a TLSSocket is a net.Socket whose connection Rust wraps in rustls
// (crates/hooks/src/node/tls.rs) once TCP is up, or at once when `tls.connect({ socket })`
// upgrades a connected net.Socket (STARTTLS). Reads, writes and closing are net.Socket's.
// HTTPS requests don't come here: http.js sends them through the Rust HTTP client.
const net = require('./net.js');
const { Buffer } = require('buffer/');
const { tlsOptions } = require('./tls-options.js');
const { systemError } = require('./errors.js');
const ops = Deno.core.ops;

class TLSSocket extends net.Socket {
  constructor(socket, options = {}) {
    super(options);
    this.encrypted = true;
    this.authorized = false;
    this.authorizationError = null;
    this.alpnProtocol = false;
    this.servername = null;
    this._openEvent = 'secureConnect';
    this._tlsOptions = tlsOptions(options);
    this._session = null;
    this._plain = socket instanceof net.Socket ? socket : null;
  }

  // TCP is up: shake hands before the socket counts as open.
  _connected(rid) {
    this.emit('connect');
    this._handshake(rid);
  }

  _handshake(rid) {
    ops.op_node_tls_upgrade(rid, this.servername, this._tlsOptions).then(
      (session) => {
        if (this.destroyed) return ops.op_node_tcp_close(session.rid);
        this._session = session;
        this.authorized = session.authorized;
        this.authorizationError = session.authorizationError;
        this.alpnProtocol = session.alpnProtocol ?? false;
        Object.assign(this, { _rid: session.rid, connecting: false, pending: false });
        this._touch();
        this.emit('secureConnect');
        this.emit('ready');
        if (this._wantRead) this._read();
      },
      (e) => this.destroy(systemError(e)),
    );
  }

  _destroy(err, cb) {
    super._destroy(err, (e) => {
      if (this._plain && !this._plain.destroyed) this._plain.destroy();
      cb(e);
    });
  }

  getPeerCertificate(detailed) {
    const chain = (this._session?.peerCertificates ?? []).map((c) => ({ ...c, raw: Buffer.from(c.raw) }));
    if (!chain.length) return {};
    if (detailed) chain.forEach((c, i) => (c.issuerCertificate = chain[i + 1] ?? c));
    return chain[0];
  }
  getProtocol() {
    return this._session?.protocol ?? null;
  }
  getCipher() {
    const name = this._session?.cipher;
    return name ? { name, standardName: name, version: this._session.protocol } : undefined;
  }
  isSessionReused() {
    return false;
  }
  getSession() {
    return undefined;
  }
  setServername(name) {
    this.servername = name;
  }
}

// `connect(options[, cb])`, `connect(port[, host][, options][, cb])`.
function connectArgs(args) {
  const cb = typeof args[args.length - 1] === 'function' ? args.pop() : undefined;
  if (typeof args[0] === 'object' && args[0] !== null) return [{ ...args[0] }, cb];
  const options = { port: args[0] };
  if (typeof args[1] === 'string') options.host = args[1];
  const extra = args.find((a) => typeof a === 'object' && a !== null);
  return [{ ...extra, ...options }, cb];
}

function connect(...args) {
  const [options, cb] = connectArgs(args);
  const host = options.host || 'localhost';
  const socket = new TLSSocket(options.socket, options);
  // Node sends no SNI for an IP address but still checks the certificate against it.
  socket.servername = options.servername || host;
  if (cb) socket.once('secureConnect', cb);
  if (options.timeout) socket.setTimeout(options.timeout);
  const plain = options.socket;
  if (!plain) return socket.connect({ ...options, host });
  if (!(plain instanceof net.Socket)) throw Object.assign(new TypeError('tls.connect({ socket }) needs a net.Socket'), { code: 'ERR_INVALID_ARG_TYPE' });
  socket.connecting = true;
  const upgrade = () => {
    Object.assign(socket, { remoteAddress: plain.remoteAddress, remotePort: plain.remotePort, remoteFamily: plain.remoteFamily, localAddress: plain.localAddress, localPort: plain.localPort });
    socket._handshake(plain._release());
  };
  if (plain.connecting) plain.once('connect', upgrade);
  else globalThis.process.nextTick(upgrade);
  return socket;
}

const createSecureContext = (options = {}) => ({ context: {}, options });

module.exports = {
  TLSSocket,
  connect,
  createSecureContext,
  checkServerIdentity: () => undefined,
  rootCertificates: [],
  DEFAULT_ECDH_CURVE: 'auto',
  DEFAULT_MIN_VERSION: 'TLSv1.2',
  DEFAULT_MAX_VERSION: 'TLSv1.3',
  getCiphers: () => ['tls_aes_128_gcm_sha256', 'tls_aes_256_gcm_sha384', 'tls_chacha20_poly1305_sha256'],
  createServer() {
    throw new Error('tls.createServer() is not available to Rectus hooks');
  },
};
