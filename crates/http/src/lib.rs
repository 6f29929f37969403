//! Rectus HTTP layer: axum routers, thin handlers over the core services, and the mapping of
//! errors to the Directus envelope.

pub mod error;
pub mod extract;
pub mod middleware;
pub mod routes;
pub mod state;

use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

pub use state::AppState;

pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(routes::server::router())
        .merge(routes::auth::router())
        .merge(routes::items::router())
        .merge(routes::system::router())
        .fallback(routes::not_found::handler)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::request_context))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_payload_bytes))
        .with_state(state)
}

/// Serves until `shutdown` resolves; in-flight requests finish before this returns.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await
}
