//! Extractors that turn request parts into domain inputs with Directus errors on bad input.

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use rectus_core::auth::Accountability;
use rectus_core::query::{cap_limit, parse_query_string, sanitize, FilterContext, Query};
use rectus_core::ApiError;
use serde_json::Value;
use std::net::SocketAddr;

use crate::error::HttpError;
use crate::state::AppState;

/// The client's address: the first entry of `X-Forwarded-For`, else the peer's address (an
/// IPv4 peer on a dual-stack socket without its `::ffff:` prefix). The accountability's `ip`,
/// the role's IP allow list and the rate limiter all go by it.
pub fn client_ip(req: &Request) -> Option<String> {
    let forwarded = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(|s| s.trim().to_string());
    forwarded.or_else(|| {
        req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| {
            let ip = c.0.ip().to_string();
            ip.strip_prefix("::ffff:").map(str::to_string).unwrap_or(ip)
        })
    })
}

/// The caller, as the request-context middleware resolved it.
pub struct Caller(pub Accountability);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let accountability = parts.extensions.get::<Accountability>().cloned().unwrap_or_default();
        Ok(Caller(accountability))
    }
}

impl Caller {
    /// What `$CURRENT_USER` and `$CURRENT_ROLE` stand for in this caller's filters.
    pub fn filter_context(&self) -> FilterContext {
        FilterContext { user: self.0.user.clone(), role: self.0.role.clone() }
    }
}

/// The sanitised Directus query of the query string, its limit held to `QUERY_LIMIT_MAX`.
pub struct DirectusQuery(pub Query);

impl FromRequestParts<AppState> for DirectusQuery {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let params = parse_query_string(parts.uri.query().unwrap_or(""));
        let caller = parts.extensions.get::<Accountability>();
        let ctx = FilterContext { user: caller.and_then(|a| a.user.clone()), role: caller.and_then(|a| a.role.clone()) };
        Ok(DirectusQuery(client_query(sanitize(&params, &ctx)?, state)?))
    }
}

/// A query a client sent (query string, `SEARCH` or batch body), held to `QUERY_LIMIT_MAX`.
/// Services hooks call are not: on Directus too, only the request's sanitising applies it.
pub fn client_query(mut query: Query, state: &AppState) -> Result<Query, ApiError> {
    if let Some(max) = state.config.query_limit_max {
        cap_limit(&mut query, max)?;
    }
    Ok(query)
}

/// A JSON body; malformed JSON is 400 `INVALID_PAYLOAD` with the parser's message.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e.status() {
            // Over MAX_PAYLOAD_SIZE: Directus's words (body-parser's).
            axum::http::StatusCode::PAYLOAD_TOO_LARGE => ApiError::invalid_payload("request entity too large"),
            _ => ApiError::invalid_payload(format!("Can't read the request body: {e}")),
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON body's bytes as a value; blank is `null`.
pub fn parse_json(bytes: &[u8]) -> Result<Value, HttpError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::invalid_payload(e.to_string()).into())
}

/// Set on a system collection's router: the table its routes serve.
#[derive(Clone, Copy)]
pub struct SystemCollection(pub &'static str);

/// The collection (and item key) a route addresses: `/items/{collection}/{id}`, or a system
/// collection's own prefix (`/users/{id}`).
pub struct Target {
    pub collection: String,
    pub system: bool,
    pub key: Option<String>,
    pub path: String,
}

impl Target {
    pub fn id(&self) -> Result<Value, HttpError> {
        self.key.clone().map(Value::String).ok_or_else(|| ApiError::route_not_found(&self.path).into())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Target {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| ApiError::route_not_found(parts.uri.path()))?;
        let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string());
        let path = parts.uri.path().to_string();
        let key = param("id");
        match parts.extensions.get::<SystemCollection>() {
            Some(SystemCollection(table)) => Ok(Target { collection: table.to_string(), system: true, key, path }),
            None => {
                let collection = param("collection").ok_or_else(|| ApiError::route_not_found(&path))?;
                Ok(Target { collection, system: false, key, path })
            }
        }
    }
}
