// Node's `child_process` on real processes (crates/hooks/src/node/child_process.rs): `spawn`
// gives a ChildProcess (an EventEmitter with `spawn`, `exit`, `close` and `error`, and stdin /
// stdout / stderr streams over the child's pipes); `exec` and `execFile` collect its output for
// a callback (or, promisified, `{stdout, stderr}`), with `timeout`, `maxBuffer`, `killSignal`
// and `encoding`; the Sync forms block the isolate until the child ends, with `input`. Options
// `cwd`, `env`, `shell`, `argv0`, `detached`, `uid`, `gid`, `signal` and `stdio` ('pipe',
// 'ignore', 'inherit', or an array of those) work as in Node; errors carry Node's `code`
// (ENOENT, exit codes), `signal`, `killed`, `status` and `cmd`. No IPC: `fork()` and
// `stdio: 'ipc'` throw. With HOOKS_CHILD_PROCESS=false every function throws instead.
const { Buffer } = require('buffer/');
const EventEmitter = require('events/');
const { Readable, Writable } = require('./stream.js');
const { promisify } = require('./util.js');
const { abortError, systemError } = require('./errors.js');
const { errno, signals } = require('../generated/constants.js').os;
const ops = Deno.core.ops;

function available(name) {
  if (!ops.op_node_child_processes_enabled()) throw new Error(`child_process.${name}() is not available to Rectus hooks (HOOKS_CHILD_PROCESS=false)`);
}

function received(value) {
  if (value === undefined || value === null) return `Received ${value}`;
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') return `Received an instance of ${value.constructor?.name ?? 'Object'}`;
  return `Received type ${typeof value} (${typeof value === 'string' ? `'${value}'` : String(value)})`;
}

function invalidArgType(name, type, value) {
  const e = new TypeError(`The "${name}" argument must be of type ${type}. ${received(value)}`);
  e.code = 'ERR_INVALID_ARG_TYPE';
  return e;
}

function signalNumber(signal) {
  if (typeof signal === 'number' && Number.isInteger(signal)) return signal;
  const number = signals[String(signal).toUpperCase()];
  if (number === undefined) {
    const e = new TypeError(`Unknown signal: ${signal}`);
    e.code = 'ERR_UNKNOWN_SIGNAL';
    throw e;
  }
  return number;
}

const signalName = (number) => Object.keys(signals).find((name) => signals[name] === number) ?? null;

// A Node system error for `syscall file` (`spawn ls ENOENT`), from an op's `CODE: ...` message.
function spawnError(e, syscall, file, spawnargs) {
  const code = /^([A-Z][A-Z0-9_]*): /.exec(e?.message ?? '')?.[1];
  if (!code) return e;
  const err = new Error(`${syscall} ${file} ${code}`);
  Object.assign(err, { errno: -(errno[code] ?? 0), code, syscall: `${syscall} ${file}`, path: file, spawnargs });
  return err;
}

function stdioModes(stdio) {
  const list = stdio === undefined || stdio === null ? ['pipe', 'pipe', 'pipe'] : typeof stdio === 'string' ? [stdio, stdio, stdio] : Array.from(stdio);
  return [0, 1, 2].map((fd) => {
    const mode = list[fd];
    if (mode === undefined || mode === null || mode === 'pipe' || mode === 'overlapped') return 'pipe';
    if (mode === 'ignore' || mode === 'inherit') return mode;
    if (mode === fd) return 'inherit';
    if (mode === 'ipc') throw new Error('child_process: stdio "ipc" is not available to Rectus hooks (no IPC channel)');
    throw new TypeError(`child_process: stdio ${JSON.stringify(typeof mode === 'object' ? String(mode) : mode)} is not available to Rectus hooks ('pipe', 'ignore' and 'inherit' are)`);
  });
}

