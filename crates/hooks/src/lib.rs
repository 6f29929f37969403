//! Rectus's JS hook runtime: loads `extensions/hooks/*/index.js` unmodified into a pool of
//! deno_core isolates and dispatches the core's events to them with Directus semantics.

pub mod app;
pub mod code_cache;
mod comments;
pub mod cron;
mod database;
pub mod engine;
pub mod engine_heap;
pub mod host;
pub mod job;
pub mod loader;
mod node;
pub mod pool;
mod reflow;
pub mod registry;
pub mod reload;
mod services;
mod spin;

use async_trait::async_trait;
use rectus_core::config::Config;
use rectus_core::events::{EventArgs, EventBus};
use rectus_core::ApiError;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::oneshot;

pub use deno_core;
use engine::{EngineSetup, LoadReport};
use job::{JobKind, JobResult, JobSpec};
use host::{Host, HostCell};
use pool::{Job, Pool};
use registry::Registry;
use spin::SpinPolicy;

/// One loaded generation of hooks: the isolates and the listener table they share.
pub struct HookRuntime {
    pool: Pool,
    registry: Registry,
    report: LoadReport,
    timeout: Duration,
    max_depth: u32,
    next_job: AtomicU64,
    /// Whether callers look for answers before sleeping (`spin.rs`).
    answer_spin: SpinPolicy,
    host: HostCell,
    routes: Vec<app::HookRoute>,
}

impl HookRuntime {
    /// Discovers and loads the hooks of `config.extensions_path`. A hook that fails is logged and
    /// skipped; only an engine that cannot start at all is an error. The hooks reach no services
    /// (`rectus hooks check`); [`start_with_host`](Self::start_with_host) gives them some.
    pub fn start(config: &Config) -> Result<Arc<HookRuntime>, String> {
        Self::boot(config, HostCell::default())
    }

    /// [`start`](Self::start) with the application's services reachable from the hooks' first
    /// line, as `database`, `getSchema()` and `services` are on Directus while `registerHook`
    /// runs. `host_for` gets the bus those services emit on (this runtime, once it exists).
    /// What a hook starts while registering (a table it creates, top-level promises) has
    /// finished before this returns (`pool.rs`), isolate by isolate, so a second isolate finds
    /// the first one's table.
    pub fn start_with_host(config: &Config, host_for: impl FnOnce(Arc<dyn EventBus>) -> Host) -> Result<Arc<HookRuntime>, String> {
        let late = Arc::new(LateBus::default());
        let host = HostCell::default();
        let _ = host.0.set(host_for(late.clone()));
        let runtime = Self::boot(config, host)?;
        let _ = late.0.set(Arc::downgrade(&runtime));
        Ok(runtime)
    }

    fn boot(config: &Config, host: HostCell) -> Result<Arc<HookRuntime>, String> {
        let hooks = loader::discover(&config.extensions_path)
            .map_err(|e| format!("can't read {}/hooks: {e}", config.extensions_path.display()))?;
        let endpoints = loader::discover_endpoints(&config.extensions_path)
            .map_err(|e| format!("can't read {}/endpoints: {e}", config.extensions_path.display()))?;
        let names: Vec<&str> = hooks.iter().chain(&endpoints).map(|h| h.name.as_str()).collect();
        tracing::info!("Loaded extensions: {}", names.join(", "));
        let process_env: HashMap<String, String> = config
            .env
            .as_map()
            .iter()
            .map(|(k, v)| (k.clone(), match v {
                Value::String(s) => s.clone(),
                Value::Null => "null".into(),
                other => other.to_string(),
            }))
            .collect();
        let setup = EngineSetup {
            hooks,
            endpoints,
            cwd: config.cwd.to_string_lossy().into_owned(),
            process_env,
            env: config.env.to_json(),
            max_heap_bytes: config.hooks.max_heap_bytes,
            host: host.clone(),
            timeout: config.hooks.timeout,
        };
        let (pool, report) = Pool::start(config.hooks.pool_size, setup, config.hooks.timeout, config.hooks.idle_timeout)?;
        for failure in &report.failures {
            tracing::warn!("Couldn't register hook \"{}\": {}", failure.hook, failure.error);
        }
        for failure in &report.endpoint_failures {
            tracing::warn!("Couldn't register endpoint \"{}\": {}", failure.hook, failure.error);
        }
        Ok(Arc::new(HookRuntime {
            pool,
            registry: Registry::new(report.registered.clone()),
            routes: app::compile_all(&report.routes),
            report,
            timeout: config.hooks.timeout,
            max_depth: config.hooks.max_depth,
            next_job: AtomicU64::new(1),
            answer_spin: SpinPolicy::default(),
            host,
        }))
    }

