// Node-style globals hooks expect: console, timers, setImmediate, process, global, structuredClone
// (the rest of Node's globals are defined lazily by 15_builtins.js).
// Errors thrown by timer callbacks are logged, never fatal: a broken hook must not stop the isolate.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = (globalThis.__rectus = {});

  // What each part keeps of the hooks (modules, listeners, routes), emptied when the isolate is
  // retired (crates/hooks/src/pool.rs, `retire`): the QuickJS engine keeps these files' functions
  // past the isolate's end, and with them whatever they reach.
  const releasers = [];
  rectus.onRelease = (release) => releasers.push(release);
  rectus.release = () => releasers.splice(0).forEach((release) => release());

  function format(args) {
    return args
      .map((a) => {
        if (typeof a === 'string') return a;
        if (a instanceof Error) return a.stack || `${a.name}: ${a.message}`;
        try {
          return JSON.stringify(a);
        } catch {
          return String(a);
        }
      })
      .join(' ');
  }
  rectus.format = format;
  rectus.log = (level, ...args) => ops.op_rectus_log(level, format(args));

  globalThis.console = {
    log: (...a) => rectus.log('info', ...a),
    info: (...a) => rectus.log('info', ...a),
    warn: (...a) => rectus.log('warn', ...a),
    error: (...a) => rectus.log('error', ...a),
    debug: (...a) => rectus.log('debug', ...a),
    trace: (...a) => rectus.log('trace', ...a),
    dir: (...a) => rectus.log('info', ...a),
  };

  const guarded = (cb, args) => () => {
    try {
      cb(...args);
    } catch (e) {
      rectus.log('warn', 'An error was thrown in a timer callback:', e);
    }
  };

  // Node's Timeout object (ref/unref/refresh/hasRef, and a primitive id) around deno_core's timer.
  class Timeout {
    #timer;
    #refed = true;
    constructor(timer) {
      this.#timer = timer;
    }
    ref() {
      this.#refed = true;
      Deno.core.refTimer(this.#timer);
      return this;
    }
    unref() {
      this.#refed = false;
      Deno.core.unrefTimer(this.#timer);
      return this;
    }
    hasRef() {
      return this.#refed;
    }
    refresh() {
      Deno.core.refreshTimer(this.#timer);
      return this;
    }
    close() {
      Deno.core.cancelTimer(this.#timer);
      return this;
    }
    [Symbol.toPrimitive]() {
      return this.#timer._timerId;
    }
  }
  const timer = (cb, ms, args, repeat) => {
    if (typeof cb !== 'function') throw new TypeError('The "callback" argument must be of type function');
    return new Timeout(Deno.core.createTimer(guarded(cb, args), ms, undefined, repeat, true));
  };
  const clear = (t) => t instanceof Timeout && t.close();
  globalThis.setTimeout = (cb, ms, ...args) => timer(cb, ms, args, false);
  globalThis.setInterval = (cb, ms, ...args) => timer(cb, ms, args, true);
  globalThis.setImmediate = (cb, ...args) => timer(cb, 0, args, false);
  globalThis.clearTimeout = clear;
  globalThis.clearInterval = clear;
  globalThis.clearImmediate = clear;
  globalThis.global = globalThis;

  if (typeof globalThis.structuredClone !== 'function') globalThis.structuredClone = (value) => Deno.core.structuredClone(value);

  const start = Date.now();
  const listeners = new Map();
  // Hooks share the server's process: `process` describes it read-only and never exits it.
  // Event methods keep listeners (packages register `exit`/`warning` handlers) but the process
  // emits nothing to them.
  globalThis.process = {
    [Symbol.toStringTag]: 'process',
    title: 'rectus',
    env: ops.op_rectus_process_env(),
    platform: 'linux',
    arch: ops.op_rectus_arch(),
    version: 'v18.20.8',
    versions: { node: '18.20.8', rectus: '1' },
    release: { name: 'node' },
    argv: ['rectus'],
    argv0: 'rectus',
    execArgv: [],
    execPath: '/usr/local/bin/rectus',
    pid: 1,
    ppid: 0,
    exitCode: undefined,
    features: {},
    config: { variables: {} },
    stdout: { isTTY: false, fd: 1, write: (s) => (rectus.log('info', String(s).replace(/\n$/, '')), true) },
    stderr: { isTTY: false, fd: 2, write: (s) => (rectus.log('warn', String(s).replace(/\n$/, '')), true) },
    cwd: () => ops.op_rectus_cwd(),
    chdir: () => {
      throw new Error('process.chdir() is not available to hooks');
    },
    umask: () => 0o22,
    nextTick: (cb, ...args) => queueMicrotask(() => cb(...args)),
    hrtime: Object.assign(
      (prev) => {
        const ms = Date.now() - start;
        const t = [Math.floor(ms / 1000), (ms % 1000) * 1e6];
        return prev ? [t[0] - prev[0], t[1] - prev[1]] : t;
      },
      { bigint: () => BigInt(Date.now() - start) * 1000000n },
    ),
    uptime: () => (Date.now() - start) / 1000,
    memoryUsage: Object.assign(
      () => {
        const [rss, heapTotal, heapUsed, external] = ops.op_rectus_memory_usage();
        return { rss, heapTotal, heapUsed, external, arrayBuffers: 0 };
      },
      { rss: () => ops.op_rectus_memory_usage()[0] },
    ),
    cpuUsage: () => ({ user: 0, system: 0 }),
    on(name, fn) {
      (listeners.get(name) ?? listeners.set(name, []).get(name)).push(fn);
      return globalThis.process;
    },
    off(name, fn) {
      listeners.set(name, (listeners.get(name) ?? []).filter((f) => f !== fn));
      return globalThis.process;
    },
    emit: () => false,
    listeners: (name) => [...(listeners.get(name) ?? [])],
    listenerCount: (name) => (listeners.get(name) ?? []).length,
    removeAllListeners(name) {
      if (name === undefined) listeners.clear();
      else listeners.delete(name);
      return globalThis.process;
    },
    setMaxListeners: () => globalThis.process,
    getMaxListeners: () => 10,
    emitWarning: (w) => rectus.log('warn', w),
    binding: (name) => {
      throw new Error(`process.binding('${name}') is not available to hooks`);
    },
    exit: () => {
      throw new Error('process.exit() is not available to hooks');
    },
    abort: () => {
      throw new Error('process.abort() is not available to hooks');
    },
    kill: () => {
      throw new Error('process.kill() is not available to hooks');
    },
  };
  for (const [alias, name] of [['once', 'on'], ['addListener', 'on'], ['prependListener', 'on'], ['prependOnceListener', 'on'], ['removeListener', 'off']]) {
    globalThis.process[alias] = globalThis.process[name];
  }

  // Unhandled rejections inside hooks are logged and never fatal (Node 15+ would crash).
  Deno.core.setUnhandledPromiseRejectionHandler((_promise, reason) => {
    rectus.log('warn', 'Unhandled promise rejection in a hook:', reason);
    return true;
  });
})(globalThis);
