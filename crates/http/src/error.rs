//! The one place where domain errors become HTTP responses: the Directus error envelope
//! `{"errors":[{"message","extensions":{"code",...}}]}` with the exception's status.
//!
//! Handlers return [`HttpError`]; it travels in the response's extensions to the
//! [`crate::middleware::request_context`] middleware, which knows whether the caller is an admin
//! (internal messages are shown to admins only, spec §3.3) and renders the body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rectus_core::{ApiError, ErrorCode};
use serde_json::{json, Map, Value};

pub struct HttpError(pub ApiError);

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> Self {
        HttpError(error)
    }
}

impl From<rectus_core::db::DbError> for HttpError {
    fn from(error: rectus_core::db::DbError) -> Self {
        HttpError(error.into())
    }
}

pub fn envelope(error: &ApiError, admin: bool) -> Value {
    let mut extensions = Map::new();
    if error.internal {
        tracing::error!(message = %error.message, "internal error");
        extensions.insert("code".into(), json!("INTERNAL_SERVER_ERROR"));
        if !admin {
            return json!({ "errors": [{ "message": "An unexpected error occurred.", "extensions": extensions }] });
        }
    } else {
        extensions.insert("code".into(), json!(error.code));
    }
    extensions.extend(error.extensions.clone());
    json!({ "errors": [{ "message": error.message, "extensions": extensions }] })
}

/// Renders the envelope for an error.
pub fn render(error: &ApiError, admin: bool) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(envelope(error, admin))).into_response();
    if error.code == ErrorCode::MethodNotAllowed {
        if let Some(allow) = error.extensions.get("allow").and_then(Value::as_array) {
            let joined = allow.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ");
            if let Ok(v) = joined.parse() {
                response.headers_mut().insert(axum::http::header::ALLOW, v);
            }
        }
    }
    response
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(self.0);
        response
    }
}
