//! The Rust half of the Node built-ins (`js-runtime/node/`): ops for what JS can't do itself —
//! hashing and randomness, the file system, outbound HTTP, TCP and TLS sockets, DNS, URL
//! parsing and child processes — and of the native npm packages hooks use, `sharp` (images)
//! and `argon2`, built in for when a hook's own copy is missing or its addon can't load.
//!
//! Why not Deno's own Node layer (`deno_node` through `deno_runtime`): on QuickJS there is no V8
//! snapshot, so its polyfills would be read at run time from the cargo registry (the binary would
//! not be self-contained), and the spike (`/work/shared/notes/node-compat-spike.md`) measured
//! about 370 ms per isolate boot, ~28 min more for a cold build and ~80 MB more binary, with
//! ES-module-only packages crashing the process. Here the JS side is npm polyfills plus small
//! modules of our own, bundled by `build.rs` and evaluated on first use, on a handful of ops.
//!
//! What it costs (measured with `examples/boot_time.rs` on this project's 2-core machine): the
//! binary grows by ~0.9 MB (the bundle and the ops; every crate was already linked); the build
//! adds `npm ci` (~5 s, once per lock file) and esbuild (~1 s); booting an isolate stays at
//! ~20-25 ms in a release build (+1-3 ms for the extra ops and loader). Calls are cheap: a
//! sha256 of 1 KiB ~12 µs, a local HTTP request ~1.8 ms.
//!
//! The first use of a built-in or of a global such as `Buffer` compiles its code. This used to
//! cost ~0.8 s per isolate in a release build whatever was used: the bundle was one 480 KB
//! script minified to a few very long lines, and QuickJS's parser takes time quadratic in a
//! line's length (it finds each token's column from the line's start: 1.2 s to compile it with
//! QuickJS-ng at -O2, 0.1 s for the same code with its line breaks). The bundle now keeps its
//! line breaks and is split into parts (`js-runtime/node/build.mjs`), so a hook compiles only
//! what it uses. deno_core's QuickJS facade parses a script twice (a syntax check, then the
//! run; the second parse is skipped when its on-disk bytecode cache, `~/.cache/v8x`, has the
//! script). First use per isolate, debug build (dependencies at -O1, niced on a loaded machine),
//! before → after without the bytecode cache / with it:
//!
//! | first use | before | after, no cache | after, cached |
//! |---|---|---|---|
//! | `require('path')` | 2.7 s | 3.6 ms | 1.8 ms |
//! | `require('events')` | 2.4 s | 3.9 ms | 1.8 ms |
//! | `Buffer` | 1.9 s | 12 ms | 6.2 ms |
//! | `require('crypto')` + a hash | 2.3 s | 28 ms | 9.9 ms |
//! | `http` + `url` + `stream` (what axios needs) | 2.2 s | 101 ms | 38 ms |
//! | knex (same cause, same fix) | 4.6 s | 251 ms | 106 ms |
//! | every built-in | 2.2 s | 193 ms | 77 ms |
//!
//! Compile time alone with QuickJS-ng at -O2 (release-like), after: `path` 6 ms, `Buffer`
//! 12 ms, `crypto` 24 ms, `http` 87 ms, all parts 155 ms; knex 58 ms (was 1.2 s).
//!
//! Resources (HTTP bodies, sockets) are per isolate, kept in [`Resources`] by id. Every op
//! failure becomes a JS error whose message starts with a Node error code (`ECONNREFUSED: ...`),
//! which the JS side turns into `err.code`.

pub mod argon2;
pub mod child_process;
pub mod crypto;
pub mod fs;
pub mod http;
pub mod net;
pub mod sharp;
pub mod tls;
pub mod url;

use deno_core::{op2, v8, OpState};
use deno_error::JsErrorBox;
use serde::Serialize;
use std::collections::HashMap;

/// The parts of the bundle built by `build.rs` from `js-runtime/node`, by name, sorted.
const NODE_PARTS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/node_parts.rs"));

/// Open HTTP response bodies, sockets and child processes of one isolate, by the id JS holds.
#[derive(Default)]
pub struct Resources {
    next: u32,
    pub(crate) bodies: HashMap<u32, http::Body>,
    pub(crate) sockets: HashMap<u32, net::Socket>,
    pub(crate) children: HashMap<u32, child_process::Process>,
}

impl Resources {
    fn id(&mut self) -> u32 {
        self.next = self.next.wrapping_add(1).max(1);
        self.next
    }
}

/// A JS error carrying a Node error code: `CODE: message`.
pub(crate) fn coded(code: &str, message: impl std::fmt::Display) -> JsErrorBox {
    JsErrorBox::generic(format!("{code}: {message}"))
}

