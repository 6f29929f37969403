// Node-style globals hooks expect: console, timers, setImmediate, process, global.
// Errors thrown by timer callbacks are logged, never fatal: a broken hook must not stop the isolate.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = (globalThis.__rectus = {});

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
  globalThis.setTimeout = (cb, ms, ...args) => Deno.core.createTimer(guarded(cb, args), ms, undefined, false, true);
  globalThis.setInterval = (cb, ms, ...args) => Deno.core.createTimer(guarded(cb, args), ms, undefined, true, true);
  globalThis.clearTimeout = (id) => id !== undefined && Deno.core.cancelTimer(id);
  globalThis.clearInterval = globalThis.clearTimeout;
  globalThis.setImmediate = (cb, ...args) => Deno.core.createTimer(guarded(cb, args), 0, undefined, false, true);
  globalThis.clearImmediate = globalThis.clearTimeout;
  globalThis.global = globalThis;

  const start = Date.now();
  globalThis.process = {
    env: ops.op_rectus_process_env(),
    platform: 'linux',
    version: 'v16.0.0',
    versions: { node: '16.0.0', rectus: '1' },
    argv: ['rectus'],
    pid: 1,
    cwd: () => ops.op_rectus_cwd(),
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
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0 }),
    on: () => globalThis.process,
    once: () => globalThis.process,
    off: () => globalThis.process,
    emitWarning: (w) => rectus.log('warn', w),
    exit: () => {
      throw new Error('process.exit() is not available to hooks');
    },
  };

  // Unhandled rejections inside hooks are logged and never fatal (Node 15+ would crash).
  Deno.core.setUnhandledPromiseRejectionHandler((_promise, reason) => {
    rectus.log('warn', 'Unhandled promise rejection in a hook:', reason);
    return true;
  });
})(globalThis);
