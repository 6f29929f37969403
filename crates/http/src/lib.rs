//! Rectus HTTP layer: axum routers, thin handlers over the core services, and the mapping of
//! errors to the Directus envelope.

pub mod admin_app;
mod cookies;
pub mod cors;
pub mod error;
pub mod export;
pub mod extract;
pub mod hook_routes;
pub mod middleware;
pub mod panic;
pub mod rate_limit;
pub mod response_cache;
pub mod routes;
mod serve;
pub mod state;
mod streamed;

use axum::extract::Request;
use axum::Router;
use std::future::Future;
use tokio::net::TcpListener;

pub use state::AppState;

/// The whole HTTP surface: the app at `/admin` and the `/` redirect, the API with its middleware,
/// routes matched with or without one trailing slash, a panic caught as a 500 envelope, and CORS
/// around all of it.
pub fn app(state: AppState) -> Router {
    let config = state.config.clone();
    let site = admin_app::router(&config.env, &config.cwd, &config.public_url).merge(api(state));
    // The outer router only holds the layers that must run before routing: a layer on a router
    // runs after its routes are matched.
    let outer = Router::new().fallback_service(site).layer(axum::middleware::map_request(trim_trailing_slash)).layer(panic::layer());
    match cors::layer(&config.env) {
        Some(cors) => outer.layer(cors).layer(axum::middleware::from_fn(cors::preflight_status)),
        None => outer,
    }
}

/// Express's non-strict routing: `/auth/oauth/` is `/auth/oauth`. The path as sent stays in
/// [`axum::extract::OriginalUri`] (set by the outer router before this runs).
async fn trim_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = &path[..path.len() - 1];
        let rewritten = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = rewritten.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Rectus's routers with the API's middleware, ending in the hooks' late routes and 404.
fn api(state: AppState) -> Router {
    let router = Router::new()
        .merge(routes::server::router())
        .merge(routes::auth::router())
        .merge(routes::oauth::router())
        .merge(routes::items::router())
        .merge(routes::system::router())
        .merge(routes::schema::router())
        .merge(routes::comments::router())
        .merge(routes::extensions::router())
        .merge(routes::utils::router())
        .merge(routes::files::router())
        .merge(routes::assets::router())
        .merge(routes::graphql::router())
        .fallback(hook_routes::not_found)
        .layer(axum::middleware::from_fn(export::export))
        .layer(axum::middleware::from_fn_with_state(state.clone(), response_cache::cached))
        .layer(axum::middleware::from_fn_with_state(state.clone(), hook_routes::early))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::request_context))
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_payload_bytes));
    let env = &state.config.env;
    let router = if env.bool("RATE_LIMITER_ENABLED") == Some(true) {
        let points = env.string("RATE_LIMITER_POINTS").and_then(|p| p.parse().ok()).unwrap_or(25);
        let seconds = env.string("RATE_LIMITER_DURATION").and_then(|d| d.parse().ok()).unwrap_or(1.0_f64);
        let mut limiter = rate_limit::RateLimiter::new(points, std::time::Duration::from_secs_f64(seconds));
        // `rectus start` checked the store settings already; a bad one here only means memory.
        match rectus_core::cluster::rate_limit_counter(env) {
            Ok(Some(counter)) => limiter = limiter.shared(counter),
            Ok(None) => {}
            Err(e) => tracing::error!("{e}; rate limits count per instance"),
        }
        router.layer(axum::middleware::from_fn_with_state(limiter, rate_limit::limit))
    } else {
        router
    };
    router.with_state(state)
}

/// Serves until `shutdown` resolves; in-flight requests finish before this returns. A request
/// head must arrive within `SERVER_HEADERS_TIMEOUT` ms (see [`serve::serve`]).
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let headers_timeout = state.config.env.string("SERVER_HEADERS_TIMEOUT").and_then(|ms| ms.parse::<u64>().ok()).filter(|ms| *ms > 0).unwrap_or(60_000);
    serve::serve(listener, app(state), std::time::Duration::from_millis(headers_timeout), shutdown).await
}
