//! Role permissions (`directus_permissions`), as the items service applies them to a non-admin
//! accountability: no row for the action → 403; `permissions` is a filter every read, update and
//! delete is limited to; `fields` limits what can be read and written; `presets` are defaults
//! under the payload on create and update. Admins and services without accountability skip all of
//! it. The public role is `role = NULL`. `validation` is a filter the payload must satisfy.
//!
//! Roles with `app_access` also get the built-in minimal permissions on system collections
//! (`schema::system_data`: their own user, presets, settings, collections/fields/relations
//! meta, …) without stored rows, combined with a stored row for the same collection and action
//! as rc.83's `mergePermissions` does: the filters and validations are OR-ed, the field lists
//! joined. As in rc.83 a stored row whose `permissions` is `null` then counts as no filter of its
//! own, so the built-in filter alone applies (a `{}` filter keeps every row readable); a stored
//! row with `fields` `null` keeps meaning every field, as it does everywhere in Rectus.

use sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

use crate::auth::Accountability;
use crate::services::permission_cache::Rows;
use crate::services::Services;
use crate::query::{parse_filter_values, FilterContext};
use crate::schema::system_data;
use crate::services::relations::Relation;
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

/// A permission row before its filters are resolved.
#[derive(Debug, Clone, Default, PartialEq)]
struct Row {
    permissions: Option<Value>,
    validation: Option<Value>,
    /// `None` = all fields.
    fields: Option<Vec<String>>,
    presets: Map<String, Value>,
}

fn json_column(row: &Map<String, Value>, key: &str) -> Option<Value> {
    match row.get(key)? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    }
}

/// `fields` as stored (comma-separated) or built in (a list); `*` anywhere means all.
fn field_list(value: Option<&Value>) -> Option<Vec<String>> {
    let list: Vec<String> = match value? {
        Value::String(s) => s.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => return None,
    };
    (!list.iter().any(|f| f == "*")).then_some(list)
}

fn stored_row(row: &Map<String, Value>) -> Row {
    Row {
        permissions: json_column(row, "permissions"),
        validation: json_column(row, "validation"),
        fields: field_list(row.get("fields")),
        presets: json_column(row, "presets").and_then(|p| p.as_object().cloned()).unwrap_or_default(),
    }
}

/// The built-in app-access permission for `collection` and `action`, if any.
fn app_row(collection: &str, action: &str) -> Option<Row> {
    let builtin = system_data::get()
        .app_access_permissions()
        .iter()
        .find(|p| p.get("collection").and_then(Value::as_str) == Some(collection) && p.get("action").and_then(Value::as_str) == Some(action))?;
    Some(Row {
        permissions: builtin.get("permissions").cloned().filter(|p| !p.is_null()),
        validation: builtin.get("validation").cloned().filter(|v| !v.is_null()),
        fields: field_list(builtin.get("fields")),
        presets: Map::new(),
    })
}

/// `current` OR `added`, as rc.83 combines two filters: into `current`'s `_or` when it starts
/// with one, else a new `_or` (of `added` alone when there is no `current`).
fn or_filters(current: Option<Value>, added: Value) -> Value {
    match current {
        Some(Value::Object(mut o)) if o.keys().next().map(String::as_str) == Some("_or") && o["_or"].is_array() => {
            if let Some(items) = o.get_mut("_or").and_then(Value::as_array_mut) {
                items.push(added);
            }
            Value::Object(o)
        }
        Some(current) => json!({ "_or": [current, added] }),
        None => json!({ "_or": [added] }),
    }
}

/// A stored row combined with the built-in app-access row (`mergePerm` of rc.83).
fn merge(stored: Option<Row>, app: Option<Row>) -> Option<Row> {
    let (mut row, app) = match (stored, app) {
        (None, None) => return None,
        (Some(row), None) => return Some(row),
        (None, Some(app)) => return Some(app),
        (Some(row), Some(app)) => (row, app),
    };
    if let Some(filter) = app.permissions {
        row.permissions = Some(or_filters(row.permissions.take(), filter));
    }
    if let Some(validation) = app.validation {
        row.validation = Some(or_filters(row.validation.take(), validation));
    }
    row.fields = match (row.fields.take(), app.fields) {
        (Some(mut mine), Some(theirs)) => {
            for f in theirs {
                if !mine.contains(&f) {
                    mine.push(f);
                }
            }
            Some(mine)
        }
        _ => None,
    };
    Some(row)
}

/// The stored rows of `accountability`'s role for `action` on every collection, ordered by `id`
/// (through the permission cache).
async fn stored_rows(services: &Services, acc: &Accountability, action: &str) -> Result<Rows, ApiError> {
    let role = acc.role.as_deref();
    if let Some(rows) = services.permissions.get(role, action) {
        return Ok(rows);
    }
    let mut query = Query::select();
    query
        .columns(["collection", "permissions", "validation", "fields", "presets"].map(Alias::new))
        .from(Alias::new("directus_permissions"))
        .and_where(Expr::col(Alias::new("action")).eq(action))
        .order_by(Alias::new("id"), sea_query::Order::Asc);
    match role {
        Some(role) => query.and_where(Expr::col(Alias::new("role")).eq(role)),
        None => query.and_where(Expr::col(Alias::new("role")).is_null()),
    };
    let rows: Rows = Arc::new(services.db.run(&query).await?.rows);
    services.permissions.put(role, action, rows.clone());
    Ok(rows)
}

