// Bundles entry.js and lib/ with the npm polyfills into one script for the hook engine
// (run by crates/hooks/build.rs: `node build.mjs OUTFILE`).
//
// Node's own constant tables (http.STATUS_CODES, zlib/os/fs/http2 constants, ...) are data, not
// behaviour: they are read from the Node.js that runs this build and baked into the bundle, so
// they are not retyped by hand.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const outfile = process.argv[2];
if (!outfile) throw new Error('usage: node build.mjs OUTFILE');

const http = require('node:http');
const constants = {
  STATUS_CODES: http.STATUS_CODES,
  METHODS: http.METHODS,
  zlib: require('node:zlib').constants,
  os: require('node:os').constants,
  fs: require('node:fs').constants,
  http2: require('node:http2').constants,
  crypto: require('node:crypto').constants,
};
mkdirSync('generated', { recursive: true });
writeFileSync('generated/constants.json', JSON.stringify(constants));

// Inside the bundle, Node built-in names resolve to the polyfills or to lib/, never to globals
// evaluated elsewhere; `process` is the engine's own global (the npm shim queues ticks on timers).
const aliases = {
  assert: 'assert/',
  buffer: 'buffer/',
  crypto: './lib/crypto.js',
  events: 'events/',
  fs: './lib/fs.js',
  http: './lib/http.js',
  // The `inherits` package probes `require('util')`, which would be a cycle inside lib/util.js.
  inherits: 'inherits/inherits_browser.js',
  https: './lib/https.js',
  net: './lib/net.js',
  os: './lib/os.js',
  path: 'path-browserify',
  process: './lib/process.js',
  punycode: 'punycode/',
  qs: './lib/qs.js',
  querystring: 'querystring-es3',
  stream: './lib/stream.js',
  string_decoder: 'string_decoder/',
  timers: './lib/timers.js',
  tls: './lib/tls.js',
  url: './lib/url.js',
  util: './lib/util.js',
  zlib: './lib/zlib.js',
};
const builtinAlias = {
  name: 'node-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_]+\/?$/ }, async (args) => {
      const name = args.path.replace(/^node:/, '').replace(/\/$/, '');
      // `require('buffer/')` means the npm package itself, except for the `process` shim.
      const target = name === 'process' || !args.path.endsWith('/') ? aliases[name] : undefined;
      if (!target) return undefined;
      return b.resolve(target, { resolveDir: here, kind: args.kind });
    });
  },
};

await build({
  entryPoints: ['entry.js'],
  bundle: true,
  platform: 'node',
  format: 'iife',
  // Whitespace and syntax only: keeping names keeps stack traces readable.
  minifyWhitespace: true,
  minifySyntax: true,
  inject: ['./lib/buffer-global.js'],
  plugins: [builtinAlias],
  logLevel: 'warning',
  outfile,
});
