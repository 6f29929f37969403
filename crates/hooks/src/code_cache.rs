//! Compiled hook code kept between starts, so a warm start doesn't compile the hooks and their
//! npm packages again (issue 28).
//!
//! What the engine offers (deno_core 0.413 on QuickJS-ng, the `v8x` 149.4.0-rc.4 facade):
//! - V8's code cache API is a stub: `CreateCodeCache` returns a 1-byte placeholder and
//!   `ConsumeCodeCache` is ignored; QuickJS's `JS_WriteObject`/`JS_ReadObject` are private.
//! - The facade keeps QuickJS bytecode on disk itself, one file per source, named by a 64-bit
//!   hash of the source text, the module's name and a tag of the QuickJS sources (the engine
//!   version). Scripts (`evalContext`, `compileFunction`) gain nothing from it: compiling one
//!   always parses the whole source (a syntax check) before the cached bytecode is read. ES
//!   modules are parsed only on a cache miss: a hit is read straight from the bytecode.
//!
//! So a CommonJS file whose code is strict anyway (`'use strict'` first: what TypeScript, Babel
//! and most packages ship) is compiled as the body of a function an ES module exports; the
//! same semantics as Node's wrapper, since strict code can't tell a module's function from a
//! script's. The module is only instantiated, which creates that function; its (empty) body is
//! never evaluated. Sloppy files, and any the module goal refuses (`await` as a name, `<!--`
//! comments), are compiled as a plain function, once. [`compile`] chooses, for the npm files
//! ([`op_rectus_compile_file`]) and for the parts of the Node built-ins' bundle (node/mod.rs).
//!
//! Before compiling, an npm file loses its comments (comments.rs) and minified lines are broken
//! (reflow.rs). Both parse the file with oxc, too slow for every start (the real hook set's
//! 10.4 MB), so the text they make is kept in the cache as well, named by a SHA-256 of the file's
//! text, and the engine's bytecode is keyed by that prepared text.
//!
//! The folder (`HOOKS_CACHE_PATH`, default `<EXTENSIONS_PATH>/.cache`, `false` for none) can be
//! deleted at any time. It holds `quickjs/` (the engine's bytecode) and `source/` (prepared
//! texts). Entries are never trusted blindly: both kinds are named by what they were made from,
//! so a changed file is prepared and compiled again; a file that was damaged after it was
//! written would be used as it is, so each folder's manifest records each entry's CRC-32 and
//! size, and at start every entry that doesn't match it, or that it doesn't list, is deleted
//! before it can be read (it is then made from the file again).

use deno_core::{op2, v8};
use rectus_core::config::Config;
use sha2::{Digest, Sha256};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

const MANIFEST: &str = "manifest";
/// The engine's bytecode: the folder the engine writes to and its entries' extension.
const BYTECODE: (&str, &str) = ("quickjs", "qbc");
/// The texts `prepare` made.
const PREPARED: (&str, &str) = ("source", "js");
/// Names what `prepare` does, in every prepared entry's name: change it when that changes, so
/// no start reads a text an older Rectus prepared.
const PREPARED_BY: &str = "rectus-prepare-1 comments reflow";

static FOLDER: OnceLock<Option<PathBuf>> = OnceLock::new();

/// The cache folder `config` asks for, `None` when `HOOKS_CACHE_PATH=false`.
pub fn folder(config: &Config) -> Option<PathBuf> {
    match config.env.string("HOOKS_CACHE_PATH").filter(|s| !s.is_empty()) {
        Some(v) if v == "false" => None,
        Some(v) => Some(config.cwd.join(v)),
        None => Some(config.extensions_path.join(".cache")),
    }
}

/// The verification of the entries, running while the server connects to its database and
/// reads the schema; [`wait_verified`] takes it.
static VERIFYING: Mutex<Option<std::thread::JoinHandle<()>>> = Mutex::new(None);

