//! Extension discovery (spec §1.1): every directory directly inside `<EXTENSIONS_PATH>/hooks` is
//! one hook named after it, entry `index.js`, in byte-wise sorted order; files there are ignored.
//! Endpoints (`<EXTENSIONS_PATH>/endpoints`) are found the same way.

use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HookEntry {
    pub name: String,
    pub path: String,
}

/// The hooks.
pub fn discover(extensions_path: &Path) -> std::io::Result<Vec<HookEntry>> {
    discover_in(&extensions_path.join("hooks"))
}

/// The endpoint extensions.
pub fn discover_endpoints(extensions_path: &Path) -> std::io::Result<Vec<HookEntry>> {
    discover_in(&extensions_path.join("endpoints"))
}

fn discover_in(dir: &Path) -> std::io::Result<Vec<HookEntry>> {
    let mut hooks = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(hooks),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() && !std::fs::metadata(entry.path()).map(|m| m.is_dir()).unwrap_or(false) {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let path: PathBuf = std::fs::canonicalize(entry.path()).unwrap_or(entry.path()).join("index.js");
        hooks.push(HookEntry { name, path: path.to_string_lossy().into_owned() });
    }
    hooks.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    Ok(hooks)
}
