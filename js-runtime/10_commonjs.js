// CommonJS as Node runs it: sloppy-mode function wrapper, module cache (`require.cache`, cycles
// see the partial `exports`), built-ins first, then relative paths and `node_modules` from the
// requiring file's folder upward (then the working directory's), package.json `exports` with
// the `require`/`node`/`default` conditions (subpaths, `*` patterns), `imports` (`#name`),
// `main`, index files, .js/.json/.cjs. Real paths identify modules, as in Node.
//
// Native addons (`.node` files) can't load: requiring one throws ERR_DLOPEN_FAILED; for `sharp`
// and `argon2` Rectus has built-in replacements (see `requirePackage`).
//
// ES modules: a hook's own files written as ES modules are rewritten to CommonJS (enough for
// `export default` and static imports). An ES module inside node_modules (`.mjs`, or `.js` under
// `"type": "module"`, or a package only exporting `import`) is refused with an error naming the
// package: the engine can't run ES module graphs from npm yet.
((globalThis) => {
  const ops = Deno.core.ops;
  const rectus = globalThis.__rectus;

  // The loader's own path helpers (POSIX); `require('path')` is path-browserify, from the bundle.
  const path = {
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
  };

  const cache = Object.create(null);
  // What a request from a folder resolved to, as Node keeps it (`Module._pathCache`): the files
  // of a folder require much the same, and each resolution costs a file-system call per place
  // tried. Failures are not kept.
  const resolvedFrom = new Map();
  rectus.onRelease(() => {
    for (const filename of Object.keys(cache)) delete cache[filename];
    resolvedFrom.clear();
  });
  const isFile = (p) => ops.op_rectus_stat(p) === 1;
  const isDir = (p) => ops.op_rectus_stat(p) === 2;
  const realpath = (p) => ops.op_rectus_realpath(p) ?? p;
  const isRelative = (r) => r.startsWith('./') || r.startsWith('../') || r.startsWith('/') || r === '.' || r === '..';

  const CONDITIONS = ['require', 'node', 'default'];

  // Strict code is compiled as an ES module's function, which the engine's bytecode cache
  // serves without parsing; other code as a function (crates/hooks/src/code_cache.rs). A file
  // compiled as a module and loaded again (its cache entry deleted) is compiled as a function,
  // so a changed file never meets its old module of the same name.
  const asModules = new Set();

  // `body`: the code to compile instead of the file's (a hook's own file, rewritten); null
  // when the file can't be read.
  function compileFile(filename, body) {
    const compiled = ops.op_rectus_compile_file(filename, body, !asModules.has(filename));
    if (compiled === null) return null;
    const [fn, error, asModule] = compiled;
    if (fn === undefined) throw error ?? new SyntaxError(`${filename}: the engine could not compile it`);
    if (asModule) asModules.add(filename);
    return fn;
  }

  function fail(message, code) {
    const e = new Error(message);
    e.code = code;
    return e;
  }

  const packageJsons = new Map();
  function readPackageJson(dir) {
    if (packageJsons.has(dir)) return packageJsons.get(dir);
    const file = dir + '/package.json';
    let pkg = null;
    if (isFile(file)) {
      try {
        pkg = JSON.parse(ops.op_rectus_read_file(file));
      } catch (e) {
        throw fail(`Invalid package config ${file}: ${e.message}`, 'ERR_INVALID_PACKAGE_CONFIG');
      }
    }
    packageJsons.set(dir, pkg);
    return pkg;
  }

  // The nearest package.json above a file: its folder and contents (for `type` and `imports`).
  function packageScope(file) {
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      if (dir.endsWith('/node_modules')) return null;
      const pkg = readPackageJson(dir);
      if (pkg) return { dir, pkg };
      if (dir === '/') return null;
    }
  }

  // One `exports`/`imports` target: a string, a conditions object or a fallback array.
  function resolveTarget(dir, target, star, conditions) {
    if (typeof target === 'string') {
      if (!target.startsWith('./') && star === undefined) return null;
      return path.join(dir, star === undefined ? target : target.split('*').join(star));
    }
    if (Array.isArray(target)) {
      for (const t of target) {
        const found = resolveTarget(dir, t, star, conditions);
        if (found) return found;
      }
      return null;
    }
    if (target && typeof target === 'object') {
      for (const [key, value] of Object.entries(target)) {
        if (!conditions.includes(key)) continue;
        const found = resolveTarget(dir, value, star, conditions);
        if (found !== null) return found;
      }
    }
    return null;
  }

  // Matches a subpath (`.`, `./feature`, `#internal`) against an exports/imports map.
  function matchSubpath(dir, map, subpath, conditions) {
    if (Object.hasOwn(map, subpath) && !subpath.includes('*')) return resolveTarget(dir, map[subpath], undefined, conditions);
    let best = null;
    for (const key of Object.keys(map)) {
      const i = key.indexOf('*');
      if (i < 0) continue;
      const [prefix, suffix] = [key.slice(0, i), key.slice(i + 1)];
      if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length && (!best || prefix.length > best.prefix.length)) {
        best = { key, prefix, star: subpath.slice(prefix.length, subpath.length - suffix.length) };
      }
    }
    return best ? resolveTarget(dir, map[best.key], best.star, conditions) : null;
  }

  function exportsMap(exports) {
    const sugar = typeof exports === 'string' || Array.isArray(exports) || (exports && Object.keys(exports).every((k) => !k.startsWith('.')));
    return sugar ? { '.': exports } : exports;
  }

  // A package folder with `exports`: the file it exports for `subpath`, else a Node error.
  function resolveExports(dir, pkg, subpath, request) {
    const map = exportsMap(pkg.exports);
    const found = matchSubpath(dir, map, subpath, CONDITIONS);
    if (found && isFile(found)) return found;
    if (!found && matchSubpath(dir, map, subpath, ['import'])) throw esmOnly(pkg.name || request, `its package.json exports "${subpath}" only to \`import\``);
    if (found) throw fail(`Cannot find module '${found}' (exported by ${dir}/package.json for '${request}')`, 'MODULE_NOT_FOUND');
    throw fail(`Package subpath '${subpath}' is not defined by "exports" in ${dir}/package.json (required as '${request}')`, 'ERR_PACKAGE_PATH_NOT_EXPORTED');
  }

  function esmOnly(name, why) {
    return fail(`Package "${name}" is an ES module (${why}); Rectus hooks can require only CommonJS packages — install a version that ships CommonJS`, 'ERR_REQUIRE_ESM');
  }

  function resolveFile(p) {
    if (isFile(p)) return p;
    for (const ext of ['.js', '.json', '.cjs']) if (isFile(p + ext)) return p + ext;
    return null;
  }

  function resolveDir(p) {
    const pkg = readPackageJson(p);
    if (pkg && typeof pkg.main === 'string') {
      const main = path.join(p, pkg.main);
      const m = resolveFile(main) || (isDir(main) && resolveIndex(main));
      if (m) return m;
    }
    return resolveIndex(p);
  }

  function resolveIndex(p) {
    for (const idx of ['index.js', 'index.json', 'index.cjs']) if (isFile(p + '/' + idx)) return p + '/' + idx;
    return null;
  }

  const resolvePath = (p) => resolveFile(p) || (isDir(p) && resolveDir(p)) || null;

  // `name` or `@scope/name`, and the rest as an exports subpath (`.` or `./rest`).
  function splitPackage(request) {
    const parts = request.split('/');
    const n = request.startsWith('@') ? 2 : 1;
    return [parts.slice(0, n).join('/'), parts.length > n ? './' + parts.slice(n).join('/') : '.'];
  }

  function lookupPaths(fromDir) {
    const dirs = [];
    for (let dir = fromDir; ; dir = path.dirname(dir)) {
      if (!dir.endsWith('/node_modules')) dirs.push(path.join(dir, 'node_modules'));
      if (dir === '/' || dir === '.') break;
    }
    const project = path.join(ops.op_rectus_cwd(), 'node_modules');
    if (!dirs.includes(project)) dirs.push(project);
    return dirs;
  }

  function resolvePackage(request, paths) {
    const [name, subpath] = splitPackage(request);
    for (const modules of paths) {
      const dir = path.join(modules, name);
      if (!isDir(dir)) continue;
      const pkg = readPackageJson(dir);
      if (pkg && pkg.exports !== undefined && pkg.exports !== null) return resolveExports(dir, pkg, subpath, request);
      const found = resolvePath(path.join(modules, request));
      if (found) return found;
    }
    return null;
  }

  function resolveImports(request, fromDir) {
    const scope = packageScope(fromDir + '/x');
    const found = scope?.pkg.imports && matchSubpath(scope.dir, scope.pkg.imports, request, CONDITIONS);
    if (found && isRelative(found)) return resolvePath(found);
    return found ? resolvePackage(found, lookupPaths(fromDir)) : null;
  }

  function notFound(request, fromFile) {
    const e = fail(`Cannot find module '${request}'${fromFile ? `\nRequire stack:\n- ${fromFile}` : ''}`, 'MODULE_NOT_FOUND');
    e.requireStack = fromFile ? [fromFile] : [];
    return e;
  }

  // A built-in's name (without `node:`), or the absolute path of the file to load.
  function resolve(request, fromDir, fromFile, paths) {
    const builtin = rectus.builtinName(request);
    if (builtin) return builtin;
    let found = null;
    if (isRelative(request)) found = resolvePath(path.resolve(fromDir, request));
    else if (request.startsWith('#')) found = resolveImports(request, fromDir);
    else found = resolvePackage(request, paths ?? lookupPaths(fromDir));
    if (!found) throw notFound(request, fromFile);
    return realpath(found);
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

  // ES modules inside node_modules are refused (see the header); elsewhere they are rewritten.
  function checkEsm(filename) {
    if (!filename.includes('/node_modules/')) return;
    // The folder name under node_modules: what the hook wrote in `require`. Only for the error:
    // QuickJS tries the pattern at every position of the path.
    const name = () => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(filename)?.[1] ?? filename;
    if (filename.endsWith('.mjs')) throw esmOnly(name(), `${filename} is an .mjs file`);
    if (!filename.endsWith('.js')) return;
    const scope = packageScope(filename);
    if (scope?.pkg.type === 'module') throw esmOnly(name(), `"type": "module" in ${scope.dir}/package.json`);
  }

  class Module {
    constructor(filename, parent) {
      this.id = filename;
      this.filename = filename;
      this.path = path.dirname(filename);
      this.exports = {};
      this.loaded = false;
      this.parent = parent;
      this.children = [];
      this.paths = lookupPaths(this.path);
      this.require = makeRequire(this.path, filename, this);
    }
  }

  function load(filename, parent) {
    const cached = cache[filename];
    if (cached) {
      if (parent && !parent.children.includes(cached)) parent.children.push(cached);
      return cached.exports;
    }
    checkEsm(filename);
    if (filename.endsWith('.node')) throw fail(`${filename}: native addons cannot load in Rectus hooks`, 'ERR_DLOPEN_FAILED');
    const module = new Module(filename, parent);
    cache[filename] = module;
    parent?.children.push(module);
    try {
      const cannotRead = () => new Error(`Cannot read '${filename}'`);
      if (filename.endsWith('.json')) {
        const source = ops.op_rectus_read_file(filename);
        if (source === null) throw cannotRead();
        try {
          module.exports = JSON.parse(source);
        } catch (e) {
          throw new SyntaxError(`${filename}: ${e.message}`);
        }
      } else {
        // npm packages' files are read and compiled in one op; a hook's own may use ES module
        // syntax, rewritten here first.
        let body = null;
        if (!filename.includes('/node_modules/')) {
          const source = ops.op_rectus_read_file(filename);
          if (source === null) throw cannotRead();
          // QuickJS's regular expressions try an anchored pattern at every position: test first.
          body = esmToCommonJs(source.startsWith('#!') ? source.replace(/^#!.*/, '') : source);
        }
        const fn = compileFile(filename, body);
        if (fn === null) throw cannotRead();
        fn.call(module.exports, module.exports, module.require, module, filename, module.path, (m) => (m && m.__esModule ? m.default : m));
      }
      module.loaded = true;
      return module.exports;
    } catch (e) {
      delete cache[filename];
      throw e;
    }
  }

  // `sharp` and `argon2`: the installed package when it loads, else Rectus's own (a Directus
  // project has both installed, with native addons the engine can't load).
  function requirePackage(name, fromDir, fromFile, parent) {
    let resolved;
    try {
      resolved = resolve(name, fromDir, fromFile);
    } catch (e) {
      if (e.code === 'MODULE_NOT_FOUND') return rectus.builtin(name);
      throw e;
    }
    try {
      return load(resolved, parent);
    } catch (e) {
      rectus.log('debug', `${name} at ${resolved} did not load (${String(e?.message ?? e).split('\n').find(Boolean)}); using Rectus's built-in ${name}`);
      return rectus.builtin(name);
    }
  }

  function makeRequire(fromDir, fromFile, parent) {
    const require = (request) => {
      if (typeof request !== 'string' || request === '') throw new TypeError(`The "id" argument must be a non-empty string. Received ${typeof request === 'string' ? "''" : typeof request}`);
      const builtinPackage = rectus.builtinPackage(request);
      if (builtinPackage) return requirePackage(builtinPackage, fromDir, fromFile, parent);
      const key = fromDir + '\0' + request;
      let resolved = resolvedFrom.get(key);
      if (resolved === undefined) {
        resolved = resolve(request, fromDir, fromFile);
        resolvedFrom.set(key, resolved);
      }
      return resolved.startsWith('/') ? load(resolved, parent) : rectus.builtin(resolved);
    };
    require.resolve = (request, options) => {
      const paths = options?.paths?.flatMap((p) => lookupPaths(path.resolve(p)));
      try {
        return resolve(request, fromDir, fromFile, paths);
      } catch (e) {
        if (e.code === 'MODULE_NOT_FOUND' && rectus.builtinPackage(request)) return request;
        throw e;
      }
    };
    require.resolve.paths = (request) => (rectus.builtinName(request) ? null : lookupPaths(fromDir));
    require.cache = cache;
    require.main = undefined;
    return require;
  }

  // `require('module')`: what packages use to build a require of their own.
  rectus.moduleBuiltin = () => {
    const createRequire = (from) => {
      const file = typeof from === 'string' ? from.replace(/^file:\/\//, '') : decodeURIComponent(from.pathname);
      return makeRequire(file.endsWith('/') ? file.slice(0, -1) : path.dirname(file), file, null);
    };
    return { createRequire, builtinModules: rectus.builtinNames(), isBuiltin: (n) => Boolean(rectus.builtinName(n)), Module, _cache: cache };
  };

  rectus.requireFrom = (fromDir) => makeRequire(fromDir, null, null);
  rectus.esmToCommonJs = esmToCommonJs;
})(globalThis);
