// The TLS options of `tls.connect` and of https requests (and their agents), in the shape
// crates/hooks/src/node/tls.rs reads: PEM as text, `rejectUnauthorized: false` as `insecure`.
const { Buffer } = require('buffer/');

const pem = (v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v));
const pems = (v) => (v === undefined || v === null ? undefined : [].concat(v).map(pem));

function tlsOptions(options) {
  const context = options.secureContext?.options ?? {};
  const o = { ...context, ...options };
  if (o.pfx) throw Object.assign(new Error('TLS option "pfx" is not supported by Rectus hooks; pass "cert" and "key" as PEM'), { code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' });
  return {
    insecure: o.rejectUnauthorized === false,
    ca: pems(o.ca),
    cert: o.cert === undefined ? undefined : pems(o.cert).join('\n'),
    key: o.key === undefined ? undefined : pems(o.key).join('\n'),
    minVersion: o.minVersion,
    maxVersion: o.maxVersion,
    ALPNProtocols: (o.ALPNProtocols ?? []).map((p) => pem(p)),
  };
}

module.exports = { tlsOptions };
