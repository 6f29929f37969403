// AbortController/AbortSignal: the abort-controller package (on event-target-shim), with what
// it predates: `reason`, `throwIfAborted()`, `AbortSignal.abort()`, `.timeout()` and `.any()`.
const { AbortController: Base, AbortSignal } = require('abort-controller/dist/abort-controller.js');
const { abortError } = require('./errors.js');

class AbortController extends Base {
  abort(reason) {
    if (this.signal.aborted) return;
    Object.defineProperty(this.signal, 'reason', { value: reason === undefined ? abortError() : reason, configurable: true });
    super.abort();
  }
}

Object.defineProperty(AbortSignal.prototype, 'reason', { get: () => undefined, configurable: true });
AbortSignal.prototype.throwIfAborted = function () {
  if (this.aborted) throw this.reason;
};
AbortSignal.abort = (reason) => {
  const c = new AbortController();
  c.abort(reason);
  return c.signal;
};
AbortSignal.timeout = (ms) => {
  const c = new AbortController();
  const e = new Error('The operation was aborted due to timeout');
  e.name = 'TimeoutError';
  e.code = 23;
  setTimeout(() => c.abort(e), ms).unref();
  return c.signal;
};
AbortSignal.any = (signals) => {
  const c = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      c.abort(s.reason);
      break;
    }
    s.addEventListener('abort', () => c.abort(s.reason), { once: true });
  }
  return c.signal;
};

module.exports = { AbortController, AbortSignal };
