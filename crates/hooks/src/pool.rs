//! The isolate pool: each isolate lives on its own OS thread with a current-thread tokio runtime
//! and takes jobs from a channel. Jobs of concurrent requests interleave on one isolate the way
//! they would on Node's event loop: a job is started, and the loop keeps taking new jobs while
//! earlier ones wait on promises.
//!
//! A watchdog thread terminates an isolate whose JS has been running synchronously for longer
//! than the hook timeout (an infinite loop); a heap that reaches `HOOKS_MAX_HEAP` is terminated
//! the same way. A terminated isolate fails its outstanding jobs with 503 and is rebuilt from
//! scratch, so the next request finds a fresh one. Module-level hook state is therefore per
//! isolate.
//!
//! Start-up: the server listens once the first isolate has loaded the hooks. The others (up to
//! `HOOKS_POOL_SIZE`) start when there is work for them: when a job finds every ready isolate with
//! a job in flight and running JS for 85% of the last half second ([`SATURATED`], measured by
//! the watchdog), the next one loads in the background and takes jobs from when it is
//! ready. Jobs that wait on the database or the network interleave on one isolate as they do on
//! Node's one event loop; only JS that keeps a thread busy needs another. A server whose hooks
//! never keep one isolate that busy keeps one isolate's memory (every isolate holds every module:
//! 13 MB for the example hooks, ~100 MB for a set of real npm-using hooks). They
//! start one after the other, since each runs every hook's `registerHook` again: what one starts
//! while registering (a table it creates) is done before the next begins. An isolate beyond the
//! first that has had no job, timer or pending operation for `HOOKS_IDLE_TIMEOUT` stops and gives
//! its memory back; it starts again the same way when jobs saturate the others.

