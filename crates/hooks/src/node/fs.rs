//! `fs` ops: synchronous std::fs calls (the JS side builds the callback and promise forms on
//! them). Errors read like Node's: `ENOENT: no such file or directory, open '/x'`.

use deno_core::op2;
use deno_error::JsErrorBox;
use serde::Serialize;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::SystemTime;

use super::errno_code;

/// Node's wording for the common codes (libuv's `uv_strerror`).
fn describe(e: &std::io::Error) -> String {
    let code = errno_code(e);
    let text = match code {
        "ENOENT" => "no such file or directory".to_string(),
        "EACCES" => "permission denied".to_string(),
        "EEXIST" => "file already exists".to_string(),
        "ENOTDIR" => "not a directory".to_string(),
        "EISDIR" => "illegal operation on a directory".to_string(),
        "ENOTEMPTY" => "directory not empty".to_string(),
        "EPERM" => "operation not permitted".to_string(),
        _ => e.to_string(),
    };
    format!("{code}: {text}")
}

fn fail(e: std::io::Error, syscall: &str, path: &str) -> JsErrorBox {
    JsErrorBox::generic(format!("{}, {syscall} '{path}'", describe(&e)))
}

#[op2]
#[buffer]
pub fn op_node_fs_read_file(#[string] path: &str) -> Result<Vec<u8>, JsErrorBox> {
    std::fs::read(path).map_err(|e| fail(e, "open", path))
}

#[op2(fast)]
pub fn op_node_fs_write_file(#[string] path: &str, #[buffer] data: &[u8], append: bool) -> Result<(), JsErrorBox> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().create(true).write(true).append(append).truncate(!append).open(path).map_err(|e| fail(e, "open", path))?;
    file.write_all(data).map_err(|e| fail(e, "write", path))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stat {
    /// 1 file, 2 directory, 3 symbolic link, 0 other.
    kind: u8,
    size: u64,
    mode: u32,
    dev: u64,
    ino: u64,
    nlink: u64,
    uid: u32,
    gid: u32,
    atime_ms: f64,
    mtime_ms: f64,
    ctime_ms: f64,
    birthtime_ms: f64,
}

fn millis(t: std::io::Result<SystemTime>) -> f64 {
    t.ok().and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

fn kind(t: std::fs::FileType) -> u8 {
    if t.is_symlink() {
        3
    } else if t.is_dir() {
        2
    } else if t.is_file() {
        1
    } else {
        0
    }
}

#[op2]
#[serde]
pub fn op_node_fs_stat(#[string] path: &str, follow: bool) -> Result<Stat, JsErrorBox> {
    let meta = if follow { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) };
    let m = meta.map_err(|e| fail(e, if follow { "stat" } else { "lstat" }, path))?;
    Ok(Stat {
        kind: kind(m.file_type()),
        size: m.len(),
        mode: m.permissions().mode(),
        dev: m.dev(),
        ino: m.ino(),
        nlink: m.nlink(),
        uid: m.uid(),
        gid: m.gid(),
        atime_ms: millis(m.accessed()),
        mtime_ms: millis(m.modified()),
        ctime_ms: (m.ctime() as f64) * 1000.0 + (m.ctime_nsec() as f64) / 1e6,
        birthtime_ms: millis(m.created()),
    })
}

/// Entry names with their kind (as in [`Stat::kind`]).
#[op2]
#[serde]
pub fn op_node_fs_read_dir(#[string] path: &str) -> Result<Vec<(String, u8)>, JsErrorBox> {
    let entries = std::fs::read_dir(path).map_err(|e| fail(e, "scandir", path))?;
    entries
        .map(|entry| {
            let entry = entry.map_err(|e| fail(e, "scandir", path))?;
            let k = entry.file_type().map(kind).unwrap_or(0);
            Ok((entry.file_name().to_string_lossy().into_owned(), k))
        })
        .collect()
}

/// Creates a folder; with `recursive`, returns the first folder it had to create (Node's result).
#[op2]
#[string]
pub fn op_node_fs_mkdir(#[string] path: &str, recursive: bool) -> Result<Option<String>, JsErrorBox> {
    if !recursive {
        return std::fs::create_dir(path).map(|_| None).map_err(|e| fail(e, "mkdir", path));
    }
    let first = std::path::Path::new(path).ancestors().take_while(|p| !p.as_os_str().is_empty() && !p.exists()).last().map(|p| p.to_string_lossy().into_owned());
    std::fs::create_dir_all(path).map_err(|e| fail(e, "mkdir", path))?;
    Ok(first)
}

/// `what`: `file` (unlink), `dir` (rmdir) or `tree` (a folder and everything in it).
#[op2(fast)]
pub fn op_node_fs_remove(#[string] path: &str, #[string] what: &str) -> Result<(), JsErrorBox> {
    match what {
        "file" => std::fs::remove_file(path).map_err(|e| fail(e, "unlink", path)),
        "dir" => std::fs::remove_dir(path).map_err(|e| fail(e, "rmdir", path)),
        _ => std::fs::remove_dir_all(path).map_err(|e| fail(e, "rm", path)),
    }
}

#[op2(fast)]
pub fn op_node_fs_rename(#[string] from: &str, #[string] to: &str) -> Result<(), JsErrorBox> {
    std::fs::rename(from, to).map_err(|e| JsErrorBox::generic(format!("{}, rename '{from}' -> '{to}'", describe(&e))))
}

#[op2(fast)]
pub fn op_node_fs_copy_file(#[string] from: &str, #[string] to: &str) -> Result<(), JsErrorBox> {
    std::fs::copy(from, to).map(|_| ()).map_err(|e| JsErrorBox::generic(format!("{}, copyfile '{from}' -> '{to}'", describe(&e))))
}

#[op2]
#[string]
pub fn op_node_fs_realpath(#[string] path: &str) -> Result<String, JsErrorBox> {
    std::fs::canonicalize(path).map(|p| p.to_string_lossy().into_owned()).map_err(|e| fail(e, "realpath", path))
}

#[op2(fast)]
pub fn op_node_fs_chmod(#[string] path: &str, mode: u32) -> Result<(), JsErrorBox> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| fail(e, "chmod", path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn errors_read_like_node() {
        let e = std::fs::read("/no/such/file").unwrap_err();
        let message = super::fail(e, "open", "/no/such/file").to_string();
        assert!(message.ends_with("ENOENT: no such file or directory, open '/no/such/file'"), "{message}");
    }
}
