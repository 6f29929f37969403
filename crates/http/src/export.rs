//! `?export=json|csv|xml` on any read (spec §7.2): a successful JSON answer's `data` becomes an
//! attachment named `<collection> <date>.<ext>` (`Export <date>` outside collection routes),
//! the date as Directus formats it (`YYYYMMDD-Hms`, local time, hours to seconds unpadded).
//! The parameter itself was validated with the rest of the query, so a bad format is a 400
//! before any handler ran.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Local, Timelike};
use rectus_core::query::parse_query_string;
use rectus_core::services::export::{render, Format};
use serde_json::Value;

use crate::error::HttpError;

pub async fn export(req: Request, next: Next) -> Response {
    let format = (req.method() == Method::GET)
        .then(|| parse_query_string(req.uri().query().unwrap_or("")))
        .and_then(|params| params.get("export").and_then(Value::as_str).and_then(Format::parse));
    let Some(format) = format else { return next.run(req).await };
    let collection = collection_of(req.uri().path());
    let response = next.run(req).await;
    let is_json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("application/json"));
    if response.status() != StatusCode::OK || !is_json {
        return response;
    }
    match attachment(response, format, collection.as_deref()).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn attachment(response: Response, format: Format, collection: Option<&str>) -> Result<Response, HttpError> {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.map_err(|e| rectus_core::ApiError::internal(e.to_string()))?;
    let payload: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let body = render(payload.get("data").unwrap_or(&Value::Null), format)?;
    let now = Local::now();
    let date = format!("{}{:02}{:02}-{}{}{}", now.year(), now.month(), now.day(), now.hour(), now.minute(), now.second());
    let filename = format!("{} {date}.{}", collection.unwrap_or("Export"), format.extension());
    let mut out = Response::new(Body::from(body));
    out.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
    if let Ok(value) = HeaderValue::try_from(format!("attachment; filename=\"{filename}\"")) {
        out.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(out)
}

/// The collection a path reads: `/items/<c>…`, or the system collection of a system route.
fn collection_of(path: &str) -> Option<String> {
    let mut segments = path.trim_start_matches('/').split('/');
    match segments.next()? {
        "items" => segments.next().filter(|c| !c.is_empty()).map(str::to_string),
        system @ ("users" | "roles" | "permissions" | "presets" | "folders" | "webhooks" | "settings" | "activity" | "revisions" | "files" | "collections" | "fields" | "relations") => {
            Some(format!("directus_{system}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::collection_of;

    #[test]
    fn names_come_from_the_route() {
        assert_eq!(collection_of("/items/articles/3").as_deref(), Some("articles"));
        assert_eq!(collection_of("/users").as_deref(), Some("directus_users"));
        assert_eq!(collection_of("/server/info"), None);
    }
}