// (file, args, options) as Node normalizes them, with the shell applied.
function normalize(file, args, options) {
  if (typeof file !== 'string') throw invalidArgType('file', 'string', file);
  if (file.length === 0) {
    const e = new TypeError("The argument 'file' cannot be empty. Received ''");
    e.code = 'ERR_INVALID_ARG_VALUE';
    throw e;
  }
  if (Array.isArray(args)) args = args.map(String);
  else if (args === undefined || args === null) args = [];
  else if (typeof args === 'object') [options, args] = [args, []];
  else throw invalidArgType('args', 'object', args);
  if (options === undefined || options === null) options = {};
  else if (typeof options !== 'object') throw invalidArgType('options', 'object', options);
  let spawnargs = [file, ...args];
  if (options.shell) {
    const command = [file, ...args].join(' ');
    file = typeof options.shell === 'string' ? options.shell : '/bin/sh';
    args = ['-c', command];
    spawnargs = [file, '-c', command];
  }
  // Without `env` the child gets Rectus's own environment, as a Node child gets its parent's.
  let env;
  if (options.env !== undefined && options.env !== null) {
    env = {};
    for (const [key, value] of Object.entries(options.env)) if (value !== undefined) env[key] = String(value);
  }
  const spec = {
    file,
    args,
    argv0: options.argv0 === undefined ? undefined : String(options.argv0),
    cwd: options.cwd === undefined || options.cwd === null ? undefined : String(options.cwd?.href !== undefined ? require('./url.js').fileURLToPath(options.cwd) : options.cwd),
    env,
    stdio: stdioModes(options.stdio),
    detached: Boolean(options.detached),
    uid: options.uid,
    gid: options.gid,
  };
  return { spec, options, spawnargs };
}

// The child's stdout or stderr: one read op at a time while the stream wants data.
class ChildOutput extends Readable {
  constructor(child, rid, fd) {
    super();
    this._child = child;
    this._rid = rid;
    this._fd = fd;
    this._pending = false;
    this._eof = false;
  }
  _read() {
    if (this._pending || this._eof) return;
    this._pending = true;
    ops.op_node_child_read(this._rid, this._fd).then(
      (chunk) => {
        this._pending = false;
        if (this._eof) return;
        if (chunk === null) {
          this._ended();
          this.push(null);
          return;
        }
        if (this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))) this._read();
      },
      (e) => {
        this._pending = false;
        this._ended();
        this.destroy(e);
      },
    );
  }
  // No more output from here: at its end, or destroyed (then a grandchild still holding the
  // pipe doesn't hold back 'close', as in Node).
  _ended() {
    if (this._eof) return;
    this._eof = true;
    this._child._outputEnded();
  }
  _destroy(error, callback) {
    this._ended();
    callback(error);
  }
}

class ChildInput extends Writable {
  constructor(rid) {
    super();
    this._rid = rid;
  }
  _write(chunk, encoding, callback) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    ops.op_node_child_write(this._rid, bytes).then(() => callback(), (e) => callback(systemError(e)));
  }
  _final(callback) {
    ops.op_node_child_end_stdin(this._rid).then(() => callback(), () => callback());
  }
  _destroy(error, callback) {
    ops.op_node_child_end_stdin(this._rid).then(() => callback(error), () => callback(error));
  }
}

class ChildProcess extends EventEmitter {
  constructor() {
    super();
    Object.assign(this, { pid: undefined, stdin: null, stdout: null, stderr: null, stdio: [null, null, null], exitCode: null, signalCode: null, killed: false, connected: false, spawnfile: undefined, spawnargs: [] });
    this._rid = null;
    this._openOutputs = 0;
    this._exited = false;
  }

  _start({ spec, options, spawnargs }) {
    this.spawnfile = spec.file;
    this.spawnargs = spawnargs;
    let spawned;
    try {
      spawned = ops.op_node_spawn(spec);
    } catch (e) {
      const err = spawnError(e, 'spawn', spec.file, spawnargs.slice(1));
      globalThis.process.nextTick(() => {
        this.emit('error', err);
        this.emit('close', err.errno ?? -1, null);
      });
      return this;
    }
    this.pid = spawned.pid;
    this._rid = spawned.rid;
    const [inMode, outMode, errMode] = spec.stdio;
    if (inMode === 'pipe') this.stdin = new ChildInput(this._rid);
    for (const [mode, fd, key] of [[outMode, 1, 'stdout'], [errMode, 2, 'stderr']]) {
      if (mode !== 'pipe') continue;
      this[key] = new ChildOutput(this, this._rid, fd);
      this._openOutputs += 1;
      // Start reading now, as Node's pipes do, so a child that ends is seen ending.
      this[key].read(0);
    }
    this.stdio = [this.stdin, this.stdout, this.stderr];
    if (options.timeout > 0) {
      const timer = setTimeout(() => this.kill(options.killSignal ?? 'SIGTERM'), options.timeout);
      this.once('exit', () => clearTimeout(timer));
    }
    if (options.signal) {
      const signal = options.signal;
      const abort = () => {
        if (this.kill(options.killSignal ?? 'SIGTERM')) this.emit('error', abortError(signal.reason));
      };
      if (signal.aborted) globalThis.process.nextTick(abort);
      else {
        signal.addEventListener('abort', abort, { once: true });
        this.once('exit', () => signal.removeEventListener('abort', abort));
      }
    }
    globalThis.process.nextTick(() => this.emit('spawn'));
    ops.op_node_child_wait(this._rid).then(
      ({ code, signal }) => {
        this._exited = true;
        this.exitCode = code ?? null;
        this.signalCode = signal ? signalName(signal) : null;
        this.emit('exit', this.exitCode, this.signalCode);
        this._maybeClose();
      },
      (e) => this.emit('error', e),
    );
    return this;
  }

