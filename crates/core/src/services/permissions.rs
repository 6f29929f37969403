//! Role permissions (`directus_permissions`), as the items service applies them to a non-admin
//! accountability: no row for the action → 403; `permissions` is a filter every read, update and
//! delete is limited to; `fields` limits what can be read and written; `presets` are defaults
//! under the payload on create and update. Admins and services without accountability skip all of
//! it. The public role is `role = NULL`. `validation` is a filter the payload must satisfy.

use sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{Map, Value};

use crate::auth::Accountability;
use crate::db::Database;
use crate::query::{parse_filter_values, FilterContext};
use crate::ApiError;

#[derive(Debug, Clone)]
pub struct Permission {
    /// Row filter (already with `$CURRENT_USER` & co. resolved); `None` = every row.
    pub filter: Option<Value>,
    /// Allowed fields; `None` = all (`*`).
    pub fields: Option<Vec<String>>,
    /// Filter a create/update payload must satisfy (see `validation.rs`).
    pub validation: Option<Value>,
    pub presets: Map<String, Value>,
}

impl Permission {
    pub fn allows_field(&self, field: &str) -> bool {
        self.fields.as_ref().is_none_or(|f| f.iter().any(|a| a == "*" || a == field))
    }
}

fn json_column(row: &Map<String, Value>, key: &str) -> Option<Value> {
    match row.get(key)? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

/// The permission of `accountability`'s role for `action` on `collection`; `Ok(None)` when no
/// check applies (admin or no accountability), 403 when the role has no such permission.
pub async fn for_action(db: &Database, accountability: Option<&Accountability>, collection: &str, action: &str) -> Result<Option<Permission>, ApiError> {
    let Some(acc) = accountability.filter(|a| !a.admin) else { return Ok(None) };
    let mut query = Query::select();
    query
        .columns(["permissions", "validation", "fields", "presets"].map(Alias::new))
        .from(Alias::new("directus_permissions"))
        .and_where(Expr::col(Alias::new("collection")).eq(collection))
        .and_where(Expr::col(Alias::new("action")).eq(action))
        .limit(1);
    match &acc.role {
        Some(role) => query.and_where(Expr::col(Alias::new("role")).eq(role.as_str())),
        None => query.and_where(Expr::col(Alias::new("role")).is_null()),
    };
    let row = db.run(&query).await?.rows.into_iter().next().ok_or_else(ApiError::forbidden)?;
    let ctx = FilterContext { user: acc.user.clone(), role: acc.role.clone() };
    let filter = match json_column(&row, "permissions") {
        Some(f) if f.as_object().is_some_and(|o| !o.is_empty()) => Some(parse_filter_values(&f, &ctx)?),
        _ => None,
    };
    let fields = row
        .get("fields")
        .and_then(Value::as_str)
        .map(|f| f.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>())
        .filter(|f| !f.iter().any(|s| s == "*"));
    let presets = json_column(&row, "presets").and_then(|p| p.as_object().cloned()).unwrap_or_default();
    let validation = match json_column(&row, "validation") {
        Some(v) if v.as_object().is_some_and(|o| !o.is_empty()) => Some(parse_filter_values(&v, &ctx)?),
        _ => None,
    };
    Ok(Some(Permission { filter, fields, validation, presets }))
}
