//! What hooks reach of files beyond rows (`js-runtime/62_files.js`): `FilesService.importOne`,
//! `deleteOne`/`deleteMany` that also remove stored bytes, and `AssetsService.getAsset`. They run
//! the Rust `FilesService`/`AssetsService` that serve HTTP, with the hook's accountability.
//!
//! `getAsset`'s bytes cross into JS as one buffer (`op_rectus_take_asset`): a JSON round trip
//! would inflate them, and hooks get no Node streams. Assets above [`MAX_ASSET_BYTES`] are
//! refused rather than loaded into an isolate's heap.

use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use futures_util::TryStreamExt;
use rectus_core::auth::Accountability;
use rectus_core::services::assets::{AssetsService, Transformation};
use rectus_core::services::files::FilesService;
use rectus_core::services::{MutationOptions, Services};
use rectus_core::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// Larger assets than this are not handed to hooks (they would live in the isolate's heap).
const MAX_ASSET_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Deserialize)]
pub struct FilesCall {
    accountability: Option<Accountability>,
    method: String,
    #[serde(default)]
    args: Vec<Value>,
    depth: u32,
}

/// Asset bytes waiting for `op_rectus_take_asset`, by ticket.
#[derive(Default)]
struct PendingAssets {
    next: u32,
    bytes: HashMap<u32, Vec<u8>>,
}

enum Outcome {
    Value(Value),
    Asset(Value, Vec<u8>),
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Null)
}

fn options(v: &Value) -> MutationOptions {
    MutationOptions { emit_events: v.get("emitEvents").and_then(Value::as_bool).unwrap_or(true) }
}

async fn files_call(services: Services, call: FilesCall) -> Result<Outcome, ApiError> {
    let FilesCall { accountability, method, args, depth } = call;
    let schema = services.schema.get().await?;
    let a = |i| arg(&args, i);
    let files = || FilesService::new(services.clone(), schema.clone(), accountability.clone()).at_depth(depth);
    match method.as_str() {
        "importOne" => {
            let url = a(0).as_str().map(str::to_string).ok_or_else(|| ApiError::invalid_payload("\"url\" must be a string"))?;
            let body = a(1).as_object().cloned().unwrap_or_default();
            files().import_one(&url, body).await.map(Outcome::Value)
        }
        "deleteOne" => files().delete_one(a(0), options(&a(1))).await.map(Outcome::Value),
        "deleteMany" => {
            let Value::Array(keys) = a(0) else { return Err(ApiError::invalid_payload("Keys must be an array.")) };
            files().delete_many(keys, options(&a(1))).await.map(|k| Outcome::Value(Value::Array(k)))
        }
        "getAsset" => {
            let id = a(0).as_str().map(str::to_string).unwrap_or_else(|| a(0).to_string());
            let transformation = Transformation::from_params(&a(1).as_object().cloned().unwrap_or_default())?;
            let asset = AssetsService::new(services.clone(), schema.clone(), accountability.clone()).get_asset(&id, &transformation, None).await?;
            if asset.stat.size > MAX_ASSET_BYTES {
                return Err(ApiError::invalid_payload(format!("The asset is larger than the {MAX_ASSET_BYTES} bytes hooks may read.")));
            }
            let bytes = collect(asset.stream).await.map_err(|e| ApiError::service_unavailable(e.to_string(), "files"))?;
            let modified = asset.stat.modified.map(|m| chrono::DateTime::<chrono::Utc>::from(m).to_rfc3339());
            let meta = json!({ "file": Value::Object(asset.file), "stat": { "size": asset.stat.size, "modified": modified, "type": asset.content_type } });
            Ok(Outcome::Asset(meta, bytes))
        }
        other => Err(ApiError::internal(format!("FilesService/AssetsService.{other} is not supported"))),
    }
}

/// Collects a byte stream (bounded by the caller's size check).
async fn collect(mut stream: rectus_core::storage::ByteStream<'static>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.try_next().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// One `FilesService`/`AssetsService` call; failures come back as `{error}` like
/// `op_rectus_items`. An asset's bytes wait under `{ok: {..., ticket}}`.
#[op2]
#[serde]
pub async fn op_rectus_files(state: Rc<RefCell<OpState>>, #[serde] call: FilesCall) -> Result<serde_json::Value, JsErrorBox> {
    let host = crate::engine::host(&state.borrow())?;
    let result = host.runtime.spawn(files_call(host.services.clone(), call)).await.map_err(|e| JsErrorBox::generic(e.to_string()))?;
    Ok(match result {
        Ok(Outcome::Value(v)) => json!({ "ok": v }),
        Ok(Outcome::Asset(mut meta, bytes)) => {
            let mut state = state.borrow_mut();
            if !state.has::<PendingAssets>() {
                state.put(PendingAssets::default());
            }
            let pending = state.borrow_mut::<PendingAssets>();
            pending.next = pending.next.wrapping_add(1);
            let ticket = pending.next;
            pending.bytes.insert(ticket, bytes);
            if let Some(m) = meta.as_object_mut() {
                m.insert("ticket".into(), json!(ticket));
            }
            json!({ "ok": meta })
        }
        Err(e) => json!({ "error": e }),
    })
}

/// The bytes of a `getAsset` result, once.
#[op2]
#[buffer]
pub fn op_rectus_take_asset(state: &mut OpState, ticket: u32) -> Vec<u8> {
    state.try_borrow_mut::<PendingAssets>().and_then(|p| p.bytes.remove(&ticket)).unwrap_or_default()
}
