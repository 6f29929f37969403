//! The role's permissions on the service's collection (see `services::permissions`): presets and
//! field limits on payloads, the row filter on the keys of updates and deletes, and what reads
//! may select.

use sea_query::Cond;
use serde_json::Value;

use super::ItemsService;
use crate::query::select::{key_condition, Access, Select};
use crate::services::permissions::{self, Permission};
use crate::services::validation;
use crate::ApiError;

/// What a permission lets its holder read; `None` (admin, no accountability) reads everything.
pub(super) fn read_access(permission: Option<&Permission>) -> Access<'_> {
    match permission {
        Some(p) => Access { filter: p.filter.as_ref(), fields: p.fields.as_deref() },
        None => Access::default(),
    }
}

impl ItemsService {
    pub(super) async fn permission(&self, action: &str) -> Result<Option<Permission>, ApiError> {
        permissions::for_action(&self.services, self.accountability.as_ref(), &self.collection, action).await
    }

    /// The statement builder of this collection for a reader with `permission`.
    pub(super) fn select<'a>(&'a self, permission: Option<&'a Permission>) -> Result<Select<'a>, ApiError> {
        Ok(Select { collection: self.overview()?, schema: &self.schema, client: self.services.db.client(), access: read_access(permission) })
    }

    /// Presets under the payload, then 403 if it writes a field the role may not write, then
    /// the permission's validation.
    pub(super) async fn apply_permission(&self, data: Value, action: &str) -> Result<Value, ApiError> {
        let Some(permission) = self.permission(action).await? else { return Ok(data) };
        let mut merged = permission.presets.clone();
        if let Value::Object(m) = data {
            merged.extend(m);
        }
        if merged.keys().any(|k| !permission.allows_field(k)) {
            return Err(ApiError::forbidden());
        }
        if let Some(rules) = &permission.validation {
            validation::validate(rules, &merged, action == "create")?;
        }
        Ok(Value::Object(merged))
    }

    /// 403 unless every key is an existing item the role may act on.
    pub(super) async fn check_keys(&self, keys: &[Value], action: &str) -> Result<(), ApiError> {
        let Some(permission) = self.permission(action).await? else { return Ok(()) };
        let select = self.select(Some(&permission))?;
        let cond = Cond::all().add_option(select.with_row_filter(Some(key_condition(select.collection, keys)))?);
        let n = self.count(&select, cond).await?;
        let distinct: std::collections::HashSet<String> = keys.iter().map(key_text).collect();
        if n as usize != distinct.len() {
            return Err(ApiError::forbidden());
        }
        Ok(())
    }
}

/// A key as text, so keys of different JSON types (1 and "1") compare equal.
pub(super) fn key_text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}
