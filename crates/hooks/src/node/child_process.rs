//! Child processes for `child_process` (`js-runtime/node/lib/child_process.js`): `spawn` on
//! tokio's process API, with stdin/stdout/stderr as resources JS streams read and write, and
//! `spawnSync` on std's, blocking the isolate as Node's sync forms block its event loop. `exec`,
//! `execFile` and the other sync forms are built on these two in JS, as in Node.
//!
//! Hooks on Directus run with the server's process rights, so this is on by default;
//! `HOOKS_CHILD_PROCESS=false` turns it off (the ops refuse, and the JS functions throw before
//! reaching them). Children outlive nothing: a child still running when its isolate is dropped
//! (a reload) keeps running, as a Node child does when the parent lets it go.

use deno_core::{op2, AsyncRefCell, CancelFuture, CancelHandle, JsBuffer, OpState, ToJsBuffer};
use deno_error::JsErrorBox;
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{coded, errno_code, resources};

type Cell2<T> = Rc<AsyncRefCell<Option<T>>>;

/// One spawned child: its pipes (absent for `ignore` and `inherit`) and its process.
pub struct Process {
    stdin: Cell2<tokio::process::ChildStdin>,
    stdout: Cell2<tokio::process::ChildStdout>,
    stderr: Cell2<tokio::process::ChildStderr>,
    child: Cell2<tokio::process::Child>,
    pid: u32,
    /// Set once the child was reaped, so its pid (maybe reused by then) is never signalled.
    exited: Rc<Cell<bool>>,
    cancel: Rc<CancelHandle>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpawnSpec {
    file: String,
    args: Vec<String>,
    argv0: Option<String>,
    cwd: Option<String>,
    /// The child's whole environment; `None`: this process's own (Node's default). Not the
    /// hooks' `process.env`, which holds Directus's processed variables (`*_FILE` contents).
    env: Option<HashMap<String, String>>,
    /// `pipe`, `ignore` or `inherit` for stdin, stdout and stderr.
    stdio: [String; 3],
    detached: bool,
    uid: Option<u32>,
    gid: Option<u32>,
}

/// Whether hooks may start processes (`HOOKS_CHILD_PROCESS`, default true).
pub fn enabled(state: &OpState) -> bool {
    match state.try_borrow::<crate::engine::IsolateState>().and_then(|s| s.env.get("HOOKS_CHILD_PROCESS")) {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => !matches!(s.as_str(), "false" | "0"),
        Some(serde_json::Value::Number(n)) => n.as_f64() != Some(0.0),
        _ => true,
    }
}

/// Whether `child_process` works (the JS module throws Rectus's message when it doesn't).
#[op2(fast)]
pub fn op_node_child_processes_enabled(state: &mut OpState) -> bool {
    enabled(state)
}

fn refuse(state: &OpState) -> Result<(), JsErrorBox> {
    if enabled(state) { Ok(()) } else { Err(coded("ERR_ACCESS_DENIED", "child processes are turned off for hooks (HOOKS_CHILD_PROCESS=false)")) }
}

fn stdio(mode: &str) -> Stdio {
    match mode {
        "ignore" => Stdio::null(),
        "inherit" => Stdio::inherit(),
        _ => Stdio::piped(),
    }
}

fn command(spec: &SpawnSpec) -> std::process::Command {
    let mut cmd = std::process::Command::new(&spec.file);
    cmd.args(&spec.args);
    if let Some(env) = &spec.env {
        cmd.env_clear().envs(env);
    }
    if let Some(argv0) = &spec.argv0 {
        cmd.arg0(argv0);
    }
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    if spec.detached {
        cmd.process_group(0);
    }
    if let Some(uid) = spec.uid {
        cmd.uid(uid);
    }
    if let Some(gid) = spec.gid {
        cmd.gid(gid);
    }
    cmd.stdin(stdio(&spec.stdio[0])).stdout(stdio(&spec.stdio[1])).stderr(stdio(&spec.stdio[2]));
    cmd
}

/// `spawn <file> ENOENT`: the code first, for the JS side to turn into Node's error.
fn spawn_error(e: &std::io::Error, syscall: &str, file: &str) -> JsErrorBox {
    let code = errno_code(e);
    coded(code, format!("{syscall} {file} {code}"))
}

#[derive(Serialize)]
pub struct Spawned {
    rid: u32,
    pid: u32,
}

#[op2]
#[serde]
pub fn op_node_spawn(state: &mut OpState, #[serde] spec: SpawnSpec) -> Result<Spawned, JsErrorBox> {
    refuse(state)?;
    let mut child = tokio::process::Command::from(command(&spec)).spawn().map_err(|e| spawn_error(&e, "spawn", &spec.file))?;
    let pid = child.id().unwrap_or_default();
    let process = Process {
        stdin: AsyncRefCell::new_rc(child.stdin.take()),
        stdout: AsyncRefCell::new_rc(child.stdout.take()),
        stderr: AsyncRefCell::new_rc(child.stderr.take()),
        child: AsyncRefCell::new_rc(Some(child)),
        pid,
        exited: Rc::new(Cell::new(false)),
        cancel: Rc::new(CancelHandle::new()),
    };
    let res = resources(state);
    let rid = res.id();
    res.children.insert(rid, process);
    Ok(Spawned { rid, pid })
}

fn closed() -> JsErrorBox {
    coded("ERR_STREAM_DESTROYED", "the child's stream was closed")
}

struct Handles {
    stdin: Cell2<tokio::process::ChildStdin>,
    stdout: Cell2<tokio::process::ChildStdout>,
    stderr: Cell2<tokio::process::ChildStderr>,
    child: Cell2<tokio::process::Child>,
    exited: Rc<Cell<bool>>,
    cancel: Rc<CancelHandle>,
}

fn handles(state: &Rc<RefCell<OpState>>, rid: u32) -> Result<Handles, JsErrorBox> {
    let mut state = state.borrow_mut();
    let p = resources(&mut state).children.get(&rid).ok_or_else(closed)?;
    Ok(Handles {
        stdin: p.stdin.clone(),
        stdout: p.stdout.clone(),
        stderr: p.stderr.clone(),
        child: p.child.clone(),
        exited: p.exited.clone(),
        cancel: p.cancel.clone(),
    })
}

async fn read_from<R: tokio::io::AsyncRead + Unpin + 'static>(cell: Cell2<R>, cancel: Rc<CancelHandle>) -> Result<Option<ToJsBuffer>, JsErrorBox> {
    let mut guard = cell.borrow_mut().await;
    let Some(pipe) = Option::as_mut(&mut *guard) else { return Ok(None) };
    let mut buf = vec![0u8; 64 * 1024];
    let n = match pipe.read(&mut buf).or_cancel(cancel).await {
        Err(_) => return Ok(None),
        Ok(r) => r.map_err(|e| coded(errno_code(&e), format!("read {}", errno_code(&e))))?,
    };
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n);
    Ok(Some(buf.into()))
}

