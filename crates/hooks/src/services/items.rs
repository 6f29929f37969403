//! `ItemsService` (and the system services JS builds on it: `UsersService`, `RolesService`, …),
//! `FilesService`'s methods that touch stored bytes, and `AssetsService`.

use futures_util::TryStreamExt;
use rectus_core::query::Query;
use rectus_core::services::assets::{AssetsService, Transformation};
use rectus_core::services::files::FilesService;
use rectus_core::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{options, Caller, Options, Reply};

/// Larger assets than this are not handed to hooks (they would live in the isolate's heap).
const MAX_ASSET_BYTES: u64 = 32 * 1024 * 1024;

/// `ItemsService` methods, with Directus's arguments (queries as the REST API reads them). The
/// options of reads (`stripNonRequested`, `permissionsAction`) are not passed: unused here.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Items {
    CreateOne(Value, #[serde(default)] Option<Options>),
    CreateMany(Vec<Value>, #[serde(default)] Option<Options>),
    ReadByQuery((Value,)),
    ReadOne(Value, #[serde(default)] Value),
    ReadMany(Vec<Value>, #[serde(default)] Value),
    UpdateOne(Value, Value, #[serde(default)] Option<Options>),
    UpdateMany(Vec<Value>, Value, #[serde(default)] Option<Options>),
    UpdateByQuery(Value, Value, #[serde(default)] Option<Options>),
    UpsertOne(Value, #[serde(default)] Option<Options>),
    DeleteOne(Value, #[serde(default)] Option<Options>),
    DeleteMany(Vec<Value>, #[serde(default)] Option<Options>),
    DeleteByQuery(Value, #[serde(default)] Option<Options>),
    ReadSingleton((Value,)),
    UpsertSingleton(Value, #[serde(default)] Option<Options>),
    GetKeysByQuery((Value,)),
}

impl Items {
    pub async fn run(self, caller: Caller) -> Result<Reply, ApiError> {
        let items = caller.items(caller.collection()?).await?;
        let list = |keys: Vec<Value>| Value::Array(keys);
        Ok(Reply::Value(match self {
            Items::CreateOne(data, opts) => items.create_one(data, options(opts)).await?,
            Items::CreateMany(data, opts) => list(items.create_many(data, options(opts)).await?),
            Items::ReadByQuery((query,)) => Value::Array(items.read_by_query(&caller.query(&query)?).await?),
            Items::ReadOne(key, query) => items.read_one(&key, &caller.query(&query)?).await?,
            Items::ReadMany(keys, query) => Value::Array(items.read_many(&keys, &caller.query(&query)?).await?),
            Items::UpdateOne(key, data, opts) => items.update_one(key, data, options(opts)).await?,
            Items::UpdateMany(keys, data, opts) => list(items.update_many(keys, data, options(opts)).await?),
            Items::UpdateByQuery(query, data, opts) => {
                let found = items.keys_by_query(&caller.query(&query)?).await?;
                if found.is_empty() {
                    return Ok(Reply::Value(json!([])));
                }
                list(items.update_many(found, data, options(opts)).await?)
            }
            Items::UpsertOne(payload, opts) => {
                let primary = caller.host.services.schema.get().await?.collection(&items.collection).map(|c| c.primary.clone()).unwrap_or_default();
                let existing = match payload.get(&primary).filter(|k| !k.is_null()) {
                    Some(key) => items.read_many(std::slice::from_ref(key), &Query { limit: Some(1), ..Default::default() }).await?.into_iter().next().map(|_| key.clone()),
                    None => None,
                };
                match existing {
                    Some(key) => items.update_one(key, payload, options(opts)).await?,
                    None => items.create_one(payload, options(opts)).await?,
                }
            }
            Items::DeleteOne(key, opts) => items.delete_one(key, options(opts)).await?,
            Items::DeleteMany(keys, opts) => list(items.delete_many(keys, options(opts)).await?),
            Items::DeleteByQuery(query, opts) => {
                let found = items.keys_by_query(&caller.query(&query)?).await?;
                list(items.delete_many(found, options(opts)).await?)
            }
            Items::ReadSingleton((query,)) => items.read_singleton(&caller.query(&query)?).await?,
            Items::UpsertSingleton(data, opts) => items.upsert_singleton(data, options(opts)).await?,
            Items::GetKeysByQuery((query,)) => list(items.keys_by_query(&caller.query(&query)?).await?),
        }))
    }
}

/// `FilesService`'s own methods (the rest of it is the `ItemsService` on `directus_files`).
/// They run on the pool whatever the caller's `knex`: removed bytes can't be rolled back.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Files {
    /// `(data, pk?)`; the bytes are the stream of the call's upload (`upload.rs`).
    UploadOne(serde_json::Map<String, Value>, #[serde(default)] Option<Value>),
    ImportOne(String, #[serde(default)] Option<serde_json::Map<String, Value>>),
    DeleteOne(Value, #[serde(default)] Option<Options>),
    DeleteMany(Vec<Value>, #[serde(default)] Option<Options>),
}

impl Files {
    pub async fn run(self, caller: Caller) -> Result<Reply, ApiError> {
        let schema = caller.host.services.schema.get().await?;
        let files = FilesService::new(caller.host.services.clone(), schema, caller.accountability.clone()).at_depth(caller.depth);
        Ok(Reply::Value(match self {
            Files::UploadOne(data, key) => {
                let stream = caller.upload.lock().ok().and_then(|mut u| u.take()).ok_or_else(|| ApiError::invalid_payload("uploadOne needs a stream or a Buffer."))?;
                files.upload_one(stream, data, key.filter(|k| !k.is_null())).await?
            }
            Files::ImportOne(url, body) => files.import_one(&url, body.unwrap_or_default()).await?,
            Files::DeleteOne(key, opts) => files.delete_one(key, options(opts)).await?,
            Files::DeleteMany(keys, opts) => Value::Array(files.delete_many(keys, options(opts)).await?),
        }))
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Assets {
    /// `(id, transformation)`: `{file, stat: {size, modified, type}}` and the bytes.
    GetAsset(Value, #[serde(default)] Option<serde_json::Map<String, Value>>),
}

impl Assets {
    pub async fn run(self, caller: Caller) -> Result<Reply, ApiError> {
        let Assets::GetAsset(id, transformation) = self;
        let services = &caller.host.services;
        let schema = services.schema.get().await?;
        let id = id.as_str().map(str::to_string).unwrap_or_else(|| id.to_string());
        let transformation = Transformation::from_params(&transformation.unwrap_or_default())?;
        let asset = AssetsService::new(services.clone(), schema, caller.accountability.clone()).get_asset(&id, &transformation, None).await?;
        if asset.stat.size > MAX_ASSET_BYTES {
            return Err(ApiError::invalid_payload(format!("The asset is larger than the {MAX_ASSET_BYTES} bytes hooks may read.")));
        }
        let bytes = collect(asset.stream).await.map_err(|e| ApiError::service_unavailable(e.to_string(), "files"))?;
        let modified = asset.stat.modified.map(|m| chrono::DateTime::<chrono::Utc>::from(m).to_rfc3339());
        let meta = json!({ "file": Value::Object(asset.file), "stat": { "size": asset.stat.size, "modified": modified, "type": asset.content_type } });
        Ok(Reply::Asset(meta, bytes))
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
