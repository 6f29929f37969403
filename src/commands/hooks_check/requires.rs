//! What a hook requires, found by reading its source: `require('x')` (anywhere, so a require
//! inside a handler that only runs later is found too), `import … from 'x'`, `import 'x'` and
//! `export … from 'x'`, followed through the hook's own relative requires (not into
//! `node_modules`). A textual scan: a require in a comment counts as well, a computed
//! `require(name)` can't be seen.

use regex::Regex;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

static REQUIRE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\brequire\s*\(\s*['"`]([^'"`]+)['"`]\s*\)"#).unwrap());
static IMPORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?m)^\s*(?:import|export)\b(?:[^'"`;]*?\bfrom)?\s*['"]([^'"]+)['"]"#).unwrap());

/// A bare (package or built-in) specifier and the hook file that requires it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Required {
    pub specifier: String,
    pub file: PathBuf,
}

/// The bare specifiers the hook's files require, starting from its `index.js`.
pub fn scan(entry: &Path) -> Vec<Required> {
    let mut seen = BTreeSet::new();
    let mut found = BTreeSet::new();
    let mut queue = vec![entry.to_path_buf()];
    while let Some(file) = queue.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let Ok(source) = std::fs::read_to_string(&file) else { continue };
        let dir = file.parent().unwrap_or(Path::new("/"));
        let specifiers = REQUIRE.captures_iter(&source).chain(IMPORT.captures_iter(&source)).map(|c| c[1].to_string());
        for specifier in specifiers {
            if is_relative(&specifier) {
                queue.extend(resolve_file(&dir.join(&specifier)).filter(|p| p.extension().is_some_and(|e| e == "js" || e == "cjs")));
            } else {
                found.insert(Required { specifier, file: file.clone() });
            }
        }
    }
    found.into_iter().collect()
}

fn is_relative(specifier: &str) -> bool {
    specifier.starts_with("./") || specifier.starts_with("../") || specifier.starts_with('/') || specifier == "." || specifier == ".."
}

/// Node's file resolution for a path: as is, with `.js`/`.json`/`.cjs`, or a folder's
/// `package.json` `main` or `index.js` (a package with `exports` counts as found).
fn resolve_file(path: &Path) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    for ext in ["js", "json", "cjs"] {
        let with = PathBuf::from(format!("{}.{ext}", path.display()));
        if with.is_file() {
            return Some(with);
        }
    }
    if path.is_dir() {
        let pkg = std::fs::read_to_string(path.join("package.json")).ok().and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
        // A package with `exports` is found; what it exports (or refuses) is the loader's to say.
        if pkg.as_ref().is_some_and(|p| p.get("exports").is_some()) {
            return Some(path.join("package.json"));
        }
        let main = pkg.and_then(|pkg| pkg.get("main").and_then(|m| m.as_str()).map(String::from));
        if let Some(found) = main.and_then(|m| resolve_file(&path.join(m))) {
            return Some(found);
        }
        return ["index.js", "index.json", "index.cjs"].iter().map(|i| path.join(i)).find(|p| p.is_file());
    }
    None
}

/// Whether a bare specifier resolves from `file` through `node_modules` folders, as Node and
/// Rectus's loader look it up (each parent folder's `node_modules`, up to the root).
pub fn resolves_from(file: &Path, specifier: &str) -> bool {
    file.ancestors().skip(1).any(|dir| resolve_file(&dir.join("node_modules").join(specifier)).is_some())
}

/// Node's built-in modules (Node 16, the Directus rc era), without `node:`.
pub fn is_node_builtin(specifier: &str) -> bool {
    const BUILTINS: [&str; 41] = [
        "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel", "dns",
        "domain", "events", "fs", "http", "http2", "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode",
        "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls", "trace_events", "tty", "url", "util", "v8", "vm",
        "worker_threads", "zlib",
    ];
    let name = specifier.strip_prefix("node:").unwrap_or(specifier);
    BUILTINS.contains(&name.split('/').next().unwrap_or(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_requires_and_imports_through_relative_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.js"), "const a = require('axios');\nimport fs from 'fs';\nimport 'side-effect';\nconst h = require('./lib/helper');\nmodule.exports = () => ({ x() { require(\"node:crypto\") } });").unwrap();
        std::fs::create_dir(dir.path().join("lib")).unwrap();
        std::fs::write(dir.path().join("lib/helper.js"), "export { x } from 'lodash';\nmodule.exports = require('../data.json');").unwrap();
        std::fs::write(dir.path().join("data.json"), "{}").unwrap();
        let found: Vec<String> = scan(&dir.path().join("index.js")).into_iter().map(|r| r.specifier).collect();
        assert_eq!(found, ["axios", "fs", "lodash", "node:crypto", "side-effect"]);
    }

    #[test]
    fn packages_resolve_from_node_modules_above_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules/lodash")).unwrap();
        std::fs::write(dir.path().join("node_modules/lodash/index.js"), "").unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules/uuid")).unwrap();
        std::fs::write(dir.path().join("node_modules/uuid/package.json"), r#"{ "exports": { ".": "./dist/index.js" } }"#).unwrap();
        std::fs::create_dir_all(dir.path().join("hooks/a")).unwrap();
        let file = dir.path().join("hooks/a/index.js");
        assert!(resolves_from(&file, "lodash"));
        assert!(resolves_from(&file, "uuid"), "exports are the loader's business");
        assert!(!resolves_from(&file, "axios"));
    }

    #[test]
    fn node_builtins() {
        assert!(is_node_builtin("fs") && is_node_builtin("node:fs/promises") && is_node_builtin("path"));
        assert!(!is_node_builtin("axios") && !is_node_builtin("directus/dist/logger"));
    }
}
