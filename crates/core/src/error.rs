//! The domain error: a Directus exception (status, code, message, extensions) or an internal
//! failure whose message only admins may see. The HTTP layer turns it into the envelope.

use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub extensions: Map<String, Value>,
    /// Not a Directus exception: shown as "An unexpected error occurred." to non-admins.
    pub internal: bool,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, code: code.to_string(), message: message.into(), extensions: Map::new(), internal: false }
    }

    pub fn with_extensions(mut self, extensions: Map<String, Value>) -> Self {
        self.extensions = extensions;
        self
    }

    pub fn forbidden() -> Self {
        Self::new(403, "FORBIDDEN", "You don't have permission to access this.")
    }

    pub fn route_not_found(path: &str) -> Self {
        Self::new(404, "ROUTE_NOT_FOUND", format!("Route {path} doesn't exist."))
    }

    pub fn invalid_payload(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_PAYLOAD", message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_QUERY", message)
    }

    pub fn service_unavailable(message: impl Into<String>, service: &str) -> Self {
        let mut ext = Map::new();
        ext.insert("service".into(), Value::String(service.into()));
        Self::new(503, "SERVICE_UNAVAILABLE", message).with_extensions(ext)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError { internal: true, ..Self::new(500, "INTERNAL_SERVER_ERROR", message) }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        ApiError::internal(e.message())
    }
}
