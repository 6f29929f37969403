//! `AuthenticationService`: login, refresh and logout with sessions in `directus_sessions`, and
//! the `auth.login`, `auth.refresh` and `auth.logout` events (spec §2.5). Password logins and SSO
//! logins (`oauth`) share [`AuthenticationService::authenticate`].
//!
//! Decision on `auth.login.before` (spec §9 item 6): listeners get `(payload, ctx)` as in rc.83
//! (the payload is the request body plus `ip` and `userAgent`), a throw cancels the login with its
//! error, and return values are ignored as in rc.64 — rc.83 replaced the user record with them,
//! which broke every login as soon as any listener existed.
//!
//! `auth.refresh` and `auth.logout` are in the Directus docs' event table as "coming soon" and no
//! Directus release emits them; Rectus emits them shaped like `auth.login`'s (decided here):
//! `.before` with `(payload, ctx)` and `status: 'pending'` before anything changes, where the
//! payload is `{refresh_token, ip, userAgent}` and `ctx.user` the id of the session's user (null
//! for an unknown token); a throw refuses the refresh or logout with its exception and the
//! session stays as it was; return values are ignored. The after-event follows with `success`
//! or `fail` (refresh: unknown or expired token, inactive user, then 401; logout: no session had
//! the token, still answered 200 as Directus does).

use sea_query::{Alias, Expr, ExprTrait, Func, Query};
use serde_json::{json, Map, Value};

use super::{password, tokens, Accountability};
use crate::config::Config;
use crate::events::EventArgs;
use crate::services::items::ItemsService;
use crate::services::{MutationOptions, Services};
use crate::{ApiError, ErrorCode};

pub struct LoginResult {
    pub access_token: String,
    pub expires_ms: u64,
    pub refresh_token: String,
    pub user: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(ErrorCode::InvalidCredentials, "Invalid user credentials.")
}

fn refresh_token() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 64)
}

/// How the one logging in proved who they are.
#[derive(Clone, Copy)]
pub enum Proof<'a> {
    Password(&'a str),
    /// An identity provider vouched for the email (SSO): there is no password to check.
    Provider,
}

/// The `id`, `password` and `status` of the user with this email (compared case-insensitively).
pub async fn user_by_email(db: &crate::db::Database, email: &str) -> Result<Option<Map<String, Value>>, ApiError> {
    let query = Query::select()
        .columns(["id", "password", "status", "tfa_secret"].map(Alias::new))
        .from(Alias::new("directus_users"))
        .and_where(Expr::expr(Func::lower(Expr::col(Alias::new("email")))).eq(email.to_lowercase()))
        .limit(1)
        .to_owned();
    Ok(db.run(&query).await?.rows.into_iter().next())
}

pub struct AuthenticationService<'a> {
    pub services: &'a Services,
    pub config: &'a Config,
    /// What `/auth/*` routes build: `{ip, userAgent, role: null}` (spec §5.2).
    pub accountability: Accountability,
}

