//! `UsersService.inviteUser` / `acceptInvite` (spec §4.4, §7.4): `POST /users/invite` creates
//! each address as an `invited` user through the users service — with the caller's
//! accountability, so permissions apply and `users.create.before` / `users.create` fire — and
//! mails it a link; `POST /users/invite/accept` sets the password and activates the user.
//!
//! Decisions:
//! - The token is an HS256 JWT signed with `SECRET`: `{email, scope: "invite"}`, valid seven
//!   days, as in Directus.
//! - All users of one invite are created in one transaction that commits only after every mail
//!   went out (Directus mailed inside its transaction too): a failing mail invites nobody.
//! - `invite_url` must be in `USER_INVITE_URL_ALLOW_LIST` (same matching as password reset);
//!   the default link is `<PUBLIC_URL>/admin/accept-invite?token=…`.
//! - Accepting writes the password and status directly, like Directus, so it fires no
//!   `users.update`; a token for an address that is no longer `invited` is 400
//!   `INVALID_PAYLOAD` "Email address … hasn't been invited.". A bad token is 401
//!   `INVALID_CREDENTIALS`, as for password resets.

use sea_query::{Alias, Expr, ExprTrait, Func, Query};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::password_reset::url_allowed;
use super::Accountability;
use crate::config::Config;
use crate::services::items::ItemsService;
use crate::services::{MutationOptions, Services};
use crate::ApiError;

const SCOPE: &str = "invite";
const TOKEN_TTL_SECONDS: i64 = 7 * 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct Claims {
    email: String,
    scope: String,
    iat: i64,
    exp: i64,
}

pub struct Invites<'a> {
    pub services: &'a Services,
    pub config: &'a Config,
}

/// The `email` member of an invite: one address or a list, each one that parses as a mailbox.
pub fn invited_addresses(email: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let list: Vec<&Value> = match email {
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        Some(v @ Value::String(_)) => vec![v],
        None | Some(Value::Null) => return Err(ApiError::invalid_payload("\"email\" is required")),
        Some(_) => return Err(ApiError::invalid_payload("\"email\" must be an email address or a list of them")),
    };
    list.into_iter()
        .map(|v| match v.as_str() {
            Some(s) if s.parse::<lettre::Address>().is_ok() => Ok(s.to_string()),
            _ => Err(ApiError::invalid_payload(format!("\"email\" must be a valid email: {v}"))),
        })
        .collect()
}

impl Invites<'_> {
    fn sign(&self, email: &str) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims { email: email.to_string(), scope: SCOPE.into(), iat: now, exp: now + TOKEN_TTL_SECONDS };
        super::tokens::sign_link_token(&self.config.secret, &claims)
    }

    /// Invites every address into `role`, as `caller`.
    pub async fn invite(&self, emails: &[String], role: &str, invite_url: Option<&str>, subject: Option<&str>, caller: Option<Accountability>) -> Result<(), ApiError> {
        if let Some(url) = invite_url {
            let allow_list = self.config.env.string("USER_INVITE_URL_ALLOW_LIST").unwrap_or_default();
            if !url_allowed(url, &allow_list) {
                return Err(ApiError::invalid_payload(format!("Url \"{url}\" can't be used to invite users.")));
            }
        }
        let tx = self.services.db.begin_shared().await?;
        let result = self.create_and_mail(&tx, emails, role, invite_url, subject, caller).await;
        match result {
            Ok(()) => Ok(tx.commit().await?),
            Err(e) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    async fn create_and_mail(&self, tx: &crate::db::SharedTransaction, emails: &[String], role: &str, invite_url: Option<&str>, subject: Option<&str>, caller: Option<Accountability>) -> Result<(), ApiError> {
        let schema = self.services.schema.get().await?;
        let users = ItemsService::new("directus_users", self.services.clone(), schema, caller).in_transaction(Some(tx.clone()));
        let base = invite_url.map(str::to_string).unwrap_or_else(|| format!("{}/admin/accept-invite", self.config.public_url.trim_end_matches('/')));
        for email in emails {
            users.create_one(json!({ "email": email, "role": role, "status": "invited" }), MutationOptions::default()).await?;
            let link = format!("{base}?token={}", self.sign(email)?);
            let options = json!({
                "to": email,
                "subject": subject.unwrap_or("You've been invited"),
                "template": { "name": "user-invitation", "data": { "url": link, "email": email } },
            });
            self.services.mail.send(&self.services.db, &options).await?;
        }
        Ok(())
    }

    /// Sets `password` for the invited user the token names and activates them.
    pub async fn accept(&self, token: &str, password: &str) -> Result<(), ApiError> {
        let claims: Claims = super::tokens::decode_link_token(&self.config.secret, token)?;
        if claims.scope != SCOPE {
            return Err(ApiError::forbidden());
        }
        let email_matches = || Expr::expr(Func::lower(Expr::col(Alias::new("email")))).eq(claims.email.to_lowercase());
        let find = Query::select().columns(["id", "status"].map(Alias::new)).from(Alias::new("directus_users")).and_where(email_matches()).limit(1).to_owned();
        let user = self.services.db.run(&find).await?.rows.into_iter().next();
        if user.as_ref().and_then(|u| u.get("status")).and_then(Value::as_str) != Some("invited") {
            return Err(ApiError::invalid_payload(format!("Email address {} hasn't been invited.", claims.email)));
        }
        let update = Query::update()
            .table(Alias::new("directus_users"))
            .values([(Alias::new("password"), super::password::hash(password).into()), (Alias::new("status"), "active".into())])
            .and_where(email_matches())
            .to_owned();
        self.services.db.run(&update).await?;
        self.services.tokens.clear();
        self.services.responses.after_write().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_one_or_a_list_of_valid_emails() {
        assert_eq!(invited_addresses(Some(&json!("a@example.com"))).unwrap(), ["a@example.com"]);
        assert_eq!(invited_addresses(Some(&json!(["a@example.com", "b@example.com"]))).unwrap().len(), 2);
        for bad in [json!(null), json!([]), json!("nope"), json!(["a@example.com", 3])] {
            assert_eq!(invited_addresses(Some(&bad)).unwrap_err().code.as_str(), "INVALID_PAYLOAD", "{bad}");
        }
        assert!(invited_addresses(None).is_err());
    }
}