/// The next chunk of the child's stdout (`fd` 1) or stderr (2), `null` at its end.
#[op2]
#[serde]
pub async fn op_node_child_read(state: Rc<RefCell<OpState>>, #[smi] rid: u32, #[smi] fd: u8) -> Result<Option<ToJsBuffer>, JsErrorBox> {
    let h = handles(&state, rid)?;
    if fd == 1 { read_from(h.stdout, h.cancel).await } else { read_from(h.stderr, h.cancel).await }
}

#[op2]
pub async fn op_node_child_write(state: Rc<RefCell<OpState>>, #[smi] rid: u32, #[buffer] data: JsBuffer) -> Result<(), JsErrorBox> {
    let h = handles(&state, rid)?;
    let mut guard = h.stdin.borrow_mut().await;
    let pipe = Option::as_mut(&mut *guard).ok_or_else(|| coded("EPIPE", "write EPIPE"))?;
    match pipe.write_all(&data).or_cancel(h.cancel).await {
        Err(_) => Err(closed()),
        Ok(r) => r.map_err(|e| coded(errno_code(&e), format!("write {}", errno_code(&e)))),
    }
}

/// Closes the child's stdin (`child.stdin.end()`), so it sees the end of its input.
#[op2]
pub async fn op_node_child_end_stdin(state: Rc<RefCell<OpState>>, #[smi] rid: u32) -> Result<(), JsErrorBox> {
    let h = handles(&state, rid)?;
    let pipe = h.stdin.borrow_mut().await.take();
    if let Some(mut pipe) = pipe {
        let _ = pipe.shutdown().await;
    }
    Ok(())
}

