//! `FilesService` (spec §2.4 files row, §4.4): uploads into storage, imports from a URL, and
//! deletes that also remove the stored bytes. Everything else about `directus_files` rows is the
//! plain `ItemsService` (normal `files.*` events).
//!
//! An upload (`upload_one`) follows Directus's `uploadOne`:
//! 1. the row is created (or, replacing a file, updated) with the caller's permissions and
//!    **without events** — so a multipart upload never emits `files.create`;
//! 2. the bytes stream into storage as `<id><extension>` (a replaced file's old bytes and
//!    transformed variants are removed first);
//! 3. `filename_disk`, `type`, `filesize` and, for images, `width`/`height` are written without
//!    permission checks (the caller may not be allowed to write them, but they describe the file);
//! 4. `files.upload` fires (after-event) with the whole payload.
//!
//! Deviations, on purpose: a new row whose bytes could not be stored is deleted again (Directus
//! keeps a row without a file); EXIF/IPTC/ICC `metadata` is not extracted, and EXIF orientation
//! doesn't swap `width`/`height`.

mod title;

pub use title::format_title;

use futures_util::TryStreamExt;
use serde_json::{json, Map, Value};
use std::io;
use std::sync::Arc;

use super::items::ItemsService;
use super::permissions;
use super::{MutationOptions, Services};
use crate::auth::{accountability, Accountability};
use crate::events::EventArgs;
use crate::schema::SchemaOverview;
use crate::storage::{ByteRange, ByteStream, Driver};
use crate::ApiError;

const COLLECTION: &str = "directus_files";

const QUIET: MutationOptions = MutationOptions { emit_events: false };

/// Image types whose dimensions are read on upload (those the `image` crate decodes).
const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "image/gif"];

/// Header bytes enough for the dimensions of any image that isn't pathological (JPEG's size
/// sits after its EXIF segments, at most 64 KiB each): the file is never read whole.
const DIMENSION_PROBE: u64 = 1024 * 1024;

pub struct FilesService {
    services: Services,
    schema: Arc<SchemaOverview>,
    accountability: Option<Accountability>,
    depth: u32,
}

