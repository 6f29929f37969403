//! `/auth/login`: email and password to an access token (spec §7.4). Sessions, refresh and the
//! auth events arrive with the authentication issue.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use rectus_core::auth::{password, tokens};
use rectus_core::ApiError;
use sea_query::{Alias, Expr, ExprTrait, Func, Query};
use serde_json::{json, Value};

use crate::error::HttpError;
use crate::extract::JsonBody;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/auth/login", post(login))
}

fn invalid_credentials() -> HttpError {
    ApiError::new(401, "INVALID_CREDENTIALS", "Invalid user credentials.").into()
}

async fn login(State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<Json<Value>, HttpError> {
    let email = body.get("email").and_then(Value::as_str).filter(|e| e.contains('@'));
    let pass = body.get("password").and_then(Value::as_str);
    let (Some(email), Some(pass)) = (email, pass) else {
        return Err(ApiError::invalid_payload("\"email\" must be a valid email and \"password\" is required").into());
    };
    let query = Query::select()
        .columns(["id", "password", "status"].map(Alias::new))
        .from(Alias::new("directus_users"))
        .and_where(Expr::expr(Func::lower(Expr::col(Alias::new("email")))).eq(email.to_lowercase()))
        .limit(1)
        .to_owned();
    let user = state.services.db.run(&query).await?.rows.into_iter().next();
    let Some(user) = user else {
        // Spend the same time as a real check so the response doesn't reveal which emails exist.
        password::verify(pass, "$argon2id$v=19$m=4096,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$wS5w2QgBtEu1nJ8CKIFKbBB2GeVKS4kfMSX5lbE5TuM");
        return Err(invalid_credentials());
    };
    let hash = user.get("password").and_then(Value::as_str).unwrap_or_default();
    if !password::verify(pass, hash) {
        return Err(invalid_credentials());
    }
    if user.get("status").and_then(Value::as_str) != Some("active") {
        return Err(ApiError::new(401, "USER_SUSPENDED", "User suspended.").into());
    }
    let id = user.get("id").and_then(Value::as_str).unwrap_or_default();
    let ttl = state.config.access_token_ttl_ms;
    let access_token = tokens::sign_access_token(&state.config.secret, id, ttl)?;
    Ok(Json(json!({ "data": { "access_token": access_token, "expires": ttl } })))
}
