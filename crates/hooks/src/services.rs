//! `services.ItemsService` (and the system services built on it) for hooks: each JS method call
//! runs the very `ItemsService` that serves HTTP, with the caller's accountability (`null` = no
//! permission checks), the same events and the same errors.

use rectus_core::auth::Accountability;
use rectus_core::db::SharedTransaction;
use rectus_core::query::{sanitize, FilterContext, Query};
use rectus_core::services::items::ItemsService;
use rectus_core::services::{MutationOptions, Services};
use rectus_core::ApiError;
use serde_json::{Map, Value};

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Null)
}

fn options(v: &Value) -> MutationOptions {
    MutationOptions { emit_events: v.get("emitEvents").and_then(Value::as_bool).unwrap_or(true) }
}

fn query(v: &Value, accountability: Option<&Accountability>) -> Result<Query, ApiError> {
    let params: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    let ctx = FilterContext { user: accountability.and_then(|a| a.user.clone()), role: accountability.and_then(|a| a.role.clone()) };
    sanitize(&params, &ctx)
}

fn keys(v: Value) -> Result<Vec<Value>, ApiError> {
    match v {
        Value::Array(k) => Ok(k),
        _ => Err(ApiError::invalid_payload("Keys must be an array.")),
    }
}

fn list(keys: Vec<Value>) -> Value {
    Value::Array(keys)
}

/// One JS `ItemsService` method call.
pub struct ItemsCall {
    pub collection: String,
    pub accountability: Option<Accountability>,
    /// The service's `knex` when that is a transaction (`None` = the pool).
    pub transaction: Option<SharedTransaction>,
    pub method: String,
    pub args: Vec<Value>,
    pub depth: u32,
}

pub async fn items_call(services: Services, call: ItemsCall) -> Result<Value, ApiError> {
    let ItemsCall { collection, accountability, transaction, method, args, depth } = call;
    let schema = services.schema.get().await?;
    if schema.collection(&collection).is_none() {
        return Err(ApiError::forbidden());
    }
    let primary = schema.collection(&collection).map(|c| c.primary.clone()).unwrap_or_default();
    let acc = accountability.clone();
    let items = ItemsService::new(&collection, services, schema, accountability).at_depth(depth).in_transaction(transaction);
    let a = |i| arg(&args, i);
    match method.as_str() {
        "createOne" => items.create_one(a(0), options(&a(1))).await,
        "createMany" => items.create_many(keys(a(0))?, options(&a(1))).await.map(list),
        "readByQuery" => items.read_by_query(&query(&a(0), acc.as_ref())?).await.map(Value::Array),
        "readOne" => items.read_one(&a(0), &query(&a(1), acc.as_ref())?).await,
        "readMany" => items.read_many(&keys(a(0))?, &query(&a(1), acc.as_ref())?).await.map(Value::Array),
        "updateOne" => items.update_one(a(0), a(1), options(&a(2))).await,
        "updateMany" => items.update_many(keys(a(0))?, a(1), options(&a(2))).await.map(list),
        "updateByQuery" => {
            let found = items.keys_by_query(&query(&a(0), acc.as_ref())?).await?;
            if found.is_empty() {
                return Ok(Value::Array(vec![]));
            }
            items.update_many(found, a(1), options(&a(2))).await.map(list)
        }
        "deleteOne" => items.delete_one(a(0), options(&a(1))).await,
        "deleteMany" => items.delete_many(keys(a(0))?, options(&a(1))).await.map(list),
        "deleteByQuery" => {
            let found = items.keys_by_query(&query(&a(0), acc.as_ref())?).await?;
            items.delete_many(found, options(&a(1))).await.map(list)
        }
        "upsertOne" => {
            let payload = a(0);
            let existing = match payload.get(&primary).filter(|k| !k.is_null()) {
                Some(key) => items.read_many(std::slice::from_ref(key), &Query { limit: Some(1), ..Default::default() }).await?.into_iter().next().map(|_| key.clone()),
                None => None,
            };
            match existing {
                Some(key) => items.update_one(key, payload, options(&a(1))).await,
                None => items.create_one(payload, options(&a(1))).await,
            }
        }
        "readSingleton" => items.read_singleton(&query(&a(0), acc.as_ref())?).await,
        "upsertSingleton" => items.upsert_singleton(a(0), options(&a(1))).await,
        "getKeysByQuery" => items.keys_by_query(&query(&a(0), acc.as_ref())?).await.map(list),
        other => Err(ApiError::internal(format!("ItemsService.{other} is not supported"))),
    }
}
