//! `UsersService.requestPasswordReset` / `resetPassword` (spec §4.4, §7.4): a mail with a signed
//! link, then the new password set through the users service, so `users.update.before` and
//! `users.update` fire with `{password, status: "active"}` and no accountability, as in Directus.
//!
//! Decisions:
//! - The token is an HS256 JWT signed with `SECRET`: `{email, scope: "password-reset", hash}`,
//!   valid one day as in Directus. `hash` is a digest of the password hash at request time, so a
//!   link stops working once it (or any other password change) has been used — Directus rc.83
//!   links stayed reusable for the day.
//! - `reset_url` is checked against `PASSWORD_RESET_URL_ALLOW_LIST` before the user lookup, so
//!   the 400 depends on the request only and never tells whether an email exists.
//! - Emails match case-insensitively, as login does; only active users get a mail.
//! - A bad token is 401 `INVALID_CREDENTIALS` "Token invalid." / "Token expired." (the rc.83
//!   exception classes; the raw JWT error Directus threw was an anonymous 500). A valid token for
//!   a user who is no longer active, or whose password changed since, is 403 `FORBIDDEN`.

use sea_query::{Alias, Expr, ExprTrait, Func, Query};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::db::Row;
use crate::services::items::ItemsService;
use crate::services::{MutationOptions, Services};
use crate::ApiError;

const SCOPE: &str = "password-reset";
const TOKEN_TTL_SECONDS: i64 = 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct Claims {
    email: String,
    scope: String,
    hash: String,
    iat: i64,
    exp: i64,
}

/// Ties a token to the password it replaces (a digest: the token is readable by its holder).
fn password_digest(stored_hash: &str) -> String {
    Sha256::digest(stored_hash.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect()
}

/// Directus's `isUrlAllowed`: listed exactly, or same origin and path as a listed URL (query
/// and fragment may differ).
pub(crate) fn url_allowed(url: &str, allow_list: &str) -> bool {
    let base = |u: &str| u.split(['?', '#']).next().unwrap_or_default().trim_end_matches('/').to_string();
    allow_list.split(',').map(str::trim).filter(|a| !a.is_empty()).any(|allowed| allowed == url || base(allowed) == base(url))
}

pub struct PasswordReset<'a> {
    pub services: &'a Services,
    pub config: &'a Config,
}

impl PasswordReset<'_> {
    async fn find_user(&self, email: &str) -> Result<Option<Row>, ApiError> {
        let query = Query::select()
            .columns(["id", "email", "password", "status"].map(Alias::new))
            .from(Alias::new("directus_users"))
            .and_where(Expr::expr(Func::lower(Expr::col(Alias::new("email")))).eq(email.to_lowercase()))
            .limit(1)
            .to_owned();
        Ok(self.services.db.run(&query).await?.rows.into_iter().next())
    }

    /// A `reset_url` must be in `PASSWORD_RESET_URL_ALLOW_LIST`.
    pub fn check_reset_url(&self, reset_url: Option<&str>) -> Result<(), ApiError> {
        let Some(url) = reset_url else { return Ok(()) };
        let allow_list = self.config.env.string("PASSWORD_RESET_URL_ALLOW_LIST").unwrap_or_default();
        if url_allowed(url, &allow_list) {
            Ok(())
        } else {
            Err(ApiError::invalid_payload(format!("Url \"{url}\" can't be used to reset passwords.")))
        }
    }

    /// Mails a reset link to `email` if it belongs to an active user. `Ok` whether or not it does.
    pub async fn request(&self, email: &str, reset_url: Option<&str>) -> Result<(), ApiError> {
        self.check_reset_url(reset_url)?;
        let Some(user) = self.find_user(email).await? else { return Ok(()) };
        if user.get("status").and_then(Value::as_str) != Some("active") {
            return Ok(());
        }
        let address = user.get("email").and_then(Value::as_str).unwrap_or(email).to_string();
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            email: address.clone(),
            scope: SCOPE.into(),
            hash: password_digest(user.get("password").and_then(Value::as_str).unwrap_or_default()),
            iat: now,
            exp: now + TOKEN_TTL_SECONDS,
        };
        let token = super::tokens::sign_link_token(&self.config.secret, &claims)?;
        let link = match reset_url {
            Some(url) => format!("{url}?token={token}"),
            None => format!("{}/admin/reset-password?token={token}", self.config.public_url.trim_end_matches('/')),
        };
        let options = json!({
            "to": address,
            "subject": "Password Reset Request",
            "template": { "name": "password-reset", "data": { "url": link, "email": address } },
        });
        self.services.mail.send(&self.services.db, &options).await
    }

    /// Sets `password` for the user the token was issued to.
    pub async fn reset(&self, token: &str, password: &str) -> Result<(), ApiError> {
        let claims: Claims = super::tokens::decode_link_token(&self.config.secret, token)?;
        if claims.scope != SCOPE {
            return Err(ApiError::forbidden());
        }
        let user = self.find_user(&claims.email).await?.ok_or_else(ApiError::forbidden)?;
        let current = password_digest(user.get("password").and_then(Value::as_str).unwrap_or_default());
        if user.get("status").and_then(Value::as_str) != Some("active") || current != claims.hash {
            return Err(ApiError::forbidden());
        }
        let id = user.get("id").cloned().unwrap_or(Value::Null);
        let schema = self.services.schema.get().await?;
        let users = ItemsService::new("directus_users", self.services.clone(), schema, None);
        users.update_one(id, json!({ "password": password, "status": "active" }), MutationOptions::default()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_matches_exactly_or_by_origin_and_path() {
        let list = "https://app.example.com/reset, https://other.example.com/";
        assert!(url_allowed("https://app.example.com/reset", list));
        assert!(url_allowed("https://app.example.com/reset?lang=en", list));
        assert!(url_allowed("https://other.example.com", list));
        assert!(!url_allowed("https://app.example.com/reset/evil", list));
        assert!(!url_allowed("https://evil.example.com/reset", list));
        assert!(!url_allowed("https://app.example.com/reset", ""));
    }
}
