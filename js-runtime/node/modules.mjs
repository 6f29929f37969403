// The Node built-ins and web globals of the hook runtime: which file each comes from (aliases
// as build.mjs resolves them) and which property of its exports, if not all of them. Each one
// becomes an entry of the split bundle, loaded on its first use (js-runtime/15_builtins.js).
export const modules = {
  assert: ['assert/'],
  'assert/strict': ['assert/', 'strict'],
  async_hooks: ['./lib/async_hooks.js'],
  buffer: ['buffer/'],
  child_process: ['./lib/child_process.js'],
  constants: ['./lib/constants.js'],
  crypto: ['./lib/crypto.js'],
  dns: ['./lib/dns.js'],
  'dns/promises': ['./lib/dns.js', 'promises'],
  events: ['events/'],
  fs: ['./lib/fs.js'],
  'fs/promises': ['./lib/fs.js', 'promises'],
  http: ['./lib/http.js'],
  http2: ['./lib/http2.js'],
  https: ['./lib/https.js'],
  net: ['./lib/net.js'],
  os: ['./lib/os.js'],
  path: ['path-browserify'],
  'path/posix': ['path-browserify'],
  perf_hooks: ['./lib/perf_hooks.js'],
  process: ['./lib/process.js'],
  punycode: ['punycode/'],
  querystring: ['querystring-es3'],
  stream: ['./lib/stream.js'],
  'stream/promises': ['./lib/stream.js', 'promises'],
  'stream/web': ['./lib/stream_web.js'],
  string_decoder: ['string_decoder/'],
  timers: ['./lib/timers.js'],
  'timers/promises': ['./lib/timers.js', 'promises'],
  tls: ['./lib/tls.js'],
  tty: ['./lib/tty.js'],
  url: ['./lib/url.js'],
  util: ['./lib/util.js'],
  'util/types': ['./lib/util.js', 'types'],
  zlib: ['./lib/zlib.js'],
};

// Globals Node has and QuickJS lacks; 15_builtins.js defines each as a getter that loads it.
export const globals = {
  Buffer: ['buffer/', 'Buffer'],
  URL: ['./lib/url.js', 'URL'],
  URLSearchParams: ['./lib/url.js', 'URLSearchParams'],
  TextEncoder: ['./lib/text.js', 'TextEncoder'],
  TextDecoder: ['./lib/text.js', 'TextDecoder'],
  AbortController: ['./lib/abort.js', 'AbortController'],
  AbortSignal: ['./lib/abort.js', 'AbortSignal'],
  Event: ['event-target-shim', 'Event'],
  EventTarget: ['event-target-shim', 'EventTarget'],
  fetch: ['./lib/fetch.js', 'fetch'],
  Headers: ['./lib/fetch.js', 'Headers'],
  Request: ['./lib/fetch.js', 'Request'],
  Response: ['./lib/fetch.js', 'Response'],
  crypto: ['./lib/crypto.js', 'webcrypto'],
};

// npm packages that hooks use, built in for when the hook's own copy is missing or can't load
// (js-runtime/10_commonjs.js decides): those with native addons, and Express for its Router.
export const packages = {
  argon2: ['./lib/argon2.js'],
  express: ['./lib/express.js'],
  sharp: ['./lib/sharp.js'],
};
