//! GraphQL for Rectus (rc.83's `GraphQLService`): `/graphql` over the user collections,
//! `/graphql/system` over the system ones, and the `GraphQLService` hooks construct.
//!
//! A caller's schema is built from the schema overview reduced to its role's permissions
//! ([`schema`]) with async-graphql's dynamic schema, and cached per scope, schema overview and
//! permission set, so a request only reads its role's permission rows to find it. Every
//! resolver calls the core services REST calls ([`resolve`]).
//!
//! Limits (a hostile document cannot make the server work without end): documents nest at most
//! [`MAX_DEPTH`] fields deep and select at most [`MAX_COMPLEXITY`] fields in all (validation
//! errors); one nested past the parser's own limit does not parse (400 INVALID_PAYLOAD). Lists keep
//! the services' limits (100 items unless `limit` says otherwise).
//!
//! Deviations: validation messages are async-graphql's wording (`Unknown field "x" on type "y".`
//! where graphql-js says `Cannot query field …`); errors of resolvers carry `extensions.code`
//! (rc.100 leaves `extensions` out of them); an aliased relational field reads the same data as
//! its name (the services answer a field once).

pub mod caller;
mod meta;
mod resolve;
mod schema;
mod selection;
mod system;
pub mod types;

use async_graphql::dynamic::Schema;
use async_graphql::parser::types::OperationType;
use async_graphql::{Request, ServerError, Variables};
use rectus_core::schema::SchemaOverview;
use rectus_core::services::permissions;
use rectus_core::{ApiError, ErrorCode};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

pub use async_graphql;
pub use caller::{Caller, Scope};

/// How deep a document may nest fields (the introspection query of graphql-js nests 13).
pub const MAX_DEPTH: usize = 24;
/// How many fields a document may select in all.
pub const MAX_COMPLEXITY: usize = 5000;

/// An operation as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct GraphQLRequest {
    pub query: Option<String>,
    pub variables: Option<Value>,
    pub operation_name: Option<String>,
}

/// A parsed request, ready to run: its operation's kind is known (GET runs only queries).
pub struct Prepared {
    request: Request,
    pub operation: OperationType,
}

/// Parses a request: 400 INVALID_PAYLOAD without a query or when it doesn't parse (rc.83's
/// messages, the parser's errors under `graphqlErrors`).
pub fn prepare(request: GraphQLRequest) -> Result<Prepared, ApiError> {
    let query = request.query.filter(|q| !q.is_empty()).ok_or_else(|| ApiError::invalid_payload("Must provide query string."))?;
    let mut gql = Request::new(query);
    if let Some(vars) = request.variables.filter(|v| !v.is_null()) {
        gql = gql.variables(Variables::from_json(vars));
    }
    if let Some(name) = &request.operation_name {
        gql = gql.operation_name(name.as_str());
    }
    let operation_name = request.operation_name.clone();
    let document = gql.parsed_query().map_err(|e| {
        let mut error = ApiError::invalid_payload("GraphQL schema validation error.");
        let mut detail = server_error_json(&e);
        detail["message"] = json!(syntax_message(&e.message));
        error.extensions.insert("graphqlErrors".into(), json!([detail]));
        error
    })?;
    let operation = match (&document.operations, operation_name.as_deref()) {
        (async_graphql::parser::types::DocumentOperations::Single(op), _) => op.node.ty,
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty).unwrap_or(OperationType::Query),
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), None) => ops.values().next().map(|op| op.node.ty).unwrap_or(OperationType::Query),
    };
    Ok(Prepared { request: gql, operation })
}

/// The parser's multi-line report (`--> 1:14 … = expected selection`) as one line, as graphql-js
/// words it: `Syntax Error: expected selection.`
fn syntax_message(report: &str) -> String {
    let reason = report.rsplit("= ").next().unwrap_or(report).trim();
    format!("Syntax Error: {reason}.")
}

fn server_error_json(error: &ServerError) -> Value {
    serde_json::to_value(error).unwrap_or_else(|_| json!({ "message": error.message }))
}

/// Runs a prepared operation for `caller`: `{data, errors?}` as Directus answers it with 200;
/// a document that fails validation against the caller's schema is 400
/// GRAPHQL_VALIDATION_EXCEPTION with the errors under `graphqlErrors`.
pub async fn execute(caller: Caller, prepared: Prepared) -> Result<Value, ApiError> {
    let schema = schema_for(&caller).await?;
    let response = schema.execute(prepared.request.data(caller)).await;
    // Parse and validation errors have no path; resolvers' errors always name their field.
    let invalid = response.data == async_graphql::Value::Null && !response.errors.is_empty() && response.errors.iter().all(|e| e.path.is_empty());
    if invalid {
        let mut error = ApiError::new(ErrorCode::GraphqlValidation, "GraphQL validation error.");
        error.extensions.insert("graphqlErrors".into(), Value::Array(response.errors.iter().map(server_error_json).collect()));
        return Err(error);
    }
    let mut body = serde_json::Map::new();
    body.insert("data".into(), response.data.into_json().unwrap_or(Value::Null));
    if !response.errors.is_empty() {
        body.insert("errors".into(), Value::Array(response.errors.iter().map(server_error_json).collect()));
    }
    Ok(Value::Object(body))
}

/// The caller's schema in SDL (`/server/specs/graphql`, `getSchema('sdl')`).
pub async fn sdl(caller: &Caller) -> Result<String, ApiError> {
    Ok(schema_for(caller).await?.sdl())
}

/// A built schema and what it was built for.
struct Cached {
    overview: Arc<SchemaOverview>,
    scope: Scope,
    access: String,
    schema: Schema,
}

/// The schemas built last, newest first. Process-wide so HTTP requests and hooks'
/// `GraphQLService` share them; an entry holds its schema overview, so a stale one can never
/// match a newer overview at the same address.
static CACHE: Mutex<Vec<Cached>> = Mutex::new(Vec::new());
const CACHED_SCHEMAS: usize = 32;

/// The caller's schema from the cache, or built and cached. The caller's permissions are read
/// each time (as REST reads them each request), so a permission change applies at once.
async fn schema_for(caller: &Caller) -> Result<Schema, ApiError> {
    let access = permissions::access(&caller.services, caller.accountability.as_ref(), &["read", "create", "update", "delete"]).await?;
    let key = match &access {
        None => "admin".to_string(),
        Some(by_action) => {
            let mut entries: Vec<String> = by_action
                .iter()
                .flat_map(|(action, collections)| collections.iter().map(move |(c, fields)| format!("{action}:{c}:{fields:?}")))
                .collect();
            entries.sort();
            entries.join("|")
        }
    };
    {
        let mut cache = CACHE.lock().unwrap();
        if let Some(i) = cache.iter().position(|c| Arc::ptr_eq(&c.overview, &caller.schema) && c.scope == caller.scope && c.access == key) {
            let entry = cache.remove(i);
            let schema = entry.schema.clone();
            cache.insert(0, entry);
            return Ok(schema);
        }
    }
    let plan = schema::Plan { overview: &caller.schema, access: access.as_ref(), scope: caller.scope };
    let built = system::build(&plan, caller).map_err(|e| ApiError::internal(format!("The GraphQL schema could not be built: {}", e.0)))?;
    let mut cache = CACHE.lock().unwrap();
    cache.insert(0, Cached { overview: caller.schema.clone(), scope: caller.scope, access: key, schema: built.clone() });
    cache.truncate(CACHED_SCHEMAS);
    Ok(built)
}
