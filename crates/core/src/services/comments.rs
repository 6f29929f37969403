//! Comments (`POST /activity/comment`, `PATCH|DELETE /activity/comment/:pk`): `directus_activity`
//! rows with `action: 'comment'`, written through `ItemsService` as the caller, so permissions
//! apply and the `activity.*` events fire, as in Directus.

use serde_json::{json, Map, Value};

use super::items::ItemsService;
use super::{MutationOptions, Services};
use crate::auth::Accountability;
use crate::query::Query;
use crate::ApiError;

pub struct CommentsService {
    activity: ItemsService,
    accountability: Accountability,
}

impl CommentsService {
    pub async fn new(services: Services, accountability: Accountability) -> Result<Self, ApiError> {
        let schema = services.schema.get().await?;
        let activity = ItemsService::new("directus_activity", services, schema, Some(accountability.clone()));
        Ok(CommentsService { activity, accountability })
    }

    /// Creates the comment and returns it as the caller may read it.
    pub async fn create(&self, body: Value, query: &Query) -> Result<Value, ApiError> {
        let Value::Object(mut row) = body else { return Err(ApiError::invalid_payload("Payload must be an object.")) };
        for key in ["collection", "item", "comment"] {
            if row.get(key).is_none_or(|v| v.is_null() || v.as_str() == Some("")) {
                return Err(ApiError::invalid_payload(format!("\"{key}\" is required")));
            }
        }
        // Keys are stored as text in `directus_activity.item`.
        if let Some(item) = row.get_mut("item").filter(|i| !i.is_string()) {
            *item = Value::String(item.to_string());
        }
        let a = &self.accountability;
        let server: Map<String, Value> = [
            ("action", json!("comment")),
            ("user", json!(a.user)),
            ("ip", json!(a.ip.clone().unwrap_or_default())),
            ("user_agent", json!(a.user_agent)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        row.extend(server);
        let pk = self.activity.create_one(Value::Object(row), MutationOptions::default()).await?;
        self.activity.read_one(&pk, query).await
    }

    /// Only the text of a comment changes.
    pub async fn update(&self, pk: Value, body: Value, query: &Query) -> Result<Value, ApiError> {
        let comment = body.get("comment").cloned().ok_or_else(|| ApiError::invalid_payload("\"comment\" is required"))?;
        self.comment_row(&pk).await?;
        self.activity.update_one(pk.clone(), json!({ "comment": comment }), MutationOptions::default()).await?;
        self.activity.read_one(&pk, query).await
    }

    pub async fn delete(&self, pk: Value) -> Result<(), ApiError> {
        self.comment_row(&pk).await?;
        self.activity.delete_one(pk, MutationOptions::default()).await.map(|_| ())
    }

    /// 403 unless `pk` is a comment (other activity rows are not editable here).
    async fn comment_row(&self, pk: &Value) -> Result<(), ApiError> {
        let row = self.activity.read_one(pk, &Query { fields: vec!["action".into()], ..Default::default() }).await?;
        if row.get("action").and_then(Value::as_str) != Some("comment") {
            return Err(ApiError::forbidden());
        }
        Ok(())
    }
}
