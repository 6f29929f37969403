// Just enough for packages that keep per-call context: AsyncLocalStorage passes the store to
// synchronous code under `run`; it is not propagated across awaits.
class AsyncLocalStorage {
  #store;
  getStore() {
    return this.#store;
  }
  run(store, fn, ...args) {
    const previous = this.#store;
    this.#store = store;
    try {
      return fn(...args);
    } finally {
      this.#store = previous;
    }
  }
  enterWith(store) {
    this.#store = store;
  }
  disable() {
    this.#store = undefined;
  }
}
class AsyncResource {
  constructor(type) {
    this.type = type;
  }
  runInAsyncScope(fn, thisArg, ...args) {
    return fn.apply(thisArg, args);
  }
  bind(fn) {
    return fn.bind(this);
  }
  static bind(fn) {
    return fn;
  }
  emitDestroy() {
    return this;
  }
}
module.exports = { AsyncLocalStorage, AsyncResource, executionAsyncId: () => 1, triggerAsyncId: () => 0, createHook: () => ({ enable() {}, disable() {} }) };