/// Node's code for an OS error (Linux errno names), `EIO` when there is none.
pub(crate) fn errno_code(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind::*;
    match e.raw_os_error() {
        Some(1) => "EPERM",
        Some(2) => "ENOENT",
        Some(5) => "EIO",
        Some(7) => "E2BIG",
        Some(8) => "ENOEXEC",
        Some(9) => "EBADF",
        Some(10) => "ECHILD",
        Some(11) => "EAGAIN",
        Some(12) => "ENOMEM",
        Some(13) => "EACCES",
        Some(16) => "EBUSY",
        Some(17) => "EEXIST",
        Some(18) => "EXDEV",
        Some(20) => "ENOTDIR",
        Some(21) => "EISDIR",
        Some(22) => "EINVAL",
        Some(24) => "EMFILE",
        Some(26) => "ETXTBSY",
        Some(28) => "ENOSPC",
        Some(30) => "EROFS",
        Some(32) => "EPIPE",
        Some(36) => "ENAMETOOLONG",
        Some(39) => "ENOTEMPTY",
        Some(40) => "ELOOP",
        Some(101) => "ENETUNREACH",
        Some(104) => "ECONNRESET",
        Some(110) => "ETIMEDOUT",
        Some(111) => "ECONNREFUSED",
        Some(113) => "EHOSTUNREACH",
        _ => match e.kind() {
            NotFound => "ENOENT",
            PermissionDenied => "EACCES",
            AlreadyExists => "EEXIST",
            ConnectionRefused => "ECONNREFUSED",
            ConnectionReset => "ECONNRESET",
            ConnectionAborted => "ECONNABORTED",
            TimedOut => "ETIMEDOUT",
            BrokenPipe => "EPIPE",
            InvalidInput => "EINVAL",
            _ => "EIO",
        },
    }
}

/// One part of the bundle (`crypto`, `global.Buffer`, `chunk-XXXX`) compiled into its CommonJS
/// factory, as `op_rectus_compile_file` answers (code_cache.rs): the parts are strict (esbuild
/// wrote them as ES modules; build.mjs keeps the directive), so the engine's bytecode cache serves
/// them on a warm start instead of parsing 1–2 MB of polyfills again.
#[op2(reentrant)]
fn op_node_part_compile<'s, 'i>(scope: &mut v8::PinScope<'s, 'i>, #[string] name: &str) -> Result<v8::Local<'s, v8::Value>, JsErrorBox> {
    let found = NODE_PARTS.binary_search_by_key(&name, |(n, _)| n).map_err(|_| JsErrorBox::generic(format!("the Node bundle has no part {name:?}")))?;
    Ok(crate::code_cache::compile(scope, NODE_PARTS[found].1, &format!("rectus:node/{name}.js"), true))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OsInfo {
    hostname: String,
    release: String,
    machine: String,
    uptime: f64,
    totalmem: u64,
    freemem: u64,
    cpus: usize,
}

/// What `os` reports about the host (Linux `/proc`; zeros where it can't be read).
#[op2]
#[serde]
fn op_node_os_info() -> OsInfo {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let meminfo = read("/proc/meminfo");
    let kib = |key: &str| {
        meminfo.lines().find_map(|l| l.strip_prefix(key)?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()).unwrap_or(0) * 1024
    };
    OsInfo {
        hostname: hostname::get().map(|h| h.to_string_lossy().into_owned()).unwrap_or_else(|_| "localhost".into()),
        release: read("/proc/sys/kernel/osrelease").trim().to_string(),
        machine: std::env::consts::ARCH.to_string(),
        uptime: read("/proc/uptime").split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or(0.0),
        totalmem: kib("MemTotal:"),
        freemem: kib("MemAvailable:"),
        cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    }
}

deno_core::extension!(
    rectus_node,
    ops = [
        op_node_part_compile,
        op_node_os_info,
        crypto::op_node_hash,
        crypto::op_node_hmac,
        crypto::op_node_pbkdf2,
        crypto::op_node_random_bytes,
        crypto::op_node_random_uuid,
        crypto::op_node_timing_safe_equal,
        fs::op_node_fs_read_file,
        fs::op_node_fs_write_file,
        fs::op_node_fs_stat,
        fs::op_node_fs_read_dir,
        fs::op_node_fs_mkdir,
        fs::op_node_fs_remove,
        fs::op_node_fs_rename,
        fs::op_node_fs_copy_file,
        fs::op_node_fs_realpath,
        fs::op_node_fs_chmod,
        http::op_node_http_request,
        http::op_node_http_read,
        http::op_node_http_close,
        net::op_node_tcp_connect,
        net::op_node_tcp_read,
        net::op_node_tcp_write,
        net::op_node_tcp_shutdown,
        net::op_node_tcp_close,
        net::op_node_dns_lookup,
        tls::op_node_tls_upgrade,
        url::op_node_url_parse,
        url::op_node_url_set,
        url::op_node_url_parse_query,
        url::op_node_url_serialize_query,
        url::op_node_domain_to_ascii,
        url::op_node_domain_to_unicode,
        sharp::op_sharp_pipeline,
        sharp::op_sharp_metadata,
        argon2::op_argon2_hash,
        child_process::op_node_spawn,
        child_process::op_node_child_read,
        child_process::op_node_child_write,
        child_process::op_node_child_end_stdin,
        child_process::op_node_child_wait,
        child_process::op_node_child_kill,
        child_process::op_node_child_close,
        child_process::op_node_spawn_sync,
        child_process::op_node_child_processes_enabled,
    ],
    state = |state| state.put(Resources::default()),
);

pub(crate) fn resources(state: &mut OpState) -> &mut Resources {
    state.borrow_mut::<Resources>()
}