/// The MIME type without parameters (`image/png; charset=x` → `image/png`).
pub fn essence(mime: &str) -> String {
    mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// A driver error as the client sees it: the client's own stream failing (a malformed
/// multipart body) is its fault; anything else is storage being unavailable, as in Directus.
fn storage_error(e: io::Error, path: &str) -> ApiError {
    if e.kind() == io::ErrorKind::InvalidData {
        ApiError::invalid_payload(e.to_string())
    } else {
        tracing::warn!("storing {path} failed: {e}");
        ApiError::service_unavailable(format!("Couldn't save file {path}"), "files")
    }
}

impl FilesService {
    pub fn new(services: Services, schema: Arc<SchemaOverview>, accountability: Option<Accountability>) -> Self {
        FilesService { services, schema, accountability, depth: 0 }
    }

    /// A service called from a hook that was itself `depth` calls deep.
    pub fn at_depth(mut self, depth: u32) -> Self {
        self.depth = depth;
        self
    }

    /// `directus_files` with the caller's permissions.
    pub fn items(&self) -> ItemsService {
        ItemsService::new(COLLECTION, self.services.clone(), self.schema.clone(), self.accountability.clone()).at_depth(self.depth)
    }

    /// The user the service acts for, if any.
    pub fn user(&self) -> Option<&str> {
        self.accountability.as_ref().and_then(|a| a.user.as_deref())
    }

    fn sudo(&self) -> ItemsService {
        ItemsService::new(COLLECTION, self.services.clone(), self.schema.clone(), None).at_depth(self.depth)
    }

    fn disk(&self, location: &str) -> Result<Arc<dyn Driver>, ApiError> {
        self.services.storage.disk(location).ok_or_else(|| ApiError::invalid_payload(format!("Storage location \"{location}\" doesn't exist.")))
    }

    /// Stores `stream` as a file described by `data` (`filename_download`, `storage`, `type`,
    /// `title`, any other column); with `existing`, replaces that file's bytes. Returns the key.
    pub async fn upload_one(&self, stream: ByteStream<'_>, data: Map<String, Value>, existing: Option<Value>) -> Result<Value, ApiError> {
        let mut payload = data;
        let location = payload.get("storage").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| self.services.storage.default_location().to_string());
        payload.insert("storage".into(), json!(location));
        let disk = self.disk(&location)?;
        let created = existing.is_none();
        // The key names the file on disk, so a client-chosen one must be a UUID like the ones
        // Directus generates (on SQLite any text would otherwise reach the file system).
        if created {
            if let Some(id) = payload.get("id").filter(|id| !id.is_null()) {
                if !id.as_str().is_some_and(|text| uuid::Uuid::parse_str(text).is_ok()) {
                    return Err(ApiError::invalid_payload("\"id\" must be a valid UUID"));
                }
            }
        }
        let key = match existing {
            Some(key) => {
                self.items().update_one(key.clone(), Value::Object(payload.clone()), QUIET).await?;
                remove_stored(disk.as_ref(), &key).await;
                key
            }
            None => self.items().create_one(Value::Object(payload.clone()), QUIET).await?,
        };
        match self.store(disk.as_ref(), stream, &mut payload, &key).await {
            Ok(()) => {}
            Err(e) => {
                if created {
                    // Nothing half-done stays behind: the row goes with the bytes.
                    let _ = self.sudo().delete_one(key, QUIET).await;
                }
                return Err(e);
            }
        }
        self.sudo().update_one(key.clone(), Value::Object(payload.clone()), QUIET).await?;
        let mut ctx = Map::new();
        ctx.insert("event".into(), json!("files.upload"));
        ctx.insert("accountability".into(), accountability::to_json(self.accountability.as_ref()));
        ctx.insert("collection".into(), json!(COLLECTION));
        ctx.insert("item".into(), key.clone());
        ctx.insert("action".into(), json!("upload"));
        ctx.insert("payload".into(), Value::Object(payload));
        self.services.bus.emit_after("files.upload", EventArgs::context(ctx).at_depth(self.depth));
        Ok(key)
    }

    /// Streams the bytes to storage and completes `payload` with what describes them.
    async fn store(&self, disk: &dyn Driver, stream: ByteStream<'_>, payload: &mut Map<String, Value>, key: &Value) -> Result<(), ApiError> {
        let download = payload.get("filename_download").and_then(Value::as_str).unwrap_or_default().to_string();
        let mime = payload.get("type").and_then(Value::as_str).filter(|t| !t.is_empty()).unwrap_or("application/octet-stream").to_string();
        let extension = std::path::Path::new(&download)
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_string)
            .or_else(|| mime_guess::get_mime_extensions_str(&essence(&mime)).and_then(|list| list.first()).map(|e| e.to_string()));
        let key_text = key.as_str().map(str::to_string).unwrap_or_else(|| key.to_string());
        let filename_disk = match extension {
            Some(ext) => format!("{key_text}.{ext}"),
            None => key_text,
        };
        let size = disk.put(&filename_disk, stream).await.map_err(|e| storage_error(e, &filename_disk))?;
        payload.insert("filename_disk".into(), json!(filename_disk));
        payload.insert("type".into(), json!(mime));
        payload.insert("filesize".into(), json!(size));
        if IMAGE_TYPES.contains(&essence(&mime).as_str()) {
            if let Some((width, height)) = dimensions(disk, &filename_disk, size).await {
                payload.insert("width".into(), json!(width));
                payload.insert("height".into(), json!(height));
            }
        }
        Ok(())
    }

    /// `POST /files/import` and `importOne(url, body)`: fetches `url` (following redirects) and
    /// uploads the response body as it arrives. `body` overrides the derived fields.
    pub async fn import_one(&self, url: &str, body: Map<String, Value>) -> Result<Value, ApiError> {
        // Directus checks this before fetching, so a caller without rights can't make the
        // server fetch URLs for it.
        permissions::for_action(&self.services, self.accountability.as_ref(), COLLECTION, "create").await?;
        let unavailable = |e: &dyn std::fmt::Display| {
            tracing::warn!("couldn't fetch file from url \"{url}\": {e}");
            ApiError::service_unavailable(format!("Couldn't fetch file from url \"{url}\""), "external-file")
        };
        let response = reqwest::get(url).await.and_then(reqwest::Response::error_for_status).map_err(|e| unavailable(&e))?;
        let filename = response.url().path_segments().and_then(|mut s| s.next_back()).unwrap_or_default().to_string();
        let mut payload = Map::new();
        payload.insert("filename_download".into(), json!(filename));
        payload.insert("storage".into(), json!(self.services.storage.default_location()));
        if let Some(mime) = response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
            payload.insert("type".into(), json!(mime));
        }
        payload.insert("title".into(), json!(format_title(&filename)));
        payload.extend(body);
        let stream = response.bytes_stream().map_err(io::Error::other);
        self.upload_one(Box::pin(stream), payload, None).await
    }

    pub async fn delete_one(&self, key: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        self.delete_many(vec![key.clone()], opts).await?;
        Ok(key)
    }

    /// Deletes the rows (permissions and `files.delete*` events as any delete), then the stored
    /// bytes and transformed variants of each.
    pub async fn delete_many(&self, keys: Vec<Value>, opts: MutationOptions) -> Result<Vec<Value>, ApiError> {
        let query = crate::query::Query { fields: vec!["id".into(), "storage".into()], limit: Some(-1), ..Default::default() };
        let files = self.sudo().read_by_query(&crate::query::Query { filter: Some(json!({ "id": { "_in": keys } })), ..query }).await?;
        self.items().delete_many(keys.clone(), opts).await?;
        for file in files {
            let (Some(id), Some(location)) = (file.get("id"), file.get("storage").and_then(Value::as_str)) else { continue };
            if let Some(disk) = self.services.storage.disk(location) {
                remove_stored(disk.as_ref(), id).await;
            }
        }
        Ok(keys)
    }
}

/// Removes a file's bytes and its transformed variants: every stored name starting with its id.
async fn remove_stored(disk: &dyn Driver, key: &Value) {
    let prefix = key.as_str().map(str::to_string).unwrap_or_else(|| key.to_string());
    if prefix.is_empty() {
        return;
    }
    match disk.list(&prefix).await {
        Ok(paths) => {
            for path in paths {
                if let Err(e) = disk.delete(&path).await {
                    tracing::warn!("can't delete stored file {path}: {e}");
                }
            }
        }
        Err(e) => tracing::warn!("can't list stored files of {prefix}: {e}"),
    }
}

/// Width and height from the image's header bytes.
async fn dimensions(disk: &dyn Driver, path: &str, size: u64) -> Option<(u32, u32)> {
    if size == 0 {
        return None;
    }
    let range = ByteRange { start: 0, end: size.min(DIMENSION_PROBE) - 1 };
    let mut stream = disk.get(path, Some(range)).await.ok()?;
    let mut head = Vec::new();
    while let Some(chunk) = stream.try_next().await.ok()? {
        head.extend_from_slice(&chunk);
    }
    image::ImageReader::new(io::Cursor::new(head)).with_guessed_format().ok()?.into_dimensions().ok()
}