    /// The services the hooks reach, if any ([`start_with_host`](Self::start_with_host)).
    pub(crate) fn host(&self) -> Option<&Host> {
        self.host.0.get()
    }

    fn too_deep(&self, event: &str, depth: u32) -> Option<ApiError> {
        (depth > self.max_depth).then(|| {
            ApiError::service_unavailable(
                format!("Hooks called services more than HOOKS_MAX_DEPTH ({}) levels deep at \"{event}\"; stopped what looks like infinite recursion.", self.max_depth),
                "hooks",
            )
        })
    }

    pub fn report(&self) -> &LoadReport {
        &self.report
    }

    /// Sends a job to the least busy isolate. The isolate answers through `reply` when there is
    /// one; the job counts as in flight there until it settles, its caller stops waiting, or
    /// (without a reply) `HOOKS_TIMEOUT` passes (`pool.rs`). False when no isolate runs.
    fn send(&self, kind: JobKind, event: &str, ids: Vec<u32>, job: JobArgs, reply: Option<oneshot::Sender<JobResult>>) -> bool {
        let JobArgs { values: args, has_input, payload_is_input, depth, transaction } = job;
        let (slot, in_flight) = self.pool.claim();
        let schema_version = self.host.0.get().map(|h| h.services.schema.version()).unwrap_or(0);
        let spec = JobSpec { id: self.next_job.fetch_add(1, Ordering::Relaxed), kind, event: event.to_string(), ids, args, has_input, payload_is_input, schema_version, depth, transaction: None };
        slot.sender.send(Job { spec, reply, transaction, in_flight }).is_ok()
    }

    /// Runs a job and waits for its outcome, bounded by `HOOKS_TIMEOUT`.
    async fn run(&self, kind: JobKind, event: &str, ids: Vec<u32>, job: JobArgs) -> Result<Value, ApiError> {
        let (tx, rx) = oneshot::channel();
        if !self.send(kind, event, ids, job, Some(tx)) {
            return Err(ApiError::service_unavailable("The hook runtime is not running.", "hooks"));
        }
        match tokio::time::timeout(self.timeout, self.answer(rx)).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(failure))) => Err(failure),
            Ok(Err(_)) => Err(ApiError::service_unavailable("A hook isolate stopped while running the hook.", "hooks")),
            Err(_) => Err(ApiError::service_unavailable(
                format!("Hook \"{event}\" did not finish within HOOKS_TIMEOUT ({} ms).", self.timeout.as_millis()),
                "hooks",
            )),
        }
    }

    /// The isolate's answer to a job.
    async fn answer(&self, mut rx: oneshot::Receiver<JobResult>) -> Result<JobResult, oneshot::error::RecvError> {
        match self.answer_spin.look(ANSWER_SPIN, spin::yield_to_others, || rx.try_recv().ok()).await {
            Some(result) => Ok(result),
            None => rx.await,
        }
    }

    /// Calls the listeners of a cron key with the tick's time (rc.83 passes one `Date`).
    pub async fn run_cron(&self, id: u32, key: &str, tick: chrono::DateTime<chrono::Utc>) -> Result<(), ApiError> {
        let job = JobArgs { values: vec![Value::String(tick.to_rfc3339())], has_input: false, payload_is_input: false, depth: 0, transaction: None };
        self.run(JobKind::Cron, key, vec![id], job).await.map(|_| ())
    }
}

