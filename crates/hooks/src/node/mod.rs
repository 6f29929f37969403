//! The Rust half of the Node built-ins (`js-runtime/node/`): ops for what JS can't do itself —
//! hashing and randomness, the file system, outbound HTTP, TCP sockets, DNS and URL parsing.
//!
//! Why not Deno's own Node layer (`deno_node` through `deno_runtime`): on QuickJS there is no V8
//! snapshot, so its polyfills would be read at run time from the cargo registry (the binary would
//! not be self-contained), and the spike (`/work/shared/notes/node-compat-spike.md`) measured
//! about 370 ms per isolate boot, ~28 min more for a cold build and ~80 MB more binary, with
//! ES-module-only packages crashing the process. Here the JS side is npm polyfills plus small
//! modules of our own, bundled by `build.rs` and evaluated on first use, on a handful of ops.
//!
//! What it costs (measured with `examples/boot_time.rs`, release build, this project's 2-core
//! machine): the binary grows by ~0.9 MB (the 478 KB bundle and the ops; every crate was already
//! linked); the build adds `npm ci` (~5 s, once per lock file) and esbuild (~0.4 s); booting an
//! isolate stays at ~20-25 ms (+1-3 ms for the extra ops and loader). The first use of a
//! built-in or of a global such as `Buffer` evaluates the bundle: ~0.8 s, about what knex's
//! bundle costs, because QuickJS compiles the whole script before running it; isolates whose
//! hooks use no built-in never pay it. Calls are cheap: a sha256 of 1 KiB ~12 µs, a local HTTP
//! request ~1.8 ms.
//!
//! Resources (HTTP bodies, sockets) are per isolate, kept in [`Resources`] by id. Every op
//! failure becomes a JS error whose message starts with a Node error code (`ECONNREFUSED: ...`),
//! which the JS side turns into `err.code`.

pub mod crypto;
pub mod fs;
pub mod http;
pub mod net;
pub mod url;

use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use serde::Serialize;
use std::collections::HashMap;

/// The bundle built by `build.rs` from `js-runtime/node`.
const NODE_BUNDLE: &str = include_str!(concat!(env!("OUT_DIR"), "/node.js"));

/// Open HTTP response bodies and sockets of one isolate, by the id JS holds.
#[derive(Default)]
pub struct Resources {
    next: u32,
    pub(crate) bodies: HashMap<u32, http::Body>,
    pub(crate) sockets: HashMap<u32, net::Socket>,
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
        Some(9) => "EBADF",
        Some(11) => "EAGAIN",
        Some(13) => "EACCES",
        Some(17) => "EEXIST",
        Some(18) => "EXDEV",
        Some(20) => "ENOTDIR",
        Some(21) => "EISDIR",
        Some(22) => "EINVAL",
        Some(24) => "EMFILE",
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

#[op2]
#[string]
fn op_node_bundle_source() -> String {
    NODE_BUNDLE.to_string()
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
        op_node_bundle_source,
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
        url::op_node_url_parse,
        url::op_node_url_set,
        url::op_node_url_parse_query,
        url::op_node_url_serialize_query,
        url::op_node_domain_to_ascii,
        url::op_node_domain_to_unicode,
    ],
    state = |state| state.put(Resources::default()),
);

pub(crate) fn resources(state: &mut OpState) -> &mut Resources {
    state.borrow_mut::<Resources>()
}
