//! The SSO login as Directus rc.61–rc.98 ran it, with its events (spec §2.5):
//!
//! 1. `GET /auth/oauth/:provider` refuses a `?redirect=` off the allow list ([`super::redirect`]), emits `oauth.<p>.redirect` (after) then `oauth.<p>.redirect.before`
//!    with `ctx = {event, action: 'redirect', payload: {provider, redirect}, accountability, user: null}`,
//!    and sends the browser to the provider.
//! 2. The callback emits `oauth.<p>.login.before` with `(grantResponse, ctx)`, `status: 'pending'`,
//!    for every callback of a configured provider, also failed ones (the grant response is then
//!    `{error}`, as grant reported it), reads the email from the profile (refused when the profile
//!    says `email_verified: false`), optionally registers the user, and logs in through [`AuthenticationService::authenticate`] (so `auth.login.before` and
//!    `auth.login` fire with the payload `{email}`). `oauth.<p>.login` follows with `success` or
//!    `fail`. A before-hook that throws ends the login with its exception.

use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::error::OAuthError;
use super::protocol::OAuthProviders;
use super::state::LoginState;
use super::ProviderConfig;
use crate::auth::service::{user_by_email, AuthenticationService, LoginResult, Proof};
use crate::auth::Accountability;
use crate::config::Config;
use crate::events::EventArgs;
use crate::schema::SchemaOverview;
use crate::services::items::ItemsService;
use crate::services::{MutationOptions, Services};
use crate::{ApiError, ErrorCode};

/// The query of the provider's redirect back.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Where to send the browser, and the sealed state for the state cookie.
pub struct Authorization {
    pub url: String,
    pub state_cookie: String,
}

/// How a callback ended. `redirect` is the signed `?redirect=` of the login, if it asked for one.
pub struct Finished {
    pub redirect: Option<String>,
    pub result: Result<LoginResult, ApiError>,
}

pub struct OAuthLogin<'a> {
    pub services: &'a Services,
    pub config: &'a Config,
    pub providers: &'a OAuthProviders,
}

/// lodash `get`: `emails.0.value` or `emails[0].value`.
fn get_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.replace('[', ".").replace(']', "").split('.').filter(|s| !s.is_empty()).try_fold(value, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => a.get(key.parse::<usize>().ok()?),
        _ => None,
    })
}

