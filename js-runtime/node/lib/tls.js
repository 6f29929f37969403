// Node's `tls` client is not provided yet: `connect` returns a socket that fails with an error
// naming it (nodemailer then reports it through its callback). HTTPS requests do not need this
// module: http.js sends them through the Rust HTTP client, which does TLS itself.
const net = require('./net.js');

class TLSSocket extends net.Socket {
  constructor(socket, options) {
    super(options);
    this.encrypted = true;
    this.authorized = false;
  }
  getPeerCertificate() {
    return {};
  }
  getProtocol() {
    return null;
  }
}

function connect(...args) {
  const socket = new TLSSocket();
  const cb = args.find((a) => typeof a === 'function');
  if (cb) socket.once('secureConnect', cb);
  globalThis.process.nextTick(() => socket.destroy(new Error('tls.connect() is not available to Rectus hooks (TLS sockets are not supported; HTTPS requests are)')));
  return socket;
}

module.exports = {
  TLSSocket,
  connect,
  createSecureContext: (options) => ({ context: {}, options }),
  checkServerIdentity: () => undefined,
  rootCertificates: [],
  DEFAULT_ECDH_CURVE: 'auto',
  DEFAULT_MIN_VERSION: 'TLSv1.2',
  DEFAULT_MAX_VERSION: 'TLSv1.3',
  getCiphers: () => [],
  createServer() {
    throw new Error('tls.createServer() is not available to Rectus hooks');
  },
};
