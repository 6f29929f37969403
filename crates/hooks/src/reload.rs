//! `EXTENSIONS_AUTO_RELOAD=true`: a debounced watcher on the extensions folder loads a complete
//! new generation of hooks and endpoints in fresh isolates and swaps it in only if no hook or
//! endpoint that loaded before fails now; otherwise the old generation keeps serving and the reason is logged. Each emit
//! takes the generation current at its start, so in-flight requests finish on it; the old
//! generation (and its cron jobs) ends when its last user lets go.

use async_trait::async_trait;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use rectus_core::config::Config;
use rectus_core::events::{EventArgs, EventBus};
use rectus_core::hook_routes::{HookRequest, HookResponse, HookRoutes, RoutePhase};
use rectus_core::ApiError;
use serde_json::Value;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::host::Host;
use crate::HookRuntime;

/// How long the folder must be quiet after an edit before the new generation is loaded.
const SETTLE: Duration = Duration::from_millis(150);

/// Whether `event` changed what a generation loads. Reads are not edits: loading a generation
/// opens every hook file, and inotify reports opens, so counting them reloaded for ever. Neither
/// are `node_modules` and dot folders (the code cache under `.cache` is written by the load).
fn is_edit(event: &Event) -> bool {
    !matches!(event.kind, EventKind::Access(_))
        && event.paths.iter().any(|path| !path.components().any(|c| c.as_os_str() == "node_modules" || c.as_os_str().to_string_lossy().starts_with('.')))
}

type HostFor = Arc<dyn Fn(Arc<dyn EventBus>) -> Host + Send + Sync>;

/// The current hook generation, replaceable while the server runs.
pub struct Generations {
    current: RwLock<Arc<HookRuntime>>,
}

impl Generations {
    pub fn new(first: Arc<HookRuntime>) -> Arc<Generations> {
        Arc::new(Generations { current: RwLock::new(first) })
    }

    pub fn current(&self) -> Arc<HookRuntime> {
        self.current.read().unwrap().clone()
    }

    /// Watches `config.extensions_path`; `host` wires each new generation to the services (it
    /// gets the bus they emit on, as in [`HookRuntime::start_with_host`]).
    pub fn watch(self: &Arc<Self>, config: Config, host: impl Fn(Arc<dyn EventBus>) -> Host + Send + Sync + 'static) -> Result<(), String> {
        let host: HostFor = Arc::new(host);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |res: notify::Result<Event>| {
            if res.is_ok_and(|event| is_edit(&event)) {
                let _ = tx.send(());
            }
        })
        .map_err(|e| e.to_string())?;
        watcher.watch(&config.extensions_path, RecursiveMode::Recursive).map_err(|e| e.to_string())?;
        let generations = Arc::downgrade(self);
        tokio::spawn(async move {
            let _keep_watching = watcher;
            while rx.recv().await.is_some() {
                // An editor's save is several events; one reload once they stop coming.
                loop {
                    tokio::time::sleep(SETTLE).await;
                    if rx.try_recv().is_err() {
                        break;
                    }
                    while rx.try_recv().is_ok() {}
                }
                let Some(generations) = generations.upgrade() else { return };
                generations.reload(&config, &host).await;
            }
        });
        Ok(())
    }

    async fn reload(&self, config: &Config, host: &HostFor) {
        let (cfg, host) = (config.clone(), host.clone());
        let built = tokio::task::spawn_blocking(move || HookRuntime::start_with_host(&cfg, |bus| host(bus))).await;
        let fresh = match built {
            Ok(Ok(runtime)) => runtime,
            Ok(Err(e)) => return tracing::warn!("Hot reload failed, keeping the running hooks: {e}"),
            Err(e) => return tracing::warn!("Hot reload failed, keeping the running hooks: {e}"),
        };
        let before = self.current();
        let newly_broken = fresh.report().failures.iter().find(|f| !before.report().failures.iter().any(|b| b.hook == f.hook));
        if let Some(failure) = newly_broken {
            return tracing::warn!("Hot reload: hook \"{}\" doesn't load ({}); keeping the running hooks", failure.hook, failure.error);
        }
        let newly_broken = fresh.report().endpoint_failures.iter().find(|f| !before.report().endpoint_failures.iter().any(|b| b.hook == f.hook));
        if let Some(failure) = newly_broken {
            return tracing::warn!("Hot reload: endpoint \"{}\" doesn't load ({}); keeping the running extensions", failure.hook, failure.error);
        }
        crate::cron::schedule(&fresh);
        *self.current.write().unwrap() = fresh;
        tracing::info!("Reloaded the hooks");
    }
}

#[async_trait]
impl EventBus for Generations {
    fn has_listeners(&self, event: &str) -> bool {
        self.current().has_listeners(event)
    }

    async fn emit_before(&self, event: &str, args: EventArgs) -> Result<Option<Value>, ApiError> {
        self.current().emit_before(event, args).await
    }

    fn emit_after(&self, event: &str, args: EventArgs) {
        self.current().emit_after(event, args)
    }

    async fn emit_awaited(&self, event: &str, args: EventArgs) {
        self.current().emit_awaited(event, args).await
    }
}

#[async_trait]
impl HookRoutes for Generations {
    fn matches(&self, phase: RoutePhase, method: &str, path: &str) -> bool {
        self.current().matches(phase, method, path)
    }

    async fn handle(&self, phase: RoutePhase, request: HookRequest) -> Result<Option<HookResponse>, ApiError> {
        self.current().handle(phase, request).await
    }

    fn handles_not_found(&self) -> bool {
        self.current().handles_not_found()
    }

    async fn not_found(&self, request: HookRequest) -> Result<Option<HookResponse>, ApiError> {
        self.current().not_found(request).await
    }
}
