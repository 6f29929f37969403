//! `GET /assets/:id` (spec §7.4): a file's bytes through `AssetsService`, with `Range` support
//! (206 / 416), `?download` (`Content-Disposition: attachment`) and image transformations from
//! the query. `Cache-Control` follows Directus: `public` for the public role, `private` for
//! anyone with a role, `max-age` from `ASSETS_CACHE_TTL`.

use axum::body::Body;
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use rectus_core::config::parse_duration_ms;
use rectus_core::query::parse_query_string;
use rectus_core::services::assets::{AssetsService, RangeRequest};
use rectus_core::ApiError;

use crate::error::HttpError;
use crate::extract::Caller;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    // The optional filename segment only makes URLs readable; Directus ignores it too.
    Router::new().route("/assets/{id}", get(asset)).route("/assets/{id}/{filename}", get(asset))
}

/// `attachment` with the download name; non-ASCII names get the RFC 6266 `filename*` form.
fn attachment(filename: &str) -> String {
    let ascii: String = filename.chars().map(|c| if c.is_ascii() && c != '"' && c != '\\' && !c.is_ascii_control() { c } else { '?' }).collect();
    if ascii == filename {
        format!("attachment; filename=\"{filename}\"")
    } else {
        format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", utf8_percent_encode(filename, NON_ALPHANUMERIC))
    }
}

fn header_value(text: &str) -> Result<HeaderValue, HttpError> {
    HeaderValue::from_str(text).map_err(|e| ApiError::internal(e.to_string()).into())
}

async fn asset(State(state): State<AppState>, caller: Caller, params: RawPathParams, RawQuery(query): RawQuery, headers: HeaderMap) -> Result<Response, HttpError> {
    let id = params.iter().find(|(k, _)| *k == "id").map(|(_, v)| v.to_string()).unwrap_or_default();
    let query = parse_query_string(query.as_deref().unwrap_or(""));
    let private = caller.0.role.is_some();
    let schema = state.services.schema.get().await?;
    let assets = AssetsService::new(state.services.clone(), schema, Some(caller.0));
    let transformation = assets.requested_transformation(&query).await?;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(RangeRequest::parse);
    let asset = assets.get_asset(&id, &transformation, range).await?;

    let ttl_seconds = state.config.env.string("ASSETS_CACHE_TTL").and_then(|t| parse_duration_ms(&t)).unwrap_or(30 * 60 * 1000) / 1000;
    let mut response = Response::new(Body::from_stream(asset.stream));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, header_value(&asset.content_type)?);
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(header::CACHE_CONTROL, header_value(&format!("{}, max-age={ttl_seconds}", if private { "private" } else { "public" }))?);
    if let Some(modified) = asset.stat.modified {
        let date = chrono::DateTime::<chrono::Utc>::from(modified).format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        out.insert(header::LAST_MODIFIED, header_value(&date)?);
    }
    if query.contains_key("download") {
        let name = asset.file.get("filename_download").and_then(|v| v.as_str()).unwrap_or(&id);
        out.insert(header::CONTENT_DISPOSITION, header_value(&attachment(name))?);
    }
    match asset.range {
        Some(r) => {
            out.insert(header::CONTENT_RANGE, header_value(&format!("bytes {}-{}/{}", r.start, r.end, asset.stat.size))?);
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(r.end - r.start + 1));
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        }
        None => {
            out.insert(header::CONTENT_LENGTH, HeaderValue::from(asset.stat.size));
        }
    }
    Ok(response.into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn content_disposition() {
        assert_eq!(super::attachment("cat.png"), "attachment; filename=\"cat.png\"");
        assert_eq!(super::attachment("čaj.png"), "attachment; filename=\"?aj.png\"; filename*=UTF-8''%C4%8Daj%2Epng");
    }
}
