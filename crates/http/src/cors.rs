//! The `CORS_*` variables on tower-http's CORS layer, read as Directus rc.83 reads them (it hands
//! them to the `cors` npm package):
//!
//! - `CORS_ENABLED` (default `true`) applies the layer to every response, the app's included.
//! - `CORS_ORIGIN`: `true` (the default, and also what `false` or an empty value mean, since
//!   Directus falls back to `true`) answers with the request's own origin; `*` allows any origin;
//!   an `array:` list allows the origins it names (others get no `Access-Control-Allow-Origin`);
//!   any other string is sent as the one allowed origin, whatever the request's origin.
//! - `CORS_METHODS` and `CORS_ALLOWED_HEADERS` (comma-separated strings or `array:` lists) are
//!   sent on preflights; `*`, or no allowed headers, answers with what the preflight asks for.
//! - `CORS_EXPOSED_HEADERS`, `CORS_CREDENTIALS` (only `true` sends the header) and
//!   `CORS_MAX_AGE` (seconds; `0` or `false` sends none).
//!
//! Every `OPTIONS` request is a preflight answered here with 204 and an empty body, as the `cors`
//! package does. Browsers refuse credentials together with a wildcard origin or wildcard exposed
//! headers, and tower-http refuses to build that; such a configuration starts with a warning and
//! without `Access-Control-Allow-Credentials`.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use rectus_core::config::Env;
use serde_json::Value;
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer, ExposeHeaders};

/// The layer the variables describe, or `None` when `CORS_ENABLED` is not `true`.
pub fn layer(env: &Env) -> Option<CorsLayer> {
    if env.bool("CORS_ENABLED") != Some(true) {
        return None;
    }
    let mut credentials = env.bool("CORS_CREDENTIALS") == Some(true);
    let origin = match env.get("CORS_ORIGIN") {
        Some(Value::Array(list)) => Origin::List(list.iter().filter_map(header_value).collect()),
        Some(Value::String(s)) if s == "*" => Origin::Any,
        Some(Value::String(s)) if !s.is_empty() => HeaderValue::from_str(s).map(Origin::Exact).unwrap_or(Origin::Mirror),
        _ => Origin::Mirror,
    };
    let exposed = list(env, "CORS_EXPOSED_HEADERS");
    let wildcard_exposed = exposed.iter().any(|h| h == "*");
    if credentials && (matches!(origin, Origin::Any) || wildcard_exposed) {
        tracing::warn!("CORS_CREDENTIALS=true can't be combined with a wildcard CORS_ORIGIN or CORS_EXPOSED_HEADERS; credentials are not allowed");
        credentials = false;
    }
    let mut layer = CorsLayer::new().allow_credentials(credentials);
    let mut vary = vec![];
    if !matches!(origin, Origin::Any) {
        vary.push(header::ORIGIN);
    }
    layer = match origin {
        Origin::Any => layer.allow_origin(AllowOrigin::any()),
        Origin::Exact(value) => layer.allow_origin(AllowOrigin::exact(value)),
        Origin::List(values) => layer.allow_origin(AllowOrigin::list(values)),
        Origin::Mirror => layer.allow_origin(AllowOrigin::mirror_request()),
    };
    let methods = list(env, "CORS_METHODS");
    layer = if methods.is_empty() || methods.iter().any(|m| m == "*") {
        layer.allow_methods(AllowMethods::mirror_request())
    } else {
        layer.allow_methods(AllowMethods::list(methods.iter().filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())))
    };
    let headers = list(env, "CORS_ALLOWED_HEADERS");
    layer = if headers.is_empty() || headers.iter().any(|h| h == "*") {
        vary.push(header::ACCESS_CONTROL_REQUEST_HEADERS);
        layer.allow_headers(AllowHeaders::mirror_request())
    } else {
        layer.allow_headers(AllowHeaders::list(header_names(&headers)))
    };
    if wildcard_exposed {
        layer = layer.expose_headers(ExposeHeaders::any());
    } else if !exposed.is_empty() {
        layer = layer.expose_headers(ExposeHeaders::list(header_names(&exposed)));
    }
    let max_age = match env.get("CORS_MAX_AGE") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    if let Some(seconds) = max_age.filter(|s| *s > 0.0 && s.is_finite()) {
        layer = layer.max_age(Duration::from_secs(seconds as u64));
    }
    Some(layer.vary(vary))
}

enum Origin {
    Any,
    Exact(HeaderValue),
    List(Vec<HeaderValue>),
    Mirror,
}

fn header_value(v: &Value) -> Option<HeaderValue> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty() && *s != "*").and_then(|s| HeaderValue::from_str(s).ok())
}

/// A comma-separated string or an `array:` list, trimmed, without empty entries.
fn list(env: &Env, key: &str) -> Vec<String> {
    let items: Vec<String> = match env.get(key) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
        _ => vec![],
    };
    items.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn header_names(names: &[String]) -> Vec<HeaderName> {
    names.iter().filter_map(|n| HeaderName::from_bytes(n.as_bytes()).ok()).collect()
}

/// tower-http answers a preflight with 200; the `cors` package Directus uses answers 204.
pub async fn preflight_status(req: Request, next: Next) -> Response {
    let preflight = req.method() == Method::OPTIONS;
    let mut response = next.run(req).await;
    if preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}
