// The Node built-ins and web globals of the hook runtime, bundled with their npm polyfills by
// build.mjs. Evaluating the bundle only defines functions (esbuild wraps every module lazily):
// it sets `globalThis.__rectusNode`, whose factories initialise a module on its first use.
const constants = require('./generated/constants.json');

const modules = {
  assert: () => require('assert/'),
  'assert/strict': () => require('assert/').strict,
  async_hooks: () => require('./lib/async_hooks.js'),
  buffer: () => require('buffer/'),
  child_process: () => require('./lib/child_process.js'),
  constants: () => ({ ...constants.os.errno, ...constants.os.signals, ...constants.fs, ...constants.crypto }),
  crypto: () => require('./lib/crypto.js'),
  dns: () => require('./lib/dns.js'),
  'dns/promises': () => require('./lib/dns.js').promises,
  events: () => require('events/'),
  fs: () => require('./lib/fs.js'),
  'fs/promises': () => require('./lib/fs.js').promises,
  http: () => require('./lib/http.js'),
  http2: () => require('./lib/http2.js'),
  https: () => require('./lib/https.js'),
  net: () => require('./lib/net.js'),
  os: () => require('./lib/os.js'),
  path: () => require('path-browserify'),
  'path/posix': () => require('path-browserify'),
  perf_hooks: () => ({ performance: globalThis.performance }),
  process: () => globalThis.process,
  punycode: () => require('punycode/'),
  querystring: () => require('querystring-es3'),
  stream: () => require('./lib/stream.js'),
  'stream/promises': () => require('./lib/stream.js').promises,
  string_decoder: () => require('string_decoder/'),
  timers: () => require('./lib/timers.js'),
  'timers/promises': () => require('./lib/timers.js').promises,
  tls: () => require('./lib/tls.js'),
  tty: () => require('./lib/tty.js'),
  url: () => require('./lib/url.js'),
  util: () => require('./lib/util.js'),
  'util/types': () => require('./lib/util.js').types,
  zlib: () => require('./lib/zlib.js'),
};

// Globals Node has and QuickJS lacks; 00_globals.js defines each as a getter that asks here.
const globals = {
  Buffer: () => require('buffer/').Buffer,
  URL: () => require('./lib/url.js').URL,
  URLSearchParams: () => require('./lib/url.js').URLSearchParams,
  TextEncoder: () => require('./lib/text.js').TextEncoder,
  TextDecoder: () => require('./lib/text.js').TextDecoder,
  AbortController: () => require('./lib/abort.js').AbortController,
  AbortSignal: () => require('./lib/abort.js').AbortSignal,
  Event: () => require('event-target-shim').Event,
  EventTarget: () => require('event-target-shim').EventTarget,
  fetch: () => require('./lib/fetch.js').fetch,
  Headers: () => require('./lib/fetch.js').Headers,
  Request: () => require('./lib/fetch.js').Request,
  Response: () => require('./lib/fetch.js').Response,
  crypto: () => require('./lib/crypto.js').webcrypto,
};

globalThis.__rectusNode = { modules, globals };
