//! The last line of defence: a handler that panics (a bug, never an expected outcome) answers 500
//! `INTERNAL_SERVER_ERROR` in the Directus envelope and the panic is logged, instead of the
//! connection being dropped with no answer. The message is the one non-admins get for any
//! internal error: a panic's text is for the log, not the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// The layer, to go around everything else.
pub fn layer() -> CatchPanicLayer<fn(Box<dyn Any + Send + 'static>) -> Response> {
    CatchPanicLayer::custom(answer as fn(Box<dyn Any + Send + 'static>) -> Response)
}

fn answer(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied()).unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    let body = json!({ "errors": [{ "message": "An unexpected error occurred.", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] });
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{to_bytes, Body};
    use axum::http::Request;
    use axum::routing::get;
    use axum::Router;
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        let page: i64 = std::hint::black_box(i64::MAX);
        panic!("overflow at page {}", page)
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_envelope() {
        let app = Router::new().route("/boom", get(boom)).route("/fine", get(|| async { "fine" })).layer(layer());
        let response = app.clone().oneshot(Request::get("/boom").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 500);
        let body: serde_json::Value = serde_json::from_slice(&to_bytes(response.into_body(), 1 << 16).await.unwrap()).unwrap();
        assert_eq!(body, json!({ "errors": [{ "message": "An unexpected error occurred.", "extensions": { "code": "INTERNAL_SERVER_ERROR" } }] }));
        let response = app.oneshot(Request::get("/fine").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200, "the service still answers after a panic");
    }
}
