// The modules `require` finds before any file: Node's built-ins and Directus's logger module
// (`require('directus/dist/logger')`, seen in real hooks), which writes to Rectus's log.
//
// Node's built-ins and the web globals QuickJS lacks (Buffer, URL, TextEncoder, fetch, ...) come
// from a bundle built from js-runtime/node by crates/hooks/build.rs: npm polyfills (buffer,
// events, util, readable-stream, ...) plus Rectus's own modules on Rust ops (crypto, fs, http,
// net, dns). It is split into parts, bodies of CommonJS factories that require each other: one per
// built-in (`fs.promises` for `fs/promises`) and global (`global.Buffer`), and chunks of shared
// code. A part is evaluated on its first use, so a hook pays only for the code it needs; it is
// compiled like a strict npm file (crates/hooks/src/code_cache.rs), so a warm start reads its
// bytecode from the cache.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;

  const parts = Object.create(null);
  const part = (name) => {
    let module = parts[name];
    if (!module) {
      const [factory, error] = ops.op_node_part_compile(name);
      if (factory === undefined) throw error;
      module = parts[name] = { exports: {} };
      try {
        // Parts name each other `./chunk-XXXX.js`. The factory takes a file's parameters.
        factory(module.exports, (request) => part(request.slice(2, -3)), module);
      } catch (e) {
        delete parts[name];
        throw e;
      }
    }
    return module.exports;
  };

  // Keep in step with js-runtime/node/modules.mjs (a unit test requires each of them).
  const NODE = [
    'assert', 'assert/strict', 'async_hooks', 'buffer', 'child_process', 'constants', 'crypto', 'dns', 'dns/promises', 'events', 'fs',
    'fs/promises', 'http', 'http2', 'https', 'net', 'os', 'path', 'path/posix', 'perf_hooks', 'process', 'punycode', 'querystring', 'stream',
    'stream/promises', 'stream/web', 'string_decoder', 'timers', 'timers/promises', 'tls', 'tty', 'url', 'util', 'util/types', 'zlib',
  ];
  const UNAVAILABLE = ['cluster', 'dgram', 'diagnostics_channel', 'domain', 'inspector', 'readline', 'repl', 'trace_events', 'v8', 'vm', 'wasi', 'worker_threads'];
  const own = { module: () => rectus.moduleBuiltin(), 'directus/dist/logger': () => ({ default: rectus.logger, ...rectus.logger }) };

  // The built-in a request names (without `node:`), or null for files and packages.
  rectus.builtinName = (request) => {
    if (Object.hasOwn(own, request)) return request;
    const name = request.startsWith('node:') ? request.slice(5) : request;
    if (NODE.includes(name) || name === 'module') return name;
    if (UNAVAILABLE.includes(name.split('/')[0])) {
      const e = new Error(`Node built-in "${name}" is not available to Rectus hooks`);
      e.code = 'ERR_UNKNOWN_BUILTIN_MODULE';
      throw e;
    }
    return null;
  };
  rectus.builtinNames = () => [...NODE, 'module'];

  const loaded = Object.create(null);
  rectus.builtin = (name) => (loaded[name] ??= own[name] ? own[name]() : part(name.replace('/', '.')).default);

  // npm packages Rectus builds in (js-runtime/node/modules.mjs `packages`: those with native
  // addons, and Express for `express.Router()`): `require` uses them when the package is not
  // installed or fails to load.
  const PACKAGES = ['argon2', 'express', 'sharp'];
  rectus.builtinPackage = (request) => (PACKAGES.includes(request) ? request : null);

  // Web globals from the bundle: each getter replaces itself with the value on first use.
  for (const name of ['Buffer', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController', 'AbortSignal', 'Event', 'EventTarget', 'fetch', 'Headers', 'Request', 'Response', 'crypto']) {
    if (globalThis[name] !== undefined) continue;
    Object.defineProperty(globalThis, name, {
      configurable: true,
      enumerable: false,
      get() {
        const value = part(`global.${name}`).default;
        Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
        return value;
      },
      set(value) {
        Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
      },
    });
  }

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
})(globalThis);