/// Points the engine at the cache folder's `quickjs/` and starts dropping the entries of both
/// folders that fail verification, on a thread of its own (reading and summing every entry took
/// 2% of a warm start). Call before the process has threads: the engine reads these variables
/// once, when it first compiles something.
pub fn configure(config: &Config) {
    let folder = folder(config);
    match &folder {
        Some(root) => {
            std::env::set_var("V82JSC_BC_CACHE_DIR", root.join(BYTECODE.0));
            std::env::remove_var("V82JSC_NO_BC_CACHE");
            let root = root.clone();
            let verify_entries = move || {
                for kind in [BYTECODE, PREPARED] {
                    let dir = root.join(kind.0);
                    if let Err(e) = verify(&dir, kind.1) {
                        tracing::debug!("hook code cache {}: {e}", dir.display());
                    }
                }
            };
            match std::thread::Builder::new().name("rectus-code-cache".into()).spawn(verify_entries.clone()) {
                Ok(handle) => *VERIFYING.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle),
                Err(_) => verify_entries(),
            }
        }
        None => std::env::set_var("V82JSC_NO_BC_CACHE", "1"),
    }
    let _ = FOLDER.set(folder);
}

/// Returns once the entries [`configure`] found are verified. Every engine calls it before it
/// starts: the engine reads cached entries from its first script on.
pub fn wait_verified() {
    // The lock is held while joining, so an engine starting meanwhile waits too.
    let mut verifying = VERIFYING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(handle) = verifying.take() {
        let _ = handle.join();
    }
}

/// Lists the entries written since the last start in the manifest, in the background (called
/// when an isolate has loaded the hooks, so the manifest covers what they compiled).
pub fn record_new_entries() {
    let Some(Some(root)) = FOLDER.get().cloned() else { return };
    let spawned = std::thread::Builder::new().name("rectus-code-cache".into()).spawn(move || {
        for kind in [BYTECODE, PREPARED] {
            let dir = root.join(kind.0);
            if let Err(e) = record(&dir, kind.1) {
                tracing::debug!("hook code cache {}: {e}", dir.display());
            }
        }
    });
    if let Err(e) = spawned {
        tracing::debug!("hook code cache: {e}");
    }
}

/// What the manifest says of each entry: CRC-32 and size.
type Manifest = HashMap<String, (u32, u64)>;

fn read_manifest(dir: &Path) -> Manifest {
    let text = std::fs::read_to_string(dir.join(MANIFEST)).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let (crc, size, name) = (parts.next()?, parts.next()?, parts.next()?);
            Some((name.to_string(), (u32::from_str_radix(crc, 16).ok()?, size.parse().ok()?)))
        })
        .collect()
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> std::io::Result<()> {
    let mut names: Vec<&String> = manifest.keys().collect();
    names.sort();
    let text: String = names.iter().map(|n| format!("{:08x} {} {n}\n", manifest[*n].0, manifest[*n].1)).collect();
    store(&dir.join(MANIFEST), &text)
}

/// Writes a file of the cache aside and renames it, so no reader sees half of it; the name of
/// the aside file is unique to the write, as isolates (and processes) may write the same file at
/// once.
fn store(path: &Path, text: &str) -> std::io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".{}.{}.tmp", std::process::id(), WRITES.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&aside, text)?;
    std::fs::rename(&aside, path)
}

fn entries(dir: &Path, extension: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == extension) {
            if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                found.push((name.to_string(), path.clone()));
            }
        }
    }
    Ok(found)
}

fn checksum(path: &Path) -> std::io::Result<(u32, u64)> {
    let bytes = std::fs::read(path)?;
    Ok((crc32fast::hash(&bytes), bytes.len() as u64))
}

/// Deletes every entry the manifest doesn't vouch for, and leftovers of interrupted writes.
fn verify(dir: &Path, extension: &str) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let listed = read_manifest(dir);
    let mut kept = Manifest::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            let _ = std::fs::remove_file(&path);
        }
    }
    for (name, path) in entries(dir, extension)? {
        match listed.get(&name) {
            Some(expected) if checksum(&path).ok().as_ref() == Some(expected) => {
                kept.insert(name, *expected);
            }
            _ => {
                tracing::debug!("hook code cache: dropping unverified entry {}", path.display());
                std::fs::remove_file(&path)?;
            }
        }
    }
    write_manifest(dir, &kept)
}

