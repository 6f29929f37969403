//! `/items/:collection` and the system collections' own routes (`/users`, `/roles`, ...,
//! spec §7.4): thin handlers over `ItemsService`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::query::Query;
use rectus_core::services::items::ItemsService;
use rectus_core::services::MutationOptions;
use rectus_core::{ApiError, ErrorCode};
use serde_json::{json, Value};

use crate::error::HttpError;
use crate::extract::{Caller, DirectusQuery, JsonBody, Target};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/items/{collection}", get(list).post(create).patch(update_batch).delete(delete_batch))
        .route("/items/{collection}/{id}", get(read_one).patch(update_one).delete(delete_one))
}

/// Routes of one system collection at its own prefix (`/users` → `directus_users`).
pub fn system_router(prefix: &str, table: &'static str) -> Router<AppState> {
    Router::new()
        .route(prefix, get(list).post(create).patch(update_batch).delete(delete_batch))
        .route(&format!("{prefix}/{{id}}"), get(read_one).patch(update_one).delete(delete_one))
        .layer(axum::Extension(crate::extract::SystemCollection(table)))
}

/// The service for the target collection; under `/items`, system collections and unknown names
/// are 403.
async fn service(state: &AppState, target: &Target, caller: Caller) -> Result<(ItemsService, bool), HttpError> {
    let schema = state.services.schema.get().await?;
    let collection = target.collection.as_str();
    if !target.system && collection.starts_with("directus_") {
        return Err(ApiError::forbidden().into());
    }
    let singleton = schema.collection(collection).ok_or_else(ApiError::forbidden)?.singleton;
    Ok((ItemsService::new(collection, state.services.clone(), schema, Some(caller.0)), singleton))
}

/// An empty 200 (`res.json(undefined)`), as Directus answers deletes.
pub(crate) fn empty() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], "").into_response()
}

pub(crate) async fn list(State(state): State<AppState>, target: Target, caller: Caller, DirectusQuery(query): DirectusQuery) -> Result<Json<Value>, HttpError> {
    let (items, singleton) = service(&state, &target, caller).await?;
    if singleton {
        return Ok(Json(json!({ "data": items.read_singleton(&query).await? })));
    }
    let data = items.read_by_query(&query).await?;
    Ok(Json(match items.meta(&query).await? {
        Some(meta) => json!({ "data": data, "meta": meta }),
        None => json!({ "data": data }),
    }))
}

pub(crate) async fn read_one(State(state): State<AppState>, target: Target, caller: Caller, DirectusQuery(query): DirectusQuery) -> Result<Json<Value>, HttpError> {
    let (items, singleton) = service(&state, &target, caller).await?;
    if singleton {
        return Err(ApiError::route_not_found(&target.path).into());
    }
    Ok(Json(json!({ "data": items.read_one(&target.id()?, &query).await? })))
}

/// Reads created/updated items back; a Forbidden read-back answers an empty 200.
pub(crate) async fn read_back(items: &ItemsService, keys: Vec<Value>, single: bool, query: &Query) -> Result<Response, HttpError> {
    if single {
        answer_read_back(items.read_one(&keys[0], query).await)
    } else {
        answer_read_back(items.read_many(&keys, query).await.map(Value::Array))
    }
}

fn answer_read_back(result: Result<Value, ApiError>) -> Result<Response, HttpError> {
    match result {
        Ok(data) => Ok(Json(json!({ "data": data })).into_response()),
        Err(e) if e.code == ErrorCode::Forbidden => Ok(empty()),
        Err(e) => Err(e.into()),
    }
}

async fn create(State(state): State<AppState>, target: Target, caller: Caller, DirectusQuery(query): DirectusQuery, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let (items, singleton) = service(&state, &target, caller).await?;
    if singleton {
        return Err(ApiError::route_not_found(&target.path).into());
    }
    match body {
        Value::Array(list) => {
            let keys = items.create_many(list, MutationOptions::default()).await?;
            read_back(&items, keys, false, &query).await
        }
        Value::Object(_) => {
            let created = items.create_one_returning(body, MutationOptions::default()).await?;
            answer_read_back(items.read_created(created, &query).await)
        }
        _ => Err(ApiError::invalid_payload("Payload must be an object or an array of objects.").into()),
    }
}

