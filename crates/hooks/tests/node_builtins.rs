//! Node compatibility inside the engine: the CommonJS loader against package layouts written
//! by each test into a temporary folder, and the built-ins and globals from `js-runtime/node`
//! (hashes against known vectors, fs in a temporary folder, streams, timers, encodings).
//! Network clients are tested against real servers in `tests/node_compat.rs`. HOOKS_TIMEOUT is
//! long because a debug build evaluates the Node bundle in about two seconds (release: ~50x less).

use rectus_core::config::{Config, Env};
use rectus_core::events::{EventArgs, EventBus};
use rectus_hooks::HookRuntime;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A temporary extensions folder with the given files (paths relative to it).
struct Extensions(PathBuf);

impl Extensions {
    fn new(files: &[(&str, &str)]) -> Extensions {
        let root = std::env::temp_dir().join(format!("rectus-node-{}", uuid::Uuid::new_v4().simple()));
        for (path, text) in files {
            let file = root.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        Extensions(root)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Extensions {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn runtime(ext: &Extensions, extra: &[(&str, &str)]) -> Arc<HookRuntime> {
    let path = ext.path().to_string_lossy().into_owned();
    let mut pairs = vec![("EXTENSIONS_PATH", path.as_str()), ("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "60000")];
    pairs.extend_from_slice(extra);
    let config = Config::from_env(Env::from_pairs(pairs), ext.path()).unwrap();
    HookRuntime::start(&config).expect("runtime starts")
}

async fn before(rt: &HookRuntime, input: Value) -> Value {
    let ctx: Map<String, Value> = json!({ "event": "items.create.before", "collection": "t", "item": null }).as_object().cloned().unwrap();
    match rt.emit_before("items.create.before", EventArgs::with_input(input, ctx)).await {
        Ok(v) => v.unwrap(),
        Err(e) => panic!("the hook failed: {}", e.message),
    }
}

/// A hook whose `items.create.before` returns `{ out: await body(input) }`.
fn hook(body: &str) -> String {
    format!("module.exports = () => ({{ 'items.create.before': async (input) => ({{ out: await (async () => {{ {body} }})() }}) }});\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packages_resolve_as_node_resolves_them() {
    let ext = Extensions::new(&[
        ("hooks/a/index.js", &hook(
            "const dual = require('dual');
             const sub = require('dual/feature');
             const pattern = require('dual/extra/one');
             const legacy = require('legacy/lib/util');
             const scoped = require('@acme/thing');
             const data = require('./data');
             const a = require('./cycle-a');
             let blocked = null;
             try { require('dual/hidden'); } catch (e) { blocked = e.code; }
             let esm = null;
             try { require('esm-only'); } catch (e) { esm = e.message; }
             let esmImportOnly = null;
             try { require('import-only'); } catch (e) { esmImportOnly = e.message; }
             return {
               dual, sub, pattern, legacy, scoped, data, cycle: a.seenB, internal: dual.internal,
               blocked, esm, esmImportOnly,
               resolved: require.resolve('dual').replace(__dirname, '.'),
               cached: Object.keys(require.cache).some((k) => k.endsWith('/dual/cjs/index.cjs')),
               sameInstance: require('dual') === dual,
               builtinFirst: typeof require('events'),
               nodePrefix: require('node:path') === require('path'),
             };",
        )),
        ("hooks/a/data.json", r#"{ "from": "json" }"#),
        ("hooks/a/cycle-a.js", "exports.partial = true; const b = require('./cycle-b'); exports.seenB = b.sawPartialA;"),
        ("hooks/a/cycle-b.js", "exports.sawPartialA = require('./cycle-a').partial === true;"),
        ("hooks/a/node_modules/dual/package.json", r##"{ "name": "dual", "exports": {
            ".": { "import": "./esm/index.mjs", "node": { "require": "./cjs/index.cjs" }, "default": "./esm/index.mjs" },
            "./feature": "./cjs/feature.js", "./extra/*": "./cjs/extra/*.js", "./hidden": null },
            "imports": { "#internal": "./cjs/internal.js" } }"##),
        ("hooks/a/node_modules/dual/cjs/index.cjs", "module.exports = { kind: 'cjs', internal: require('#internal') };"),
        ("hooks/a/node_modules/dual/cjs/internal.js", "module.exports = 'internal';"),
        ("hooks/a/node_modules/dual/cjs/feature.js", "module.exports = 'feature';"),
        ("hooks/a/node_modules/dual/cjs/extra/one.js", "module.exports = 'pattern one';"),
        ("hooks/a/node_modules/dual/esm/index.mjs", "export default 'esm';"),
        // Found in the extensions folder's node_modules, above the hook's own.
        ("node_modules/legacy/package.json", r#"{ "name": "legacy", "main": "main.js" }"#),
        ("node_modules/legacy/main.js", "module.exports = 'legacy';"),
        ("node_modules/legacy/lib/util.js", "module.exports = 'legacy util';"),
        ("node_modules/@acme/thing/index.js", "module.exports = 'scoped index';"),
        ("node_modules/esm-only/package.json", r#"{ "name": "esm-only", "type": "module", "main": "index.js" }"#),
        ("node_modules/esm-only/index.js", "export default 1;"),
        ("node_modules/import-only/package.json", r#"{ "name": "import-only", "exports": { "import": "./index.js" } }"#),
        ("node_modules/import-only/index.js", "export default 1;"),
    ]);
    let rt = runtime(&ext, &[]);
    assert!(rt.report().failures.is_empty(), "{:?}", rt.report().failures);
    let out = before(&rt, json!({})).await["out"].clone();
    assert_eq!(out["dual"]["kind"], "cjs", "nested conditions pick node → require: {out}");
    assert_eq!(out["internal"], "internal", "`imports` (#internal)");
    assert_eq!(out["sub"], "feature");
    assert_eq!(out["pattern"], "pattern one");
    assert_eq!(out["legacy"], "legacy util");
    assert_eq!(out["scoped"], "scoped index");
    assert_eq!(out["data"], json!({ "from": "json" }));
    assert_eq!(out["cycle"], true, "a cycle sees the partial exports");
    assert_eq!(out["blocked"], "ERR_PACKAGE_PATH_NOT_EXPORTED");
    let esm = out["esm"].as_str().unwrap();
    assert!(esm.contains("Package \"esm-only\" is an ES module") && esm.contains("\"type\": \"module\""), "{esm}");
    assert!(out["esmImportOnly"].as_str().unwrap().contains("Package \"import-only\" is an ES module"), "{out}");
    assert_eq!(out["resolved"], "./node_modules/dual/cjs/index.cjs");
    assert_eq!(out["cached"], true);
    assert_eq!(out["sameInstance"], true);
    assert_eq!(out["builtinFirst"], "function");
    assert_eq!(out["nodePrefix"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_package_fails_its_hook_only() {
    let ext = Extensions::new(&[
        ("hooks/a-missing/index.js", "const x = require('no-such-package-anywhere');\nmodule.exports = () => ({});\n"),
        ("hooks/b-unsupported/index.js", "require('vm');\nmodule.exports = () => ({});\n"),
        ("hooks/c-fine/index.js", &hook("return 'fine';")),
    ]);
    let rt = runtime(&ext, &[]);
    let failures: Vec<(&str, &str)> = rt.report().failures.iter().map(|f| (f.hook.as_str(), f.error.as_str())).collect();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].1.contains("Cannot find module 'no-such-package-anywhere'"), "{failures:?}");
    assert!(failures[1].1.contains("Node built-in \"vm\" is not available"), "{failures:?}");
    assert_eq!(before(&rt, json!({})).await["out"], "fine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_builtin_loads() {
    let ext = Extensions::new(&[("hooks/a/index.js", &hook(
        "const names = require('module').builtinModules;
         const failed = [];
         for (const n of names) { try { require(n); require('node:' + n); } catch (e) { failed.push(n + ': ' + e.message); } }
         return { count: names.length, failed };",
    ))]);
    let rt = runtime(&ext, &[]);
    let out = before(&rt, json!({})).await["out"].clone();
    assert_eq!(out["failed"], json!([]), "{out}");
    assert!(out["count"].as_u64().unwrap() >= 30, "{out}");
}

/// `node:stream/web` (openai 4 requires it): a multi-byte character split between two chunks
/// is decoded whole, through a transform into a writable; the text encoder stream; the values
/// Node 20 gives for the same code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_streams_work_like_node() {
    let ext = Extensions::new(&[("hooks/a/index.js", &hook(
        "const { ReadableStream, WritableStream, TransformStream, TextDecoderStream, TextEncoderStream } = require('node:stream/web');
         const bytes = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([0x61, 0xe2])); c.enqueue(new Uint8Array([0x82, 0xac, 0x62])); c.close(); } });
         let decoded = '';
         await bytes.pipeThrough(new TextDecoderStream()).pipeThrough(new TransformStream({ transform: (t, c) => c.enqueue(t.toUpperCase()) }))
           .pipeTo(new WritableStream({ write: (t) => { decoded += t; } }));
         const encoder = new TextEncoderStream();
         const writer = encoder.writable.getWriter();
         writer.write('é');
         writer.close();
         const encoded = [];
         for await (const chunk of encoder.readable) encoded.push(...chunk);
         return { decoded, encoded, encoding: new TextDecoderStream('utf8').encoding };",
    ))]);
    let rt = runtime(&ext, &[]);
    assert_eq!(before(&rt, json!({})).await["out"], json!({ "decoded": "A€B", "encoded": [195, 169], "encoding": "utf-8" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crypto_matches_known_values() {
    let ext = Extensions::new(&[("hooks/a/index.js", &hook(
        "const crypto = require('crypto');
         const h = (alg) => crypto.createHash(alg).update('ab').update(Buffer.from('c')).digest('hex');
         const uuid = crypto.randomUUID();
         const pbkdf2 = await new Promise((res, rej) => crypto.pbkdf2('password', 'salt', 2, 20, 'sha1', (e, k) => (e ? rej(e) : res(k.toString('hex')))));
         let unsupported = null;
         try { crypto.createHash('whirlpool'); } catch (e) { unsupported = e.message; }
         return {
           md5: h('md5'), sha1: h('sha1'), sha256: h('sha256'),
           sha512: crypto.createHash('sha512').update('abc').digest('base64'),
           hmac: crypto.createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('hex'),
           secretKey: (() => {
             const key = crypto.createSecretKey(Buffer.from('key'));
             return [key instanceof crypto.KeyObject, key.type, key.symmetricKeySize, key.equals(crypto.createSecretKey('key', 'utf8')),
               crypto.createHmac('sha256', key).update('The quick brown fox jumps over the lazy dog').digest('hex')];
           })(),
           pbkdf2,
           random: crypto.randomBytes(16).length,
           uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid),
           safeEqual: [crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abc')), crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abd'))],
           webcrypto: globalThis.crypto.getRandomValues(new Uint8Array(8)).length,
           unsupported,
         };",
    ))]);
    let rt = runtime(&ext, &[]);
    let out = before(&rt, json!({})).await["out"].clone();
    assert_eq!(out["md5"], "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(out["sha1"], "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(out["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(out["sha512"], "3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==");
    assert_eq!(out["hmac"], "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // What jsonwebtoken makes of an HMAC secret.
    assert_eq!(out["secretKey"], json!([true, "secret", 3, true, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"]));
    assert_eq!(out["pbkdf2"], "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
    assert_eq!(out["random"], 16);
    assert_eq!(out["uuid"], true);
    assert_eq!(out["safeEqual"], json!([true, false]));
    assert_eq!(out["webcrypto"], 8);
    assert!(out["unsupported"].as_str().unwrap().contains("Digest method not supported: whirlpool"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_reads_and_writes_with_node_errors() {
    let scratch = Extensions::new(&[("existing.txt", "hello")]);
    let ext = Extensions::new(&[("hooks/a/index.js", &hook(
        "const fs = require('fs');
         const path = require('path');
         const dir = process.env.SCRATCH;
         fs.mkdirSync(path.join(dir, 'sub/deeper'), { recursive: true });
         fs.writeFileSync(path.join(dir, 'sub/a.txt'), 'one');
         fs.appendFileSync(path.join(dir, 'sub/a.txt'), Buffer.from(' two'));
         await fs.promises.writeFile(path.join(dir, 'sub/b.json'), JSON.stringify({ n: 1 }));
         const viaCallback = await new Promise((res, rej) => fs.readFile(path.join(dir, 'existing.txt'), 'utf8', (e, t) => (e ? rej(e) : res(t))));
         let missing = null;
         try { fs.readFileSync(path.join(dir, 'nope.txt')); } catch (e) { missing = { code: e.code, syscall: e.syscall, message: e.message.replace(dir, 'DIR') }; }
         const stat = fs.statSync(path.join(dir, 'sub/a.txt'));
         const entries = fs.readdirSync(path.join(dir, 'sub'), { withFileTypes: true }).map((d) => d.name + (d.isDirectory() ? '/' : ''));
         fs.unlinkSync(path.join(dir, 'sub/b.json'));
         const streamed = await new Promise((res) => { let t = ''; fs.createReadStream(path.join(dir, 'sub/a.txt'), 'utf8').on('data', (c) => (t += c)).on('end', () => res(t)); });
         return {
           text: fs.readFileSync(path.join(dir, 'sub/a.txt'), 'utf8'),
           bytes: (await fs.promises.readFile(path.join(dir, 'sub/a.txt'))).length,
           viaCallback, missing, size: stat.size, isFile: stat.isFile(), mtime: stat.mtime instanceof Date,
           entries, existsAfterUnlink: fs.existsSync(path.join(dir, 'sub/b.json')), streamed,
           fsPromises: require('fs/promises') === fs.promises,
         };",
    ))]);
    let dir = scratch.path().to_string_lossy().into_owned();
    let rt = runtime(&ext, &[("SCRATCH", dir.as_str())]);
    let out = before(&rt, json!({})).await["out"].clone();
    assert_eq!(out["text"], "one two");
    assert_eq!(out["bytes"], 7);
    assert_eq!(out["viaCallback"], "hello");
    assert_eq!(out["missing"], json!({ "code": "ENOENT", "syscall": "open", "message": "ENOENT: no such file or directory, open 'DIR/nope.txt'" }));
    assert_eq!(out["size"], 7);
    assert_eq!(out["isFile"], true);
    assert_eq!(out["mtime"], true);
    assert_eq!(out["entries"], json!(["a.txt", "b.json", "deeper/"]));
    assert_eq!(out["existsAfterUnlink"], false);
    assert_eq!(out["streamed"], "one two");
    assert_eq!(out["fsPromises"], true);
    assert_eq!(std::fs::read_to_string(scratch.path().join("sub/a.txt")).unwrap(), "one two", "written to the real disk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn globals_streams_and_encodings_behave_like_node() {
    let ext = Extensions::new(&[("hooks/a/index.js", &hook(
        "const { Readable, Transform, pipeline } = require('stream');
         const util = require('util');
         const upper = new Transform({ transform(chunk, enc, cb) { cb(null, chunk.toString().toUpperCase()); } });
         const collected = await new Promise((res, rej) => {
           let out = '';
           pipeline(Readable.from(['a', 'b', 'c']), upper, (e) => (e ? rej(e) : res(out)));
           upper.on('data', (c) => (out += c));
         });
         const url = new URL('https://user:pw@example.com:8443/a/b?x=1&y=two#h');
         url.searchParams.append('z', 'é');
         const timer = setTimeout(() => {}, 10_000);
         const unref = timer.unref() === timer && timer.hasRef() === false;
         clearTimeout(timer);
         const ticks = [];
         await new Promise((res) => { process.nextTick(() => ticks.push('tick')); setImmediate(() => { ticks.push('immediate'); res(); }); });
         const ac = new AbortController();
         ac.abort();
         const cloned = structuredClone({ d: new Date(0), m: new Map([[1, 2]]), nested: { a: [1] } });
         return {
           collected,
           href: url.href, host: url.host, search: url.searchParams.get('y'),
           legacy: require('url').parse('http://a.com:81/p?q=1').port,
           qs: require('querystring').stringify({ a: [1, 2], b: 'c d' }),
           encoded: Array.from(new TextEncoder().encode('é€')),
           decoded: new TextDecoder().decode(new Uint8Array([0xe2, 0x82, 0xac])),
           base64: Buffer.from('héllo').toString('base64'),
           hex: Buffer.from('ff00', 'hex').readUInt16BE(0),
           format: util.format('%s=%d %j', 'n', 42, { a: 1 }),
           inspect: util.inspect({ a: { b: { c: 1 } } }),
           promisified: await util.promisify((x, cb) => cb(null, x * 2))(21),
           unref, ticks, aborted: ac.signal.aborted, reason: ac.signal.reason.name,
           cloned: [cloned.d instanceof Date, cloned.m.get(1), cloned.nested.a[0]],
           gzip: require('zlib').gunzipSync(require('zlib').gzipSync('zipped')).toString(),
           os: [require('os').platform(), require('os').EOL === '\\n', typeof require('os').hostname()],
           process: [typeof process.env, process.platform, process.version.startsWith('v'), Object.prototype.toString.call(process)],
           memory: (() => {
             const before = process.memoryUsage();
             const kept = Array.from({ length: 100000 }, (_, i) => ({ i, s: 'item ' + i }));
             const after = process.memoryUsage();
             return [before.rss > 4e6, before.heapUsed > 0 && before.heapUsed <= before.heapTotal, after.heapUsed - before.heapUsed > 1e6, process.memoryUsage.rss() > 4e6, kept.length];
           })(),
           path: require('path').relative('/a/b/c', '/a/d'),
           events: await new Promise((res) => { const e = new (require('events'))(); e.once('x', res); e.emit('x', 'fired'); }),
           assertThrows: (() => { try { require('assert').strictEqual(1, 2); } catch (e) { return e.code; } })(),
         };",
    ))]);
    let rt = runtime(&ext, &[]);
    let out = before(&rt, json!({})).await["out"].clone();
    assert_eq!(out["collected"], "ABC");
    assert_eq!(out["href"], "https://user:pw@example.com:8443/a/b?x=1&y=two&z=%C3%A9#h");
    assert_eq!(out["host"], "example.com:8443");
    assert_eq!(out["search"], "two");
    assert_eq!(out["legacy"], "81");
    assert_eq!(out["qs"], "a=1&a=2&b=c%20d");
    assert_eq!(out["encoded"], json!([195, 169, 226, 130, 172]));
    assert_eq!(out["decoded"], "€");
    assert_eq!(out["base64"], "aMOpbGxv");
    assert_eq!(out["hex"], 65280);
    assert_eq!(out["format"], "n=42 {\"a\":1}");
    assert_eq!(out["inspect"], "{ a: { b: { c: 1 } } }");
    assert_eq!(out["promisified"], 42);
    assert_eq!(out["unref"], true);
    assert_eq!(out["ticks"], json!(["tick", "immediate"]));
    assert_eq!(out["aborted"], true);
    assert_eq!(out["reason"], "AbortError");
    assert_eq!(out["cloned"], json!([true, 2, 1]));
    assert_eq!(out["gzip"], "zipped");
    assert_eq!(out["os"], json!(["linux", true, "string"]));
    assert_eq!(out["process"], json!(["object", "linux", true, "[object process]"]));
    assert_eq!(out["memory"], json!([true, true, true, true, 100000]), "process.memoryUsage() measures");
    assert_eq!(out["path"], "../../d");
    assert_eq!(out["events"], "fired");
    assert_eq!(out["assertThrows"], "ERR_ASSERTION");
}

/// An isolate that goes idle after jobs collects the cycles they left (`pool.rs`): QuickJS alone
/// would wait for its heap to grow past the burst's peak again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_isolate_collects_the_cycles_jobs_left() {
    let body = "if (input.garbage) {
           const kept = [];
           for (let i = 0; i < 40000; i++) { const o = { i, pad: 'cycle ' + i + ' '.repeat(200) }; o.self = o; kept.push(o); }
         }
         return process.memoryUsage().heapUsed;";
    let ext = Extensions::new(&[("hooks/garbage/index.js", &hook(body))]);
    let rt = runtime(&ext, &[]);
    let before_burst = before(&rt, json!({})).await["out"].as_f64().unwrap();
    let after_burst = before(&rt, json!({ "garbage": true })).await["out"].as_f64().unwrap();
    assert!(after_burst - before_burst > 4e6, "the burst left its cycles: {before_burst} → {after_burst}");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let idle = before(&rt, json!({})).await["out"].as_f64().unwrap();
    assert!(idle - before_burst < (after_burst - before_burst) / 4.0, "collected when idle: {before_burst} → {after_burst} → {idle}");
}

/// `sharp` and `argon2` with no package installed anywhere: the built-in ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharp_and_argon2_are_built_in() {
    let ext = Extensions::new(&[("hooks/a/index.js", &hook(
        "const sharp = require('sharp');
         const argon2 = require('argon2');
         const png = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#ff0000' } }).png().toBuffer();
         const { data, info } = await sharp(png).raw().ensureAlpha().resize(32, 32).toBuffer({ resolveWithObject: true });
         const hash = await argon2.hash('secret');
         return {
           resolved: [require.resolve('sharp'), require.resolve('argon2')],
           info, bytes: data.length, first: [...data.subarray(0, 4)],
           meta: await sharp(png).metadata(),
           verified: [await argon2.verify(hash, 'secret'), await argon2.verify(hash, 'other')],
         };",
    ))]);
    let rt = runtime(&ext, &[]);
    let out = before(&rt, json!({})).await["out"].clone();
    assert_eq!(out["resolved"], json!(["sharp", "argon2"]));
    assert_eq!(out["info"], json!({ "format": "raw", "width": 32, "height": 32, "channels": 4, "depth": "uchar", "premultiplied": false, "size": 4096 }));
    assert_eq!((out["bytes"].clone(), out["first"].clone()), (json!(4096), json!([255, 0, 0, 255])));
    assert_eq!((out["meta"]["format"].clone(), out["meta"]["width"].clone(), out["meta"]["size"].is_u64()), (json!("png"), json!(40), true));
    assert_eq!(out["verified"], json!([true, false]));
}

/// `HOOKS_CHILD_PROCESS=false`: the module loads, every function throws, and the ops refuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process_can_be_turned_off() {
    let body = "const cp = require('child_process');
         const attempt = (f) => { try { f(); return 'ran'; } catch (e) { return e.message; } };
         return {
           spawn: attempt(() => cp.spawn('true')),
           execSync: attempt(() => cp.execSync('true')),
           op: attempt(() => Deno.core.ops.op_node_spawn_sync({ file: 'true', args: [], stdio: ['pipe', 'pipe', 'pipe'], detached: false }, new Uint8Array(0), { timeoutMs: 0, killSignal: 15, maxBuffer: 0 })),
         };";
    let ext = Extensions::new(&[("hooks/a/index.js", &hook(body))]);
    let off = runtime(&ext, &[("HOOKS_CHILD_PROCESS", "false")]);
    let out = before(&off, json!({})).await["out"].clone();
    assert_eq!(out["spawn"], "child_process.spawn() is not available to Rectus hooks (HOOKS_CHILD_PROCESS=false)");
    assert_eq!(out["execSync"], "child_process.execSync() is not available to Rectus hooks (HOOKS_CHILD_PROCESS=false)");
    assert!(out["op"].as_str().unwrap().contains("HOOKS_CHILD_PROCESS=false"), "{out}");
    let on = runtime(&ext, &[]);
    assert_eq!(before(&on, json!({})).await["out"], json!({ "spawn": "ran", "execSync": "ran", "op": "ran" }));
}
