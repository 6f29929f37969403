// Node's `fs`: the synchronous functions on ops (crates/hooks/src/node/fs.rs); the callback and
// promise forms run the same op and settle on a later tick. Hook files are small and local, so
// a blocking call costs about what it costs in Node's sync API; nothing here spawns threads.
// Errors carry Node's `code`, `syscall` and `path`.
const { Buffer } = require('buffer/');
const { Readable, Writable } = require('./stream.js');
const { fileURLToPath } = require('./url.js');
const { fs: constants, os: { errno } } = require('../generated/constants.js');
const ops = Deno.core.ops;

function toPath(p, what = 'path') {
  if (typeof p === 'string') return p;
  if (Buffer.isBuffer(p)) return p.toString();
  if (p && typeof p === 'object' && p.href !== undefined && p.protocol !== undefined) return fileURLToPath(p);
  const e = new TypeError(`The "${what}" argument must be of type string or an instance of Buffer or URL. Received ${typeof p}`);
  e.code = 'ERR_INVALID_ARG_TYPE';
  throw e;
}

// Rust reports `CODE: description, syscall 'path'`, Node's own message format.
function call(op, ...args) {
  try {
    return op(...args);
  } catch (e) {
    const m = /^([A-Z]+): [^,]*, (\w+)(?: '([^']*)')?/.exec(e?.message ?? '');
    if (!m) throw e;
    const err = new Error(e.message);
    err.code = m[1];
    err.errno = -(errno[m[1]] ?? 0);
    err.syscall = m[2];
    if (m[3] !== undefined) err.path = m[3];
    throw err;
  }
}

const encodingOf = (options) => (typeof options === 'string' ? options : options?.encoding) ?? null;

function readFileSync(path, options) {
  const data = Buffer.from(call(ops.op_node_fs_read_file, toPath(path)));
  const encoding = encodingOf(options);
  return encoding && encoding !== 'buffer' ? data.toString(encoding) : data;
}