  _outputEnded() {
    this._openOutputs -= 1;
    this._maybeClose();
  }

  // 'close' comes after 'exit' and the end of every output stream, as in Node.
  _maybeClose() {
    if (!this._exited || this._openOutputs > 0 || this._rid === null) return;
    ops.op_node_child_close(this._rid);
    this._rid = null;
    this.emit('close', this.exitCode, this.signalCode);
  }

  kill(signal = 'SIGTERM') {
    const number = signalNumber(signal);
    if (this._rid === null || this._exited) return false;
    const sent = ops.op_node_child_kill(this._rid, number);
    if (sent) this.killed = true;
    return sent;
  }

  ref() {
    return this;
  }

  unref() {
    return this;
  }

  send() {
    throw new Error('child_process: send() is not available to Rectus hooks (no IPC channel)');
  }

  disconnect() {
    throw new Error('child_process: disconnect() is not available to Rectus hooks (no IPC channel)');
  }
}

function spawn(file, args, options) {
  available('spawn');
  return new ChildProcess()._start(normalize(file, args, options));
}

// (file, [args], [options], [callback]) as execFile takes them.
function execFileArgs(file, args, options, callback) {
  if (typeof args === 'function') return [file, [], {}, args];
  if (!Array.isArray(args)) {
    if (args !== undefined && args !== null && typeof args === 'object') [callback, options, args] = [options, args, []];
    else if (args === undefined || args === null) args = [];
    else throw invalidArgType('args', 'object', args);
  }
  if (typeof options === 'function') [callback, options] = [options, {}];
  if (callback !== undefined && typeof callback !== 'function') throw invalidArgType('callback', 'function', callback);
  return [file, args, options ?? {}, callback];
}

function execFile(...given) {
  available('execFile');
  const [file, args, rawOptions, callback] = execFileArgs(...given);
  const options = { encoding: 'utf8', timeout: 0, maxBuffer: 1024 * 1024, killSignal: 'SIGTERM', ...rawOptions };
  const { timeout, maxBuffer, killSignal, encoding } = options;
  const child = spawn(file, args, { ...options, timeout: undefined });
  const output = { stdout: [], stderr: [] };
  const length = { stdout: 0, stderr: 0 };
  let error = null;
  let killedByUs = false;
  let done = false;
  const cmd = [file, ...args].join(' ');
  const kill = () => {
    child.stdout?.destroy();
    child.stderr?.destroy();
    killedByUs = true;
    try {
      child.kill(killSignal);
    } catch (e) {
      error = e;
    }
  };
  const text = (chunks) => {
    const bytes = Buffer.concat(chunks);
    return encoding && encoding !== 'buffer' && Buffer.isEncoding(encoding) ? bytes.toString(encoding) : bytes;
  };
  const finish = (code, signal) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (!callback) return;
    const stdout = text(output.stdout);
    const stderr = text(output.stderr);
    if (!error && code === 0 && signal === null) return callback(null, stdout, stderr);
    if (!error) {
      error = new Error(`Command failed: ${cmd}\n${stderr}`);
      Object.assign(error, { code: code < 0 ? Object.keys(errno).find((k) => errno[k] === -code) ?? code : code, killed: child.killed || killedByUs, signal });
    }
    error.cmd = cmd;
    callback(error, stdout, stderr);
  };
  const timer = timeout > 0 ? setTimeout(kill, timeout) : null;
  for (const key of ['stdout', 'stderr']) {
    child[key]?.on('data', (chunk) => {
      if (error) return;
      length[key] += chunk.length;
      if (maxBuffer && length[key] > maxBuffer) {
        output[key].push(chunk.subarray(0, chunk.length - (length[key] - maxBuffer)));
        error = new RangeError(`${key} maxBuffer length exceeded`);
        error.code = 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
        kill();
        return;
      }
      output[key].push(chunk);
    });
  }
  child.on('close', finish);
  child.on('error', (e) => {
    error = e;
    child.stdout?.destroy();
    child.stderr?.destroy();
    finish(null, null);
  });
  return child;
}

