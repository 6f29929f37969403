//! `rectus start`: check the database, then serve until SIGINT/SIGTERM.

use anyhow::{bail, Context};
use rectus_core::config::Config;
use rectus_core::db::bootstrap::is_installed;
use rectus_http::AppState;
use std::sync::Arc;

pub async fn run(config: Config) -> anyhow::Result<()> {
    if config.generated_secret {
        tracing::warn!("KEY or SECRET is not set: using a random one for this process; tokens won't survive a restart");
    }
    let db = super::connect(&config).await?;
    if !is_installed(&db).await? {
        bail!("Database doesn't have the system tables installed. Run `rectus bootstrap` first.");
    }
    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr).await.with_context(|| format!("can't listen on {addr} (HOST/PORT)"))?;
    let local = listener.local_addr()?;
    let state = AppState { config: Arc::new(config), db: db.clone() };
    tracing::info!("Server started at http://{local}");
    rectus_http::serve(listener, state, shutdown_signal()).await?;
    db.close().await;
    tracing::info!("Server stopped");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("Shutting down");
}
