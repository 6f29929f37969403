//! The response cache in front of the routers (spec §7.1: after the routes hooks add at
//! `routes.init.before`, before the schema loader): `GET` answers come from
//! `rectus_core::cache` when they can, and successful JSON answers are stored. The rules are
//! documented there.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rectus_core::auth::Accountability;
use rectus_core::cache::{ResponseCache, Stored};
use rectus_core::ApiError;

use crate::state::AppState;

/// Marks a response that must not be stored although it looks cacheable (answers of hook
/// routes: in Directus they bypass the `respond` step that fills the cache).
#[derive(Clone, Copy)]
pub struct NotCacheable;

/// Answers above this size are served but not stored.
const LARGEST_STORED_BYTES: usize = 8 * 1024 * 1024;

pub async fn cached(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let cache = &state.services.responses;
    // `/auth/*` answers carry tokens (the SSO callback): never kept, as in Directus, whose auth
    // routes answer without the caching `respond` step.
    if req.method() != Method::GET || !cache.enabled() || req.uri().path().starts_with("/auth/") {
        return next.run(req).await;
    }
    let caller = req.extensions().get::<Accountability>();
    let public = caller.is_none_or(|a| a.role.is_none());
    let key = ResponseCache::key(caller.and_then(|a| a.user.as_deref()), req.uri().path(), req.uri().query().unwrap_or(""));
    let fresh_requested = req.headers().get_all(header::CACHE_CONTROL).iter().any(|v| v.to_str().is_ok_and(|v| v.contains("no-cache") || v.contains("no-store")));
    if !fresh_requested {
        if let Some(hit) = cache.get(&key).await {
            let control = cache.cache_control(&hit, public);
            return json(hit, control);
        }
    }
    let response = next.run(req).await;
    if !storable(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, LARGEST_STORED_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) => return crate::error::HttpError::from(rectus_core::ApiError::internal(format!("Can't read the answer: {e}"))).into_response(),
    };
    let control = cache.set(&key, bytes.clone(), public).await;
    let control = if fresh_requested { Some("no-store".to_string()) } else { control };
    if let Some(value) = control.and_then(|c| HeaderValue::try_from(c).ok()) {
        parts.headers.insert(header::CACHE_CONTROL, value);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Successful JSON that is not a download (`?export=`), not an error on its way to the
/// renderer and small enough to keep.
fn storable(response: &Response) -> bool {
    use axum::body::HttpBody;
    let headers = response.headers();
    let json = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    // Handlers' JSON is one buffer of known size; a streamed or large body passes untouched.
    let small = response.body().size_hint().upper().is_some_and(|n| n <= LARGEST_STORED_BYTES as u64);
    response.status() == StatusCode::OK
        && json
        && small
        && !headers.contains_key(header::CONTENT_DISPOSITION)
        && response.extensions().get::<ApiError>().is_none()
        && response.extensions().get::<NotCacheable>().is_none()
}

fn json(hit: Stored, control: Option<String>) -> Response {
    let mut response = Response::new(Body::from(hit.body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    if let Some(value) = control.and_then(|c| HeaderValue::try_from(c).ok()) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}
