//! Bundles the `knex` npm package (pinned by `js-runtime/knex/package-lock.json`) into one
//! script that the engine embeds, so the binary needs no node_modules at run time. Needs Node.js
//! and the npm registry at build time (`scripts/setup` installs Node.js). `DOCS_RS` builds (the
//! V8 type-check) get a stub instead.

use std::path::{Path, PathBuf};
use std::process::Command;

const INPUTS: &[&str] = &["package.json", "package-lock.json", "entry.js", "timers.js", "buffer-global.js"];

fn main() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../js-runtime/knex");
    for input in INPUTS {
        println!("cargo:rerun-if-changed={}", source.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let bundle = out_dir.join("knex.js");
    if std::env::var_os("DOCS_RS").is_some() {
        std::fs::write(&bundle, "throw new Error('this build has no knex bundle');\n").expect("write stub");
        return;
    }
    let work = out_dir.join("knex-build");
    std::fs::create_dir_all(&work).expect("create knex-build");
    for input in INPUTS {
        std::fs::copy(source.join(input), work.join(input)).unwrap_or_else(|e| panic!("copy {input}: {e}"));
    }
    // Reinstall only when the lock file changed since the last install.
    let lock = std::fs::read(work.join("package-lock.json")).expect("read package-lock.json");
    let stamp = work.join("node_modules/.rectus-lock");
    if std::fs::read(&stamp).ok().as_deref() != Some(lock.as_slice()) {
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]).current_dir(&work));
        std::fs::write(&stamp, &lock).expect("write install stamp");
    }
    run(Command::new(work.join("node_modules/.bin/esbuild"))
        .current_dir(&work)
        .args([
            "entry.js",
            "--bundle",
            "--platform=browser",
            "--format=iife",
            // Whitespace and syntax only: keeping names keeps stack traces readable.
            "--minify-whitespace",
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
        .arg(format!("--outfile={}", bundle.display())));
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("can't run {cmd:?} (Node.js and npm are needed to build Rectus; run scripts/setup): {e}"));
    assert!(status.success(), "{cmd:?} failed with {status}");
}
