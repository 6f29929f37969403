//! `/extensions/:type` and `/extensions/:type/index.js`, which the admin app loads on start for
//! each kind of app extension (interfaces, displays, layouts, modules; singular or plural, as
//! Directus accepts both), from the folders of `EXTENSIONS_PATH` (`rectus_core::app_extensions`
//! says how Rectus serves them without a bundler). `/extensions/:type/:name/*file` serves the
//! files of one extension, which the type's module imports.

use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rectus_core::{app_extensions, ApiError};
use serde_json::json;
use tower::ServiceExt;

use crate::error::HttpError;
use crate::state::AppState;

const JAVASCRIPT: &str = "application/javascript; charset=UTF-8";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/extensions/{kind}", get(list))
        .route("/extensions/{kind}/index.js", get(bundle))
        .route("/extensions/{kind}/{name}/{*file}", get(file))
}

fn app_type(kind: &str, path: &str) -> Result<&'static str, HttpError> {
    app_extensions::app_type(kind).ok_or_else(|| ApiError::route_not_found(path).into())
}

fn unreadable(e: std::io::Error) -> HttpError {
    ApiError::internal(format!("Can't read the app extensions: {e}")).into()
}

async fn list(State(state): State<AppState>, Path(kind): Path<String>) -> Result<Json<serde_json::Value>, HttpError> {
    let kind = app_type(&kind, &format!("/{kind}"))?;
    let names = app_extensions::list(&state.config.extensions_path, kind).map_err(unreadable)?;
    Ok(Json(json!({ "data": names })))
}

async fn bundle(State(state): State<AppState>, Path(kind): Path<String>) -> Result<Response, HttpError> {
    let kind = app_type(&kind, &format!("/{kind}/index.js"))?;
    let source = app_extensions::entry(&state.config.extensions_path, kind).map_err(unreadable)?;
    Ok(([(header::CONTENT_TYPE, JAVASCRIPT)], source).into_response())
}

/// A file of one extension: JavaScript with the shared packages linked to the app's build, other
/// files (styles, images) as they are.
async fn file(State(state): State<AppState>, Path((kind, name, file)): Path<(String, String, String)>, req: Request) -> Result<Response, HttpError> {
    let not_found = || HttpError::from(ApiError::route_not_found(&format!("/{kind}/{name}/{file}")));
    let singular = app_extensions::app_type(&kind).ok_or_else(not_found)?;
    let path = app_extensions::file(&state.config.extensions_path, singular, &name, &file).ok_or_else(not_found)?;
    if path.extension().is_some_and(|e| e == "js" || e == "mjs") {
        let source = tokio::fs::read_to_string(&path).await.map_err(unreadable)?;
        let mapping = crate::admin_app::locate(&state.config.cwd)
            .map(|dist| app_extensions::shared_deps_mapping(&dist, &state.config.public_url))
            .unwrap_or_default();
        return Ok(([(header::CONTENT_TYPE, JAVASCRIPT)], app_extensions::link_shared_deps(&source, &mapping)).into_response());
    }
    let served = tower_http::services::ServeFile::new(path).oneshot(req).await;
    Ok(served.unwrap_or_else(|never| match never {}).into_response())
}
