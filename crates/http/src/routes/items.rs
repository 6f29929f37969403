//! `/items/:collection` and the system collections' own routes (`/users`, `/roles`, ...,
//! spec §7.4): thin handlers over `ItemsService`.

use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::query::Query;
use rectus_core::services::items::ItemsService;
use rectus_core::services::MutationOptions;
use rectus_core::{ApiError, ErrorCode};
use serde_json::{json, Value};

use crate::error::HttpError;
use crate::extract::{client_query, Caller, DirectusQuery, JsonBody, Target};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/items/{collection}", get(list).post(create).patch(update_batch).delete(delete_batch).fallback(search))
        .route("/items/{collection}/{id}", get(read_one).patch(update_one).delete(delete_one))
}

/// Routes of one system collection at its own prefix (`/users` → `directus_users`). All but
/// `/settings` take `SEARCH`, as in rc.83.
pub fn system_router(prefix: &str, table: &'static str) -> Router<AppState> {
    let list_routes = get(list).post(create).patch(update_batch).delete(delete_batch);
    let list_routes = if table == "directus_settings" { list_routes.fallback(no_route) } else { list_routes.fallback(search) };
    Router::new()
        .route(prefix, list_routes)
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

pub(crate) async fn list(State(state): State<AppState>, target: Target, caller: Caller, DirectusQuery(query): DirectusQuery) -> Result<Response, HttpError> {
    let (items, singleton) = service(&state, &target, caller).await?;
    if singleton {
        return Ok(Json(json!({ "data": items.read_singleton(&query).await? })).into_response());
    }
    crate::streamed::list(&items, &query).await
}

/// `SEARCH /items/:c` (rc.83's read with the query in the body, for queries too long for a URL):
/// a body `{query}` replaces the query string's query, `{keys}` reads those items (`readMany`),
/// both may be given; the answer is the list read's, `meta` included. A singleton answers its
/// item.
///
/// axum routes only the standard methods, so this is the fallback of the list route's method
/// router: any other method it doesn't know is 404 `ROUTE_NOT_FOUND`, as Express answers it.
pub(crate) async fn search(
    State(state): State<AppState>,
    method: Method,
    target: Target,
    caller: Caller,
    DirectusQuery(query): DirectusQuery,
    JsonBody(body): JsonBody,
) -> Result<Response, HttpError> {
    if method.as_str() != "SEARCH" {
        return Err(ApiError::route_not_found(&target.path).into());
    }
    let (query, keys) = search_body(body, &caller, query)?;
    let query = client_query(query, &state)?;
    let (items, singleton) = service(&state, &target, caller).await?;
    let data = match (singleton, keys) {
        (true, _) => items.read_singleton(&query).await?,
        (false, Some(keys)) => Value::Array(items.read_many(&keys, &query).await?),
        (false, None) => return crate::streamed::list(&items, &query).await,
    };
    Ok(crate::streamed::whole(data, items.meta(&query).await?))
}

/// Any method a route doesn't take: 404 `ROUTE_NOT_FOUND`, as Express answers it.
async fn no_route(target: Target) -> HttpError {
    ApiError::route_not_found(&target.path).into()
}

/// A `SEARCH` body checked as Directus's batch validation does (`{keys?, query?}`, nothing
/// else; no body is `{}`): the query to run and the keys to read, if any. Unlike rc.83, which
/// runs a body's query unchecked (an unknown `meta` is ignored there), the query is validated
/// as a query string is: bad input answers 400 `INVALID_QUERY`.
pub(crate) fn search_body(body: Value, caller: &Caller, url_query: Query) -> Result<(Query, Option<Vec<Value>>), HttpError> {
    let mut body = match body {
        Value::Null => serde_json::Map::new(),
        Value::Object(o) => o,
        _ => return Err(failed_validation("\"value\" must be of type object")),
    };
    if let Some(other) = body.keys().find(|k| *k != "keys" && *k != "query") {
        return Err(invalid_key(other, &format!("\"{other}\" is not allowed")));
    }
    let keys = match body.remove("keys") {
        None | Some(Value::Null) => None,
        Some(Value::Array(keys)) => match keys.iter().position(|k| !k.is_string() && !k.is_number()) {
            Some(i) => return Err(invalid_key("keys", &format!("\"keys[{i}]\" must be one of [string, number]"))),
            None => Some(keys),
        },
        Some(_) => return Err(invalid_key("keys", "\"keys\" must be an array")),
    };
    let query = match body.remove("query") {
        None | Some(Value::Null) => url_query,
        Some(Value::Object(q)) => rectus_core::query::sanitize(&q, &caller.filter_context())?,
        Some(_) => return Err(invalid_key("query", "\"query\" must be of type object")),
    };
    Ok((query, keys))
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

/// A batch body's key that failed validation, named in `extensions.field` as Joi's path does.
fn invalid_key(key: &str, message: &str) -> HttpError {
    let field = [("field".to_string(), Value::String(key.to_string()))].into_iter().collect();
    ApiError::new(ErrorCode::FailedValidation, message).with_extensions(field).into()
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
