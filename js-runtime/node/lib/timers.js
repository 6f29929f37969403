// Node's `timers` module: the engine's timer globals (00_globals.js), plus `timers/promises`.
const promises = {
  setTimeout: (ms, value, options = {}) =>
    new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) return reject(signal.reason ?? abortError());
      const timer = setTimeout(() => resolve(value), ms);
      if (options.ref === false) timer.unref();
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason ?? abortError());
      }, { once: true });
    }),
  setImmediate: (value) => new Promise((resolve) => setImmediate(() => resolve(value))),
};

function abortError() {
  const e = new Error('The operation was aborted');
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

module.exports = { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, promises };