/// `PermissionsService.getAllowedFields(action, collection?)`: by collection, the fields the
/// stored permissions of the caller's role (the public role's without accountability or role)
/// list for `action`, `*` as written. As in rc.83 this reads the stored rows only: an admin's
/// role has none, and rows that list no fields are left out.
pub async fn allowed_fields(services: &Services, accountability: Option<&Accountability>, action: &str, collection: Option<&str>) -> Result<Map<String, Value>, ApiError> {
    let acc = accountability.cloned().unwrap_or_default();
    let mut allowed = Map::new();
    for row in stored_rows(services, &acc, action).await?.iter() {
        let Some(name) = row.get("collection").and_then(Value::as_str).filter(|c| collection.is_none_or(|wanted| wanted == *c)) else { continue };
        let listed: Vec<String> = match row.get("fields") {
            Some(Value::String(csv)) if !csv.is_empty() => csv.split(',').map(|f| f.trim().to_string()).collect(),
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            _ => continue,
        };
        let Value::Array(fields) = allowed.entry(name).or_insert_with(|| Value::Array(vec![])) else { continue };
        for field in listed {
            if !fields.iter().any(|f| f == field.as_str()) {
                fields.push(Value::String(field));
            }
        }
    }
    Ok(allowed)
}

/// Whether `accountability` gets the built-in app-access permissions.
fn has_app_access(acc: &Accountability) -> bool {
    acc.app && acc.role.is_some()
}

/// The permission of `accountability`'s role for `action` on `collection`; `Ok(None)` when no
/// check applies (admin or no accountability), 403 when the role has no such permission.
pub async fn for_action(services: &Services, accountability: Option<&Accountability>, collection: &str, action: &str) -> Result<Option<Permission>, ApiError> {
    let Some(acc) = accountability.filter(|a| !a.admin) else { return Ok(None) };
    let stored = stored_rows(services, acc, action).await?.iter().find(|r| r.get("collection").and_then(Value::as_str) == Some(collection)).map(stored_row);
    let app = if has_app_access(acc) { app_row(collection, action) } else { None };
    let row = merge(stored, app).ok_or_else(ApiError::forbidden)?;
    let ctx = FilterContext { user: acc.user.clone(), role: acc.role.clone() };
    let resolve = |filter: Option<Value>| match filter {
        Some(f) if f.as_object().is_some_and(|o| !o.is_empty()) => parse_filter_values(&f, &ctx).map(Some),
        _ => Ok(None),
    };
    Ok(Some(Permission { filter: resolve(row.permissions)?, fields: row.fields, validation: resolve(row.validation)?, presets: row.presets }))
}

/// Whether a relational field is expanded for `accountability`: as in rc.83, one whose related
/// collection the role may not read is left out of the answer instead of failing the read.
pub async fn reads_related(services: &Services, accountability: Option<&Accountability>, relation: Option<&Relation>) -> Result<bool, ApiError> {
    let related = match relation {
        Some(Relation::ManyToOne { related }) => related,
        Some(Relation::OneToMany { child, .. }) => child,
        // Each related collection is checked on its own when the field is expanded.
        Some(Relation::ManyToAny { .. }) | None => return Ok(true),
    };
    match for_action(services, accountability, related, "read").await {
        Ok(_) => Ok(true),
        Err(e) if e.status == 403 => Ok(false),
        Err(e) => Err(e),
    }
}

/// The collections `accountability` may read, each with the fields it may read (`None`: all);
/// `None` for admins and internal calls, which read everything.
pub async fn readable(services: &Services, accountability: Option<&Accountability>) -> Result<Option<FieldAccess>, ApiError> {
    Ok(access(services, accountability, &["read"]).await?.map(|mut by_action| by_action.remove("read").unwrap_or_default()))
}

/// The collections a role may act on, each with the fields it may touch (`None`: all).
pub type FieldAccess = HashMap<String, Option<Vec<String>>>;

