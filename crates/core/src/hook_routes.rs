//! Routes and middleware that hooks register on Directus's Express `app` (spec §1.3, §2.1), and
//! the `request.not_found` event that receives the raw `(req, res)`. The hook runtime implements
//! [`HookRoutes`]; the HTTP layer asks it at two points of the pipeline:
//!
//! - [`RoutePhase::Early`]: what hooks registered up to `routes.init.before` runs before Rectus's
//!   own routes (it can answer a request or pass it on with `next()`);
//! - [`RoutePhase::Late`]: what they registered at `routes.custom.init.*` runs only when no route
//!   of Rectus matched, before the 404 — where Express would reach it after Directus's routers.
//!
//! Registrations at `routes.init.after` come after Directus's 404 handler and are never reached.

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoutePhase {
    Early,
    Late,
}

/// What a JS `req` is made from.
#[derive(Debug, Clone, Serialize)]
pub struct HookRequest {
    pub method: String,
    /// Path and query, as requested.
    pub url: String,
    pub path: String,
    pub query: Map<String, Value>,
    /// `req.sanitizedQuery`: the query sanitised as for Rectus's own routes
    /// ([`crate::query::Query::to_json`]).
    #[serde(rename = "sanitizedQuery")]
    pub sanitized_query: Value,
    /// Lower-case header names.
    pub headers: Map<String, Value>,
    /// The parsed JSON body (`{}` when there is none, like Express's JSON parser).
    pub body: Value,
    pub accountability: Value,
    pub ip: Option<String>,
}

/// What a hook's `res` sent.
#[derive(Debug, Clone, Default)]
pub struct HookResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[async_trait]
pub trait HookRoutes: Send + Sync + 'static {
    /// Whether any hook route or middleware of `phase` matches (cheap; no JS involved).
    fn matches(&self, phase: RoutePhase, method: &str, path: &str) -> bool;

    /// Runs the matching handlers in registration order; `None` when they all passed the request
    /// on with `next()`.
    async fn handle(&self, phase: RoutePhase, request: HookRequest) -> Result<Option<HookResponse>, ApiError>;

    /// Whether `request.not_found` has listeners.
    fn handles_not_found(&self) -> bool;

    /// Emits `request.not_found`; `Some` when a listener answered or claimed the request.
    async fn not_found(&self, request: HookRequest) -> Result<Option<HookResponse>, ApiError>;
}

/// No hooks: nothing matches.
pub struct NoHookRoutes;

#[async_trait]
impl HookRoutes for NoHookRoutes {
    fn matches(&self, _phase: RoutePhase, _method: &str, _path: &str) -> bool {
        false
    }

    async fn handle(&self, _phase: RoutePhase, _request: HookRequest) -> Result<Option<HookResponse>, ApiError> {
        Ok(None)
    }

    fn handles_not_found(&self) -> bool {
        false
    }

    async fn not_found(&self, _request: HookRequest) -> Result<Option<HookResponse>, ApiError> {
        Ok(None)
    }
}
