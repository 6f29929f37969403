//! `/auth/oauth`, `/auth/oauth/:provider`, `/auth/oauth/:provider/callback` (spec §7.4): thin
//! handlers over [`OAuthLogin`]. The login state travels in a signed httpOnly cookie scoped to
//! `/auth/oauth` (see `rectus_core::auth::oauth::state`). A callback answers like Directus: the
//! tokens as JSON, or, when the login asked for `?redirect=`, the refresh cookie and a redirect
//! there (`?reason=` on failure).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::auth::oauth::{redirect_reason, Callback, OAuthLogin, STATE_TTL_SECONDS};
use rectus_core::auth::Accountability;
use serde::Deserialize;
use cookie::SameSite;
use serde_json::json;

use super::auth::set_cookie;
use crate::cookies;
use crate::error::HttpError;
use crate::extract::Caller;
use crate::state::AppState;

const STATE_COOKIE: &str = "rectus_oauth_state";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/oauth", get(list))
        .route("/auth/oauth/{provider}", get(authorize))
        .route("/auth/oauth/{provider}/callback", get(callback))
}

fn login(state: &AppState) -> OAuthLogin<'_> {
    OAuthLogin { services: &state.services, config: &state.config, providers: &state.oauth }
}

/// The state cookie; `value: None` deletes it.
fn state_cookie(state: &AppState, value: Option<&str>) -> String {
    let max_age = if value.is_some() { STATE_TTL_SECONDS } else { 0 };
    let cookie = cookies::http_only(STATE_COOKIE, value.unwrap_or_default().to_string(), "/auth/oauth", max_age)
        // Lax: the provider's redirect back is a cross-site top-level GET, which Lax cookies survive.
        .same_site(SameSite::Lax)
        .secure(state.config.public_url.starts_with("https://"));
    cookie.build().to_string()
}

fn found(location: &str, cookies: Vec<String>) -> Response {
    let mut response = (StatusCode::FOUND, [(header::LOCATION, location.to_string())]).into_response();
    for cookie in cookies {
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

async fn list(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "data": login(&state).list() }))
}

#[derive(Deserialize)]
struct RedirectQuery {
    redirect: Option<String>,
}

async fn authorize(State(state): State<AppState>, Path(provider): Path<String>, Query(query): Query<RedirectQuery>, Caller(caller): Caller) -> Result<Response, HttpError> {
    let redirect = query.redirect.filter(|r| !r.is_empty());
    let authorization = login(&state).authorize(&provider, redirect, &caller).await?;
    Ok(found(&authorization.url, vec![state_cookie(&state, Some(&authorization.state_cookie))]))
}

async fn callback(State(state): State<AppState>, Path(provider): Path<String>, Query(query): Query<Callback>, Caller(caller): Caller, headers: HeaderMap) -> Result<Response, HttpError> {
    let accountability = Accountability { ip: caller.ip, user_agent: caller.user_agent, ..Default::default() };
    let sealed = cookies::read(&headers, STATE_COOKIE);
    let finished = login(&state).callback(&provider, query, sealed.as_deref(), accountability).await?;
    let clear = state_cookie(&state, None);
    match (finished.redirect, finished.result) {
        (Some(to), Ok(tokens)) => Ok(found(&to, vec![clear, set_cookie(&state, &tokens.refresh_token, state.config.refresh_token_ttl_ms)])),
        (Some(to), Err(e)) => {
            let base = to.split('?').next().unwrap_or_default();
            Ok(found(&format!("{base}?reason={}", redirect_reason(&e)), vec![clear]))
        }
        (None, Ok(tokens)) => {
            let body = json!({ "data": { "access_token": tokens.access_token, "refresh_token": tokens.refresh_token, "expires": tokens.expires_ms } });
            Ok(([(header::SET_COOKIE, clear)], Json(body)).into_response())
        }
        (None, Err(e)) => Err(e.into()),
    }
}