#[derive(Serialize)]
pub struct Exit {
    code: Option<i32>,
    signal: Option<i32>,
}

/// Waits for the child to end: its exit code, or the number of the signal that ended it.
#[op2]
#[serde]
pub async fn op_node_child_wait(state: Rc<RefCell<OpState>>, #[smi] rid: u32) -> Result<Exit, JsErrorBox> {
    let h = handles(&state, rid)?;
    let mut guard = h.child.borrow_mut().await;
    let child = Option::as_mut(&mut *guard).ok_or_else(closed)?;
    let status = child.wait().await.map_err(|e| coded(errno_code(&e), format!("waitpid {}", errno_code(&e))))?;
    h.exited.set(true);
    Ok(Exit { code: status.code(), signal: status.signal() })
}

/// Sends signal `signal` (a number) to the child; false once it has ended or when the signal
/// could not be sent.
#[op2(fast)]
pub fn op_node_child_kill(state: &mut OpState, #[smi] rid: u32, #[smi] signal: i32) -> bool {
    let Some(p) = resources(state).children.get(&rid) else { return false };
    if p.exited.get() || p.pid == 0 {
        return false;
    }
    // SAFETY: kill(2) on the pid of a child this isolate spawned and has not reaped yet.
    unsafe { libc::kill(p.pid as libc::pid_t, signal) == 0 }
}

/// Lets go of the child's pipes (pending reads end as if at the end of the stream).
#[op2(fast)]
pub fn op_node_child_close(state: &mut OpState, #[smi] rid: u32) {
    if let Some(p) = resources(state).children.remove(&rid) {
        p.cancel.cancel();
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncOptions {
    /// 0 = no timeout.
    timeout_ms: u64,
    kill_signal: i32,
    /// Bytes of stdout or stderr after which the child is killed (`ENOBUFS`); 0 = no limit.
    max_buffer: usize,
}

#[derive(Serialize)]
pub struct SyncResult {
    pid: u32,
    stdout: Option<ToJsBuffer>,
    stderr: Option<ToJsBuffer>,
    status: Option<i32>,
    signal: Option<i32>,
    /// `ETIMEDOUT` or `ENOBUFS` when the child was killed for it.
    error: Option<&'static str>,
}

fn collect(pipe: Option<impl Read + Send + 'static>, limit: usize, over: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Option<std::thread::JoinHandle<Vec<u8>>> {
    let mut pipe = pipe?;
    Some(std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if limit > 0 && out.len() > limit {
                out.truncate(limit);
                over.store(true, std::sync::atomic::Ordering::SeqCst);
                break;
            }
        }
        out
    }))
}

/// `spawnSync`: runs the child to its end with `input` on its stdin, blocking this isolate.
#[op2]
#[serde]
pub fn op_node_spawn_sync(state: &mut OpState, #[serde] spec: SpawnSpec, #[buffer] input: JsBuffer, #[serde] options: SyncOptions) -> Result<SyncResult, JsErrorBox> {
    refuse(state)?;
    let mut child = command(&spec).spawn().map_err(|e| spawn_error(&e, "spawnSync", &spec.file))?;
    let pid = child.id();
    if let Some(mut stdin) = child.stdin.take() {
        let input = input.to_vec();
        // A child that never reads its input must not block us: write from a thread of its own.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let over = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stdout = collect(child.stdout.take(), options.max_buffer, over.clone());
    let stderr = collect(child.stderr.take(), options.max_buffer, over.clone());
    let started = Instant::now();
    let mut error = None;
    let mut pause = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => return Err(coded(errno_code(&e), format!("waitpid {}", errno_code(&e)))),
        }
        let late = options.timeout_ms > 0 && started.elapsed() >= Duration::from_millis(options.timeout_ms);
        if error.is_none() && (late || over.load(std::sync::atomic::Ordering::SeqCst)) {
            error = Some(if late { "ETIMEDOUT" } else { "ENOBUFS" });
            // SAFETY: kill(2) on our own child, not reaped yet (try_wait said it is running).
            unsafe { libc::kill(pid as libc::pid_t, options.kill_signal) };
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    let joined = |h: Option<std::thread::JoinHandle<Vec<u8>>>| h.map(|h| h.join().unwrap_or_default().into());
    Ok(SyncResult { pid, stdout: joined(stdout), stderr: joined(stderr), status: status.code(), signal: status.signal(), error })
}
