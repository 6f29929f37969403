//! The one place where domain errors become HTTP responses: the Directus error envelope
//! `{"errors":[{"message","extensions":{"code",...}}]}` with the exception's status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rectus_core::ApiError;
use serde_json::{json, Map, Value};

/// An error on its way out; `admin` decides whether internal messages are shown (spec §3.3).
pub struct HttpError {
    pub error: ApiError,
    pub admin: bool,
}

impl From<ApiError> for HttpError {
    fn from(error: ApiError) -> Self {
        HttpError { error, admin: false }
    }
}

pub fn envelope(error: &ApiError, admin: bool) -> Value {
    if error.internal {
        tracing::error!(message = %error.message, "internal error");
        let message = if admin { error.message.clone() } else { "An unexpected error occurred.".to_string() };
        let mut extensions = Map::new();
        extensions.insert("code".into(), json!("INTERNAL_SERVER_ERROR"));
        if admin {
            extensions.extend(error.extensions.clone());
        }
        return json!({ "errors": [{ "message": message, "extensions": extensions }] });
    }
    let mut extensions = Map::new();
    extensions.insert("code".into(), json!(error.code));
    extensions.extend(error.extensions.clone());
    json!({ "errors": [{ "message": error.message, "extensions": extensions }] })
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(envelope(&self.error, self.admin))).into_response();
        if self.error.code == "METHOD_NOT_ALLOWED" {
            if let Some(allow) = self.error.extensions.get("allow").and_then(Value::as_array) {
                let joined = allow.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ");
                if let Ok(v) = joined.parse() {
                    response.headers_mut().insert(axum::http::header::ALLOW, v);
                }
            }
        }
        response
    }
}
