//! The hooks' compiled-code cache (`HOOKS_CACHE_PATH`, crates/hooks/src/code_cache.rs): a start
//! fills it (bytecode and the texts prepared for it), hooks answer the same without it, cold and
//! warm; a changed file is compiled again; damaged or unlisted entries are dropped before they can
//! be read.

mod common;

use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A hook whose modules cover both compile paths: strict files (ES module wrapper, cached), a
/// sloppy one (`with`, script), a strict one the module goal refuses (`await` as a name), and a
/// strict one naming `import.meta`, which CommonJS refuses (as Node does) though a module would not.
/// A promise reaction queued before a `require` runs after the requiring code, as in Node.
/// GET /probe answers what each computed, with a stack's line and column to check positions
/// (`lib.js` has comments before and on that line, which are taken out before compiling).
fn write_hooks(ext: &Path, value: &str) {
    let dir = ext.join("hooks/probe");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.js"),
        r#"'use strict';
const order = [];
Promise.resolve().then(() => order.push('microtask'));
const lib = require('./lib');
order.push('after require');
const sloppy = require('./sloppy');
const awaitName = require('./await-name');
const importMeta = (() => {
  try {
    return require('./import-meta').value;
  } catch (e) {
    return e.name;
  }
})();

module.exports = function registerHook() {
  return {
    'routes.custom.init.before': ({ app }) => {
      app.get('/probe', (req, res) => {
        res.json({ value: lib.value, at: lib.where(), sloppy: sloppy.value, awaitName: awaitName.value, thisIsExports: lib.thisIsExports, strict: lib.strict, importMeta, order });
      });
    },
  };
};
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("lib.js"),
        format!(
            "'use strict';\nexports.value = '{value}';\nexports.thisIsExports = this === module.exports;\nexports.strict = (function () {{ return this === undefined; }})();\n/**\n * Where this line is: the line and column of an error made here, as a stack shows them.\n */ exports.where = () => /* a comment before the error */ /lib\\.js:(\\d+:\\d+)/.exec(new Error('here').stack)[1]; // trailing\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("sloppy.js"), "var box = { inner: 'from with' };\nwith (box) { exports.value = inner; }\n").unwrap();
    std::fs::write(dir.join("import-meta.js"), "'use strict';\nexports.value = typeof import.meta;\n").unwrap();
    std::fs::write(dir.join("await-name.js"), "'use strict';\nvar await = 'await is a name here';\nexports.value = await;\n").unwrap();
}

async fn probe(db: &TestDb, ext: &Path, cache: Option<&Path>) -> Value {
    let cache_setting = cache.map(|c| c.to_string_lossy().into_owned()).unwrap_or_else(|| "false".into());
    let server = Server::start(db, Some(ext), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_CACHE_PATH", &cache_setting)]).await;
    let (status, body) = json(server.client.get(server.url("/probe")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}\n{}", server.log_text());
    if let Some(cache) = cache {
        wait_for_manifest(cache);
    }
    assert!(server.stop().success());
    body
}

/// The cache's folders: the engine's bytecode and the prepared texts, with their entries' extension.
const FOLDERS: [(&str, &str); 2] = [("quickjs", "qbc"), ("source", "js")];

/// The entries (`folder/name` → bytes) of both folders in `cache`.
fn entries(cache: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    for (folder, extension) in FOLDERS {
        if let Ok(listing) = std::fs::read_dir(cache.join(folder)) {
            for path in listing.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == extension)) {
                found.push((format!("{folder}/{}", name(&path)), std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn listed(cache: &Path) -> usize {
    FOLDERS.iter().map(|(folder, _)| std::fs::read_to_string(cache.join(folder).join("manifest")).unwrap_or_default().lines().count()).sum()
}

/// The manifests are written in the background once the first isolate is ready.
fn wait_for_manifest(cache: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = listed(cache);
        if listed > 0 && listed == entries(cache).len() {
            return;
        }
        assert!(Instant::now() < deadline, "the manifests never listed the entries: {listed} of {}", entries(cache).len());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn expected(value: &str) -> Value {
    serde_json::json!({
        "value": value,
        // Line and column, as Node 20 prints them for the same file.
        "at": "7:85",
        "sloppy": "from with",
        "awaitName": "await is a name here",
        "thisIsExports": true,
        "strict": true,
        "importMeta": "SyntaxError",
        "order": ["after require", "microtask"],
    })
}

fn setup() -> (PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("rectus-code-cache-{}", uuid::Uuid::new_v4().simple()));
    (root.join("extensions"), root.join("cache"))
}

#[tokio::test]
async fn hooks_answer_the_same_without_the_cache_cold_and_warm() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (ext, cache) = setup();
    write_hooks(&ext, "one");
    assert_eq!(probe(&db, &ext, None).await, expected("one"), "no cache");
    assert!(!cache.exists() && !ext.join(".cache").exists(), "HOOKS_CACHE_PATH=false writes nothing");

    assert_eq!(probe(&db, &ext, Some(&cache)).await, expected("one"), "cold cache");
    let written = entries(&cache);
    assert!(!written.is_empty(), "the first start fills the cache");
    let lib = written.iter().find(|(entry, bytes)| entry.starts_with("source/") && bytes.windows(5).any(|w| w == b"'one'"));
    let lib = String::from_utf8(lib.expect("lib.js's prepared text is an entry").1.clone()).unwrap();
    assert!(!lib.contains("Where this line is") && !lib.contains("// trailing") && !lib.contains("/* a comment"), "comments are taken out:\n{lib}");
    assert_eq!(lib.lines().count(), 7, "every line stays:\n{lib}");

    assert_eq!(probe(&db, &ext, Some(&cache)).await, expected("one"), "warm cache");
    assert_eq!(entries(&cache), written, "a warm start compiles nothing new");
}

#[tokio::test]
async fn a_changed_file_is_compiled_again() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (ext, cache) = setup();
    write_hooks(&ext, "one");
    assert_eq!(probe(&db, &ext, Some(&cache)).await, expected("one"));
    // Same length, other content.
    write_hooks(&ext, "two");
    assert_eq!(probe(&db, &ext, Some(&cache)).await, expected("two"));
}

#[tokio::test]
async fn damaged_and_unlisted_entries_are_dropped() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (ext, cache) = setup();
    write_hooks(&ext, "one");
    assert_eq!(probe(&db, &ext, Some(&cache)).await, expected("one"));
    let sound = entries(&cache);
    let prepared_lib = sound.iter().filter(|(entry, bytes)| entry.starts_with("source/") && bytes.windows(5).any(|w| w == b"'one'")).count();
    assert_eq!(prepared_lib, 1, "lib.js's text without comments is an entry");
    // Entries keep their size but not their bytes: all bytecode past its header, as a bad disk
    // would damage it, and lib.js's prepared text as someone could edit it.
    for (entry, bytes) in &sound {
        let damaged: Vec<u8> = if entry.starts_with("source/") {
            String::from_utf8(bytes.clone()).unwrap().replace("'one'", "'bad'").into_bytes()
        } else {
            bytes.iter().enumerate().map(|(i, b)| if i >= 8 { b ^ 0x5a } else { *b }).collect()
        };
        std::fs::write(cache.join(entry), damaged).unwrap();
    }
    let strays = [cache.join("quickjs/00000000000000ff.qbc"), cache.join("source/00ff.js")];
    for stray in &strays {
        std::fs::write(stray, b"exports.value = 'stray';").unwrap();
    }

    assert_eq!(probe(&db, &ext, Some(&cache)).await, expected("one"), "damaged entries are not used");
    for stray in &strays {
        assert!(!stray.exists(), "{} isn't listed in its manifest, so it is deleted", stray.display());
    }
    assert_eq!(entries(&cache), sound, "the damaged entries were made again from the files");
}

/// A minified dependency (one long, sloppy line: crates/hooks/src/reflow.rs) computes what it
/// computes as written, cold and warm; the line of an error thrown in it shows the line breaks
/// its statements were given before compiling.
#[tokio::test]
async fn minified_code_is_reflowed_and_means_the_same() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (ext, cache) = setup();
    let dir = ext.join("hooks/minified");
    std::fs::create_dir_all(dir.join("node_modules/bundle")).unwrap();
    std::fs::write(
        dir.join("index.js"),
        "module.exports = () => ({ 'routes.custom.init.before': ({ app }) => { app.get('/minified', (req, res) => res.json({ ...require('bundle') })); } });\n",
    )
    .unwrap();
    let mut bundle = String::from("var out=0,box={k:'with;'};with(box){var w=k}var tpl=`x;${1+2};y`,re=/;\\/;`/g;");
    for i in 0..300 {
        bundle.push_str(&format!("function f{i}(a){{if(a)return a+{i};else{{a={i};return a}}}}out+=f{i}({i});"));
    }
    bundle.push_str("exports.out=out;exports.w=w;exports.tpl=tpl;exports.re=re.source;exports.line=Number(/index\\.js:(\\d+)/.exec(new Error('x').stack)[1]);\n");
    std::fs::write(dir.join("node_modules/bundle/index.js"), &bundle).unwrap();

    for label in ["cold", "warm"] {
        let server = Server::start(&db, Some(&ext), &[("HOOKS_POOL_SIZE", "1"), ("HOOKS_CACHE_PATH", &cache.to_string_lossy())]).await;
        let (status, body) = json(server.client.get(server.url("/minified")).send().await.unwrap()).await;
        assert_eq!(status, 200, "{label}: {body}\n{}", server.log_text());
        assert_eq!(body["out"], 89_700, "{label}");
        assert_eq!(body["w"], "with;", "{label}");
        assert_eq!(body["tpl"], "x;3;y", "{label}");
        assert_eq!(body["re"], ";\\/;`", "{label}");
        assert!(body["line"].as_u64().unwrap() > 10, "{label}: the error's line is {} (not reflowed)", body["line"]);
        assert!(server.stop().success());
    }
}
