//! `rectus start`: check the database, load the hooks, then serve until SIGINT/SIGTERM.

use anyhow::{bail, Context};
use rectus_core::auth::oauth::OAuthProviders;
use rectus_core::config::Config;
use rectus_core::db::bootstrap::is_installed;
use rectus_core::events::{EventArgs, EventBus, NoHooks};
use rectus_core::hook_routes::{HookRoutes, NoHookRoutes};
use rectus_core::mail::Mailer;
use serde_json::json;
use rectus_core::cache::ResponseCache;
use rectus_core::services::webhooks::{WebhookBus, WebhookList};
use rectus_core::services::Services;
use rectus_core::storage::Storage;
use rectus_hooks::host::Host;
use rectus_hooks::reload::Generations;
use rectus_hooks::HookRuntime;
use rectus_http::AppState;
use std::sync::Arc;

pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.generated_secret {
        tracing::warn!("KEY or SECRET is not set: using a random one for this process; tokens won't survive a restart");
    }
    let cluster = rectus_core::cluster::Settings::from_config(&config)?;
    let db = super::connect(&config).await?;
    if !is_installed(&db).await? {
        bail!("Database doesn't have the system tables installed. Run `rectus bootstrap` first.");
    }
    db.warm_up().await;
    let storage = Storage::from_env(&config.env, &config.cwd)?;
    let mail = Arc::new(Mailer::from_config(&config)?);
    let services = Services::new(db.clone(), mail, storage).with_responses(ResponseCache::from_env(&config.env)?);
    // Read the schema before the first request needs it: on PostgreSQL that takes a few hundred
    // ms, which every request of a first burst would otherwise wait for.
    services.schema.get().await.map_err(|e| anyhow::anyhow!("can't read the schema: {}", e.message()))?;
    let webhook_list = WebhookList::load(&db).await.map_err(|e| anyhow::anyhow!("can't read directus_webhooks: {}", e.message))?;
    let members = [Some(services.schema.cluster_member()), Some(services.tokens.cluster_member()), Some(services.permissions.cluster_member()), services.responses.cluster_member(), Some(webhook_list.cluster_member())];
    let cluster = rectus_core::cluster::join(&config, &cluster, &db, members.into_iter().flatten().collect()).await?;
    let auto_reload = config.env.bool("EXTENSIONS_AUTO_RELOAD") == Some(true);
    // Webhooks listen after the hooks, as Directus registers them after the hooks.
    let webhooks = WebhookBus::new(Arc::new(NoHooks), webhook_list).map_err(|e| anyhow::anyhow!("can't start webhooks: {}", e.message))?;
    // The services each hook generation calls, with that generation as their event bus; the
    // hooks reach them from `registerHook` on.
    let host_for = {
        let (services, webhooks, handle, leases) = (services.clone(), webhooks.clone(), tokio::runtime::Handle::current(), cluster.leases.clone());
        let shared_config = Arc::new(config.clone());
        move |bus: Arc<dyn EventBus>| Host {
            services: services.with_bus(webhooks.wrapping(bus)),
            runtime: handle.clone(),
            leases: leases.clone(),
            config: shared_config.clone(),
        }
    };
    let generations = load_hooks(&config, auto_reload, host_for.clone()).await?.map(Generations::new);
    let hook_bus: Arc<dyn EventBus> = match &generations {
        Some(g) => g.clone(),
        None => Arc::new(NoHooks),
    };
    let webhooks = webhooks.wrapping(hook_bus);
    let bus: Arc<dyn EventBus> = webhooks.clone();
    if let Some(generations) = &generations {
        rectus_hooks::cron::schedule(&generations.current());
        if auto_reload {
            generations.watch(config.clone(), host_for).map_err(|e| anyhow::anyhow!("can't watch {}: {e}", config.extensions_path.display()))?;
        }
    }
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("can't listen on {addr} (HOST/PORT)"))?;
    let local = listener.local_addr()?;
    let services = services.with_bus(bus.clone());
    let hook_routes: Arc<dyn HookRoutes> = match &generations {
        Some(g) => g.clone(),
        None => Arc::new(NoHookRoutes),
    };
    let oauth = Arc::new(OAuthProviders::new(config.oauth.clone(), &config.secret));
    let state = AppState::new(Arc::new(config), services, hook_routes, oauth);
    // The app events (`init.before` … `routes.init.after`) ran in each isolate as it loaded.
    bus.emit_after("init", EventArgs::none());
    let server = move |listening: bool| json!({ "address": local.ip().to_string(), "port": local.port(), "listening": listening });
    bus.emit_awaited("server.start.before", EventArgs::value(server(false))).await;
    let shutdown = shutdown_signal()?;
    if state.config.env.bool("SERVE_APP") != Some(false) && rectus_http::admin_app::locate(&state.config.cwd).is_none() {
        tracing::warn!("{}", rectus_http::admin_app::missing_hint(&state.config.cwd));
    }
    tracing::info!("Server started at http://{local}");
    #[cfg(target_os = "linux")]
    match crate::code_pages::trim() {
        Ok(kb) => tracing::debug!("start-up is over: {kb} KB of the binary's pages unmapped"),
        Err(e) => tracing::debug!("can't unmap the binary's start-up pages: {e}"),
    }
    bus.emit_after("server.start", EventArgs::none());
    let stopping = bus.clone();
    let shutdown = async move {
        shutdown.await;
        stopping.emit_after("server.stop.before", EventArgs::value(server(true)));
    };
    rectus_http::serve(listener, state, shutdown).await?;
    // Unlike Directus's fire-and-forget, wait (up to HOOKS_TIMEOUT) so the hook runs before exit.
    bus.emit_awaited("server.stop", EventArgs::none()).await;
    db.close().await;
    tracing::info!("Server stopped");
    Ok(())
}

/// The hook runtime for `EXTENSIONS_PATH` (created with its `hooks/` and `endpoints/` folders if
/// missing, like Directus does), or none when there is nothing to load and nothing to watch for.
async fn load_hooks(config: &Config, auto_reload: bool, host_for: impl FnOnce(Arc<dyn EventBus>) -> Host + Send + 'static) -> anyhow::Result<Option<Arc<HookRuntime>>> {
    for kind in ["hooks", "endpoints"] {
        let dir = config.extensions_path.join(kind);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!("can't create {}: {e}", dir.display());
        }
    }
    let found = rectus_hooks::loader::discover(&config.extensions_path).unwrap_or_default();
    let endpoints = rectus_hooks::loader::discover_endpoints(&config.extensions_path).unwrap_or_default();
    if found.is_empty() && endpoints.is_empty() && !auto_reload {
        return Ok(None);
    }
    let config = config.clone();
    let runtime = tokio::task::spawn_blocking(move || HookRuntime::start_with_host(&config, host_for))
        .await?
        .map_err(|e| anyhow::anyhow!("can't start the hook runtime: {e}"))?;
    Ok(Some(runtime))
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, before the
/// server accepts its first request, so an early signal is never lost to the default action.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("installing a SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing a SIGINT handler")?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("Shutting down");
    })
}
