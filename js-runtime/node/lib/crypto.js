// Node's `crypto`: hashes, HMAC, PBKDF2 and randomness on RustCrypto ops
// (crates/hooks/src/node/crypto.rs), and secret key objects (what `jsonwebtoken` makes of an
// HMAC secret). Ciphers, signatures and asymmetric keys are not provided and throw an error
// naming the function.
const { Buffer } = require('buffer/');
const ops = Deno.core.ops;

const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

function algorithm(name) {
  const n = String(name).toLowerCase().replace(/^rsa-/, '').replace(/^sha-/, 'sha');
  if (!ALGORITHMS.includes(n)) throw new Error(`Digest method not supported: ${name} (Rectus hooks support ${ALGORITHMS.join(', ')})`);
  return n;
}

function bytes(data, encoding, what = 'data') {
  if (typeof data === 'string') return Buffer.from(data, encoding || 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  const e = new TypeError(`The "${what}" argument must be of type string or an instance of Buffer, TypedArray, or DataView.`);
  e.code = 'ERR_INVALID_ARG_TYPE';
  throw e;
}

const out = (digest, encoding) => {
  const buf = Buffer.from(digest);
  return encoding && encoding !== 'buffer' ? buf.toString(encoding) : buf;
};

// Chunks are collected and hashed in one op call at `digest()`: one crossing into Rust per hash.
// What Hash and Hmac share: data collected by `update`, handed over once to `digest`.
class Digester {
  #chunks;
  #done = false;
  constructor(chunks = []) {
    this.#chunks = chunks;
  }
  update(data, encoding) {
    if (this.#done) throw new Error('Digest already called');
    this.#chunks.push(bytes(data, encoding));
    return this;
  }
  _collected() {
    return [...this.#chunks];
  }
  _finish() {
    if (this.#done) throw new Error('Digest already called');
    this.#done = true;
    return Buffer.concat(this.#chunks);
  }
}

class Hash extends Digester {
  #algorithm;
  constructor(name, chunks = []) {
    super(chunks);
    this.#algorithm = algorithm(name);
  }
  digest(encoding) {
    return out(ops.op_node_hash(this.#algorithm, this._finish()), encoding);
  }
  copy() {
    return new Hash(this.#algorithm, this._collected());
  }
}

// Node's KeyObject for secret keys: `createSecretKey` makes one, HMAC takes one.
class KeyObject {
  #material;
  constructor(type, material) {
    if (type !== 'secret') throw new Error(`crypto.KeyObject of type ${type} is not available to Rectus hooks`);
    this.#material = material;
  }
  get type() {
    return 'secret';
  }
  get symmetricKeySize() {
    return this.#material.length;
  }
  export(options) {
    const key = Buffer.from(this.#material);
    return options?.format === 'jwk' ? { kty: 'oct', k: key.toString('base64url') } : key;
  }
  equals(other) {
    return other instanceof KeyObject && other.symmetricKeySize === this.#material.length && timingSafeEqual(this.#material, other.export());
  }
}

const createSecretKey = (key, encoding) => new KeyObject('secret', Buffer.from(bytes(key, encoding, 'key')));

class Hmac extends Digester {
  #algorithm;
  #key;
  constructor(name, key) {
    super();
    this.#algorithm = algorithm(name);
    this.#key = key instanceof KeyObject ? key.export() : bytes(key, 'utf8', 'key');
  }
  digest(encoding) {
    return out(ops.op_node_hmac(this.#algorithm, this.#key, this._finish()), encoding);
  }
}

function randomFillSync(target, offset = 0, size) {
  const view = new Uint8Array(target.buffer ?? target, (target.byteOffset ?? 0) + offset, size ?? (target.byteLength - offset));
  view.set(ops.op_node_random_bytes(view.length));
  return target;
}

function randomBytes(size, callback) {
  if (!Number.isInteger(size) || size < 0 || size > 2 ** 31 - 1) throw new RangeError(`The value of "size" is out of range. Received ${size}`);
  const buf = Buffer.from(ops.op_node_random_bytes(size));
  if (typeof callback !== 'function') return buf;
  globalThis.process.nextTick(callback, null, buf);
}

function randomInt(min, max, callback) {
  if (max === undefined || typeof max === 'function') [min, max, callback] = [0, min, max];
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) throw new RangeError('The "max" argument must be greater than "min"');
  const range = max - min;
  // Rejection sampling over 48 random bits keeps the result unbiased.
  const limit = 2 ** 48 - (2 ** 48 % range);
  let n;
  do n = Buffer.from(ops.op_node_random_bytes(6)).readUIntBE(0, 6);
  while (n >= limit);
  const value = min + (n % range);
  if (typeof callback !== 'function') return value;
  globalThis.process.nextTick(callback, null, value);
}

function pbkdf2Sync(password, salt, iterations, keylen, digest) {
  return Buffer.from(ops.op_node_pbkdf2(algorithm(digest), bytes(password, 'utf8', 'password'), bytes(salt, 'utf8', 'salt'), iterations, keylen));
}

function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  let result;
  try {
    result = pbkdf2Sync(password, salt, iterations, keylen, digest);
  } catch (e) {
    return globalThis.process.nextTick(callback, e);
  }
  globalThis.process.nextTick(callback, null, result);
}

function timingSafeEqual(a, b) {
  if (a.byteLength !== b.byteLength) {
    const e = new RangeError('Input buffers must have the same byte length');
    e.code = 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH';
    throw e;
  }
  return ops.op_node_timing_safe_equal(bytes(a), bytes(b));
}

const getRandomValues = (array) => randomFillSync(array);

const unsupported = (name) => () => {
  throw new Error(`crypto.${name}() is not available to Rectus hooks`);
};

module.exports = {
  createHash: (name) => new Hash(name),
  createHmac: (name, key) => new Hmac(name, key),
  createSecretKey,
  KeyObject,
  Hash,
  Hmac,
  getHashes: () => [...ALGORITHMS],
  randomBytes,
  pseudoRandomBytes: randomBytes,
  randomFillSync,
  randomFill: (buf, ...rest) => {
    const cb = rest.pop();
    globalThis.process.nextTick(cb, null, randomFillSync(buf, ...rest));
  },
  randomInt,
  randomUUID: () => ops.op_node_random_uuid(),
  getRandomValues,
  pbkdf2,
  pbkdf2Sync,
  timingSafeEqual,
  constants: require('../generated/constants.js').crypto,
  webcrypto: { getRandomValues, randomUUID: () => ops.op_node_random_uuid() },
  ...Object.fromEntries(
    ['createCipheriv', 'createDecipheriv', 'createSign', 'createVerify', 'generateKeyPairSync', 'generateKeyPair', 'createPublicKey', 'createPrivateKey', 'publicEncrypt', 'privateDecrypt', 'scryptSync', 'scrypt', 'createECDH', 'createDiffieHellman', 'hkdfSync', 'sign', 'verify'].map((n) => [n, unsupported(n)]),
  ),
};
