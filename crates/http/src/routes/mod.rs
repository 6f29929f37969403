//! One router per resource, merged into the app.

pub mod assets;
pub mod auth;
pub mod comments;
pub mod extensions;
pub mod files;
pub mod graphql;
pub mod items;
pub mod oauth;
pub mod schema;
pub mod server;
pub mod system;
pub mod utils;

/// The 200 with an empty body and a JSON content type Directus answers deletes, logouts,
/// password and invite flows and reverts with (spec §7.2).
pub(crate) fn empty_ok() -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/json; charset=utf-8")], "").into_response()
}
