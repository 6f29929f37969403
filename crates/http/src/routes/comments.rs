//! `POST /activity/comment`, `PATCH|DELETE /activity/comment/:pk` (spec §7.4).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{patch, post};
use axum::{Json, Router};
use rectus_core::services::comments::CommentsService;
use serde_json::{json, Value};

use super::items::empty;
use crate::error::HttpError;
use crate::extract::{Caller, DirectusQuery, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/activity/comment", post(create)).route("/activity/comment/{id}", patch(update).delete(delete))
}

async fn create(State(state): State<AppState>, caller: Caller, DirectusQuery(query): DirectusQuery, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let comments = CommentsService::new(state.services.clone(), caller.0).await?;
    Ok(Json(json!({ "data": comments.create(body, &query).await? })))
}

async fn update(State(state): State<AppState>, caller: Caller, Path(id): Path<String>, DirectusQuery(query): DirectusQuery, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let comments = CommentsService::new(state.services.clone(), caller.0).await?;
    Ok(Json(json!({ "data": comments.update(Value::String(id), body, &query).await? })))
}

async fn delete(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Response, HttpError> {
    CommentsService::new(state.services.clone(), caller.0).await?.delete(Value::String(id)).await?;
    Ok(empty())
}
