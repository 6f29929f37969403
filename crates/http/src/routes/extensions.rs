//! `/extensions/:type` and `/extensions/:type/index.js`, which the admin app loads on start for
//! each kind of app extension (interfaces, displays, layouts, modules; singular or plural, as
//! Directus accepts both). Rectus runs hooks, not app extensions: the lists are empty and each
//! bundle is an empty ES module, which is what Directus sends when none are installed.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::ApiError;
use serde_json::json;

use crate::error::HttpError;
use crate::state::AppState;

const APP_EXTENSION_TYPES: &[&str] = &["interface", "display", "layout", "module"];

pub fn router() -> Router<AppState> {
    Router::new().route("/extensions/{kind}", get(list)).route("/extensions/{kind}/index.js", get(bundle))
}

fn check_type(kind: &str, path: &str) -> Result<(), HttpError> {
    let singular = kind.strip_suffix('s').unwrap_or(kind);
    if APP_EXTENSION_TYPES.contains(&singular) {
        Ok(())
    } else {
        Err(ApiError::route_not_found(path).into())
    }
}

async fn list(Path(kind): Path<String>) -> Result<Json<serde_json::Value>, HttpError> {
    check_type(&kind, &format!("/{kind}"))?;
    Ok(Json(json!({ "data": [] })))
}

async fn bundle(Path(kind): Path<String>) -> Result<Response, HttpError> {
    check_type(&kind, &format!("/{kind}/index.js"))?;
    Ok(([(header::CONTENT_TYPE, "application/javascript; charset=UTF-8")], "export default [];").into_response())
}
