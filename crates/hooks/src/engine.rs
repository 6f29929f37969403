//! One JS engine instance: a deno_core `JsRuntime` with Rectus's ops and the `js-runtime/` files,
//! every hook loaded into it. QuickJS-ng by default, V8 with the `v8` feature.

use deno_core::{op2, v8, JsRuntime, OpState, RuntimeOptions};
use deno_error::JsErrorBox;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::host::{Host, HostCell};
use crate::pool::PendingJob;
use rectus_core::ApiError;

use crate::loader::HookEntry;
use crate::registry::Listener;

/// The JS half of the runtime, compiled into the binary so it is self-contained.
const JS_FILES: &[(&str, &str)] = &[
    ("rectus:00_globals.js", include_str!("../../../js-runtime/00_globals.js")),
    ("rectus:10_commonjs.js", include_str!("../../../js-runtime/10_commonjs.js")),
    ("rectus:15_builtins.js", include_str!("../../../js-runtime/15_builtins.js")),
    ("rectus:20_exceptions.js", include_str!("../../../js-runtime/20_exceptions.js")),
    ("rectus:30_merge.js", include_str!("../../../js-runtime/30_merge.js")),
    ("rectus:40_hooks.js", include_str!("../../../js-runtime/40_hooks.js")),
    ("rectus:45_app.js", include_str!("../../../js-runtime/45_app.js")),
    ("rectus:47_endpoints.js", include_str!("../../../js-runtime/47_endpoints.js")),
    ("rectus:50_context.js", include_str!("../../../js-runtime/50_context.js")),
    ("rectus:55_database.js", include_str!("../../../js-runtime/55_database.js")),
    ("rectus:60_services.js", include_str!("../../../js-runtime/60_services.js")),
    ("rectus:62_files.js", include_str!("../../../js-runtime/62_files.js")),
    ("rectus:65_mail.js", include_str!("../../../js-runtime/65_mail.js")),
];

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LoadReport {
    pub registered: Vec<Listener>,
    pub crons: Vec<CronListener>,
    pub failures: Vec<LoadFailure>,
    /// What the app events' listeners registered on `app` (filled after loading).
    #[serde(default)]
    pub routes: Vec<crate::app::RouteSpec>,
    /// The endpoints mounted under `/custom` (filled after loading, with the routes).
    #[serde(default)]
    pub endpoints: Vec<MountedEndpoint>,
    /// Endpoints that failed to load or register.
    #[serde(default)]
    pub endpoint_failures: Vec<LoadFailure>,
}

/// An endpoint extension as loaded: where it is mounted and the routes its router holds.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct MountedEndpoint {
    pub name: String,
    /// `/custom/<name>` (or `/custom/<id>` for a `{ id, handler }` export).
    pub route: String,
    /// `METHOD /custom/<name>/<path>` per route (middleware has no path to show).
    pub routes: Vec<String>,
}

