//! `/graphql`, `/graphql/system` (GET `?query=&variables=&operationName=` or POST JSON) and
//! `/server/specs/graphql/:scope?` (the caller's schema as SDL): thin handlers over
//! `rectus_graphql`.

use axum::extract::{Path, State};
use axum::http::{header, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::query::parse_query_string;
use rectus_core::{ApiError, ErrorCode};
use rectus_graphql::async_graphql::parser::types::OperationType;
use rectus_graphql::{Caller as GraphQLCaller, GraphQLRequest, Scope};
use serde_json::{json, Value};

use crate::error::HttpError;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(query_items).post(post_items))
        .route("/graphql/system", get(query_system).post(post_system))
        .route("/server/specs/graphql", get(spec_items))
        .route("/server/specs/graphql/{scope}", get(spec_scoped))
}

fn graphql_caller(state: &AppState, caller: Caller, scope: Scope, schema: std::sync::Arc<rectus_core::schema::SchemaOverview>) -> GraphQLCaller {
    GraphQLCaller { services: state.services.clone(), schema, accountability: Some(caller.0), scope, depth: 0, transaction: None, public_url: state.config.public_url.clone(), query_limit_max: state.config.query_limit_max }
}

async fn run(state: AppState, caller: Caller, scope: Scope, method: Method, request: GraphQLRequest) -> Result<Json<Value>, HttpError> {
    let prepared = rectus_graphql::prepare(request)?;
    if method == Method::GET && prepared.operation != OperationType::Query {
        let kind = if prepared.operation == OperationType::Mutation { "mutation" } else { "subscription" };
        let mut error = ApiError::new(ErrorCode::MethodNotAllowed, format!("Can only perform a {kind} from a POST request."));
        error.extensions.insert("allow".into(), json!(["POST"]));
        return Err(error.into());
    }
    let schema = state.services.schema.get().await?;
    let caller = graphql_caller(&state, caller, scope, schema);
    Ok(Json(rectus_graphql::execute(caller, prepared).await?))
}

/// The parameters of a GET: `variables` is JSON text (400 INVALID_QUERY when it isn't).
fn from_query_string(uri: &Uri) -> Result<GraphQLRequest, HttpError> {
    let params = parse_query_string(uri.query().unwrap_or(""));
    let text = |key: &str| params.get(key).and_then(Value::as_str).map(str::to_string);
    let variables = match text("variables") {
        Some(raw) => Some(serde_json::from_str(&raw).map_err(|_| ApiError::invalid_query("Variables are invalid JSON."))?),
        None => None,
    };
    Ok(GraphQLRequest { query: text("query"), variables, operation_name: text("operationName") })
}

fn from_body(body: Value) -> GraphQLRequest {
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    GraphQLRequest { query: text("query"), variables: body.get("variables").cloned(), operation_name: text("operationName") }
}

async fn query_items(State(state): State<AppState>, caller: Caller, uri: Uri) -> Result<Json<Value>, HttpError> {
    let request = from_query_string(&uri)?;
    run(state, caller, Scope::Items, Method::GET, request).await
}

async fn query_system(State(state): State<AppState>, caller: Caller, uri: Uri) -> Result<Json<Value>, HttpError> {
    let request = from_query_string(&uri)?;
    run(state, caller, Scope::System, Method::GET, request).await
}

async fn post_items(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    run(state, caller, Scope::Items, Method::POST, from_body(body)).await
}

async fn post_system(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    run(state, caller, Scope::System, Method::POST, from_body(body)).await
}

async fn spec_items(State(state): State<AppState>, caller: Caller) -> Result<Response, HttpError> {
    spec(state, caller, Scope::Items).await
}

async fn spec_scoped(State(state): State<AppState>, caller: Caller, Path(scope): Path<String>, uri: Uri) -> Result<Response, HttpError> {
    let scope = Scope::parse(&scope).ok_or_else(|| ApiError::route_not_found(uri.path()))?;
    spec(state, caller, scope).await
}

/// The SDL as an attachment named `<project name>_<date>.graphql`, as rc.83 sends it.
async fn spec(state: AppState, caller: Caller, scope: Scope) -> Result<Response, HttpError> {
    let info = rectus_core::services::server::info(&state.services, Some(&caller.0)).await?;
    let project = info["project"]["project_name"].as_str().unwrap_or("Directus").to_string();
    let schema = state.services.schema.get().await?;
    let sdl = rectus_graphql::sdl(&graphql_caller(&state, caller, scope, schema)).await?;
    let filename = format!("{project}_{}.graphql", chrono::Utc::now().format("%Y-%m-%d"));
    let disposition = format!("attachment; filename=\"{}\"", filename.replace('"', "'"));
    Ok(([(header::CONTENT_TYPE, "application/octet-stream; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], sdl).into_response())
}