impl OAuthLogin<'_> {
    /// `GET /auth/oauth`: the providers' names, or `null` when there are none.
    pub fn list(&self) -> Value {
        let names = self.providers.names();
        if names.is_empty() {
            Value::Null
        } else {
            json!(names)
        }
    }

    /// `GET /auth/oauth/:provider`. `caller` is the request's accountability.
    pub async fn authorize(&self, name: &str, redirect: Option<String>, caller: &Accountability) -> Result<Authorization, ApiError> {
        let provider = self.providers.get(name)?;
        if let Some(r) = &redirect {
            super::redirect::check(r, &provider.name, &self.config.env, &self.config.public_url)?;
        }
        self.services.schema.get().await?;
        let mut payload = Map::new();
        payload.insert("provider".into(), json!(provider.name));
        if let Some(r) = &redirect {
            payload.insert("redirect".into(), json!(r));
        }
        let ctx = |event: &str| {
            let mut ctx = Map::new();
            ctx.insert("event".into(), json!(event));
            ctx.insert("action".into(), json!("redirect"));
            ctx.insert("payload".into(), Value::Object(payload.clone()));
            ctx.insert("accountability".into(), caller.to_json());
            ctx.insert("user".into(), Value::Null);
            EventArgs::context(ctx)
        };
        let event = format!("oauth.{}.redirect", provider.name);
        self.services.bus.emit_after(&event, ctx(&event));
        let before = format!("{event}.before");
        self.services.bus.emit_before(&before, ctx(&before)).await?;
        let (url, state) = self.providers.authorization(provider, redirect).await?;
        Ok(Authorization { url, state_cookie: state.seal(self.providers.secret()) })
    }

    /// `GET /auth/oauth/:provider/callback`. `state_cookie` is the state cookie's value;
    /// `accountability` holds the caller's `ip` and `userAgent`.
    pub async fn callback(&self, name: &str, query: Callback, state_cookie: Option<&str>, accountability: Accountability) -> Result<Finished, ApiError> {
        let provider = self.providers.get(name)?;
        let state = state_cookie.and_then(|c| LoginState::open(c, self.providers.secret())).filter(|s| s.provider == provider.name);
        let redirect = state.as_ref().and_then(|s| s.redirect.clone());
        let schema = self.services.schema.get().await?;
        let grant = match &state {
            Some(s) if query.state.as_deref() == Some(s.csrf.as_str()) => match (&query.error, &query.code) {
                (Some(error), _) => Err(OAuthError::Denied { provider: provider.name.clone(), error: error.clone(), description: query.error_description.clone() }),
                (None, None) => Err(OAuthError::MissingCode { provider: provider.name.clone() }),
                (None, Some(code)) => self.providers.exchange(provider, s, code).await,
            },
            _ => Err(OAuthError::StateMismatch),
        };
        let payload = match &grant {
            Ok(response) => response.clone(),
            Err(OAuthError::Denied { error, description, .. }) => json!({ "error": { "error": error, "error_description": description } }),
            Err(e) => json!({ "error": e.to_string() }),
        };
        let hooks = OAuthEvents { services: self.services, provider: &provider.name, payload: &payload, accountability: &accountability };
        let result = async {
            hooks.emit_before().await?;
            let response = grant?;
            let email = get_path(&response, &format!("profile.{}", provider.profile_email))
                .and_then(Value::as_str)
                .filter(|e| !e.is_empty())
                .ok_or_else(|| OAuthError::EmailMissing { provider: provider.name.clone(), path: provider.profile_email.clone() })?;
            // An address the provider says it has not verified proves nothing: anyone could have
            // typed someone else's there.
            if get_path(&response, "profile.email_verified").is_some_and(|v| v == &json!(false) || v == &json!("false")) {
                return Err(OAuthError::EmailUnverified { provider: provider.name.clone(), email: email.to_string() });
            }
            if provider.allow_public_registration {
                self.register(provider, email, &response, schema.clone()).await?;
            }
            let auth = AuthenticationService { services: self.services, config: self.config, accountability: accountability.clone() };
            auth.authenticate(email, &json!({ "email": email }), Proof::Provider).await.map_err(|e| match e.code {
                ErrorCode::InvalidCredentials => OAuthError::UnknownUser(email.to_string()),
                _ => OAuthError::Api(e),
            })
        }
        .await
        .map_err(ApiError::from);
        hooks.emit_after(if result.is_ok() { "success" } else { "fail" });
        Ok(Finished { redirect, result })
    }

    /// Creates the user of a first SSO login (through the users service, so `users.create`
    /// events fire), unless one has the email already.
    async fn register(&self, provider: &ProviderConfig, email: &str, response: &Value, schema: Arc<SchemaOverview>) -> Result<(), OAuthError> {
        let users = ItemsService::new("directus_users", self.services.clone(), schema, None);
        if user_by_email(&self.services.db, email).await?.is_some() {
            return Ok(());
        }
        let profile = response.get("profile").cloned().unwrap_or(Value::Null);
        let text = |key: &str| profile.get(key).and_then(Value::as_str).map(str::to_string);
        users
            .create_one(
                json!({ "email": email, "first_name": text("given_name"), "last_name": text("family_name"), "role": provider.default_role_id, "status": "active" }),
                MutationOptions::default(),
            )
            .await?;
        Ok(())
    }
}

/// The `oauth.<provider>.login(.before)` emits of one callback.
struct OAuthEvents<'a> {
    services: &'a Services,
    provider: &'a str,
    payload: &'a Value,
    accountability: &'a Accountability,
}

impl OAuthEvents<'_> {
    fn args(&self, event: &str, status: &str) -> EventArgs {
        let mut ctx = Map::new();
        ctx.insert("event".into(), json!(event));
        ctx.insert("action".into(), json!("oauth.login"));
        ctx.insert("payload".into(), self.payload.clone());
        ctx.insert("accountability".into(), json!({ "ip": self.accountability.ip, "userAgent": self.accountability.user_agent, "role": null }));
        ctx.insert("status".into(), json!(status));
        ctx.insert("user".into(), Value::Null);
        EventArgs::with_input(self.payload.clone(), ctx)
    }

    async fn emit_before(&self) -> Result<(), ApiError> {
        let event = format!("oauth.{}.login.before", self.provider);
        self.services.bus.emit_before(&event, self.args(&event, "pending")).await.map(|_| ())
    }

    fn emit_after(&self, status: &str) {
        let event = format!("oauth.{}.login", self.provider);
        self.services.bus.emit_after(&event, self.args(&event, status));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_paths_follow_lodash() {
        let profile = json!({ "email": "a@x", "emails": [{ "value": "b@x" }] });
        assert_eq!(get_path(&profile, "email"), Some(&json!("a@x")));
        assert_eq!(get_path(&profile, "emails.0.value"), Some(&json!("b@x")));
        assert_eq!(get_path(&profile, "emails[0].value"), Some(&json!("b@x")));
        assert_eq!(get_path(&profile, "emails.1.value"), None);
    }
}