function dataBytes(data, options) {
  if (typeof data === 'string') return Buffer.from(data, encodingOf(options) || 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const e = new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView.');
  e.code = 'ERR_INVALID_ARG_TYPE';
  throw e;
}

function writeFileSync(path, data, options) {
  const append = typeof options === 'object' && options !== null && String(options.flag || '').startsWith('a');
  call(ops.op_node_fs_write_file, toPath(path), dataBytes(data, options), append);
}

function appendFileSync(path, data, options) {
  call(ops.op_node_fs_write_file, toPath(path), dataBytes(data, options), true);
}

const KIND = { 1: 'file', 2: 'dir', 3: 'symlink' };

class Stats {
  constructor(s) {
    Object.assign(this, {
      dev: s.dev, ino: s.ino, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, rdev: 0, size: s.size, blksize: 4096, blocks: Math.ceil(s.size / 512),
      atimeMs: s.atimeMs, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, birthtimeMs: s.birthtimeMs,
      atime: new Date(s.atimeMs), mtime: new Date(s.mtimeMs), ctime: new Date(s.ctimeMs), birthtime: new Date(s.birthtimeMs),
    });
    Object.defineProperty(this, 'kind', { value: KIND[s.kind] });
  }
  isFile() { return this.kind === 'file'; }
  isDirectory() { return this.kind === 'dir'; }
  isSymbolicLink() { return this.kind === 'symlink'; }
  isFIFO() { return false; }
  isSocket() { return false; }
  isBlockDevice() { return false; }
  isCharacterDevice() { return false; }
}

function statWith(follow) {
  return (path, options) => {
    try {
      return new Stats(call(ops.op_node_fs_stat, toPath(path), follow));
    } catch (e) {
      if (e.code === 'ENOENT' && options?.throwIfNoEntry === false) return undefined;
      throw e;
    }
  };
}
const statSync = statWith(true);
const lstatSync = statWith(false);

function existsSync(path) {
  try {
    ops.op_node_fs_stat(toPath(path), true);
    return true;
  } catch {
    return false;
  }
}

function accessSync(path) {
  statSync(path);
}

class Dirent {
  constructor(name, kind, parentPath) {
    this.name = name;
    this.parentPath = this.path = parentPath;
    Object.defineProperty(this, 'kind', { value: KIND[kind] });
  }
}
Object.assign(Dirent.prototype, {
  isFile() { return this.kind === 'file'; },
  isDirectory() { return this.kind === 'dir'; },
  isSymbolicLink() { return this.kind === 'symlink'; },
  isFIFO: () => false,
  isSocket: () => false,
  isBlockDevice: () => false,
  isCharacterDevice: () => false,
});

function readdirSync(path, options) {
  const dir = toPath(path);
  const entries = call(ops.op_node_fs_read_dir, dir).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (options?.withFileTypes) return entries.map(([name, kind]) => new Dirent(name, kind, dir));
  return entries.map(([name]) => (encodingOf(options) === 'buffer' ? Buffer.from(name) : name));
}

function mkdirSync(path, options) {
  const recursive = typeof options === 'object' && options !== null && Boolean(options.recursive);
  const first = call(ops.op_node_fs_mkdir, toPath(path), recursive);
  return recursive ? first ?? undefined : undefined;
}

function mkdtempSync(prefix) {
  for (;;) {
    const path = toPath(prefix) + Buffer.from(ops.op_node_random_bytes(3)).toString('hex');
    try {
      call(ops.op_node_fs_mkdir, path, false);
      return path;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
  }
}

const unlinkSync = (path) => call(ops.op_node_fs_remove, toPath(path), 'file');
const rmdirSync = (path, options) => call(ops.op_node_fs_remove, toPath(path), options?.recursive ? 'tree' : 'dir');

function rmSync(path, options = {}) {
  const p = toPath(path);
  try {
    const stat = lstatSync(p);
    if (stat.isDirectory() && !options.recursive) {
      const e = new Error(`Path is a directory: rm returned EISDIR (is a directory) ${p}`);
      e.code = 'ERR_FS_EISDIR';
      throw e;
    }
    call(ops.op_node_fs_remove, p, stat.isDirectory() ? 'tree' : 'file');
  } catch (e) {
    if (!(options.force && e.code === 'ENOENT')) throw e;
  }
}

const renameSync = (from, to) => call(ops.op_node_fs_rename, toPath(from, 'oldPath'), toPath(to, 'newPath'));
const copyFileSync = (from, to) => call(ops.op_node_fs_copy_file, toPath(from, 'src'), toPath(to, 'dest'));
const realpathSync = (path) => call(ops.op_node_fs_realpath, toPath(path));
realpathSync.native = realpathSync;
const chmodSync = (path, mode) => call(ops.op_node_fs_chmod, toPath(path), typeof mode === 'string' ? parseInt(mode, 8) : mode);

const sync = {
  readFileSync, writeFileSync, appendFileSync, statSync, lstatSync, existsSync, accessSync, readdirSync, mkdirSync, mkdtempSync,
  unlinkSync, rmdirSync, rmSync, renameSync, copyFileSync, realpathSync, chmodSync,
};

// The callback form: `fs.readFile(path, [options], cb)`, settled on the next tick.
function callbackForm(fn) {
  return (...args) => {
    const cb = args.pop();
    if (typeof cb !== 'function') {
      const e = new TypeError('The "cb" argument must be of type function');
      e.code = 'ERR_INVALID_ARG_TYPE';
      throw e;
    }
    let result, error = null;
    try {
      result = fn(...args);
    } catch (e) {
      error = e;
    }
    globalThis.process.nextTick(() => (error ? cb(error) : cb(null, result)));
  };
}

const promiseForm = (fn) => async (...args) => fn(...args);

const callbacks = {};
const promises = {};
for (const [name, fn] of Object.entries(sync)) {
  if (name === 'existsSync') continue;
  callbacks[name.slice(0, -4)] = callbackForm(fn);
  promises[name.slice(0, -4)] = promiseForm(fn);
}
promises.constants = constants;

// Whole-file streams: the file is read at the first read, and each chunk written goes straight
// to the file.
class ReadStream extends Readable {
  #done = false;
  constructor(path, options) {
    super();
    this.path = toPath(path);
    this.options = typeof options === 'string' ? { encoding: options } : { ...options };
    this.bytesRead = 0;
    this.pending = false;
  }
  _read() {
    if (this.#done) return;
    this.#done = true;
    try {
      const data = readFileSync(this.path);
      const { start = 0, end = data.length - 1, encoding } = this.options;
      const part = data.subarray(start, end + 1);
      this.bytesRead = part.length;
      this.push(encoding ? part.toString(encoding) : part);
      this.push(null);
    } catch (e) {
      this.destroy(e);
    }
  }
}

class WriteStream extends Writable {
  #started = false;
  constructor(path, options) {
    super();
    this.path = toPath(path);
    this.#started = typeof options === 'object' && options !== null && String(options.flags || '').startsWith('a');
    this.bytesWritten = 0;
    this.pending = false;
  }
  _write(chunk, encoding, cb) {
    try {
      const bytes = dataBytes(chunk, encoding);
      call(ops.op_node_fs_write_file, this.path, bytes, this.#started);
      this.#started = true;
      this.bytesWritten += bytes.length;
      cb();
    } catch (e) {
      cb(e);
    }
  }
  _final(cb) {
    if (!this.#started) writeFileSync(this.path, '');
    cb();
  }
}

const createReadStream = (path, options) => new ReadStream(path, options);
const createWriteStream = (path, options) => new WriteStream(path, options);

const unsupported = (name) => () => {
  throw new Error(`fs.${name}() is not available to Rectus hooks`);
};

module.exports = {
  ...sync,
  ...callbacks,
  exists: (path, cb) => globalThis.process.nextTick(() => cb(existsSync(path))),
  promises,
  constants,
  Stats,
  Dirent,
  ReadStream,
  WriteStream,
  createReadStream,
  createWriteStream,
  F_OK: constants.F_OK,
  R_OK: constants.R_OK,
  W_OK: constants.W_OK,
  X_OK: constants.X_OK,
  ...Object.fromEntries(['watch', 'watchFile', 'openSync', 'open', 'readSync', 'read', 'writeSync', 'write', 'closeSync', 'close', 'symlinkSync', 'symlink'].map((n) => [n, unsupported(n)])),
};
