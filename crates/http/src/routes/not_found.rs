//! The final handler: unknown routes get 404 `ROUTE_NOT_FOUND` in the envelope.

use axum::http::Uri;
use rectus_core::ApiError;

use crate::error::HttpError;

pub async fn handler(uri: Uri) -> HttpError {
    ApiError::route_not_found(uri.path()).into()
}