fn record(dir: &Path, extension: &str) -> std::io::Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    // Each isolate's first start records; one at a time in this process.
    static RECORDING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = RECORDING.lock().unwrap_or_else(|e| e.into_inner());
    let mut manifest = read_manifest(dir);
    let present = entries(dir, extension)?;
    let names: HashSet<&str> = present.iter().map(|(name, _)| name.as_str()).collect();
    manifest.retain(|name, _| names.contains(name.as_str()));
    for (name, path) in &present {
        if let Entry::Vacant(unlisted) = manifest.entry(name.clone()) {
            unlisted.insert(checksum(path)?);
        }
    }
    write_manifest(dir, &manifest)
}

/// The parameters of a CommonJS module's wrapper, as Node names them (and Rectus's helper for
/// rewritten ES module syntax).
const WRAPPER_PARAMS: &str = "exports, require, module, __filename, __dirname, __rectusDefault";

/// Compiles a CommonJS file: `[function, undefined, asModule]`, `[undefined, error]` with the
/// error to throw (the engine's SyntaxError), or `null` when `filename` can't be read as UTF-8
/// text.
/// `body` is the code to compile when the loader rewrote the file (a hook's own file in ES
/// module syntax); `null` reads `filename`. The code is prepared first ([`prepared`]). Strict code is compiled as `export default function (<wrapper params>)
/// {<body>}`, served by the engine's bytecode cache, unless `as_module` is false (the file was
/// compiled as a module before: a changed file must not meet its old module of the same name),
/// the module goal refuses it, or it names `import.meta` (which a module accepts and CommonJS
/// rejects); other code as a function with those parameters. One op for reading, reflowing and
/// compiling because every crossing between Rust and the engine converts the whole text: with
/// an op for each, the real hook set's 10.6 MB of npm code crossed five times per start.
#[op2(reentrant)]
pub fn op_rectus_compile_file<'s, 'i>(
    scope: &mut v8::PinScope<'s, 'i>,
    #[string] filename: &str,
    #[string] body: Option<String>,
    as_module: bool,
) -> v8::Local<'s, v8::Value> {
    let source = match body {
        Some(body) => body,
        None => match std::fs::read_to_string(filename) {
            Ok(text) => text,
            Err(_) => return v8::null(scope).into(),
        },
    };
    let source = without_hashbang(&source);
    let prepared = prepared(source);
    compile(scope, prepared.as_deref().unwrap_or(source), &format!("file://{filename}"), as_module)
}

/// The text QuickJS compiles for `source`, `None` when that is `source` itself: read from the
/// cache's `source/` folder when an earlier start prepared the same text, else made by
/// [`prepare`] and written there (an empty entry stands for `None`).
fn prepared(source: &str) -> Option<String> {
    let Some(Some(root)) = FOLDER.get() else { return prepare(source) };
    let key = Sha256::new().chain_update(PREPARED_BY).chain_update([0]).chain_update(source).finalize();
    let path = root.join(PREPARED.0).join(format!("{key:x}.{}", PREPARED.1));
    if let Ok(text) = std::fs::read_to_string(&path) {
        return (!text.is_empty()).then_some(text);
    }
    let text = prepare(source);
    if let Err(e) = store(&path, text.as_deref().unwrap_or("")) {
        tracing::debug!("hook code cache {}: {e}", path.display());
    }
    text
}

/// Comments out (comments.rs), then minified lines broken (reflow.rs).
fn prepare(source: &str) -> Option<String> {
    let stripped = crate::comments::without_comments(source);
    crate::reflow::reflow(stripped.as_deref().unwrap_or(source)).or(stripped)
}

