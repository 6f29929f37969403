//! The Directus query language (spec §7.3): query-string parsing (qs style), sanitising and
//! validating `fields`, `filter`, `sort`, `limit`, `offset`, `page`, `search`, `meta`, `deep`,
//! and compiling filters and searches to parameterised SQL through sea-query.

mod filter;
mod filter_values;
mod qs;
mod sanitize;
mod search;
pub mod select;
#[cfg(test)]
pub(crate) mod tests;

use serde_json::{Map, Value};

use crate::schema::{CollectionOverview, SchemaOverview};
use crate::ApiError;

/// Who is asking; used for `$CURRENT_USER` / `$CURRENT_ROLE` in filters.
#[derive(Debug, Clone, Default)]
pub struct FilterContext {
    pub user: Option<String>,
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub column: String,
    pub descending: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaKind {
    TotalCount,
    FilterCount,
}

/// A sanitised query. `filter` has had its values parsed (`"true"` → true, `$NOW`, ...).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub fields: Vec<String>,
    pub filter: Option<Value>,
    pub sort: Vec<Sort>,
    /// `None` = the default of 100; `Some(-1)` = unlimited.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub page: Option<i64>,
    pub search: Option<String>,
    pub meta: Vec<MetaKind>,
    pub deep: Option<Map<String, Value>>,
}

impl Query {
    /// The query as Directus's `sanitizeQuery` leaves it in `req.sanitizedQuery`: `fields` always,
    /// the other keys only when the request set them (`sort` as `["-id"]`, `meta` as
    /// `["total_count"]`). [`sanitize`] reads it back unchanged.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("fields".into(), serde_json::json!(self.fields));
        if !self.sort.is_empty() {
            let sort: Vec<String> = self.sort.iter().map(|s| format!("{}{}", if s.descending { "-" } else { "" }, s.column)).collect();
            out.insert("sort".into(), serde_json::json!(sort));
        }
        if let Some(filter) = &self.filter {
            out.insert("filter".into(), filter.clone());
        }
        for (key, value) in [("limit", self.limit), ("offset", self.offset), ("page", self.page)] {
            if let Some(v) = value {
                out.insert(key.into(), serde_json::json!(v));
            }
        }
        if !self.meta.is_empty() {
            let meta: Vec<&str> = self.meta.iter().map(|m| match m {
                MetaKind::TotalCount => "total_count",
                MetaKind::FilterCount => "filter_count",
            }).collect();
            out.insert("meta".into(), serde_json::json!(meta));
        }
        if let Some(search) = &self.search {
            out.insert("search".into(), serde_json::json!(search));
        }
        if let Some(deep) = &self.deep {
            out.insert("deep".into(), Value::Object(deep.clone()));
        }
        Value::Object(out)
    }
}

/// The rows a query answers when it names no `limit`.
pub const DEFAULT_LIMIT: i64 = 100;

/// The first row a page starts at: `limit × (page − 1)` when `page` is set and the limit is not
/// unlimited, else `offset`. A product past 64 bits (what every engine's `OFFSET` takes) is 400
/// `INVALID_QUERY` rather than an overflow.
pub fn first_row(limit: i64, page: Option<i64>, offset: Option<i64>) -> Result<i64, ApiError> {
    match page {
        Some(page) if page > 0 && limit >= 0 => limit.checked_mul(page - 1).ok_or_else(|| ApiError::invalid_query(format!("\"page\" {page} at \"limit\" {limit} starts past the last row a database can address"))),
        _ => Ok(offset.unwrap_or(0).max(0)),
    }
}

/// Parses a raw query string the way Express's `qs` (depth 10) does:
/// `filter[title][_eq]=x&fields=a,b&sort[]=-id` → nested JSON objects/arrays of strings.
pub fn parse_query_string(raw: &str) -> Map<String, Value> {
    qs::parse(raw)
}

/// Sanitises and validates the parsed parameters into a [`Query`] (400 `INVALID_QUERY` with a
/// message naming the problem on bad input).
pub fn sanitize(params: &Map<String, Value>, ctx: &FilterContext) -> Result<Query, ApiError> {
    sanitize::sanitize(params, ctx, chrono::Utc::now())
}

pub use sanitize::cap_limit;

/// Parses the values of a filter that did not come through [`sanitize`] (permission filters):
/// `$CURRENT_USER`, `$NOW`, `"true"`, CSV lists, ...
pub fn parse_filter_values(filter: &Value, ctx: &FilterContext) -> Result<Value, ApiError> {
    filter_values::parse_filter(filter, ctx, chrono::Utc::now())
}

/// Compiles a (sanitised) filter on `collection` to a sea-query condition. Unknown fields and
/// operators are 400 `INVALID_QUERY`; relational paths (m2o, o2m, m2a with a collection scope)
/// use the schema's relations; `client` is the engine the condition is for.
pub fn compile_filter(filter: &Value, collection: &CollectionOverview, schema: &SchemaOverview, client: crate::config::DbClient) -> Result<sea_query::Condition, ApiError> {
    filter::compile(filter, collection, schema, client)
}

/// The `search` condition: case-insensitive LIKE over string/text fields, equality on numeric
/// fields when the term is numeric, on uuid fields when it is a uuid.
pub fn compile_search(term: &str, collection: &CollectionOverview) -> sea_query::Condition {
    search::compile(term, collection)
}