/// What `initApp` reports: the route table and the endpoints.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AppInit {
    pub routes: Vec<crate::app::RouteSpec>,
    pub endpoints: Vec<MountedEndpoint>,
    pub failures: Vec<LoadFailure>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct CronListener {
    pub id: u32,
    pub hook: String,
    pub key: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct LoadFailure {
    pub hook: String,
    pub error: String,
}

/// Per-isolate state the ops work on.
pub struct IsolateState {
    pub pending: HashMap<u64, PendingJob>,
    pub dispatcher: Option<v8::Global<v8::Function>>,
    pub load_report: Option<LoadReport>,
    pub app_init: AppInit,
    pub cwd: String,
    pub process_env: HashMap<String, String>,
    pub env: Value,
}

#[derive(Deserialize)]
struct JsOutcome {
    #[serde(default)]
    ok: serde_json::Value,
    #[serde(default)]
    error: Option<ApiError>,
}

#[op2(fast)]
fn op_rectus_log(#[string] level: &str, #[string] message: &str) {
    match level {
        "error" => tracing::error!(target: "hooks", "{message}"),
        "warn" => tracing::warn!(target: "hooks", "{message}"),
        "debug" => tracing::debug!(target: "hooks", "{message}"),
        "trace" => tracing::trace!(target: "hooks", "{message}"),
        _ => tracing::info!(target: "hooks", "{message}"),
    }
}

#[op2]
#[string]
fn op_rectus_read_file(#[string] path: String) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// The real path of a file (symbolic links resolved), as Node identifies modules. The real
/// paths of folders are kept for the isolate's thread (one generation: a reload starts afresh),
/// so a file that isn't a link costs one `lstat`, not a `readlink` for each folder above it.
#[op2]
#[string]
fn op_rectus_realpath(#[string] path: &str) -> Option<String> {
    thread_local! {
        static FOLDERS: RefCell<HashMap<PathBuf, PathBuf>> = RefCell::new(HashMap::new());
    }
    let path = Path::new(path);
    let real = match (path.parent(), path.file_name()) {
        (Some(folder), Some(name)) if !std::fs::symlink_metadata(path).ok()?.is_symlink() => {
            let known = FOLDERS.with(|f| f.borrow().get(folder).cloned());
            let folder_real = match known {
                Some(real) => real,
                None => {
                    let real = std::fs::canonicalize(folder).ok()?;
                    FOLDERS.with(|f| f.borrow_mut().insert(folder.to_path_buf(), real.clone()));
                    real
                }
            };
            folder_real.join(name)
        }
        _ => std::fs::canonicalize(path).ok()?,
    };
    Some(real.to_string_lossy().into_owned())
}

/// `process.arch`: Node's name for the CPU architecture.
#[op2]
#[string]
fn op_rectus_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        other => other,
    }
}

/// `process.memoryUsage()`: `[rss, heapTotal, heapUsed, external]` in bytes. The RSS is the
/// whole server's (as Node's is its process's); the heap figures are this isolate's.
#[op2]
#[serde]
fn op_rectus_memory_usage(scope: &mut v8::PinScope) -> Vec<f64> {
    let heap = scope.get_heap_statistics();
    vec![resident_bytes() as f64, heap.total_heap_size() as f64, heap.used_heap_size() as f64, heap.external_memory() as f64]
}

/// The process's resident set (0 where `/proc` can't tell).
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// 0 missing, 1 file, 2 directory.
#[op2(fast)]
fn op_rectus_stat(#[string] path: &str) -> u32 {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => 2,
        Ok(_) => 1,
        Err(_) => 0,
    }
}

#[op2]
#[string]
fn op_rectus_cwd(state: &mut OpState) -> String {
    state.borrow::<IsolateState>().cwd.clone()
}

#[op2]
#[serde]
fn op_rectus_process_env(state: &mut OpState) -> HashMap<String, String> {
    state.borrow::<IsolateState>().process_env.clone()
}

#[op2]
#[serde]
fn op_rectus_env(state: &mut OpState) -> serde_json::Value {
    state.borrow::<IsolateState>().env.clone()
}

/// A job's outcome as JSON text (`{ok}` or `{error}`): `JSON.stringify` and serde_json are much
/// faster than converting value by value through the engine API (`pool.rs` sends jobs as JSON
/// text for the same reason). Fire-and-forget
/// jobs have nobody to read it.
#[op2(fast)]
fn op_rectus_job_done(state: &mut OpState, #[bigint] id: u64, #[string] outcome: &str) {
    state.borrow_mut::<crate::database::Connections>().job_done(id);
    let Some(reply) = state.borrow_mut::<IsolateState>().pending.remove(&id).and_then(|p| p.reply) else { return };
    let outcome: JsOutcome = serde_json::from_str(outcome).unwrap_or(JsOutcome {
        ok: Value::Null,
        error: Some(ApiError::internal("a hook returned a value that can't be serialised to JSON")),
    });
    let _ = reply.send(match outcome.error {
        Some(e) => Err(e),
        None => Ok(outcome.ok),
    });
}

#[op2]
fn op_rectus_set_dispatcher(state: &mut OpState, #[scoped] dispatcher: v8::Global<v8::Function>) {
    state.borrow_mut::<IsolateState>().dispatcher = Some(dispatcher);
}

#[op2]
fn op_rectus_set_app_init(state: &mut OpState, #[serde] init: AppInit) {
    state.borrow_mut::<IsolateState>().app_init = init;
}

