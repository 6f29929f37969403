// The Node built-ins the loader provides itself: events, util, and Directus's logger module
// (`require('directus/dist/logger')`, seen in real hooks), which writes to Rectus's log.
((globalThis) => {
  const rectus = globalThis.__rectus;
  const builtins = rectus.builtins;

  class EventEmitter {
    constructor() {
      this._events = Object.create(null);
    }
    on(name, fn) {
      (this._events[name] ||= []).push(fn);
      return this;
    }
    once(name, fn) {
      const wrap = (...a) => {
        this.off(name, wrap);
        fn.apply(this, a);
      };
      return this.on(name, wrap);
    }
    off(name, fn) {
      this._events[name] = (this._events[name] || []).filter((f) => f !== fn);
      return this;
    }
    emit(name, ...args) {
      const list = this._events[name] || [];
      for (const fn of [...list]) fn.apply(this, args);
      return list.length > 0;
    }
    removeAllListeners(name) {
      if (name === undefined) this._events = Object.create(null);
      else delete this._events[name];
      return this;
    }
    listeners(name) {
      return [...(this._events[name] || [])];
    }
    listenerCount(name) {
      return (this._events[name] || []).length;
    }
    setMaxListeners() {
      return this;
    }
  }
  EventEmitter.prototype.addListener = EventEmitter.prototype.on;
  EventEmitter.prototype.removeListener = EventEmitter.prototype.off;
  EventEmitter.EventEmitter = EventEmitter;
  builtins.events = EventEmitter;

  builtins.util = {
    format: (...a) => rectus.format(a),
    inspect: (v) => rectus.format([v]),
    inherits(ctor, superCtor) {
      Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
      Object.setPrototypeOf(ctor, superCtor);
    },
    promisify: (fn) => (...args) => new Promise((res, rej) => fn(...args, (err, val) => (err ? rej(err) : res(val)))),
    deprecate: (fn) => fn,
    isDeepStrictEqual: (a, b) => JSON.stringify(a) === JSON.stringify(b),
    types: { isPromise: (p) => p instanceof Promise, isDate: (d) => d instanceof Date, isRegExp: (r) => r instanceof RegExp },
  };

  const makeLogger = (bindings = {}) => {
    const at = (level) => (...args) => {
      const [first, ...rest] = args;
      const prefix = Object.keys(bindings).length ? JSON.stringify(bindings) + ' ' : '';
      rectus.log(level, prefix + rectus.format(typeof first === 'object' && first !== null && !(first instanceof Error) && rest.length ? rest.concat([first]) : args));
    };
    return {
      fatal: at('error'),
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      trace: at('trace'),
      child: (more) => makeLogger({ ...bindings, ...more }),
      level: 'info',
    };
  };
  rectus.logger = makeLogger();
  builtins['directus/dist/logger'] = { default: rectus.logger, ...rectus.logger };
})(globalThis);
