//! The system collections' REST routes: each is the items routes at its own prefix, on the same
//! `ItemsService`, so permissions and the `<scope>.*` events (`users.create`, ...) apply.
//! `/users/me` reads and updates the caller; `/users/invite` and `/users/invite/accept` run the
//! invites (`rectus_core::auth::invites`), `/users/me/tfa/*` two-factor setup
//! (`rectus_core::auth::tfa`). Activity and revisions are served read-only.

use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use rectus_core::auth::invites::{invited_addresses, Invites};
use rectus_core::auth::tfa::Tfa;
use rectus_core::services::items::ItemsService;
use rectus_core::services::MutationOptions;
use rectus_core::{ApiError, ErrorCode};
use serde_json::{json, Value};

use super::items::system_router;
use crate::error::HttpError;
use crate::extract::{Caller, DirectusQuery, JsonBody};
use crate::state::AppState;
use super::empty_ok;

const WRITABLE: &[(&str, &str)] = &[
    ("/users", "directus_users"),
    ("/roles", "directus_roles"),
    ("/permissions", "directus_permissions"),
    ("/presets", "directus_presets"),
    ("/folders", "directus_folders"),
    ("/webhooks", "directus_webhooks"),
    ("/settings", "directus_settings"),
];

pub fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/users/me", get(me).patch(update_me))
        .route("/users/me/track/page", axum::routing::patch(track_page))
        .route("/users/invite", post(invite))
        .route("/users/invite/accept", post(accept_invite))
        .route("/users/me/tfa/generate", post(tfa_generate))
        .route("/users/me/tfa/enable", post(tfa_enable))
        .route("/users/me/tfa/disable", post(tfa_disable));
    for (prefix, table) in WRITABLE {
        router = router.merge(system_router(prefix, table));
    }
    router.merge(read_only("/activity", "directus_activity")).merge(read_only("/revisions", "directus_revisions"))
}

fn read_only(prefix: &'static str, table: &'static str) -> Router<AppState> {
    system_router(prefix, table).route_layer(axum::middleware::from_fn(only_reads))
}

async fn only_reads(req: axum::extract::Request, next: axum::middleware::Next) -> Result<axum::response::Response, HttpError> {
    if req.method() == axum::http::Method::GET || req.method().as_str() == "SEARCH" {
        return Ok(next.run(req).await);
    }
    let mut extensions = serde_json::Map::new();
    extensions.insert("allow".into(), json!(["GET"]));
    Err(ApiError::new(ErrorCode::MethodNotAllowed, "Method not allowed.").with_extensions(extensions).into())
}

async fn users_service(state: &AppState, caller: &Caller) -> Result<(ItemsService, Value), HttpError> {
    let user = caller.0.user.clone().ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials, "Invalid user credentials."))?;
    let schema = state.services.schema.get().await?;
    Ok((ItemsService::new("directus_users", state.services.clone(), schema, Some(caller.0.clone())), Value::String(user)))
}

/// The caller's own user; a user who may not read it still gets `{id}` (as Directus).
async fn me(State(state): State<AppState>, caller: Caller, DirectusQuery(query): DirectusQuery) -> Result<Json<Value>, HttpError> {
    let (users, id) = users_service(&state, &caller).await?;
    match users.read_one(&id, &query).await {
        Ok(user) => Ok(Json(json!({ "data": user }))),
        Err(e) if e.code == ErrorCode::Forbidden => Ok(Json(json!({ "data": { "id": id } }))),
        Err(e) => Err(e.into()),
    }
}

async fn update_me(State(state): State<AppState>, caller: Caller, DirectusQuery(query): DirectusQuery, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let (users, id) = users_service(&state, &caller).await?;
    users.update_one(id.clone(), body, MutationOptions::default()).await?;
    Ok(Json(json!({ "data": users.read_one(&id, &query).await? })))
}

/// The app's `PATCH /users/me/track/page {last_page}` on every page change. As in Directus it
/// writes as the system (no permission check, no activity row; `users.update` still fires), so
/// a role that may not update its own user still gets the app's "last page" back on login.
async fn track_page(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let id = caller_id(&caller)?;
    let last_page = body.get("last_page").filter(|v| !v.is_null() && *v != "" && *v != false).cloned();
    let last_page = last_page.ok_or_else(|| ApiError::invalid_payload("\"last_page\" key is required."))?;
    let schema = state.services.schema.get().await?;
    let users = ItemsService::new("directus_users", state.services.clone(), schema, None);
    users.update_one(Value::String(id), json!({ "last_page": last_page }), MutationOptions::default()).await?;
    Ok(empty_ok())
}

fn required_str<'a>(body: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    body.get(field).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| ApiError::invalid_payload(format!("\"{field}\" is required")))
}

async fn invite(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let emails = invited_addresses(body.get("email"))?;
    let role = required_str(&body, "role")?;
    let invite_url = body.get("invite_url").and_then(Value::as_str).filter(|u| !u.is_empty());
    let invites = Invites { services: &state.services, config: &state.config };
    invites.invite(&emails, role, invite_url, None, Some(caller.0.clone())).await?;
    Ok(empty_ok())
}

async fn accept_invite(State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let invites = Invites { services: &state.services, config: &state.config };
    invites.accept(required_str(&body, "token")?, required_str(&body, "password")?).await?;
    Ok(empty_ok())
}

fn caller_id(caller: &Caller) -> Result<String, ApiError> {
    caller.0.user.clone().ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials, "Invalid user credentials."))
}

/// `{data: {secret, otpauth_url}}` for the caller, after checking their `password`.
async fn tfa_generate(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let id = caller_id(&caller)?;
    let (secret, url) = Tfa { services: &state.services }.generate(&id, required_str(&body, "password")?).await?;
    Ok(Json(json!({ "data": { "secret": secret, "otpauth_url": url } })))
}

async fn tfa_enable(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let id = caller_id(&caller)?;
    let secret = required_str(&body, "secret")?;
    Tfa { services: &state.services }.enable(&id, required_str(&body, "otp")?, secret).await?;
    Ok(empty_ok())
}

async fn tfa_disable(State(state): State<AppState>, caller: Caller, JsonBody(body): JsonBody) -> Result<Response, HttpError> {
    let id = caller_id(&caller)?;
    Tfa { services: &state.services }.disable(&id, required_str(&body, "otp")?).await?;
    Ok(empty_ok())
}