#[op2]
fn op_rectus_set_load_report(state: &mut OpState, #[serde] report: LoadReport) {
    state.borrow_mut::<IsolateState>().load_report = Some(report);
}

/// The cached schema JSON (`null` before the first read), for `ctx.schema`.
#[op2]
#[string]
fn op_rectus_schema_json(state: &mut OpState) -> Option<String> {
    let host = Host::of(state).ok()?;
    host.services.schema.peek_json().map(|(_, text)| text.to_string())
}

/// `getSchema()`: the schema JSON, read from the database when the cache is cold.
#[op2]
#[string]
async fn op_rectus_get_schema(state: Rc<RefCell<OpState>>) -> Result<String, JsErrorBox> {
    let host = Host::of(&state.borrow())?;
    let schema = host.services.schema.clone();
    host.runtime
        .spawn(async move { schema.json().await })
        .await
        .map_err(|e| JsErrorBox::generic(e.to_string()))?
        .map(|text| text.to_string())
        .map_err(|e| JsErrorBox::generic(e.message()))
}

deno_core::extension!(
    rectus_hooks,
    ops = [
        op_rectus_log,
        op_rectus_read_file,
        op_rectus_stat,
        op_rectus_realpath,
        op_rectus_arch,
        op_rectus_memory_usage,
        op_rectus_cwd,
        op_rectus_process_env,
        op_rectus_env,
        op_rectus_job_done,
        op_rectus_set_dispatcher,
        op_rectus_set_load_report,
        op_rectus_set_app_init,
        op_rectus_schema_json,
        op_rectus_get_schema,
        crate::services::op_rectus_call,
        crate::services::op_rectus_take_asset,
        crate::services::op_rectus_upload_open,
        crate::services::op_rectus_upload_write,
        crate::services::op_rectus_upload_end,
        crate::database::op_rectus_knex_source,
        crate::database::op_rectus_db_client,
        crate::database::op_rectus_db_query,
        crate::database::op_rectus_db_begin,
        crate::database::op_rectus_db_end,
        crate::code_cache::op_rectus_compile_file,
    ],
);

/// Everything needed to build an engine; shared by every isolate of a generation.
#[derive(Clone)]
pub struct EngineSetup {
    pub hooks: Vec<HookEntry>,
    /// Endpoint extensions, loaded by [`init_app`].
    pub endpoints: Vec<HookEntry>,
    pub cwd: String,
    pub process_env: HashMap<String, String>,
    pub env: Value,
    pub max_heap_bytes: usize,
    pub host: HostCell,
    /// `HOOKS_TIMEOUT`; also bounds how long a hook's own transaction may stay open.
    pub timeout: std::time::Duration,
}

/// Builds a runtime, lets `configure` arm it (watchdog handle, heap callback), then loads every
/// hook into it.
pub fn build_with(setup: &EngineSetup, configure: impl FnOnce(&mut JsRuntime)) -> Result<(JsRuntime, LoadReport), String> {
    crate::code_cache::wait_verified();
    let create_params = v8::CreateParams::default().heap_limits(0, setup.max_heap_bytes);
    let mut runtime = JsRuntime::try_new(RuntimeOptions {
        extensions: vec![rectus_hooks::init(), crate::node::rectus_node::init()],
        create_params: Some(create_params),
        ..Default::default()
    })
    .map_err(|e| format!("can't create the JS runtime: {e}"))?;
    configure(&mut runtime);
    runtime.op_state().borrow_mut().put(IsolateState {
        pending: HashMap::new(),
        dispatcher: None,
        load_report: None,
        app_init: AppInit::default(),
        cwd: setup.cwd.clone(),
        process_env: setup.process_env.clone(),
        env: setup.env.clone(),
    });
    runtime.op_state().borrow_mut().put(setup.host.clone());
    runtime.op_state().borrow_mut().put(crate::database::Connections::new(setup.timeout));
    for (name, source) in JS_FILES {
        runtime.execute_script(*name, *source).map_err(|e| format!("{name}: {e}"))?;
    }
    let hooks = serde_json::to_string(&setup.hooks).map_err(|e| e.to_string())?;
    call_runtime(&mut runtime, "boot", &[&hooks]).map_err(|e| format!("loading hooks: {e}"))?;
    let report = runtime.op_state().borrow_mut().borrow_mut::<IsolateState>().load_report.take().unwrap_or_default();
    Ok((runtime, report))
}

