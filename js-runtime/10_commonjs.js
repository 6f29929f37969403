// CommonJS as Node runs it: sloppy-mode function wrapper, module cache, relative and node_modules
// resolution (package.json `main`, index files, .js/.json/.cjs), require.resolve and require.cache.
// Files written as ES modules (`export default`, `import x from`) are rewritten to CommonJS first.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;
  const builtins = (rectus.builtins = Object.create(null));

  const path = {
    sep: '/',
    normalize(p) {
      const abs = p.startsWith('/');
      const out = [];
      for (const part of p.split('/')) {
        if (part === '' || part === '.') continue;
        if (part === '..') {
          if (out.length && out[out.length - 1] !== '..') out.pop();
          else if (!abs) out.push('..');
        } else out.push(part);
      }
      const joined = out.join('/');
      return abs ? '/' + joined : joined || '.';
    },
    join: (...parts) => path.normalize(parts.filter((p) => p !== '').join('/')),
    resolve(...parts) {
      let r = '';
      for (let i = parts.length - 1; i >= 0 && !r.startsWith('/'); i--) r = parts[i] + (r ? '/' + r : '');
      if (!r.startsWith('/')) r = ops.op_rectus_cwd() + '/' + r;
      return path.normalize(r);
    },
    dirname(p) {
      const i = p.replace(/\/+$/, '').lastIndexOf('/');
      return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
    },
    basename(p, ext) {
      let b = p.replace(/\/+$/, '').split('/').pop();
      if (ext && b.endsWith(ext)) b = b.slice(0, -ext.length);
      return b;
    },
    extname(p) {
      const b = path.basename(p);
      const i = b.lastIndexOf('.');
      return i <= 0 ? '' : b.slice(i);
    },
    isAbsolute: (p) => p.startsWith('/'),
    relative(from, to) {
      const f = path.resolve(from).split('/').filter(Boolean);
      const t = path.resolve(to).split('/').filter(Boolean);
      while (f.length && t.length && f[0] === t[0]) f.shift(), t.shift();
      return [...f.map(() => '..'), ...t].join('/');
    },
  };
  path.posix = path;
  builtins.path = path;

  const cache = Object.create(null);
  rectus.moduleCache = cache;

  const isFile = (p) => ops.op_rectus_stat(p) === 1;
  const isDir = (p) => ops.op_rectus_stat(p) === 2;

  function resolveFile(p) {
    if (isFile(p)) return p;
    for (const ext of ['.js', '.json', '.cjs']) if (isFile(p + ext)) return p + ext;
    return null;
  }

  function resolveDir(p) {
    const pkgPath = p + '/package.json';
    if (isFile(pkgPath)) {
      let pkg;
      try {
        pkg = JSON.parse(ops.op_rectus_read_file(pkgPath));
      } catch {
        pkg = {};
      }
      const main = pkg.main || (typeof pkg.exports === 'string' ? pkg.exports : pkg.exports?.['.']?.require ?? pkg.exports?.['.']?.default);
      if (typeof main === 'string') {
        const m = resolveFile(path.join(p, main)) || (isDir(path.join(p, main)) && resolveDir(path.join(p, main)));
        if (m) return m;
      }
    }
    for (const idx of ['index.js', 'index.json', 'index.cjs']) if (isFile(p + '/' + idx)) return p + '/' + idx;
    return null;
  }

  function resolve(request, fromDir) {
    const bare = request.startsWith('node:') ? request.slice(5) : request;
    if (builtins[bare] && !request.endsWith('/')) return bare;
    if (request.startsWith('./') || request.startsWith('../') || request.startsWith('/') || request === '.' || request === '..') {
      const p = path.resolve(fromDir, request);
      const found = resolveFile(p) || (isDir(p) && resolveDir(p));
      if (found) return found;
    } else {
      for (let dir = fromDir; ; dir = path.dirname(dir)) {
        if (!dir.endsWith('/node_modules')) {
          const p = path.join(dir, 'node_modules', request);
          const found = resolveFile(p) || (isDir(p) && resolveDir(p));
          if (found) return found;
        }
        if (dir === '/' || dir === '.') break;
      }
    }
    const err = new Error(`Cannot find module '${request}'`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }

  // Enough of ES module syntax for hook files: default/named exports and static imports.
  function esmToCommonJs(src) {
    if (!/^\s*(import\s[\s\S]*?from\s|import\s+['"]|export\s)/m.test(src)) return src;
    let named = [];
    const out = src
      .replace(/^\s*import\s+(['"][^'"]+['"])\s*;?/gm, (_, m) => `require(${m});`)
      .replace(/^\s*import\s+\*\s+as\s+(\w+)\s+from\s+(['"][^'"]+['"])\s*;?/gm, (_, n, m) => `const ${n} = require(${m});`)
      .replace(/^\s*import\s+(\w+)\s*,\s*\{([^}]*)\}\s*from\s+(['"][^'"]+['"])\s*;?/gm, (_, d, names, m) =>
        `const ${d} = __rectusDefault(require(${m})); const {${names.replace(/\s+as\s+/g, ': ')}} = require(${m});`)
      .replace(/^\s*import\s+\{([^}]*)\}\s*from\s+(['"][^'"]+['"])\s*;?/gm, (_, names, m) =>
        `const {${names.replace(/\s+as\s+/g, ': ')}} = require(${m});`)
      .replace(/^\s*import\s+(\w+)\s+from\s+(['"][^'"]+['"])\s*;?/gm, (_, n, m) => `const ${n} = __rectusDefault(require(${m}));`)
      .replace(/^(\s*)export\s+default\s+/gm, '$1exports.default = ')
      .replace(/^(\s*)export\s+(async\s+function|function|class|const|let|var)\s+(\w+)/gm, (_, ws, kind, name) => {
        named.push(name);
        return `${ws}${kind} ${name}`;
      })
      .replace(/^\s*export\s+\{([^}]*)\}\s*;?/gm, (_, names) =>
        names
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
          .map((n) => {
            const [local, exported] = n.split(/\s+as\s+/);
            return `exports.${exported || local} = ${local};`;
          })
          .join(' '));
    const tail = named.map((n) => `exports.${n} = ${n};`).join(' ');
    return `Object.defineProperty(exports, '__esModule', { value: true });\n${out}\n${tail}`;
  }

  function load(filename) {
    if (cache[filename]) return cache[filename].exports;
    const module = { id: filename, filename, exports: {}, loaded: false, children: [], paths: [] };
    cache[filename] = module;
    try {
      const source = ops.op_rectus_read_file(filename);
      if (source === null) throw new Error(`Cannot read '${filename}'`);
      if (filename.endsWith('.json')) {
        module.exports = JSON.parse(source);
      } else {
        const body = esmToCommonJs(source.replace(/^#!.*/, ''));
        const wrapper = `(function (exports, require, module, __filename, __dirname, __rectusDefault) {${body}\n})`;
        const [fn, error] = Deno.core.evalContext(wrapper, 'file://' + filename);
        if (error) throw error.thrown;
        fn.call(module.exports, module.exports, makeRequire(path.dirname(filename)), module, filename, path.dirname(filename), (m) =>
          m && m.__esModule ? m.default : m);
      }
      module.loaded = true;
      return module.exports;
    } catch (e) {
      delete cache[filename];
      throw e;
    }
  }

  function makeRequire(fromDir) {
    const require = (request) => {
      if (typeof request !== 'string') throw new TypeError('The "id" argument must be of type string');
      const resolved = resolve(request, fromDir);
      return builtins[resolved] !== undefined && !resolved.startsWith('/') ? builtins[resolved] : load(resolved);
    };
    require.resolve = (request) => resolve(request, fromDir);
    require.cache = cache;
    return require;
  }

  rectus.requireFrom = makeRequire;
  rectus.esmToCommonJs = esmToCommonJs;
})(globalThis);