/// How long a caller keeps looking for its job's answer, yielding to other tasks in between,
/// before its task sleeps until the isolate wakes it (`spin.rs`): most hooks answer within this.
const ANSWER_SPIN: Duration = Duration::from_micros(60);

/// The JS arguments of an emit, with what the JS side needs to know about them.
struct JobArgs {
    values: Vec<Value>,
    has_input: bool,
    payload_is_input: bool,
    depth: u32,
    transaction: Option<rectus_core::db::SharedTransaction>,
}

fn job_args(args: EventArgs) -> JobArgs {
    let (values, has_input, payload_is_input) = match args.input {
        Some(input) => match args.context {
            Some(ctx) => (vec![input, Value::Object(ctx)], true, true),
            None => (vec![input], true, false),
        },
        None => (args.context.map(|c| vec![Value::Object(c)]).unwrap_or_default(), false, false),
    };
    JobArgs { values, has_input, payload_is_input, depth: args.depth, transaction: args.database }
}

#[async_trait]
impl EventBus for HookRuntime {
    fn has_listeners(&self, event: &str) -> bool {
        !self.registry.matching(event).is_empty()
    }

    async fn emit_before(&self, event: &str, args: EventArgs) -> Result<Option<Value>, ApiError> {
        let ids = self.registry.matching(event);
        if ids.is_empty() {
            return Ok(args.input);
        }
        if let Some(e) = self.too_deep(event, args.depth) {
            return Err(e);
        }
        let had_input = args.input.is_some();
        let result = self.run(JobKind::Before, event, ids.to_vec(), job_args(args)).await?;
        Ok(had_input.then_some(result))
    }

    fn emit_after(&self, event: &str, args: EventArgs) {
        let ids = self.registry.matching(event);
        if ids.is_empty() {
            return;
        }
        if let Some(e) = self.too_deep(event, args.depth) {
            tracing::warn!("{}", e.message);
            return;
        }
        // Fire-and-forget: nobody waits for a reply (the isolate logs what the hooks throw).
        self.send(JobKind::After, event, ids.to_vec(), job_args(args), None);
    }

    async fn emit_awaited(&self, event: &str, args: EventArgs) {
        let ids = self.registry.matching(event);
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self.run(JobKind::Call, event, ids.to_vec(), job_args(args)).await {
            tracing::warn!("An error was thrown while executing hook \"{event}\": {}", e.message);
        }
    }
}

/// The hook runtime as seen by the services hooks call, which exist before it
/// ([`HookRuntime::start_with_host`]): events emitted while the hooks are still registering, or
/// once the runtime was dropped, reach no hook. Held weakly so the runtime and the services it
/// reaches don't keep each other alive.
#[derive(Default)]
struct LateBus(OnceLock<std::sync::Weak<HookRuntime>>);

impl LateBus {
    fn runtime(&self) -> Option<Arc<HookRuntime>> {
        self.0.get().and_then(std::sync::Weak::upgrade)
    }
}

#[async_trait]
impl EventBus for LateBus {
    fn has_listeners(&self, event: &str) -> bool {
        self.runtime().is_some_and(|r| r.has_listeners(event))
    }

    async fn emit_before(&self, event: &str, args: EventArgs) -> Result<Option<Value>, ApiError> {
        match self.runtime() {
            Some(r) => r.emit_before(event, args).await,
            None => Ok(args.input),
        }
    }

    fn emit_after(&self, event: &str, args: EventArgs) {
        if let Some(r) = self.runtime() {
            r.emit_after(event, args);
        }
    }

    async fn emit_awaited(&self, event: &str, args: EventArgs) {
        if let Some(r) = self.runtime() {
            r.emit_awaited(event, args).await;
        }
    }
}