impl AuthenticationService<'_> {
    fn accountability_json(&self) -> Value {
        json!({ "ip": self.accountability.ip, "userAgent": self.accountability.user_agent, "role": null })
    }

    fn context(&self, event: &str, status: &str, payload: &Value, user: &Value) -> Map<String, Value> {
        let mut ctx = Map::new();
        ctx.insert("event".into(), json!(event));
        ctx.insert("action".into(), json!(event.split('.').nth(1).unwrap_or_default()));
        ctx.insert("payload".into(), payload.clone());
        ctx.insert("accountability".into(), self.accountability_json());
        ctx.insert("status".into(), json!(status));
        ctx.insert("user".into(), user.clone());
        ctx
    }

    fn after(&self, status: &str, payload: &Value, user: &Value) {
        self.emit_after("auth.login", status, payload, user);
    }

    fn emit_after(&self, event: &str, status: &str, payload: &Value, user: &Value) {
        let ctx = self.context(event, status, payload, user);
        self.services.bus.emit_after(event, EventArgs::with_input(payload.clone(), ctx));
    }

    /// `auth.<action>.before` with `status: 'pending'`; its error refuses the action.
    async fn emit_before(&self, event: &str, payload: &Value, user: &Value) -> Result<(), ApiError> {
        // Hooks read `ctx.schema`: make sure it is loaded before the first event.
        self.services.schema.get().await?;
        let ctx = self.context(event, "pending", payload, user);
        self.services.bus.emit_before(event, EventArgs::with_input(payload.clone(), ctx)).await.map(|_| ())
    }

    /// The payload of the refresh and logout events.
    fn session_payload(&self, token: &str) -> Value {
        json!({ "refresh_token": token, "ip": self.accountability.ip, "userAgent": self.accountability.user_agent })
    }

    /// `POST /auth/login`: checks the body, then [`authenticate`](Self::authenticate)s with the
    /// password; the events get the body plus `ip` and `userAgent`.
    pub async fn login(&self, body: &Value) -> Result<LoginResult, ApiError> {
        let email = body.get("email").and_then(Value::as_str).filter(|e| e.contains('@'));
        let pass = body.get("password").and_then(Value::as_str);
        let (Some(email), Some(pass)) = (email, pass) else {
            return Err(ApiError::invalid_payload("\"email\" must be a valid email and \"password\" is required"));
        };
        let mut payload = body.as_object().cloned().unwrap_or_default();
        payload.insert("ip".into(), json!(self.accountability.ip));
        payload.insert("userAgent".into(), json!(self.accountability.user_agent));
        self.authenticate(email, &Value::Object(payload), Proof::Password(pass)).await
    }

    /// The login every way in shares (Directus's `authenticate`): `auth.login.before` with
    /// `payload`, the user checks, the session and activity rows, `auth.login`.
    pub async fn authenticate(&self, email: &str, payload: &Value, proof: Proof<'_>) -> Result<LoginResult, ApiError> {
        let user = user_by_email(&self.services.db, email).await?;
        let user_id = user.as_ref().and_then(|u| u.get("id")).cloned().unwrap_or(Value::Null);
        // Hooks read `ctx.schema`: make sure it is loaded before the first event.
        let schema = self.services.schema.get().await?;

        let ctx = self.context("auth.login.before", "pending", payload, &user_id);
        self.services.bus.emit_before("auth.login.before", EventArgs::with_input(payload.clone(), ctx)).await?;

        let Some(user) = user else {
            if let Proof::Password(pass) = proof {
                // Spend the time of a real check so response times don't reveal which emails exist.
                password::verify(pass, "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$wS5w2QgBtEu1nJ8CKIFKbBB2GeVKS4kfMSX5lbE5TuM");
            }
            self.after("fail", payload, &user_id);
            return Err(invalid_credentials());
        };
        if let Proof::Password(pass) = proof {
            let hash = user.get("password").and_then(Value::as_str).unwrap_or_default();
            if !password::verify(pass, hash) {
                self.after("fail", payload, &user_id);
                return Err(invalid_credentials());
            }
        }
        if user.get("status").and_then(Value::as_str) != Some("active") {
            self.after("fail", payload, &user_id);
            return Err(ApiError::new(ErrorCode::UserSuspended, "User suspended."));
        }
        // The second factor guards passwords; a provider's login is its own proof.
        if let Proof::Password(_) = proof {
            if let Err(e) = super::tfa::check_login(user.get("tfa_secret").and_then(Value::as_str), payload.get("otp").and_then(Value::as_str)) {
                self.after("fail", payload, &user_id);
                return Err(e);
            }
        }
        let id = user_id.as_str().unwrap_or_default().to_string();
        let result = self.issue(&id).await?;

        let activity = ItemsService::new("directus_activity", self.services.clone(), schema, None);
        activity
            .create_one(
                json!({ "action": "authenticate", "user": id, "ip": self.accountability.ip.clone().unwrap_or_default(), "user_agent": self.accountability.user_agent, "collection": "directus_users", "item": id }),
                MutationOptions::default(),
            )
            .await?;
        let touch = Query::update()
            .table(Alias::new("directus_users"))
            .value(Alias::new("last_access"), chrono::Utc::now().naive_utc())
            .and_where(Expr::col(Alias::new("id")).eq(id.as_str()))
            .to_owned();
        self.services.db.run(&touch).await?;
        self.after("success", payload, &user_id);
        Ok(result)
    }

    /// A new session row and the tokens for it.
    async fn issue(&self, user: &str) -> Result<LoginResult, ApiError> {
        let refresh = refresh_token();
        let expires = chrono::Utc::now() + chrono::Duration::milliseconds(self.config.refresh_token_ttl_ms as i64);
        let insert = Query::insert()
            .into_table(Alias::new("directus_sessions"))
            .columns(["token", "user", "expires", "ip", "user_agent"].map(Alias::new))
            .values_panic([
                refresh.clone().into(),
                user.into(),
                expires.naive_utc().into(),
                self.accountability.ip.clone().into(),
                self.accountability.user_agent.clone().into(),
            ])
            .to_owned();
        self.services.db.run(&insert).await?;
        let ttl = self.config.access_token_ttl_ms;
        Ok(LoginResult { access_token: tokens::sign_access_token(&self.config.secret, user, ttl)?, expires_ms: ttl, refresh_token: refresh, user: user.to_string() })
    }

    /// The session with this refresh token: its user, expiry and the user's status.
    async fn session(&self, token: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        let (s, u) = (Alias::new("s"), Alias::new("u"));
        let query = Query::select()
            .column((s.clone(), Alias::new("user")))
            .column((s.clone(), Alias::new("expires")))
            .column((u.clone(), Alias::new("status")))
            .from_as(Alias::new("directus_sessions"), s.clone())
            .join_as(sea_query::JoinType::LeftJoin, Alias::new("directus_users"), u.clone(), Expr::col((u, Alias::new("id"))).equals((s.clone(), Alias::new("user"))))
            .and_where(Expr::col((s, Alias::new("token"))).eq(token))
            .limit(1)
            .to_owned();
        Ok(self.services.db.run(&query).await?.rows.into_iter().next())
    }

    /// Exchanges a refresh token for new tokens, rotating the refresh token; `auth.refresh.before`
    /// and `auth.refresh` around it.
    pub async fn refresh(&self, token: &str) -> Result<LoginResult, ApiError> {
        let payload = self.session_payload(token);
        let session = self.session(token).await?;
        let user = session.as_ref().and_then(|s| s.get("user")).cloned().unwrap_or(Value::Null);
        self.emit_before("auth.refresh.before", &payload, &user).await?;
        let fail = || {
            self.emit_after("auth.refresh", "fail", &payload, &user);
            Err(invalid_credentials())
        };
        let Some(session) = session else { return fail() };
        let expired = session.get("expires").and_then(crate::db::bind::parse_datetime).is_none_or(|e| e < chrono::Utc::now());
        if expired {
            self.delete_session(token).await?;
            return fail();
        }
        if session.get("status").and_then(Value::as_str) != Some("active") {
            return fail();
        }
        self.delete_session(token).await?;
        let result = self.issue(user.as_str().unwrap_or_default()).await?;
        self.emit_after("auth.refresh", "success", &payload, &user);
        Ok(result)
    }

    /// Ends the session with this refresh token; `auth.logout.before` and `auth.logout` around it
    /// (`fail` when no session had the token, which is still no error, as in Directus).
    pub async fn logout(&self, token: &str) -> Result<(), ApiError> {
        let payload = self.session_payload(token);
        let user = self.session(token).await?.and_then(|s| s.get("user").cloned()).unwrap_or(Value::Null);
        self.emit_before("auth.logout.before", &payload, &user).await?;
        let ended = self.delete_session(token).await?;
        self.emit_after("auth.logout", if ended { "success" } else { "fail" }, &payload, &user);
        Ok(())
    }

    /// Deletes the session row; whether there was one.
    async fn delete_session(&self, token: &str) -> Result<bool, ApiError> {
        let delete = Query::delete().from_table(Alias::new("directus_sessions")).and_where(Expr::col(Alias::new("token")).eq(token)).to_owned();
        Ok(self.services.db.run(&delete).await?.rows_affected > 0)
    }
}
