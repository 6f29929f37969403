//! `/utils/*` (spec §7.4): random strings, hashing, reverting an item to a revision, manual
//! sorting and imports. Revert, sort and import answer 200 with an empty body, as Directus
//! (sort and import without a content type: `res.end()`).

use axum::extract::{Multipart, Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use rand::distributions::{Alphanumeric, DistString};
use rectus_core::auth::password;
use rectus_core::services::{import, revisions, utils};
use rectus_core::ApiError;
use serde_json::{json, Value};
use std::collections::HashMap;

use crate::error::HttpError;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/utils/random/string", get(random_string))
        .route("/utils/hash/generate", post(hash_generate))
        .route("/utils/hash/verify", post(hash_verify))
        .route("/utils/revert/{revision}", post(revert))
        .route("/utils/sort/{collection}", post(sort))
        // Imports are files: like uploads they are not bound by MAX_PAYLOAD_SIZE (a JSON limit).
        .route("/utils/import/{collection}", post(import).layer(axum::extract::DefaultBodyLimit::disable()))
}

async fn random_string(UrlQuery(params): UrlQuery<HashMap<String, String>>) -> Result<Json<Value>, HttpError> {
    let length = match params.get("length") {
        Some(l) => l.parse::<usize>().map_err(|_| ApiError::invalid_query("\"length\" must be a number"))?,
        None => 32,
    };
    if length > 500 {
        return Err(ApiError::invalid_query("\"length\" can't be more than 500 characters").into());
    }
    Ok(Json(json!({ "data": Alphanumeric.sample_string(&mut rand::thread_rng(), length) })))
}

fn string_field(body: &Value, key: &str) -> Result<String, HttpError> {
    body.get(key).and_then(Value::as_str).map(str::to_string).ok_or_else(|| ApiError::invalid_payload(format!("\"{key}\" is required")).into())
}

async fn hash_generate(JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let text = string_field(&body, "string")?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&text)).await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(json!({ "data": hash })))
}

async fn hash_verify(JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let (text, hash) = (string_field(&body, "string")?, string_field(&body, "hash")?);
    let ok = tokio::task::spawn_blocking(move || password::verify(&text, &hash)).await.map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(Json(json!({ "data": ok })))
}

/// Once the item is back to the revision's data.
async fn revert(State(state): State<AppState>, caller: Caller, Path(revision): Path<String>) -> Result<axum::response::Response, HttpError> {
    revisions::revert(state.services.clone(), Some(caller.0), &Value::String(revision)).await?;
    Ok(super::empty_ok())
}

fn required(body: &Value, key: &str) -> Result<Value, ApiError> {
    body.get(key).filter(|v| v.is_string() || v.is_number()).cloned().ok_or_else(|| ApiError::invalid_payload(format!("\"{key}\" is required")))
}

async fn sort(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>, JsonBody(body): JsonBody) -> Result<StatusCode, HttpError> {
    let (item, to) = (required(&body, "item")?, required(&body, "to")?);
    utils::sort(&state.services, Some(&caller.0), &collection, &item, &to).await?;
    Ok(StatusCode::OK)
}

/// The first file part of a multipart body, imported by its own content type.
async fn import(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>, mut multipart: Multipart) -> Result<StatusCode, HttpError> {
    let unreadable = |e: axum::extract::multipart::MultipartError| ApiError::invalid_payload(format!("Can't read the upload: {e}"));
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        if field.file_name().is_none() {
            continue;
        }
        let mimetype = field.content_type().unwrap_or("application/octet-stream").to_string();
        let bytes = field.bytes().await.map_err(unreadable)?;
        import::import(&state.services, Some(caller.0), &collection, &mimetype, &bytes).await?;
        return Ok(StatusCode::OK);
    }
    Err(ApiError::invalid_payload("No file was included in the body").into())
}