/// [`FieldAccess`] for each of `actions` (through the permission cache); `None` for admins and
/// internal calls, which may do everything. Several stored rows for one collection and action
/// are joined like the app-access row is joined to a stored one (as rc.83 does).
pub async fn access(services: &Services, accountability: Option<&Accountability>, actions: &[&str]) -> Result<Option<HashMap<String, FieldAccess>>, ApiError> {
    let Some(acc) = accountability.filter(|a| !a.admin) else { return Ok(None) };
    let mut rows: HashMap<(String, String), Row> = HashMap::new();
    for action in actions {
        for row in stored_rows(services, acc, action).await?.iter() {
            let Some(collection) = row.get("collection").and_then(Value::as_str) else { continue };
            let key = (action.to_string(), collection.to_string());
            let parsed = stored_row(row);
            let merged = match rows.remove(&key) {
                Some(existing) => merge(Some(existing), Some(parsed)),
                None => Some(parsed),
            };
            rows.extend(merged.map(|m| (key, m)));
        }
    }
    if has_app_access(acc) {
        for builtin in system_data::get().app_access_permissions() {
            let (Some(collection), Some(action)) = (builtin.get("collection").and_then(Value::as_str), builtin.get("action").and_then(Value::as_str)) else { continue };
            if !actions.contains(&action) {
                continue;
            }
            let key = (action.to_string(), collection.to_string());
            let merged = merge(rows.remove(&key), app_row(collection, action));
            rows.extend(merged.map(|m| (key, m)));
        }
    }
    let mut by_action: HashMap<String, FieldAccess> = actions.iter().map(|a| (a.to_string(), HashMap::new())).collect();
    for ((action, collection), row) in rows {
        by_action.entry(action).or_default().insert(collection, row.fields);
    }
    Ok(Some(by_action))
}

/// `rows` read from `directus_permissions` followed by the built-in app-access permissions of an
/// app user's role (`role` filled, no `id`, `system: true`), as rc.83's
/// `PermissionsService.readByQuery` lists them. Unlike rc.83, which appends them whatever the
/// query, only those passing the query's `filter` are added.
pub fn with_app_access_rows(mut rows: Vec<Value>, accountability: Option<&Accountability>, filter: Option<&Value>) -> Vec<Value> {
    let Some(acc) = accountability.filter(|a| has_app_access(a)) else { return rows };
    for builtin in system_data::get().app_access_permissions() {
        let mut row = builtin.clone();
        row.insert("role".into(), json!(acc.role));
        if filter.is_none_or(|f| super::validation::validate(f, &row, true).is_ok()) {
            rows.push(Value::Object(row));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(permissions: Option<Value>, fields: Option<Vec<&str>>) -> Row {
        Row { permissions, fields: fields.map(|f| f.into_iter().map(str::to_string).collect()), ..Default::default() }
    }

    #[test]
    fn a_stored_row_is_joined_with_the_app_access_row() {
        let app = app_row("directus_users", "read").unwrap();
        assert_eq!(app.permissions, Some(json!({ "id": { "_eq": "$CURRENT_USER" } })));
        assert!(app.fields.as_ref().unwrap().contains(&"avatar".to_string()));

        let stored = row(Some(json!({ "email": { "_contains": "other" } })), Some(vec!["id", "email", "token"]));
        let merged = merge(Some(stored), Some(app.clone())).unwrap();
        assert_eq!(merged.permissions, Some(json!({ "_or": [{ "email": { "_contains": "other" } }, { "id": { "_eq": "$CURRENT_USER" } }] })));
        let fields = merged.fields.unwrap();
        assert!(fields.contains(&"token".to_string()) && fields.contains(&"avatar".to_string()));

        // As in rc.83: a stored `null` filter leaves the built-in one alone, `{}` keeps all rows.
        assert_eq!(merge(Some(row(None, None)), Some(app.clone())).unwrap().permissions, Some(json!({ "_or": [{ "id": { "_eq": "$CURRENT_USER" } }] })));
        let all = merge(Some(row(Some(json!({})), None)), Some(app.clone())).unwrap();
        assert_eq!((all.permissions, all.fields), (Some(json!({ "_or": [{}, { "id": { "_eq": "$CURRENT_USER" } }] })), None));

        assert_eq!(merge(None, Some(app.clone())), Some(app));
        assert_eq!(merge(None, None), None);
        assert!(app_row("articles", "read").is_none());
    }

    #[test]
    fn an_existing_or_is_extended() {
        let stored = row(Some(json!({ "_or": [{ "a": { "_eq": 1 } }] })), None);
        let merged = merge(Some(stored), Some(row(Some(json!({ "b": { "_eq": 2 } })), None))).unwrap();
        assert_eq!(merged.permissions, Some(json!({ "_or": [{ "a": { "_eq": 1 } }, { "b": { "_eq": 2 } }] })));
    }

    #[test]
    fn merged_filters_resolve_their_variables() {
        let ctx = FilterContext { user: Some("u1".into()), role: Some("r1".into()) };
        let merged = merge(Some(row(Some(json!({})), None)), app_row("directus_presets", "read")).unwrap();
        let resolved = parse_filter_values(&merged.permissions.unwrap(), &ctx).unwrap();
        assert_eq!(resolved["_or"][0], json!({}));
        assert_eq!(resolved["_or"][1]["_or"][0], json!({ "user": { "_eq": "u1" } }));
        assert_eq!(resolved["_or"][1]["_or"][1]["_and"][1], json!({ "role": { "_eq": "r1" } }));
    }
}
