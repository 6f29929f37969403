//! List answers too large to hold, sent as they are read: `limit=-1` reads whose items run past
//! one batch go out as a chunked `{"data":[…],"meta":{…}}`, a batch at a time (see
//! `rectus_core::db::Batches`), so the server's memory stays flat however many rows match. The
//! bytes are those of the buffered answer; only `Content-Length` is missing.
//!
//! What can fail is known before the first byte: the query is checked and its `SELECT` built,
//! the counts of `meta` taken and the first two batches read, so bad input still answers its
//! error envelope. A database error later (the connection lost half-way) can't change a status
//! already sent: the body is cut off, which a client sees as a broken answer, never as a short
//! list that looks whole. Answers of one batch or less are the buffered `Json` as before.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream::{self, StreamExt};
use rectus_core::query::Query;
use rectus_core::services::items::ItemsService;
use serde_json::{json, Value};

use crate::error::HttpError;

/// Rows a streamed answer reads, shapes and sends at a time.
const BATCH: usize = 500;

/// A list read's answer (`data`, and `meta` when asked for), streamed when it may be large.
pub async fn list(items: &ItemsService, query: &Query) -> Result<Response, HttpError> {
    if query.limit == Some(-1) {
        if let Some(mut batches) = items.stream_by_query(query, BATCH).await? {
            let first = batches.next().await.transpose()?.unwrap_or_default();
            let second = batches.next().await.transpose()?;
            let meta = items.meta(query).await?;
            return Ok(match second {
                None => whole(first, meta),
                Some(second) => chunked(first, second, batches, meta),
            });
        }
    }
    let data = items.read_by_query(query).await?;
    Ok(whole(data, items.meta(query).await?))
}

/// A read's answer in one buffer: `data`, and `meta` when asked for.
pub fn whole(data: impl Into<Value>, meta: Option<Value>) -> Response {
    let data = data.into();
    Json(match meta {
        Some(meta) => json!({ "data": data, "meta": meta }),
        None => json!({ "data": data }),
    })
    .into_response()
}

fn chunked(first: Vec<Value>, second: Vec<Value>, batches: rectus_core::services::items::ItemBatches, meta: Option<Value>) -> Response {
    let mut head = b"{\"data\":[".to_vec();
    elements(&mut head, &first, true);
    elements(&mut head, &second, false);
    let rest = stream::unfold(Some(batches), |batches| async move {
        let mut batches = batches?;
        match batches.next().await? {
            Ok(items) => {
                let mut out = Vec::new();
                elements(&mut out, &items, false);
                Some((Ok(Bytes::from(out)), Some(batches)))
            }
            Err(e) => {
                tracing::error!("a streamed answer was cut off: {e}");
                Some((Err(std::io::Error::other(e.to_string())), None))
            }
        }
    });
    let mut tail = b"]".to_vec();
    if let Some(meta) = meta {
        tail.extend_from_slice(b",\"meta\":");
        tail.extend_from_slice(meta.to_string().as_bytes());
    }
    tail.push(b'}');
    let body = stream::once(async { Ok(Bytes::from(head)) }).chain(rest).chain(stream::once(async { Ok(Bytes::from(tail)) }));
    let mut response = Response::new(Body::from_stream(body));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `items` as members of a JSON array, each after a comma unless it opens the array.
fn elements(out: &mut Vec<u8>, items: &[Value], opens: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !opens {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, item).expect("a JSON value is written to memory");
    }
}
