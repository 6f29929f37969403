//! `/server/*`: ping and project info.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sea_query::{Alias, Query};
use serde_json::{json, Value};

use crate::error::HttpError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/server/ping", get(ping)).route("/server/info", get(info))
}

async fn ping() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], "pong")
}

/// `{data:{project:{...}}}` from `directus_settings` (defaults when the table is empty).
/// Admin-only details (`directus`, `node`, `os`) follow with authentication.
async fn info(State(state): State<AppState>) -> Result<Json<Value>, HttpError> {
    let columns = ["project_name", "project_logo", "project_color", "public_foreground", "public_background", "public_note", "custom_css"];
    let query = Query::select()
        .columns(columns.map(Alias::new))
        .from(Alias::new("directus_settings"))
        .limit(1)
        .to_owned();
    let result = state.services.db.run(&query).await?;
    let project = match result.rows.into_iter().next() {
        Some(row) => Value::Object(row),
        None => json!({
            "project_name": "Directus",
            "project_logo": null,
            "project_color": "#00C897",
            "public_foreground": null,
            "public_background": null,
            "public_note": null,
            "custom_css": null
        }),
    };
    Ok(Json(json!({ "data": { "project": project } })))
}
