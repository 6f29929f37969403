//! What `UsersService` and `RolesService` add to plain item writes (spec §2.4, §4.4), applied by
//! `ItemsService` on `directus_users` / `directus_roles` so HTTP and hooks get the same rules:
//!
//! - a user's email is unique, compared case-insensitively (400 `RECORD_NOT_UNIQUE`), and a new
//!   password must match the settings' `auth_password_policy` (400 `FAILED_VALIDATION`) — both
//!   checked before `users.*.before` runs, as in Directus;
//! - the last active admin user can't be deleted, suspended or moved to a non-admin role, and the
//!   last admin role can't be deleted (422 `UNPROCESSABLE_ENTITY`, before any event);
//! - deleting roles first deletes their permissions and presets and suspends their users, each
//!   through its own service so `permissions.delete`, `presets.delete` and `users.update` fire
//!   (`ItemsService` runs that cascade; the rules here only read the database they are given).

use sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query};
use serde_json::{json, Map, Value};

use crate::db::Database;
use crate::{ApiError, ErrorCode};

fn unprocessable(message: &str) -> ApiError {
    ApiError::new(ErrorCode::UnprocessableEntity, message)
}

fn keys_text(keys: &[Value]) -> Vec<String> {
    keys.iter().map(|k| k.as_str().map(str::to_string).unwrap_or_else(|| k.to_string())).collect()
}

async fn count(db: &Database, select: &sea_query::SelectStatement) -> Result<i64, ApiError> {
    let rows = db.run(select).await?.rows;
    Ok(rows.first().and_then(|r| r.values().next()).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0))
}

/// Active users of an admin role, other than `excluding`.
async fn other_admins(db: &Database, excluding: &[String]) -> Result<i64, ApiError> {
    let u = Alias::new("directus_users");
    let r = Alias::new("directus_roles");
    let select = Query::select()
        .expr(Expr::col((u.clone(), Alias::new("id"))).count())
        .from(u.clone())
        .inner_join(r.clone(), Expr::col((u.clone(), Alias::new("role"))).equals((r.clone(), Alias::new("id"))))
        .and_where(Expr::col((r, Alias::new("admin_access"))).eq(true))
        .and_where(Expr::col((u.clone(), Alias::new("status"))).eq("active"))
        .and_where(Expr::col((u, Alias::new("id"))).is_not_in(excluding.iter().cloned()))
        .to_owned();
    count(db, &select).await
}

async fn is_admin_role(db: &Database, role: &Value) -> Result<bool, ApiError> {
    let Some(role) = role.as_str() else { return Ok(false) };
    let select = Query::select()
        .expr(Expr::col(Asterisk).count())
        .from(Alias::new("directus_roles"))
        .and_where(Expr::col(Alias::new("id")).eq(role))
        .and_where(Expr::col(Alias::new("admin_access")).eq(true))
        .to_owned();
    Ok(count(db, &select).await? > 0)
}

/// Checks a user payload; `keys` are the users being updated (`None` on create).
pub async fn check_user_write(db: &Database, keys: Option<&[Value]>, data: &Map<String, Value>) -> Result<(), ApiError> {
    let excluding = keys.map(keys_text).unwrap_or_default();
    if let Some(email) = data.get("email").and_then(Value::as_str) {
        if keys.is_some_and(|k| k.len() > 1) {
            return Err(record_not_unique());
        }
        let select = Query::select()
            .expr(Expr::col(Asterisk).count())
            .from(Alias::new("directus_users"))
            .and_where(Expr::expr(Func::lower(Expr::col(Alias::new("email")))).eq(email.to_lowercase()))
            .and_where(Expr::col(Alias::new("id")).is_not_in(excluding.clone()))
            .to_owned();
        if count(db, &select).await? > 0 {
            return Err(record_not_unique());
        }
    }
    if let Some(password) = data.get("password").and_then(Value::as_str) {
        check_password_policy(db, password).await?;
    }
    if keys.is_some() && data.contains_key("tfa_secret") {
        // Secrets are set and removed only through `/users/me/tfa/*`, which prove the code.
        return Err(ApiError::invalid_payload("You can't change the \"tfa_secret\" value manually."));
    }
    if let Some(keys) = keys {
        let demoted = match data.get("role") {
            Some(role) => !is_admin_role(db, role).await?,
            None => false,
        };
        let suspended = data.get("status").is_some_and(|s| s.as_str() != Some("active"));
        if (demoted || suspended) && other_admins(db, &excluding).await? == 0 && admins_among(db, keys).await? > 0 {
            return Err(unprocessable("You can't change the active status or role of the last admin user."));
        }
    }
    Ok(())
}

async fn admins_among(db: &Database, keys: &[Value]) -> Result<i64, ApiError> {
    let all = other_admins(db, &[]).await?;
    Ok(all - other_admins(db, &keys_text(keys)).await?)
}

fn record_not_unique() -> ApiError {
    let mut extensions = Map::new();
    extensions.insert("collection".into(), json!("directus_users"));
    extensions.insert("field".into(), json!("email"));
    ApiError::new(ErrorCode::RecordNotUnique, "Field \"email\" has to be unique.").with_extensions(extensions)
}

/// `auth_password_policy` is a JS regex literal (`/^.{8,}$/`) or a bare pattern.
async fn check_password_policy(db: &Database, password: &str) -> Result<(), ApiError> {
    let select = Query::select().column(Alias::new("auth_password_policy")).from(Alias::new("directus_settings")).limit(1).to_owned();
    let rows = db.run(&select).await?.rows;
    let Some(policy) = rows.first().and_then(|r| r.get("auth_password_policy")).and_then(Value::as_str).filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let (pattern, flags) = match policy.strip_prefix('/').and_then(|p| p.rsplit_once('/')) {
        Some((pattern, flags)) => (pattern, flags),
        None => (policy, ""),
    };
    let source = if flags.contains('i') { format!("(?i){pattern}") } else { pattern.to_string() };
    let regex = regex::Regex::new(&source).map_err(|e| ApiError::internal(format!("auth_password_policy can't be used: {e}")))?;
    if regex.is_match(password) {
        return Ok(());
    }
    let mut extensions = Map::new();
    extensions.insert("field".into(), json!("password"));
    extensions.insert("type".into(), json!("pattern"));
    Err(ApiError::new(ErrorCode::FailedValidation, "Provided password doesn't match password policy").with_extensions(extensions))
}

/// The last admin user can't be deleted.
pub async fn check_user_delete(db: &Database, keys: &[Value]) -> Result<(), ApiError> {
    if admins_among(db, keys).await? > 0 && other_admins(db, &keys_text(keys)).await? == 0 {
        return Err(unprocessable("You can't delete the last admin user."));
    }
    Ok(())
}

/// The last admin role can't be deleted.
pub async fn check_role_delete(db: &Database, keys: &[Value]) -> Result<(), ApiError> {
    let admin_roles = |excluding: Vec<String>| {
        Query::select()
            .expr(Expr::col(Asterisk).count())
            .from(Alias::new("directus_roles"))
            .and_where(Expr::col(Alias::new("admin_access")).eq(true))
            .and_where(Expr::col(Alias::new("id")).is_not_in(excluding))
            .to_owned()
    };
    let deleting_admin = count(db, &admin_roles(vec![])).await? > count(db, &admin_roles(keys_text(keys))).await?;
    if deleting_admin && count(db, &admin_roles(keys_text(keys))).await? == 0 {
        return Err(unprocessable("You can't delete the last admin role."));
    }
    Ok(())
}

/// What users of a deleted role become.
pub fn suspended_without_role() -> Value {
    json!({ "role": null, "status": "suspended" })
}