use deno_core::{v8, JsRuntime, PollEventLoopOptions};
use std::future::{poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

use crate::engine::{self, EngineSetup, IsolateState, LoadReport};
use crate::job::{JobResult, JobSpec};
use crate::spin::SpinPolicy;

pub struct Job {
    pub spec: JobSpec,
    /// `None` for fire-and-forget jobs (after-events).
    pub reply: Option<oneshot::Sender<JobResult>>,
    /// Bound to the job's `ctx.database` while it runs.
    pub transaction: Option<rectus_core::db::SharedTransaction>,
    pub in_flight: InFlight,
}

/// A job the isolate started and has not finished.
pub struct PendingJob {
    pub reply: Option<oneshot::Sender<JobResult>>,
    /// When a job without a reply stops counting as in flight though it never settled.
    expires: Instant,
    _in_flight: InFlight,
}

impl PendingJob {
    /// Whether anyone still waits for it: its caller, or for fire-and-forget jobs the pool's
    /// in-flight count until `HOOKS_TIMEOUT`.
    fn awaited(&self, now: Instant) -> bool {
        match &self.reply {
            Some(reply) => !reply.is_closed(),
            None => self.expires > now,
        }
    }
}

/// What the pool and the watchdog know about one isolate.
pub struct IsolateSlot {
    pub sender: mpsc::UnboundedSender<Job>,
    /// Microseconds since `epoch` when JS started running synchronously; 0 while idle.
    busy_since: AtomicU64,
    /// Microseconds JS has run synchronously in all, up to when it last stopped.
    busy_total: AtomicU64,
    /// Set by the watchdog while JS ran for at least [`SATURATED`] of the last [`LOAD_WINDOW`].
    saturated: AtomicBool,
    terminated: Arc<AtomicBool>,
    handle: Mutex<Option<v8::IsolateHandle>>,
    in_flight: AtomicU64,
    /// Set once the isolate has loaded the hooks, unset while a terminated one is rebuilt and
    /// while a stopped one is stopped: jobs go to ready isolates.
    ready: AtomicBool,
    /// Set while an idle isolate decides to stop and while it is stopped: a job claimed for it
    /// meanwhile goes to another ([`Pool::claim`], [`try_stop`]).
    stopping: AtomicBool,
}

impl IsolateSlot {
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// JS starts running synchronously on the isolate.
    fn enter_js(&self, epoch: Instant) {
        self.busy_since.store(now_us(epoch), Ordering::Relaxed);
    }

    /// JS stopped running; its time counts in `busy_total`.
    fn leave_js(&self, epoch: Instant) {
        let since = self.busy_since.swap(0, Ordering::Relaxed);
        if since != 0 {
            self.busy_total.fetch_add(now_us(epoch).saturating_sub(since), Ordering::Relaxed);
        }
    }

    /// Starts the load measure afresh: the watchdog's current window sees less time than at its
    /// start and counts it as idle.
    fn forget_load(&self) {
        self.busy_total.store(0, Ordering::Relaxed);
        self.saturated.store(false, Ordering::Relaxed);
    }

    /// Microseconds JS has run by `now`, the run in progress included. Read while the isolate
    /// enters or leaves JS it may miss or count twice that one run: the watchdog's estimate of
    /// the load only needs to be about right.
    fn busy_by(&self, now: u64) -> u64 {
        let since = self.busy_since.load(Ordering::Relaxed);
        let running = if since == 0 { 0 } else { now.saturating_sub(since) };
        self.busy_total.load(Ordering::Relaxed) + running
    }
}

/// The share of [`LOAD_WINDOW`] an isolate must spend running JS before another one starts. Under
/// 16 connections of creates on 2 cores, the example hooks kept one isolate 70–79% busy, and a
/// second made the server slower (2,500 against 3,000 requests/s: it takes CPU from the HTTP and
/// database work) and 15 MB larger; the real hook set of bench/ kept it 91–98% busy, and a second
/// isolate served 189 against 144 and 94 requests/s (two runs with one).
const SATURATED: f64 = 0.85;

/// Over how long the watchdog measures each isolate's load.
const LOAD_WINDOW: Duration = Duration::from_millis(500);

pub struct Pool {
    pub slots: Vec<Arc<IsolateSlot>>,
    stop: Arc<AtomicBool>,
    /// Set while the next isolate is starting, and for good once every slot has one.
    growing: Arc<AtomicBool>,
    /// Asks the starter thread for the next isolate ([`start_on_demand`]).
    grow: std_mpsc::Sender<Starter>,
}

/// What the starter thread hears: start the next isolate, or an isolate stopped when idle.
enum Starter {
    Grow,
    Stopped(Stopped),
}

/// An isolate slot without a running isolate, and the channel its next one will take jobs from.
struct Stopped {
    index: usize,
    slot: Arc<IsolateSlot>,
    rx: mpsc::UnboundedReceiver<Job>,
}

/// How an isolate beyond the first stops when idle: after how long, and whom it tells.
#[derive(Clone)]
struct IdleStop {
    after: Duration,
    starter: std_mpsc::Sender<Starter>,
}

fn now_us(epoch: Instant) -> u64 {
    epoch.elapsed().as_micros() as u64 + 1
}

impl Pool {
    /// Starts the first of up to `size` isolates and returns once it has loaded the hooks, with
    /// its load report (they all load the same files); the others start on demand ([`pick`](Self::pick)).
    /// `idle_stop` is `HOOKS_IDLE_TIMEOUT` (`None`: isolates run until the pool closes).
    pub fn start(size: usize, setup: EngineSetup, timeout: Duration, idle_stop: Option<Duration>) -> Result<(Pool, LoadReport), String> {
        let epoch = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let mut slots = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..size.max(1) {
            let (tx, rx) = mpsc::unbounded_channel();
            slots.push(Arc::new(IsolateSlot {
                sender: tx,
                busy_since: AtomicU64::new(0),
                busy_total: AtomicU64::new(0),
                saturated: AtomicBool::new(false),
                terminated: Arc::new(AtomicBool::new(false)),
                handle: Mutex::new(None),
                in_flight: AtomicU64::new(0),
                ready: AtomicBool::new(false),
                stopping: AtomicBool::new(false),
            }));
            receivers.push(rx);
        }
        let mut receivers = receivers.into_iter();
        let first = receivers.next().expect("a pool has at least one isolate");
        let report = spawn_isolate(0, slots[0].clone(), setup.clone(), first, epoch, None)?
            .recv()
            .map_err(|_| "the isolate thread died while loading hooks".to_string())??;
        let rest: Vec<_> = slots[1..].iter().cloned().zip(receivers).enumerate().map(|(i, (slot, rx))| Stopped { index: i + 1, slot, rx }).collect();
        let growing = Arc::new(AtomicBool::new(rest.is_empty()));
        let (grow, wake) = std_mpsc::channel();
        if !rest.is_empty() {
            let (stop, growing) = (stop.clone(), growing.clone());
            let idle_stop = idle_stop.map(|after| IdleStop { after, starter: grow.clone() });
            std::thread::Builder::new()
                .name("rectus-isolate-start".into())
                .spawn(move || start_on_demand(rest, size, setup, epoch, stop, growing, wake, idle_stop))
                .map_err(|e| e.to_string())?;
        }
        let watched: Vec<Arc<IsolateSlot>> = slots.clone();
        let watch_stop = stop.clone();
        let limit = timeout.as_millis() as u64;
        std::thread::Builder::new()
            .name("rectus-watchdog".into())
            .spawn(move || watchdog(watched, epoch, limit, watch_stop))
            .map_err(|e| e.to_string())?;
        Ok((Pool { slots, stop, growing, grow }, report))
    }

    /// The ready isolate with the fewest jobs in flight; the first when none is (its jobs wait in
    /// its channel for the next generation). When even that one has a job in flight and is
    /// saturated (the module's comment), the next isolate starts, if the pool has room and none
    /// is starting already.
    pub fn pick(&self) -> &Arc<IsolateSlot> {
        let slot = self
            .slots
            .iter()
            .filter(|s| s.ready.load(Ordering::Acquire))
            .min_by_key(|s| s.in_flight())
            .unwrap_or(&self.slots[0]);
        if slot.in_flight() > 0 && slot.saturated.load(Ordering::Relaxed) && !self.growing.load(Ordering::Relaxed) && !self.growing.swap(true, Ordering::AcqRel) {
            let _ = self.grow.send(Starter::Grow);
        }
        slot
    }

    /// Picks an isolate ([`pick`](Self::pick)) and counts a job in flight there, unless it is
    /// stopping: then another is picked (it is no longer ready, so the next pick finds another).
    pub fn claim(&self) -> (&Arc<IsolateSlot>, InFlight) {
        loop {
            let slot = self.pick();
            let claimed = InFlight::new(slot.clone());
            if !slot.stopping.load(Ordering::SeqCst) {
                return (slot, claimed);
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts an isolate's thread; the receiver answers once it has loaded the hooks (or failed to).
fn spawn_isolate(
    index: usize,
    slot: Arc<IsolateSlot>,
    setup: EngineSetup,
    rx: mpsc::UnboundedReceiver<Job>,
    epoch: Instant,
    idle_stop: Option<IdleStop>,
) -> Result<std::sync::mpsc::Receiver<Result<LoadReport, String>>, String> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    spawn_generation(index, slot, setup, rx, Some(ready_tx), epoch, idle_stop)?;
    Ok(ready_rx)
}

/// One generation of an isolate: a thread that builds the engine, serves until it is terminated,
/// stops when idle or the pool closes, and on termination hands the job channel to a new thread
/// for the next generation; a stopped one hands it to the starter thread. A fresh thread each
/// time because the QuickJS facade keeps a thread-local table of every native function it
/// created, indexed by a 16-bit number: about 170 engines built on one thread exhaust it and the
/// next one can't even run deno_core's own scripts.
fn spawn_generation(
    index: usize,
    slot: Arc<IsolateSlot>,
    setup: EngineSetup,
    rx: mpsc::UnboundedReceiver<Job>,
    ready: Option<std::sync::mpsc::Sender<Result<LoadReport, String>>>,
    epoch: Instant,
    idle_stop: Option<IdleStop>,
) -> Result<(), String> {
    std::thread::Builder::new()
        .name(format!("rectus-isolate-{index}"))
        .stack_size(8 * 1024 * 1024)
        .spawn(move || {
            let heap = crate::engine_heap::GenerationHeap::enter();
            let next = isolate_thread(&slot, &setup, rx, ready, epoch, idle_stop.as_ref().map(|s| s.after));
            drop(heap);
            match next {
                None => {}
                Some((rx, End::Idle)) => {
                    if let Some(idle_stop) = idle_stop {
                        tracing::info!("hook isolate {} stopped: no jobs for {} ms", index + 1, idle_stop.after.as_millis());
                        let _ = idle_stop.starter.send(Starter::Stopped(Stopped { index, slot, rx }));
                    }
                }
                Some((rx, _)) => {
                    slot.terminated.store(false, Ordering::SeqCst);
                    tracing::info!("rebuilding a hook isolate after termination");
                    if let Err(e) = spawn_generation(index, slot, setup, rx, None, epoch, idle_stop) {
                        tracing::error!("can't start a thread for a hook isolate: {e}");
                    }
                }
            }
        })
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Starts the isolates after the first, the lowest stopped slot each time the pool asks (see the
/// module's comment), and takes back the slots of isolates that stopped when idle, until the
/// pool is gone. `growing` stays set while no slot is left to start.
#[allow(clippy::too_many_arguments)]
fn start_on_demand(
    mut stopped: Vec<Stopped>,
    size: usize,
    setup: EngineSetup,
    epoch: Instant,
    stop: Arc<AtomicBool>,
    growing: Arc<AtomicBool>,
    wake: std_mpsc::Receiver<Starter>,
    idle_stop: Option<IdleStop>,
) {
    while let Ok(message) = wake.recv() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match message {
            Starter::Stopped(slot) => {
                stopped.push(slot);
                growing.store(false, Ordering::Release);
            }
            Starter::Grow => {
                let Some(lowest) = stopped.iter().enumerate().min_by_key(|(_, s)| s.index).map(|(i, _)| i) else { continue };
                let Stopped { index, slot, rx } = stopped.swap_remove(lowest);
                let number = index + 1;
                tracing::info!("starting hook isolate {number} of at most {size}: the running ones are busy running JS");
                let loaded = spawn_isolate(index, slot, setup.clone(), rx, epoch, idle_stop.clone())
                    .and_then(|ready| ready.recv().map_err(|_| "the isolate thread died while loading hooks".to_string())?);
                match loaded {
                    Ok(_) => tracing::info!("hook isolate {number} is ready"),
                    Err(e) => tracing::error!("hook isolate {number} did not start: {e}"),
                }
                growing.store(stopped.is_empty(), Ordering::Release);
            }
        }
    }
}

/// Terminates an isolate whose JS has run longer than `limit_ms` without a pause, and measures
/// each isolate's load over [`LOAD_WINDOW`] ([`IsolateSlot::saturated`]).
fn watchdog(slots: Vec<Arc<IsolateSlot>>, epoch: Instant, limit_ms: u64, stop: Arc<AtomicBool>) {
    let tick = Duration::from_millis((limit_ms / 10).clamp(5, 50));
    let limit = limit_ms * 1000;
    let window = LOAD_WINDOW.as_micros() as u64;
    let start = now_us(epoch);
    // Per isolate: when its current window began, and its busy time then.
    let mut windows: Vec<(u64, u64)> = slots.iter().map(|s| (start, s.busy_by(start))).collect();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(tick);
        let now = now_us(epoch);
        for (slot, (began, busy_then)) in slots.iter().zip(&mut windows) {
            let since = slot.busy_since.load(Ordering::Relaxed);
            if since != 0 && now.saturating_sub(since) > limit && !slot.terminated.swap(true, Ordering::SeqCst) {
                tracing::warn!("a hook ran longer than HOOKS_TIMEOUT ({limit_ms} ms); terminating its isolate");
                if let Some(h) = slot.handle.lock().unwrap().as_ref() {
                    h.terminate_execution();
                }
            }
            let elapsed = now.saturating_sub(*began);
            if elapsed >= window {
                let busy = slot.busy_by(now);
                let share = busy.saturating_sub(*busy_then) as f64 / elapsed as f64;
                slot.saturated.store(share >= SATURATED, Ordering::Relaxed);
                (*began, *busy_then) = (now, busy);
            }
        }
    }
}

fn terminated_failure() -> rectus_core::ApiError {
    rectus_core::ApiError::service_unavailable("A hook was terminated: it ran longer than HOOKS_TIMEOUT or exhausted its memory.", "hooks")
}

enum Step {
    Job(Option<Job>),
    Idle,
    Failed(String),
}

/// Runs one generation (see [`spawn_generation`]); returns the job channel when the isolate was
/// terminated (the next generation takes over) or stopped when idle, `None` when the pool is
/// gone or the first build failed.
fn isolate_thread(
    slot: &IsolateSlot,
    setup: &EngineSetup,
    mut rx: mpsc::UnboundedReceiver<Job>,
    mut ready: Option<std::sync::mpsc::Sender<Result<LoadReport, String>>>,
    epoch: Instant,
    idle_stop: Option<Duration>,
) -> Option<(mpsc::UnboundedReceiver<Job>, End)> {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            if let Some(ready) = ready {
                let _ = ready.send(Err(e.to_string()));
            }
            return None;
        }
    };
    rt.block_on(async move {
        let mut js = loop {
            match build_guarded(slot, setup, epoch) {
                Ok((mut js, mut report)) => {
                    settle_registration(&mut js, slot, epoch, setup.timeout).await;
                    slot.enter_js(epoch);
                    match engine::init_app(&mut js, &report.registered, &setup.endpoints).await {
                        Ok(init) => {
                            report.routes = init.routes;
                            report.endpoints = init.endpoints;
                            report.endpoint_failures = init.failures;
                        }
                        Err(e) => tracing::warn!("hooks listening to the app events failed: {e}"),
                    }
                    slot.leave_js(epoch);
                    slot.stopping.store(false, Ordering::SeqCst);
                    slot.ready.store(true, Ordering::Release);
                    let first_build = ready.is_some();
                    if let Some(r) = ready.take() {
                        let _ = r.send(Ok(report));
                    }
                    slot.enter_js(epoch);
                    engine::warm_up(&mut js);
                    slot.leave_js(epoch);
                    // Loading freed much of what it allocated (source text, the parser's trees):
                    // give this thread's empty pages back now, not when it next allocates.
                    crate::engine_heap::collect();
                    if first_build {
                        crate::code_cache::record_new_entries();
                    }
                    break js;
                }
                Err(e) => {
                    if let Some(r) = ready.take() {
                        let _ = r.send(Err(e));
                        return None;
                    }
                    tracing::error!("can't rebuild a hook isolate: {e}");
                    // What waits for this isolate would wait for ever: it is refused now.
                    while let Ok(job) = rx.try_recv() {
                        if let Some(reply) = job.reply {
                            let _ = reply.send(Err(terminated_failure()));
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        // Loading kept the isolate busy; what counts for starting another is the jobs' JS.
        slot.forget_load();
        let end = serve(&mut js, slot, &mut rx, epoch, setup.timeout, idle_stop).await;
        if end == End::Terminated {
            // Jobs go to the other isolates until the next generation is ready.
            slot.ready.store(false, Ordering::Release);
            fail_outstanding(&mut js);
        }
        retire(js);
        (end != End::Closed).then_some((rx, end))
    })
}

/// Builds the engine with the watchdog armed, so a hook looping at load time is stopped too.
fn build_guarded(slot: &IsolateSlot, setup: &EngineSetup, epoch: Instant) -> Result<(JsRuntime, LoadReport), String> {
    slot.enter_js(epoch);
    let built = engine::build_with(setup, |js| {
        *slot.handle.lock().unwrap() = Some(js.v8_isolate().thread_safe_handle());
        let terminated = slot.terminated.clone();
        let handle = js.v8_isolate().thread_safe_handle();
        let mut reached = false;
        js.add_near_heap_limit_callback(move |current, _initial| {
            if !reached {
                tracing::warn!("a hook reached HOOKS_MAX_HEAP ({} MB); terminating its isolate", current >> 20);
            }
            terminated.store(true, Ordering::SeqCst);
            handle.terminate_execution();
            heap_after_limit(current, std::mem::replace(&mut reached, true))
        });
    });
    slot.leave_js(epoch);
    built
}

/// The heap an isolate may use once it reached its limit and is being terminated. V8 stops at
/// termination promptly but needs room to get there (refusing it is a fatal out-of-memory), so
/// it gets twice the limit, as deno does. QuickJS looks at the termination only every so many
/// operations, and a hook allocating meanwhile kept doubling the heap: it gets a quarter more
/// to unwind, once; past that its allocations fail (an `out of memory` error in the running
/// job) until the termination stops it.
fn heap_after_limit(current: usize, reached_before: bool) -> usize {
    if cfg!(feature = "v8") {
        current * 2
    } else if reached_before {
        current
    } else {
        current + current / 4
    }
}

/// Drops an isolate, first emptying what the runtime keeps of the hooks (`__rectus.release()`:
/// modules, listeners, routes) and the global object. deno_core 0.413's QuickJS teardown leaves
/// allocated whatever they reach; the generation's heap (`engine_heap`) frees that when the
/// thread ends, and where C allocations are not routed to it (this crate's tests) the emptying
/// keeps a hook's module state from outliving every rebuild and reload.
fn retire(mut js: JsRuntime) {
    js.v8_isolate().cancel_terminate_execution();
    let scrub = "__rectus.release(); { const g = globalThis; for (const key of Reflect.ownKeys(g)) { try { delete g[key]; } catch {} } }";
    if let Err(e) = js.execute_script("rectus:retire", scrub) {
        tracing::debug!("clearing a retired hook isolate: {e}");
    }
    crate::engine_heap::stop_routing();
}

/// Lets the work the hooks started while registering (`__rectus.registrationSettled()` in
/// js-runtime/50_context.js: database statements, `getSchema()`, service calls, and what their
/// results start in turn) finish before the isolate takes jobs, for up to HOOKS_TIMEOUT. The
/// watchdog sees JS that runs meanwhile, as during jobs; waiting on the database is not busy.
async fn settle_registration(js: &mut JsRuntime, slot: &IsolateSlot, epoch: Instant, timeout: Duration) {
    let promise = match engine::call_runtime(js, "registrationSettled", &[]) {
        Ok(p) => p,
        Err(e) => return tracing::warn!("can't wait for the hooks' registration: {e}"),
    };
    let mut settled = js.resolve(promise);
    let waited = poll_fn(|cx| {
        if let std::task::Poll::Ready(r) = std::pin::Pin::new(&mut settled).poll(cx) {
            return std::task::Poll::Ready(r.map(|_| ()).map_err(|e| e.to_string()));
        }
        slot.enter_js(epoch);
        let polled = js.poll_event_loop(cx, PollEventLoopOptions::default());
        slot.leave_js(epoch);
        match polled {
            std::task::Poll::Ready(Err(e)) => std::task::Poll::Ready(Err(e.to_string())),
            _ => std::pin::Pin::new(&mut settled).poll(cx).map(|r| r.map(|_| ()).map_err(|e| e.to_string())),
        }
    });
    match tokio::time::timeout(timeout, waited).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("waiting for the hooks' registration: {e}"),
        Err(_) => tracing::warn!("hooks were still busy with their registration after HOOKS_TIMEOUT ({} ms); serving anyway", timeout.as_millis()),
    }
}

/// Why an isolate stopped serving.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// The job channel closed: the pool is gone.
    Closed,
    Terminated,
    /// Idle for `HOOKS_IDLE_TIMEOUT` ([`try_stop`]).
    Idle,
}

/// Runs jobs until the channel closes, the isolate is terminated or, given `idle_stop`, it has
/// been idle that long and may stop.
async fn serve(
    js: &mut JsRuntime,
    slot: &IsolateSlot,
    rx: &mut mpsc::UnboundedReceiver<Job>,
    epoch: Instant,
    timeout: Duration,
    idle_stop: Option<Duration>,
) -> End {
    let spin = SpinPolicy::default();
    let mut worked = false;
    loop {
        let step = {
            let event_loop = poll_fn(|cx| {
                slot.enter_js(epoch);
                let r = js.poll_event_loop(cx, PollEventLoopOptions::default());
                slot.leave_js(epoch);
                r
            });
            tokio::select! {
                biased;
                job = rx.recv() => Step::Job(job),
                r = event_loop => match r {
                    Ok(()) => Step::Idle,
                    Err(e) => Step::Failed(e.to_string()),
                },
            }
        };
        let job = match step {
            Step::Job(job) => job,
            Step::Idle => match spin.look(IDLE_SPIN, crate::spin::spin, || rx.try_recv().ok()).await {
                Some(job) => Some(job),
                None => match wait_collecting(js, rx, &mut worked, idle_stop).await {
                    Waited::Job(job) => job,
                    Waited::Idle if try_stop(js, slot) => return End::Idle,
                    Waited::Idle => continue,
                },
            },
            Step::Failed(e) => {
                if slot.terminated.load(Ordering::SeqCst) {
                    return End::Terminated;
                }
                tracing::warn!("error in a hook's event loop: {e}");
                continue;
            }
        };
        let Some(job) = job else { return End::Closed };
        worked = true;
        start_job(js, slot, job, epoch, timeout);
        if slot.terminated.load(Ordering::SeqCst) {
            return End::Terminated;
        }
    }
}

/// How long an isolate with nothing to do looks for the next job before its thread sleeps
/// (`spin.rs`): a busy server's next job usually comes within this.
const IDLE_SPIN: Duration = Duration::from_micros(50);

/// How long an isolate that ran jobs waits idle before it collects its garbage.
const IDLE_COLLECT: Duration = Duration::from_secs(1);

/// What an idle isolate waited for.
enum Waited {
    Job(Option<Job>),
    /// Nothing came for the `idle_stop` it was given.
    Idle,
}

/// The next job; an isolate that ran jobs since it last collected and then stays idle for
/// [`IDLE_COLLECT`] collects first. Given `idle_stop`, it waits that long in all (at least
/// `IDLE_COLLECT` after jobs). QuickJS frees most garbage at once (reference counts) but
/// cycles only in a collection, which it starts when its heap grows past half as much again as
/// after the last one: after a burst of concurrent jobs it waits for the heap to grow past the
/// burst's peak, and an idle isolate never does. Hooks built on promise chains and streams
/// (nodemailer) leave cycles behind every job: the real hook set's server held 924 MB after 10
/// minutes of creates, idle. Node collects when idle too. The thread's freed pages then go back
/// to the system.
async fn wait_collecting(js: &mut JsRuntime, rx: &mut mpsc::UnboundedReceiver<Job>, worked: &mut bool, idle_stop: Option<Duration>) -> Waited {
    let since = Instant::now();
    if std::mem::take(worked) {
        if let Ok(job) = tokio::time::timeout(IDLE_COLLECT, rx.recv()).await {
            *worked = true;
            return Waited::Job(job);
        }
        js.v8_isolate().low_memory_notification();
        crate::engine_heap::collect();
        if tracing::enabled!(tracing::Level::DEBUG) {
            let heap = js.v8_isolate().get_heap_statistics();
            tracing::debug!("an idle hook isolate collected its garbage: engine heap {} KB", heap.total_heap_size() >> 10);
        }
    }
    match idle_stop {
        None => Waited::Job(rx.recv().await),
        Some(after) => match tokio::time::timeout(after.saturating_sub(since.elapsed()), rx.recv()).await {
            Ok(job) => Waited::Job(job),
            Err(_) => Waited::Idle,
        },
    }
}

/// Whether an idle isolate may stop: no job in flight (which includes any waiting in its
/// channel), and none can be claimed for it from now on. It marks itself stopping before it
/// reads the count; [`Pool::claim`] counts a job before it reads the mark; both sequentially
/// consistent, so either the claim sees the mark and picks another isolate, or this sees the
/// job and keeps serving.
fn try_stop(js: &mut JsRuntime, slot: &IsolateSlot) -> bool {
    {
        // Jobs nobody waits for any more stop counting (as when the next job starts).
        let state = js.op_state();
        let mut state = state.borrow_mut();
        let now = Instant::now();
        state.borrow_mut::<IsolateState>().pending.retain(|_, p| p.awaited(now));
    }
    slot.ready.store(false, Ordering::SeqCst);
    slot.stopping.store(true, Ordering::SeqCst);
    if slot.in_flight.load(Ordering::SeqCst) == 0 {
        return true;
    }
    slot.stopping.store(false, Ordering::SeqCst);
    slot.ready.store(true, Ordering::SeqCst);
    false
}

fn start_job(js: &mut JsRuntime, slot: &IsolateSlot, job: Job, epoch: Instant, timeout: Duration) {
    let state = js.op_state();
    let (text, dispatcher) = {
        let mut state = state.borrow_mut();
        let mut spec = job.spec;
        if let Some(tx) = job.transaction {
            spec.transaction = Some(state.borrow_mut::<crate::database::Connections>().bind(spec.id, tx));
        }
        let st = state.borrow_mut::<IsolateState>();
        let now = Instant::now();
        st.pending.retain(|_, p| p.awaited(now));
        st.pending.insert(spec.id, PendingJob { reply: job.reply, expires: now + timeout, _in_flight: job.in_flight });
        // Values and strings always serialise.
        (serde_json::to_string(&spec).unwrap_or_default(), st.dispatcher.clone())
    };
    if let Some(dispatcher) = dispatcher {
        slot.enter_js(epoch);
        let context = js.main_context();
        let isolate = &mut *js.v8_isolate();
        v8::scope!(scope, isolate);
        let context = v8::Local::new(scope, context);
        let scope = &mut v8::ContextScope::new(scope, context);
        dispatch(scope, &dispatcher, &text);
        slot.leave_js(epoch);
    }
}

/// Calls `__rectus.dispatch` (js-runtime/40_hooks.js) with a job as JSON text: `JSON.parse` and
/// serde_json are much faster than converting value by value through the engine API. The
/// dispatcher starts the job and returns; the event loop runs the rest. It catches what the
/// hooks throw; a terminated isolate is noticed by the caller.
fn dispatch(scope: &mut v8::PinScope, dispatcher: &v8::Global<v8::Function>, job: &str) {
    v8::tc_scope!(let scope, scope);
    let Some(text) = v8::String::new(scope, job) else { return };
    let recv = v8::undefined(scope).into();
    let _ = v8::Local::new(scope, dispatcher).call(scope, recv, &[text.into()]);
}

fn fail_outstanding(js: &mut JsRuntime) {
    let state = js.op_state();
    let mut state = state.borrow_mut();
    let st = state.borrow_mut::<IsolateState>();
    for reply in st.pending.drain().filter_map(|(_, p)| p.reply) {
        let _ = reply.send(Err(terminated_failure()));
    }
}

/// Decrements the in-flight count when the isolate is done with a job ([`PendingJob`]).
pub struct InFlight(pub Arc<IsolateSlot>);

impl InFlight {
    pub fn new(slot: Arc<IsolateSlot>) -> Self {
        // Sequentially consistent for `try_stop`.
        slot.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight(slot)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
