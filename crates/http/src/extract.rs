//! Extractors that turn request parts into domain inputs with Directus errors on bad input.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use rectus_core::auth::Accountability;
use rectus_core::query::{parse_query_string, sanitize, FilterContext, Query};
use rectus_core::ApiError;
use serde_json::Value;

use crate::error::HttpError;

/// The caller, as the request-context middleware resolved it.
pub struct Caller(pub Accountability);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let accountability = parts.extensions.get::<Accountability>().cloned().unwrap_or_default();
        Ok(Caller(accountability))
    }
}

/// The sanitised Directus query of the query string.
pub struct DirectusQuery(pub Query);

impl<S: Send + Sync> FromRequestParts<S> for DirectusQuery {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let params = parse_query_string(parts.uri.query().unwrap_or(""));
        let caller = parts.extensions.get::<Accountability>();
        let ctx = FilterContext { user: caller.and_then(|a| a.user.clone()), role: caller.and_then(|a| a.role.clone()) };
        Ok(DirectusQuery(sanitize(&params, &ctx)?))
    }
}

/// A JSON body; malformed JSON is 400 `INVALID_PAYLOAD` with the parser's message.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = HttpError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid_payload(format!("Can't read the request body: {e}")))?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(JsonBody(Value::Null));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ApiError::invalid_payload(e.to_string()).into())
    }
}
