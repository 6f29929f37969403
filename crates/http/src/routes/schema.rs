//! `/collections`, `/fields` and `/relations` (spec §7.4): thin handlers over the schema
//! services of the core.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::services::schema::collections::CollectionsService;
use rectus_core::services::schema::fields::FieldsService;
use rectus_core::services::schema::relations::RelationsService;
use rectus_core::services::schema::SchemaContext;
use rectus_core::ApiError;
use serde_json::{json, Value};

use super::items::{empty, search_body};
use crate::error::HttpError;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/collections", get(list_collections).post(create_collections).fallback(search_collections))
        .route("/collections/{collection}", get(read_collection).patch(update_collection).delete(delete_collection))
        .route("/fields", get(list_fields))
        .route("/fields/{collection}", get(collection_fields).post(create_field).patch(update_fields))
        .route("/fields/{collection}/{field}", get(read_field).patch(update_field).delete(delete_field))
        .route("/relations", get(list_relations).post(create_relation))
        .route("/relations/{collection}", get(collection_relations))
        .route("/relations/{collection}/{field}", get(read_relation).patch(update_relation).delete(delete_relation))
}

fn context(state: &AppState, caller: Caller) -> SchemaContext {
    SchemaContext::new(state.services.clone(), Some(caller.0))
}

fn data(value: impl Into<Value>) -> Json<Value> {
    Json(json!({ "data": value.into() }))
}

async fn list_collections(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, HttpError> {
    Ok(data(CollectionsService::new(context(&state, caller)).read_all().await?))
}

/// `SEARCH /collections`: `{keys}` reads those collections; a query is accepted and, as for
/// `GET`, not applied (Directus's collections service takes none). Other unknown methods are 404.
async fn search_collections(State(state): State<AppState>, method: Method, caller: Caller, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    if method.as_str() != "SEARCH" {
        return Err(ApiError::route_not_found("/collections").into());
    }
    let (_, keys) = search_body(body, &caller, Default::default())?;
    let all = CollectionsService::new(context(&state, caller)).read_all().await?;
    Ok(data(match keys {
        Some(keys) => all.into_iter().filter(|c| keys.contains(&c["collection"])).collect::<Vec<_>>(),
        None => all,
    }))
}

async fn read_collection(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>) -> Result<Json<Value>, HttpError> {
    Ok(data(CollectionsService::new(context(&state, caller)).read_one(&collection).await?.unwrap_or(Value::Null)))
}

/// One collection (an object body) or several (an array), answered with what was created.
async fn create_collections(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let service = CollectionsService::new(context(&state, caller));
    match body {
        Value::Array(list) => {
            let mut created = vec![];
            for item in &list {
                let name = service.create_one(item).await?;
                created.push(service.read_one(&name).await?.unwrap_or(Value::Null));
            }
            Ok(data(created))
        }
        body => {
            let name = service.create_one(&body).await?;
            Ok(data(service.read_one(&name).await?.unwrap_or(Value::Null)))
        }
    }
}

async fn update_collection(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let service = CollectionsService::new(context(&state, caller));
    service.update_one(&collection, &body).await?;
    Ok(data(service.read_one(&collection).await?.unwrap_or(Value::Null)))
}

async fn delete_collection(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>) -> Result<Response, HttpError> {
    CollectionsService::new(context(&state, caller)).delete_one(&collection).await?;
    Ok(empty())
}

async fn list_fields(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, HttpError> {
    Ok(data(FieldsService::new(context(&state, caller)).read_all(None).await?))
}

async fn collection_fields(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>) -> Result<Json<Value>, HttpError> {
    Ok(data(FieldsService::new(context(&state, caller)).read_all(Some(&collection)).await?))
}

async fn read_field(State(state): State<AppState>, caller: Caller, Path((collection, field)): Path<(String, String)>) -> Result<Json<Value>, HttpError> {
    Ok(data(FieldsService::new(context(&state, caller)).read_one(&collection, &field).await?))
}

async fn create_field(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    Ok(data(FieldsService::new(context(&state, caller)).create_field(&collection, &body).await?))
}

async fn update_field(State(state): State<AppState>, caller: Caller, Path((collection, field)): Path<(String, String)>, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    Ok(data(FieldsService::new(context(&state, caller)).update_field(&collection, &field, &body).await?))
}

/// `PATCH /fields/:collection` with an array of fields, each naming itself in `field`.
async fn update_fields(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let Value::Array(list) = body else { return Err(ApiError::invalid_payload("\"value\" must be an array").into()) };
    let service = FieldsService::new(context(&state, caller));
    let mut updated = vec![];
    for item in &list {
        let field = item.get("field").and_then(Value::as_str).ok_or_else(|| ApiError::invalid_payload("\"field\" is required"))?;
        updated.push(service.update_field(&collection, field, item).await?);
    }
    Ok(data(updated))
}

async fn delete_field(State(state): State<AppState>, caller: Caller, Path((collection, field)): Path<(String, String)>) -> Result<Response, HttpError> {
    FieldsService::new(context(&state, caller)).delete_field(&collection, &field).await?;
    Ok(empty())
}

async fn list_relations(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, HttpError> {
    Ok(data(RelationsService::new(context(&state, caller)).read_all(None).await?))
}

async fn collection_relations(State(state): State<AppState>, caller: Caller, Path(collection): Path<String>) -> Result<Json<Value>, HttpError> {
    Ok(data(RelationsService::new(context(&state, caller)).read_all(Some(&collection)).await?))
}

async fn read_relation(State(state): State<AppState>, caller: Caller, Path((collection, field)): Path<(String, String)>) -> Result<Json<Value>, HttpError> {
    Ok(data(RelationsService::new(context(&state, caller)).read_one(&collection, &field).await?))
}

async fn create_relation(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    Ok(data(RelationsService::new(context(&state, caller)).create_one(&body).await?))
}

async fn update_relation(State(state): State<AppState>, caller: Caller, Path((collection, field)): Path<(String, String)>, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    Ok(data(RelationsService::new(context(&state, caller)).update_one(&collection, &field, &body).await?))
}

async fn delete_relation(State(state): State<AppState>, caller: Caller, Path((collection, field)): Path<(String, String)>) -> Result<Response, HttpError> {
    RelationsService::new(context(&state, caller)).delete_one(&collection, &field).await?;
    Ok(empty())
}
