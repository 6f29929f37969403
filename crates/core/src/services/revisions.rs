//! `RevisionsService.revert` (`POST /utils/revert/:revision`): puts an item back to the data a
//! revision recorded, through the target collection's `ItemsService` as the caller, so its
//! update permissions apply and its `update` events fire.

use serde_json::Value;

use super::items::ItemsService;
use super::{MutationOptions, Services};
use crate::auth::Accountability;
use crate::query::Query;
use crate::ApiError;

pub async fn revert(services: Services, accountability: Option<Accountability>, revision: &Value) -> Result<(), ApiError> {
    let schema = services.schema.get().await?;
    let revisions = ItemsService::new("directus_revisions", services.clone(), schema.clone(), accountability.clone());
    let row = revisions.read_one(revision, &Query::default()).await?;
    let collection = row.get("collection").and_then(Value::as_str).ok_or_else(ApiError::forbidden)?.to_string();
    let item = row.get("item").cloned().ok_or_else(ApiError::forbidden)?;
    let data = match row.get("data") {
        Some(Value::Object(data)) => data.clone(),
        Some(Value::String(text)) => serde_json::from_str(text).map_err(|_| ApiError::invalid_payload("Revision has no data to revert to."))?,
        _ => return Err(ApiError::invalid_payload("Revision has no data to revert to.")),
    };
    let target = ItemsService::new(&collection, services, schema, accountability);
    target.update_one(item, Value::Object(data), MutationOptions::default()).await.map(|_| ())
}
