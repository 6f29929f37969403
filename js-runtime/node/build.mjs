// Bundles lib/ with the npm polyfills for the hook engine, split so that a built-in costs only
// the code it needs (run by crates/hooks/build.rs: `node build.mjs OUTDIR`).
//
// QuickJS compiles a whole script to bytecode before running any of it, so one bundle of
// everything cost every isolate ~0.8 s on its first `require('path')` or `Buffer`. Instead
// each built-in and global of modules.mjs is an entry of an esbuild build with code splitting:
// code shared by several entries goes to chunks, and loading an entry evaluates just the chunks
// it imports. Each output file is turned into the body of a CommonJS factory taking
// `(require, module, exports)`, written to OUTDIR as `<part>.js`; the loader in
// js-runtime/15_builtins.js compiles it into that function on its first use.
//
// Node's own constant tables (http.STATUS_CODES, zlib/os/fs/http2 constants, ...) are data, not
// behaviour: they are read from the Node.js that runs this build and baked into the bundle, so
// they are not retyped by hand.
import { build, transform } from 'esbuild';
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modules, globals, packages } from './modules.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) throw new Error('usage: node build.mjs OUTDIR');

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
// One property a line: see the note on line length below.
writeFileSync('generated/constants.js', `module.exports = ${JSON.stringify(constants, null, 1)};\n`);

// Inside the bundle, Node built-in names resolve to the polyfills or to lib/, never to globals
// evaluated elsewhere; `process` is the engine's own global (the npm shim queues ticks on timers).
const aliases = {
  assert: 'assert/',
  buffer: 'buffer/',
  crypto: './lib/crypto.js',
  // Express's router (lib/express.js) logs and warns through these; see the files.
  debug: './lib/debug.js',
  depd: './lib/depd.js',
  events: 'events/',
  fs: './lib/fs.js',
  http: './lib/http.js',
  // The `inherits` package probes `require('util')`, which would be a cycle inside lib/util.js.
  inherits: 'inherits/inherits_browser.js',
  https: './lib/https.js',
  methods: './lib/methods.js',
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

// One entry per built-in (`fs.promises`), built-in package (`sharp`) and global
// (`global.Buffer`): the value it stands for as the default export.
const entries = [
  ...Object.entries(modules).map(([name, target]) => [name.replace('/', '.'), target]),
  ...Object.entries(packages),
  ...Object.entries(globals).map(([name, target]) => [`global.${name}`, target]),
];
const entryModules = {
  name: 'rectus-entries',
  setup(b) {
    b.onResolve({ filter: /^rectus-entry:/ }, (args) => ({ path: args.path.slice('rectus-entry:'.length), namespace: 'rectus-entry' }));
    b.onLoad({ filter: /.*/, namespace: 'rectus-entry' }, (args) => {
      const [file, property] = Object.fromEntries(entries)[args.path];
      const value = property ? `exports.${property}` : 'exports';
      return { contents: `import * as ns from '${file}';\nconst exports = 'default' in ns ? ns.default : ns;\nexport default ${value};\n`, resolveDir: here };
    });
  },
};

const split = await build({
  entryPoints: entries.map(([name]) => ({ in: `rectus-entry:${name}`, out: name })),
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  outdir: 'parts',
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  write: false,
  // Syntax only. Not whitespace: QuickJS's parser takes time quadratic in the length of a line
  // (it finds each token's column from the line's start), so a minified 480 KB bundle took
  // 1.2 s to compile where the same code with its line breaks takes 0.1 s. Names are kept for
  // readable stack traces.
  minifySyntax: true,
  plugins: [entryModules, builtinAlias],
  logLevel: 'warning',
});

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
for (const file of split.outputFiles) {
  // Chunks import each other as `./chunk-X.js`; as CommonJS those are `require` calls.
  // Strict, as the ES module it was: the loader can then compile it as a module's function,
  // which the engine's bytecode cache serves (crates/hooks/src/code_cache.rs). On the first line,
  // so line numbers in stack traces stay those of the code.
  const { code } = await transform(file.text, { format: 'cjs', platform: 'node', minifySyntax: true });
  writeFileSync(join(outdir, basename(file.path)), `'use strict';${code}`);
}
