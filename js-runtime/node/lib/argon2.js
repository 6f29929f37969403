// `argon2` for hooks when a hook's own copy is missing or its native addon can't load:
// node-argon2's API (`hash`, `verify`, `needsRehash`, the type constants, `defaults`, `limits`)
// with the raw hash computed by the `argon2` crate (crates/hooks/src/node/argon2.rs). Hashes are
// PHC strings as node-argon2 writes them, so either verifies the other's.
const { Buffer } = require('buffer/');
const assert = require('assert/');
const { randomBytes, timingSafeEqual } = require('./crypto.js');
const ops = Deno.core.ops;

const types = Object.freeze({ argon2d: 0, argon2i: 1, argon2id: 2 });
const names = ['argon2d', 'argon2i', 'argon2id'];

const defaults = Object.freeze({ hashLength: 32, saltLength: 16, timeCost: 3, memoryCost: 1 << 12, parallelism: 1, type: types.argon2id, version: 0x13 });

const limits = Object.freeze({
  hashLength: { min: 4, max: 2 ** 32 - 1 },
  memoryCost: { min: 1 << 10, max: 2 ** 32 - 1 },
  timeCost: { min: 2, max: 2 ** 32 - 1 },
  parallelism: { min: 1, max: 2 ** 24 - 1 },
});

// PHC fields are base64 without padding.
const b64 = (bytes) => Buffer.from(bytes).toString('base64').replace(/=+$/, '');
const unb64 = (text) => Buffer.from(text, 'base64');

function serialize({ id, version, params, salt, hash }) {
  const list = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(',');
  return `$${id}$v=${version}$${list}$${b64(salt)}$${b64(hash)}`;
}

// A PHC string into {id, version, params, salt, hash}; malformed ones throw a TypeError.
function deserialize(text) {
  if (typeof text !== 'string' || text === '') throw new TypeError('pchstr must be a non-empty string');
  if (text[0] !== '$') throw new TypeError('pchstr must contain a $ as first char');
  const fields = text.slice(1).split('$');
  const id = fields.shift();
  if (!/^[a-z0-9-]{1,32}$/.test(id)) throw new TypeError(`id must satisfy ^[a-z0-9-]{1,32}$`);
  const out = { id };
  if (fields[0]?.startsWith('v=')) {
    const version = fields.shift().slice(2);
    if (!/^\d+$/.test(version)) throw new TypeError(`version must be a number`);
    out.version = Number(version);
  }
  if (fields.length && fields[0].includes('=')) {
    out.params = Object.fromEntries(fields.shift().split(',').map((pair) => pair.split('=')));
  }
  if (fields.length) out.salt = unb64(fields.shift());
  if (fields.length) out.hash = unb64(fields.shift());
  if (fields.length) throw new TypeError('pchstr contains too many fields');
  return out;
}

const bytesOf = (value) => (value === undefined || value === null ? new Uint8Array(0) : Buffer.from(value));

async function rawHash(plain, salt, options) {
  const { type, version, memoryCost, timeCost, parallelism, hashLength } = options;
  try {
    const out = await ops.op_argon2_hash(plain, salt, bytesOf(options.secret), bytesOf(options.associatedData), { type, version, memoryCost, timeCost, parallelism, hashLength });
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    throw new Error(e?.message ?? String(e));
  }
}

async function hash(plain, { raw, salt, ...options } = {}) {
  options = { ...defaults, ...options };
  for (const [key, { min, max }] of Object.entries(limits)) {
    assert(min <= options[key] && options[key] <= max, `Invalid ${key}, must be between ${min} and ${max}.`);
  }
  const input = Buffer.from(plain);
  salt = salt || randomBytes(options.saltLength);
  const digest = await rawHash(input, salt, options);
  if (raw) return digest;
  const { type, version, memoryCost: m, timeCost: t, parallelism: p, associatedData } = options;
  return serialize({ id: names[type], version, params: { m, t, p, ...(associatedData ? { data: b64(associatedData) } : {}) }, salt, hash: digest });
}

function needsRehash(digest, options) {
  const { memoryCost, timeCost, version } = { ...defaults, ...options };
  const { version: v, params: { m, t } } = deserialize(digest);
  return +v !== +version || +m !== +memoryCost || +t !== +timeCost;
}

async function verify(digest, plain, options) {
  const parsed = deserialize(digest);
  if (!(parsed.id in types)) return false;
  const { id, version = 0x10, params: { m, t, p, data }, salt, hash: expected } = parsed;
  const actual = await rawHash(Buffer.from(plain), salt, {
    ...options,
    type: types[id],
    version: +version,
    hashLength: expected.length,
    memoryCost: +m,
    timeCost: +t,
    parallelism: +p,
    ...(data ? { associatedData: unb64(data) } : {}),
  });
  return timingSafeEqual(actual, expected);
}

module.exports = { defaults, limits, hash, needsRehash, verify, ...types };
