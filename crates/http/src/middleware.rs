//! Per-request context: the accountability (token from `Authorization: Bearer` or
//! `?access_token=`, spec §7.1) and the final rendering of errors into the envelope.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use rectus_core::auth::Accountability;
use rectus_core::ApiError;

use axum::response::IntoResponse;
use rectus_core::events::EventArgs;
use serde_json::{json, Map, Value};

use crate::error::render;
use crate::extract::client_ip;
use crate::state::AppState;

fn token(req: &Request) -> Option<String> {
    let header = req.headers().get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let mut parts = v.splitn(2, ' ');
        match (parts.next(), parts.next()) {
            (Some("Bearer"), Some(t)) if !t.is_empty() => Some(t.to_string()),
            _ => None,
        }
    });
    header.or_else(|| {
        req.uri().query().and_then(|q| {
            q.split('&').find_map(|pair| pair.strip_prefix("access_token=").map(|t| percent_decode(t)))
        })
    })
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

fn headers_json(headers: &axum::http::HeaderMap) -> Value {
    let mut out = Map::new();
    for (name, value) in headers {
        out.insert(name.as_str().to_string(), json!(value.to_str().unwrap_or_default()));
    }
    Value::Object(out)
}

/// The `response` event's argument (spec §2.1), from what is known without buffering bodies.
fn response_event(req: &RequestSummary, response: &Response, duration: std::time::Duration) -> Value {
    let size = |h: &axum::http::HeaderMap| h.get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok()).unwrap_or(0);
    json!({
        "finished": true,
        "request": {
            "aborted": false,
            "completed": true,
            "method": req.method,
            "url": req.url,
            "path": req.path,
            "protocol": "http",
            "host": req.host,
            "size": req.size,
            "query": req.query,
            "headers": req.headers,
        },
        "response": { "status": response.status().as_u16(), "size": size(response.headers()), "headers": headers_json(response.headers()) },
        "ip": req.ip,
        "duration": format!("{}", duration.as_millis()),
    })
}

struct RequestSummary {
    method: String,
    url: String,
    path: String,
    host: Value,
    size: u64,
    query: Value,
    headers: Value,
    ip: Value,
}

/// Renders an error, letting `error` listeners change the `errors` array first (they are
/// awaited before the response is sent, as in Directus).
async fn render_error(state: &AppState, error: &ApiError, admin: bool) -> Response {
    let response = render(error, admin);
    if !state.services.bus.has_listeners("error") {
        return response;
    }
    let body = crate::error::envelope(error, admin);
    let errors = body["errors"].clone();
    match state.services.bus.emit_before("error", EventArgs::value(errors.clone())).await {
        Ok(Some(changed @ Value::Array(_))) => (response.status(), axum::Json(json!({ "errors": changed }))).into_response(),
        _ => response,
    }
}

pub async fn request_context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let ip = client_ip(&req);
    let user_agent = req.headers().get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    let accountability = match token(&req) {
        None => Accountability::public(ip.clone(), user_agent.clone()),
        Some(t) => match state.services.tokens.authenticate(&state.services.db, &state.config.secret, &t, ip.clone(), user_agent.clone()).await {
            Ok(a) => a,
            Err(e) => return render_error(&state, &e, false).await,
        },
    };
    let summary = state.services.bus.has_listeners("response").then(|| RequestSummary {
        method: req.method().to_string(),
        url: req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        path: req.uri().path().to_string(),
        host: req.headers().get(axum::http::header::HOST).and_then(|v| v.to_str().ok()).map(|h| json!(h)).unwrap_or(Value::Null),
        size: req.headers().get(axum::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(0),
        query: Value::Object(rectus_core::query::parse_query_string(req.uri().query().unwrap_or(""))),
        headers: headers_json(req.headers()),
        ip: ip.clone().map(Value::String).unwrap_or(Value::Null),
    });
    let admin = accountability.admin;
    req.extensions_mut().insert(accountability);
    let mut response = next.run(req).await;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        response = render_error(&state, &error, admin).await;
    }
    if let Some(summary) = summary {
        state.services.bus.emit_after("response", EventArgs::value(response_event(&summary, &response, started.elapsed())));
    }
    response
}
