//! Rectus HTTP layer: axum routers, thin handlers over the core services, and the mapping of
//! errors to the Directus envelope.

pub mod error;
pub mod routes;
pub mod state;

use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;

pub use state::AppState;

pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(routes::server::router())
        .fallback(routes::not_found::handler)
        .with_state(state)
}

/// Serves until `shutdown` resolves; in-flight requests finish before this returns.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
