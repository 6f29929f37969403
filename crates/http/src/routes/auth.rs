//! `/auth/login`, `/auth/refresh`, `/auth/logout`, `/auth/password/request|reset` (spec §7.4):
//! thin handlers over the authentication and password-reset services; `mode: "cookie"` keeps the
//! refresh token in an httpOnly cookie.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use rectus_core::auth::password_reset::PasswordReset;
use rectus_core::auth::service::{AuthenticationService, LoginResult};
use rectus_core::auth::Accountability;
use rectus_core::ApiError;
use cookie::SameSite;
use serde_json::{json, Value};

use crate::cookies;
use crate::error::HttpError;
use crate::extract::{Caller, JsonBody};
use crate::state::AppState;
use super::empty_ok;

pub(crate) const COOKIE: &str = "directus_refresh_token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/password/request", post(password_request))
        .route("/auth/password/reset", post(password_reset))
}

fn service<'a>(state: &'a AppState, caller: &Accountability) -> AuthenticationService<'a> {
    let accountability = Accountability { ip: caller.ip.clone(), user_agent: caller.user_agent.clone(), ..Default::default() };
    AuthenticationService { services: &state.services, config: &state.config, accountability }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    cookies::read(headers, COOKIE)
}

/// The refresh token cookie, with the `REFRESH_TOKEN_COOKIE_*` settings (`SAME_SITE` is `lax`,
/// `strict` or `none`; Lax otherwise).
pub(crate) fn set_cookie(state: &AppState, token: &str, max_age_ms: u64) -> String {
    let env = &state.config.env;
    let same_site = match env.string("REFRESH_TOKEN_COOKIE_SAME_SITE").unwrap_or_default().to_ascii_lowercase().as_str() {
        "strict" => SameSite::Strict,
        "none" => SameSite::None,
        _ => SameSite::Lax,
    };
    let mut cookie = cookies::http_only(COOKIE, token.to_string(), "/", (max_age_ms / 1000) as i64).same_site(same_site);
    if let Some(domain) = env.string("REFRESH_TOKEN_COOKIE_DOMAIN").filter(|d| !d.is_empty()) {
        cookie = cookie.domain(domain);
    }
    if env.bool("REFRESH_TOKEN_COOKIE_SECURE") == Some(true) {
        cookie = cookie.secure(true);
    }
    cookie.build().to_string()
}

/// `{data: {access_token, expires, refresh_token}}`, or the cookie and no refresh token in the body.
fn tokens_response(state: &AppState, result: LoginResult, cookie_mode: bool) -> Response {
    if cookie_mode {
        let cookie = set_cookie(state, &result.refresh_token, state.config.refresh_token_ttl_ms);
        let body = json!({ "data": { "access_token": result.access_token, "expires": result.expires_ms } });
        return ([(header::SET_COOKIE, cookie)], Json(body)).into_response();
    }
    Json(json!({ "data": { "access_token": result.access_token, "expires": result.expires_ms, "refresh_token": result.refresh_token } })).into_response()
}

fn is_cookie_mode(body: &Value) -> bool {
    body.get("mode").and_then(Value::as_str) == Some("cookie")
}

async fn login(State(state): State<AppState>, Caller(caller): Caller, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let result = service(&state, &caller).login(&body).await?;
    Ok(tokens_response(&state, result, is_cookie_mode(&body)))
}

async fn refresh(State(state): State<AppState>, Caller(caller): Caller, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let from_body = body.get("refresh_token").and_then(Value::as_str).map(str::to_string);
    let cookie_mode = is_cookie_mode(&body) || (from_body.is_none() && cookie_value(&headers).is_some());
    let token = from_body
        .or_else(|| cookie_value(&headers))
        .ok_or_else(|| ApiError::invalid_payload("The refresh token is required in either the JSON payload or Cookie"))?;
    let result = service(&state, &caller).refresh(&token).await?;
    Ok(tokens_response(&state, result, cookie_mode))
}

async fn logout(State(state): State<AppState>, Caller(caller): Caller, headers: HeaderMap, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let token = body
        .get("refresh_token")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| cookie_value(&headers))
        .ok_or_else(|| ApiError::invalid_payload("The refresh token is required in either the JSON payload or Cookie"))?;
    service(&state, &caller).logout(&token).await?;
    let clear = cookies::http_only(COOKIE, String::new(), "/", 0).build().to_string();
    Ok(([(header::SET_COOKIE, clear), (header::CONTENT_TYPE, "application/json; charset=utf-8".to_string())], "").into_response())
}


fn required_string<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    body.get(field).and_then(Value::as_str).ok_or_else(|| ApiError::invalid_payload(format!("\"{field}\" field is required.")))
}

/// 200 unless the request itself is invalid. The lookup and the mail run after the answer, so
/// neither the answer nor its timing tells whether the email has an account; failures are logged.
async fn password_request(State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let email = required_string(&body, "email")?.to_string();
    let reset_url = body.get("reset_url").and_then(Value::as_str).filter(|u| !u.is_empty()).map(str::to_string);
    PasswordReset { services: &state.services, config: &state.config }.check_reset_url(reset_url.as_deref())?;
    tokio::spawn(async move {
        let reset = PasswordReset { services: &state.services, config: &state.config };
        if let Err(e) = reset.request(&email, reset_url.as_deref()).await {
            tracing::warn!("[email] password reset mail to {email} not sent: {}", e.message);
        }
    });
    Ok(empty_ok())
}

async fn password_reset(State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let token = required_string(&body, "token")?;
    let password = required_string(&body, "password")?;
    PasswordReset { services: &state.services, config: &state.config }.reset(token, password).await?;
    Ok(empty_ok())
}
