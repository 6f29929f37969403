//! Bundles the npm packages the engine embeds, so the binary needs no node_modules at run time:
//! - `knex` (pinned by `js-runtime/knex/package-lock.json`), with the esbuild CLI;
//! - the Node built-ins (`js-runtime/node`: npm polyfills pinned by its package-lock.json plus
//!   Rectus's own modules in `lib/`), with `js-runtime/node/build.mjs` on esbuild's JS API, split
//!   into parts listed in the generated `node_parts.rs`.
//!
//! Needs Node.js and the npm registry at build time (`scripts/setup` installs Node.js). `DOCS_RS`
//! builds (the V8 type-check) get stubs instead.

use std::path::{Path, PathBuf};
use std::process::Command;

const KNEX_INPUTS: &[&str] = &["package.json", "package-lock.json", "entry.js", "timers.js", "buffer-global.js"];
const NODE_INPUTS: &[&str] = &["package.json", "package-lock.json", "build.mjs", "modules.mjs", "lib"];

fn main() {
    // Read at run time: a build-script binary reused from a build of another checkout (a shared
    // target folder) must read this checkout's files.
    let js = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR")).join("../../js-runtime");
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    if std::env::var_os("DOCS_RS").is_some() {
        std::fs::write(out_dir.join("knex.js"), "throw new Error('this build has no knex bundle');\n").expect("write stub");
        std::fs::write(out_dir.join("node_parts.rs"), "&[]\n").expect("write stub");
        return;
    }
    knex(&js.join("knex"), &out_dir);
    node(&js.join("node"), &out_dir);
}

fn knex(source: &Path, out_dir: &Path) {
    let work = install(source, KNEX_INPUTS, &out_dir.join("knex-build"));
    run(Command::new(work.join("node_modules/.bin/esbuild"))
        .current_dir(&work)
        .args([
            "entry.js",
            "--bundle",
            "--platform=browser",
            "--format=iife",
            // Syntax only: QuickJS's parse time grows with the square of a line's length, so
            // whitespace-minified (long-line) knex took 1.2 s to compile instead of 0.06 s.
            // Keeping names keeps stack traces readable.
            "--minify-syntax",
            "--inject:./buffer-global.js",
            "--alias:timers=./timers.js",
            "--alias:tty=tty-browserify",
            // Drivers and Node built-ins only reached by code paths the engine replaces
            // (connections, streams, migrations from disk).
            "--external:pg",
            "--external:sqlite3",
            "--external:mysql",
            "--external:fs",
            "--external:stream",
            "--external:crypto",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", out_dir.join("knex.js").display())));
}

/// Builds the parts into `OUT_DIR/node` and lists them in `OUT_DIR/node_parts.rs` as
/// `&[(name, source)]`, sorted by name.
fn node(source: &Path, out_dir: &Path) {
    let work = install(source, NODE_INPUTS, &out_dir.join("node-build"));
    let parts_dir = out_dir.join("node");
    run(Command::new("node").current_dir(&work).arg("build.mjs").arg(&parts_dir));
    let mut names: Vec<String> = std::fs::read_dir(&parts_dir)
        .expect("read the Node parts")
        .map(|e| e.expect("read a part").file_name().to_string_lossy().trim_end_matches(".js").to_string())
        .collect();
    names.sort();
    let table: String = names.iter().map(|n| format!("    ({n:?}, include_str!({:?})),\n", parts_dir.join(format!("{n}.js")))).collect();
    std::fs::write(out_dir.join("node_parts.rs"), format!("&[\n{table}]\n")).expect("write node_parts.rs");
}

/// Copies a bundle's inputs into `work` and installs its lock file there (again only when the
/// lock file changed since the last install). Returns `work`.
fn install(source: &Path, inputs: &[&str], work: &Path) -> PathBuf {
    std::fs::create_dir_all(work).expect("create the bundle's build folder");
    for input in inputs {
        println!("cargo:rerun-if-changed={}", source.join(input).display());
        copy(&source.join(input), &work.join(input));
    }
    let lock = std::fs::read(work.join("package-lock.json")).expect("read package-lock.json");
    let stamp = work.join("node_modules/.rectus-lock");
    if std::fs::read(&stamp).ok().as_deref() != Some(lock.as_slice()) {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]).current_dir(work));
        std::fs::write(&stamp, &lock).expect("write install stamp");
    }
    work.to_path_buf()
}

/// Copies a file, or a folder's files recursively.
fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
        for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
            let entry = entry.expect("read a folder entry");
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("can't run {cmd:?} (Node.js and npm are needed to build Rectus; run scripts/setup): {e}"));
    assert!(status.success(), "{cmd:?} failed with {status}");
}