/// Evaluates knex when a hook took `database` while registering, so its first use doesn't pay
/// for it. Called once the isolate takes jobs: the server doesn't wait for it to start.
pub fn warm_up(js: &mut JsRuntime) {
    if let Err(e) = call_runtime(js, "warmUp", &[]) {
        tracing::warn!("warming up a hook isolate: {e}");
    }
}

/// Runs the listeners of the events that carry `app` (in Directus's order, each awaited) and
/// loads the endpoints between `routes.custom.init.before` and `.after`; returns the routes they
/// registered and the endpoints. Only isolates with endpoints or hooks listening to the app
/// events pay for this.
pub async fn init_app(js: &mut JsRuntime, registered: &[Listener], endpoints: &[HookEntry]) -> Result<AppInit, String> {
    let registry = crate::registry::Registry::new(registered.to_vec());
    let events: Vec<Value> = crate::app::APP_EVENTS.iter().map(|event| serde_json::json!({ "event": event, "ids": registry.matching(event).to_vec() })).collect();
    let listened = events.iter().any(|e| e["ids"].as_array().is_some_and(|ids| !ids.is_empty()));
    if !listened && endpoints.is_empty() {
        return Ok(AppInit::default());
    }
    let endpoints = serde_json::to_string(endpoints).map_err(|e| e.to_string())?;
    let promise = call_runtime(js, "initApp", &[&Value::Array(events).to_string(), &endpoints])?;
    let resolved = js.resolve(promise);
    js.with_event_loop_promise(resolved, deno_core::PollEventLoopOptions::default()).await.map_err(|e| e.to_string())?;
    Ok(std::mem::take(&mut js.op_state().borrow_mut().borrow_mut::<IsolateState>().app_init))
}

/// Calls `__rectus[method]` (js-runtime/) with `args`, each JSON text parsed by the engine, and
/// returns what it returned. A call rather than `execute_script`: after every script it runs, the
/// facade measures the whole heap for the near-heap-limit callback, 10 ms and more once the hooks'
/// packages are loaded, four times per start.
pub fn call_runtime(js: &mut JsRuntime, method: &str, args: &[&str]) -> Result<v8::Global<v8::Value>, String> {
    let context = js.main_context();
    let isolate = &mut *js.v8_isolate();
    v8::scope!(scope, isolate);
    let context = v8::Local::new(scope, context);
    let scope = &mut v8::ContextScope::new(scope, context);
    v8::tc_scope!(let tc, scope);
    let too_long = || format!("__rectus.{method}: an argument is too long");
    let runtime_key = v8::String::new(tc, "__rectus").ok_or_else(too_long)?;
    let method_key = v8::String::new(tc, method).ok_or_else(too_long)?;
    let runtime = context.global(tc).get(tc, runtime_key.into()).and_then(|v| v.try_cast::<v8::Object>().ok());
    let function = runtime.and_then(|r| r.get(tc, method_key.into())).and_then(|v| v.try_cast::<v8::Function>().ok());
    let (Some(runtime), Some(function)) = (runtime, function) else {
        return Err(format!("__rectus.{method} is not a function"));
    };
    let mut parsed = Vec::with_capacity(args.len());
    for arg in args {
        let json = v8::String::new(tc, arg).ok_or_else(too_long)?;
        parsed.push(v8::json::parse(tc, json).ok_or_else(|| format!("__rectus.{method}: an argument is not JSON"))?);
    }
    match function.call(tc, runtime.into(), &parsed) {
        Some(value) => Ok(v8::Global::new(tc, value)),
        None => match tc.exception() {
            Some(exception) if !tc.is_execution_terminating() => Err(deno_core::error::JsError::from_v8_exception(tc, exception).to_string()),
            _ => Err(format!("__rectus.{method}: execution terminated")),
        },
    }
}