/// Compiles `body` into a CommonJS factory named `name`, answering as
/// [`op_rectus_compile_file`] does.
pub fn compile<'s>(scope: &mut v8::PinScope<'s, '_>, body: &str, name: &str, as_module: bool) -> v8::Local<'s, v8::Value> {
    let out = v8::Array::new(scope, 3);
    v8::tc_scope!(let tc, scope);
    if as_module && is_strict(body) && !body.contains("import.meta") {
        match compile_module_function(tc, body, name) {
            Some(function) => {
                let yes = v8::Boolean::new(tc, true);
                out.set_index(tc, 0, function);
                out.set_index(tc, 2, yes.into());
                return out.into();
            }
            None if tc.has_caught() => tc.reset(),
            None => {}
        }
    }
    match compile_script_function(tc, body, name) {
        Some(function) => {
            out.set_index(tc, 0, function.into());
        }
        None => {
            if let Some(error) = tc.exception() {
                out.set_index(tc, 1, error);
            }
            tc.reset();
        }
    }
    out.into()
}

/// The code past a `#!` line (its line break kept, so line numbers stay), as Node reads it.
fn without_hashbang(source: &str) -> &str {
    if !source.starts_with("#!") {
        return source;
    }
    source.find(['\n', '\r', '\u{2028}', '\u{2029}']).map_or("", |end| &source[end..])
}

/// Whether the code's directive prologue starts with `'use strict'`, past whitespace and
/// comments.
fn is_strict(body: &str) -> bool {
    let mut rest = body;
    loop {
        rest = rest.trim_start();
        if let Some(comment) = rest.strip_prefix("//") {
            rest = comment.find('\n').map_or("", |end| &comment[end..]);
        } else if let Some(comment) = rest.strip_prefix("/*") {
            rest = comment.find("*/").map_or("", |end| &comment[end + 2..]);
        } else {
            return rest.starts_with("'use strict'") || rest.starts_with("\"use strict\"");
        }
    }
}

fn compile_script_function<'s>(scope: &mut v8::PinScope<'s, '_>, body: &str, name: &str) -> Option<v8::Local<'s, v8::Function>> {
    let code = v8::String::new(scope, body)?;
    let resource = v8::String::new(scope, name)?;
    let origin = v8::ScriptOrigin::new(scope, resource.into(), 0, 0, false, 0, None, false, false, false, None);
    let mut source = v8::script_compiler::Source::new(code, Some(&origin));
    let params = WRAPPER_PARAMS.split(", ").map(|p| v8::String::new(scope, p)).collect::<Option<Vec<_>>>()?;
    v8::script_compiler::compile_function(
        scope,
        &mut source,
        &params,
        &[],
        v8::script_compiler::CompileOptions::NoCompileOptions,
        v8::script_compiler::NoCacheReason::NoReason,
    )
}

fn compile_module_function<'s>(scope: &mut v8::PinScope<'s, '_>, body: &str, name: &str) -> Option<v8::Local<'s, v8::Value>> {
    let code = v8::String::new(scope, &format!("export default function ({WRAPPER_PARAMS}) {{{body}\n}}"))?;
    let resource = v8::String::new(scope, name)?;
    let origin = v8::ScriptOrigin::new(scope, resource.into(), 0, 0, false, 0, None, false, false, true, None);
    let mut source = v8::script_compiler::Source::new(code, Some(&origin));
    let module = v8::script_compiler::compile_module(scope, &mut source)?;
    // Instantiating creates the hoisted `export default function`: the module is never
    // evaluated. Evaluating it ran the engine's job queue (a hook's pending promise reactions
    // inside a `require`, where Node runs them after) and cost the facade a pass over every
    // module compiled so far, each time.
    module.instantiate_module(scope, no_imports)?;
    let namespace = module.get_module_namespace().try_cast::<v8::Object>().ok()?;
    let key = v8::String::new(scope, "default")?;
    let function = namespace.get(scope, key.into())?;
    function.is_function().then_some(function)
}

/// The wrapper imports nothing; a module that does (found by the engine in the body) is refused.
fn no_imports<'s>(
    _context: v8::Local<'s, v8::Context>,
    _specifier: v8::Local<'s, v8::String>,
    _attributes: v8::Local<'s, v8::FixedArray>,
    _referrer: v8::Local<'s, v8::Module>,
) -> Option<v8::Local<'s, v8::Module>> {
    None
}
