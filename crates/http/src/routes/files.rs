//! `/files` (spec §2.4 files row, §7.4): uploads, imports and deletes through `FilesService`;
//! reads and batch updates are the plain items routes on `directus_files`.
//!
//! A `multipart/form-data` body is read part by part as it arrives: text fields collect into the
//! next file's payload (so they must come before their file, as in Directus; `null`, `true`
//! and `false` become those values; `storage` picks the location), and each file part streams
//! straight into storage — the request body is never held in memory, whatever its size. That is
//! why the upload routes lift `MAX_PAYLOAD_SIZE`, and read JSON bodies with the limit themselves.
//!
//! Responses: one uploaded file answers its row, several answer an array (as rc.100 does).

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::handler::Handler;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use futures_util::TryStreamExt;
use rectus_core::services::files::{format_title, FilesService};
use rectus_core::services::MutationOptions;
use rectus_core::ApiError;
use serde_json::{Map, Value};

use super::items::{self, delete_keys, read_back};
use crate::error::HttpError;
use crate::extract::{parse_json, Caller, DirectusQuery, JsonBody, SystemCollection, Target};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/files", get(items::list).post(create.layer(DefaultBodyLimit::disable())).patch(items::update_batch).delete(delete_batch).fallback(items::search))
        .route("/files/import", post(import))
        .route("/files/{id}", get(items::read_one).patch(update_one.layer(DefaultBodyLimit::disable())).delete(delete_one))
        .layer(Extension(SystemCollection("directus_files")))
}

async fn files_service(state: &AppState, caller: Caller) -> Result<FilesService, HttpError> {
    let schema = state.services.schema.get().await?;
    Ok(FilesService::new(state.services.clone(), schema, Some(caller.0)))
}

fn is_multipart(req: &Request) -> bool {
    req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// A JSON body within `MAX_PAYLOAD_SIZE` (these routes lift the limit for uploads).
async fn json_body(state: &AppState, req: Request) -> Result<Value, HttpError> {
    let bytes = axum::body::to_bytes(req.into_body(), state.config.max_payload_bytes)
        .await
        .map_err(|e| ApiError::invalid_payload(format!("Can't read the request body: {e}")))?;
    parse_json(&bytes)
}

fn malformed(e: impl std::fmt::Display) -> HttpError {
    ApiError::invalid_payload(format!("Invalid multipart body: {e}")).into()
}

/// A text field's value as Directus's multipart handler stores it.
fn field_value(text: String) -> Value {
    match text.trim() {
        "null" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(text),
    }
}

/// Uploads every file part of a multipart body (replacing `existing` when given); their keys.
async fn upload(state: &AppState, files: &FilesService, req: Request, existing: Option<Value>) -> Result<Vec<Value>, HttpError> {
    let mut multipart = Multipart::from_request(req, state).await.map_err(malformed)?;
    let mut location = state.services.storage.default_location().to_string();
    let mut payload = Map::new();
    let mut saved = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        let Some(filename) = field.file_name().map(str::to_string) else {
            let text = field.text().await.map_err(malformed)?;
            if name == "storage" {
                location = text.clone();
            }
            payload.insert(name, field_value(text));
            continue;
        };
        if filename.is_empty() {
            return Err(ApiError::invalid_payload("File is missing filename").into());
        }
        // Fields before this file belong to it; the next file starts afresh.
        let mut data = std::mem::take(&mut payload);
        if !data.get("title").is_some_and(|t| t.as_str().is_some_and(|s| !s.is_empty())) {
            let stem = std::path::Path::new(&filename).file_stem().and_then(|s| s.to_str()).unwrap_or(&filename).to_string();
            data.insert("title".into(), Value::String(format_title(&stem)));
        }
        let mime = field.content_type().unwrap_or("application/octet-stream").to_string();
        // As Directus's upload handler: the uploader, for new and replaced files alike.
        if let Some(user) = files.user() {
            data.insert("uploaded_by".into(), Value::String(user.to_string()));
        }
        data.insert("filename_download".into(), Value::String(filename));
        data.insert("type".into(), Value::String(mime));
        if !data.get("storage").is_some_and(Value::is_string) {
            data.insert("storage".into(), Value::String(location.clone()));
        }
        // The client's bytes failing mid-file is a malformed body (400), not a storage failure.
        let bytes = field.map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("Invalid multipart body: {e}")));
        saved.push(files.upload_one(Box::pin(bytes), data, existing.clone()).await?);
    }
    if saved.is_empty() {
        return Err(ApiError::invalid_payload("No files where included in the body").into());
    }
    Ok(saved)
}

/// `POST /files`: multipart uploads (`files.upload` per file, no `files.create`) or a JSON
/// object creating a row (normal `files.create*`).
async fn create(State(state): State<AppState>, caller: Caller, DirectusQuery(query): DirectusQuery, req: Request) -> Result<Response, HttpError> {
    let files = files_service(&state, caller).await?;
    let keys = if is_multipart(&req) {
        upload(&state, &files, req, None).await?
    } else {
        match json_body(&state, req).await? {
            body @ Value::Object(_) => vec![files.items().create_one(body, MutationOptions::default()).await?],
            _ => return Err(ApiError::invalid_payload("Payload must be an object.").into()),
        }
    };
    let single = keys.len() == 1;
    read_back(&files.items(), keys, single, &query).await
}

/// `PATCH /files/:id`: JSON updates the row; multipart replaces the bytes (`files.upload`) and
/// then still runs the update with the empty JSON body (`files.update*` with `{}`), as Directus.
async fn update_one(State(state): State<AppState>, target: Target, caller: Caller, DirectusQuery(query): DirectusQuery, req: Request) -> Result<Response, HttpError> {
    let files = files_service(&state, caller).await?;
    let id = target.id()?;
    let body = if is_multipart(&req) {
        upload(&state, &files, req, Some(id.clone())).await?;
        Value::Object(Map::new())
    } else {
        json_body(&state, req).await?
    };
    files.items().update_one(id.clone(), body, MutationOptions::default()).await?;
    read_back(&files.items(), vec![id], true, &query).await
}

/// `POST /files/import` `{url, data?}`.
async fn import(State(state): State<AppState>, caller: Caller, DirectusQuery(query): DirectusQuery, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let url = match body.get("url") {
        Some(Value::String(url)) => url.clone(),
        Some(_) => return Err(ApiError::invalid_payload("\"url\" must be a string").into()),
        None => return Err(ApiError::invalid_payload("\"url\" is required").into()),
    };
    let data = match body.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(data)) => data.clone(),
        Some(_) => return Err(ApiError::invalid_payload("\"data\" must be of type object").into()),
    };
    let files = files_service(&state, caller).await?;
    let key = files.import_one(&url, data).await?;
    read_back(&files.items(), vec![key], true, &query).await
}

async fn delete_one(State(state): State<AppState>, target: Target, caller: Caller) -> Result<Response, HttpError> {
    let files = files_service(&state, caller).await?;
    files.delete_one(target.id()?, MutationOptions::default()).await?;
    Ok(items::empty())
}

async fn delete_batch(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let files = files_service(&state, caller).await?;
    let keys = delete_keys(&files.items(), body).await?;
    files.delete_many(keys, MutationOptions::default()).await?;
    Ok(items::empty())
}

