//! Where requests meet the routes hooks registered on `app` (see `rectus_core::hook_routes`):
//! [`early`] runs in front of Rectus's routers, [`not_found`] after them. A request is buffered
//! and handed to the hooks only when one of their routes matches it.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rectus_core::auth::{accountability, Accountability};
use rectus_core::hook_routes::{HookRequest, HookResponse, RoutePhase};
use rectus_core::query::{parse_query_string, sanitize, FilterContext};
use rectus_core::ApiError;
use serde_json::{json, Map, Value};

use crate::error::HttpError;
use crate::state::AppState;

async fn buffer(req: Request, limit: usize) -> Result<(Parts, Bytes), HttpError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| ApiError::invalid_payload(format!("Can't read the request body: {e}")))?;
    Ok((parts, bytes))
}

/// The JS `req` of a buffered request; the body is parsed as JSON when it says it is JSON. A
/// query Rectus's routes would refuse is a 400 here too, as Directus sanitises every request's
/// query before its routes; `lenient` (the routes hooks register in front of that) gives those
/// an empty `req.sanitizedQuery` instead.
fn hook_request(parts: &Parts, body: &Bytes, lenient: bool) -> Result<HookRequest, HttpError> {
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        headers.insert(name.as_str().to_string(), json!(value.to_str().unwrap_or_default()));
    }
    let is_json = parts.headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.contains("json"));
    let body = if is_json && !body.iter().all(u8::is_ascii_whitespace) {
        serde_json::from_slice(body).map_err(|e| ApiError::invalid_payload(e.to_string()))?
    } else {
        Value::Object(Map::new())
    };
    let caller = parts.extensions.get::<Accountability>();
    let query = parse_query_string(parts.uri.query().unwrap_or(""));
    let ctx = FilterContext { user: caller.and_then(|a| a.user.clone()), role: caller.and_then(|a| a.role.clone()) };
    let sanitized_query = match sanitize(&query, &ctx) {
        Ok(q) => q.to_json(),
        Err(_) if lenient => json!({}),
        Err(e) => return Err(e.into()),
    };
    Ok(HookRequest {
        method: parts.method.to_string(),
        url: parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        path: parts.uri.path().to_string(),
        query,
        sanitized_query,
        headers,
        body,
        accountability: accountability::to_json(caller),
        ip: caller.and_then(|a| a.ip.clone()),
    })
}

fn into_response(r: HookResponse) -> Response {
    let mut response = (StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK), r.body).into_response();
    response.extensions_mut().insert(crate::response_cache::NotCacheable);
    let headers = response.headers_mut();
    headers.remove(axum::http::header::CONTENT_TYPE);
    for (name, value) in r.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    response
}

/// Hook routes and middleware registered up to `routes.init.before`, before Rectus's routes.
pub async fn early(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.hook_routes.matches(RoutePhase::Early, req.method().as_str(), req.uri().path()) {
        return next.run(req).await;
    }
    let handled = async {
        let (parts, bytes) = buffer(req, state.config.max_payload_bytes).await?;
        let request = hook_request(&parts, &bytes, true)?;
        let answer = state.hook_routes.handle(RoutePhase::Early, request).await?;
        Ok::<_, HttpError>((answer, parts, bytes))
    };
    match handled.await {
        Ok((Some(answer), _, _)) => into_response(answer),
        Ok((None, parts, bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(e) => e.into_response(),
    }
}

/// The final handler: hook routes of `routes.custom.init.*`, then `request.not_found`, then
/// 404 `ROUTE_NOT_FOUND`.
pub async fn not_found(State(state): State<AppState>, req: Request) -> Result<Response, HttpError> {
    let routes = &state.hook_routes;
    let late = routes.matches(RoutePhase::Late, req.method().as_str(), req.uri().path());
    // The path as the client sent it, before its trailing slash was trimmed for routing.
    let path = req.extensions().get::<axum::extract::OriginalUri>().map_or_else(|| req.uri().path(), |o| o.0.path()).to_string();
    if late || routes.handles_not_found() {
        let (parts, bytes) = buffer(req, state.config.max_payload_bytes).await?;
        let request = hook_request(&parts, &bytes, false)?;
        if late {
            if let Some(answer) = routes.handle(RoutePhase::Late, request.clone()).await? {
                return Ok(into_response(answer));
            }
        }
        if let Some(answer) = routes.not_found(request).await? {
            return Ok(into_response(answer));
        }
    }
    Err(ApiError::route_not_found(&path).into())
}
