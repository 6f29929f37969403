//! `/server/*`: ping, project info and health (`rectus_core::services::server`), and the
//! OpenAPI document (`rectus_core::services::specification`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::services::{server, specification};
use serde_json::{json, Value};

use crate::error::HttpError;
use crate::extract::Caller;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/server/ping", get(ping))
        .route("/server/info", get(info))
        .route("/server/health", get(health))
        .route("/server/specs/oas", get(oas))
}

async fn ping() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], "pong")
}

async fn info(State(state): State<AppState>, Caller(caller): Caller) -> Result<Json<Value>, HttpError> {
    Ok(Json(json!({ "data": server::info(&state.services, Some(&caller)).await? })))
}

/// The report itself, not enveloped, as `application/health+json`; 503 when a check failed.
async fn health(State(state): State<AppState>, Caller(caller): Caller) -> Response {
    let report = server::health(&state.services, Some(&caller), &state.config.env.string("KEY").unwrap_or_default()).await;
    let status = if report["status"] == "error" { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
    (status, [(header::CONTENT_TYPE, "application/health+json; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], report.to_string()).into_response()
}

/// The OpenAPI object itself, not enveloped.
async fn oas(State(state): State<AppState>, Caller(caller): Caller) -> Result<Json<Value>, HttpError> {
    Ok(Json(specification::oas(&state.services, Some(&caller), &state.config.public_url).await?))
}