function exec(command, options, callback) {
  available('exec');
  if (typeof options === 'function') [callback, options] = [options, {}];
  options = { ...options, shell: typeof options?.shell === 'string' ? options.shell : true };
  return execFile(command, [], options, callback);
}

// What util.promisify makes of exec and execFile: `{stdout, stderr}`, or the error carrying them.
function promisified(fn) {
  return (...args) => {
    let child;
    const promise = new Promise((resolve, reject) => {
      child = fn(...args, (error, stdout, stderr) => {
        if (error) {
          Object.assign(error, { stdout, stderr });
          reject(error);
        } else resolve({ stdout, stderr });
      });
    });
    promise.child = child;
    return promise;
  };
}
for (const fn of [exec, execFile]) {
  const custom = promisified(fn);
  Object.defineProperty(fn, promisify.custom, { value: custom });
  Object.defineProperty(fn, Symbol.for('nodejs.util.promisify.custom'), { value: custom });
}

function spawnSync(file, args, options) {
  available('spawnSync');
  const normalized = normalize(file, args, options);
  const { spec, spawnargs } = normalized;
  options = normalized.options;
  const input = options.input === undefined ? new Uint8Array(0) : typeof options.input === 'string' ? Buffer.from(options.input, options.encoding && options.encoding !== 'buffer' ? options.encoding : 'utf8') : new Uint8Array(options.input.buffer ?? options.input, options.input.byteOffset ?? 0, options.input.byteLength);
  let r;
  try {
    r = ops.op_node_spawn_sync(spec, input, { timeoutMs: options.timeout > 0 ? options.timeout : 0, killSignal: signalNumber(options.killSignal ?? 'SIGTERM'), maxBuffer: options.maxBuffer ?? 1024 * 1024 });
  } catch (e) {
    return { error: spawnError(e, 'spawnSync', spec.file, spawnargs.slice(1)), status: null, signal: null, output: null, pid: 0, stdout: null, stderr: null };
  }
  const encoding = options.encoding && options.encoding !== 'buffer' ? options.encoding : null;
  const out = (bytes) => {
    if (!bytes) return null;
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    return encoding ? buffer.toString(encoding) : buffer;
  };
  const [stdout, stderr] = [out(r.stdout), out(r.stderr)];
  const result = { status: r.status ?? null, signal: r.signal ? signalName(r.signal) : null, output: [null, stdout, stderr], pid: r.pid, stdout, stderr };
  if (!r.error) return result;
  return { error: spawnError({ message: `${r.error}: ` }, 'spawnSync', spec.file, spawnargs.slice(1)), ...result };
}

// Node's execFileSync / execSync: stdout, or the error with the result's fields; stderr goes
// to the parent's stderr unless `stdio` says otherwise.
function checked(result, cmd, options) {
  if (!options?.stdio && result.stderr && result.stderr.length > 0) globalThis.process.stderr.write(result.stderr.toString());
  let error = null;
  if (result.error) error = Object.assign(result.error, result);
  else if (result.status !== 0) {
    let message = `Command failed: ${cmd}`;
    if (result.stderr && result.stderr.length > 0) message += `\n${result.stderr.toString()}`;
    error = Object.assign(new Error(message), result);
  }
  if (error) throw error;
  return result.stdout;
}

function execFileSync(file, args, options) {
  available('execFileSync');
  const [, list, opts] = execFileArgs(file, args, options);
  return checked(spawnSync(file, list, opts), [file, ...list].join(' '), opts);
}

function execSync(command, options) {
  available('execSync');
  const opts = { ...options, shell: typeof options?.shell === 'string' ? options.shell : true };
  return checked(spawnSync(command, [], opts), command, options);
}

function fork() {
  throw new Error('child_process.fork() is not available to Rectus hooks (no IPC channel)');
}

module.exports = { ChildProcess, spawn, spawnSync, exec, execSync, execFile, execFileSync, fork };