async fn update_one(State(state): State<AppState>, target: Target, caller: Caller, DirectusQuery(query): DirectusQuery, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let (items, singleton) = service(&state, &target, caller).await?;
    if singleton {
        return Err(ApiError::route_not_found(&target.path).into());
    }
    let key = items.update_one(target.id()?, body, MutationOptions::default()).await?;
    read_back(&items, vec![key], true, &query).await
}

pub(crate) fn failed_validation(message: &str) -> HttpError {
    ApiError::new(ErrorCode::FailedValidation, message).into()
}

/// `PATCH /items/:c`: singleton upsert, `{keys, data}`, `{query, data}`, or an array of items
/// that carry their primary keys.
pub(crate) async fn update_batch(State(state): State<AppState>, target: Target, caller: Caller, DirectusQuery(query): DirectusQuery, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let (items, singleton) = service(&state, &target, caller).await?;
    if singleton {
        items.upsert_singleton(body, MutationOptions::default()).await?;
        return Ok(Json(json!({ "data": items.read_singleton(&query).await? })).into_response());
    }
    let keys = match body {
        Value::Array(list) => {
            let schema = state.services.schema.get().await?;
            let pk = schema.collection(&target.collection).map(|c| c.primary.clone()).unwrap_or_default();
            let mut keys = Vec::new();
            for mut item in list {
                let key = item.as_object_mut().and_then(|o| o.remove(&pk)).ok_or_else(|| ApiError::invalid_payload("Primary key is missing in update payload."))?;
                items.update_one(key.clone(), item, MutationOptions::default()).await?;
                keys.push(key);
            }
            keys
        }
        Value::Object(mut o) => {
            let data = o.remove("data").filter(Value::is_object).ok_or_else(|| failed_validation("\"data\" is required"))?;
            match (o.remove("keys"), o.remove("query")) {
                (Some(Value::Array(keys)), None) => items.update_many(keys, data, MutationOptions::default()).await?,
                (None, Some(q @ Value::Object(_))) => {
                    let filter_query = sanitize_body_query(&q)?;
                    let keys = items.keys_by_query(&filter_query).await?;
                    if keys.is_empty() {
                        return Ok(Json(json!({ "data": [] })).into_response());
                    }
                    items.update_many(keys, data, MutationOptions::default()).await?
                }
                _ => return Err(failed_validation("\"value\" must contain exactly one of [keys, query]")),
            }
        }
        _ => return Err(failed_validation("\"value\" must be of type object")),
    };
    read_back(&items, keys, false, &query).await
}

/// A `{query}` batch body, sanitised like a query string.
pub(crate) fn sanitize_body_query(q: &Value) -> Result<Query, HttpError> {
    let params = q.as_object().cloned().unwrap_or_default();
    Ok(rectus_core::query::sanitize(&params, &Default::default())?)
}

async fn delete_one(State(state): State<AppState>, target: Target, caller: Caller) -> Result<Response, HttpError> {
    let (items, _) = service(&state, &target, caller).await?;
    items.delete_one(target.id()?, MutationOptions::default()).await?;
    Ok(empty())
}

/// `DELETE /items/:c` with an array of keys, `{keys}` or `{query}`.
async fn delete_batch(State(state): State<AppState>, target: Target, caller: Caller, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let (items, _) = service(&state, &target, caller).await?;
    let keys = delete_keys(&items, body).await?;
    items.delete_many(keys, MutationOptions::default()).await?;
    Ok(empty())
}

/// The keys a batch delete body names: an array of keys, `{keys}` or `{query}`.
pub(crate) async fn delete_keys(items: &ItemsService, body: Value) -> Result<Vec<Value>, HttpError> {
    Ok(match body {
        Value::Array(keys) => keys,
        Value::Object(mut o) => match (o.remove("keys"), o.remove("query")) {
            (Some(Value::Array(keys)), None) => keys,
            (None, Some(q @ Value::Object(_))) => items.keys_by_query(&sanitize_body_query(&q)?).await?,
            _ => return Err(failed_validation("\"value\" must contain exactly one of [keys, query]")),
        },
        _ => return Err(failed_validation("\"value\" must be of type array")),
    })
}
