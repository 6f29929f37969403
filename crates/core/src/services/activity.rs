//! Activity and revision rows for item writes, written with plain SQL inside the write's
//! transaction (so, as in Directus, they emit no `activity.*` / `revisions.*` events).

use sea_query::{Alias, Query};
use serde_json::{Map, Value};

use crate::auth::Accountability;
use crate::config::DbClient;
use crate::db::{DbError, Transaction};

/// Inserts a row and returns its generated integer id.
pub async fn insert_returning_id(tx: &mut Transaction, mut insert: sea_query::InsertStatement, id: &str) -> Result<Option<i64>, DbError> {
    if tx.client() == DbClient::MySql {
        let result = tx.run(&insert).await?;
        return Ok(result.last_insert_id);
    }
    insert.returning_col(Alias::new(id));
    let result = tx.run(&insert).await?;
    Ok(result.rows.first().and_then(|r| r.get(id)).and_then(Value::as_i64))
}

pub struct ActivityRecord<'a> {
    pub action: &'a str,
    pub collection: &'a str,
    pub item: &'a Value,
    pub accountability: &'a Accountability,
    pub comment: Option<&'a str>,
}

pub async fn record(tx: &mut Transaction, r: ActivityRecord<'_>) -> Result<Option<i64>, DbError> {
    let item = match r.item {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let now = chrono::Utc::now().naive_utc();
    let insert = Query::insert()
        .into_table(Alias::new("directus_activity"))
        .columns(["action", "user", "timestamp", "ip", "user_agent", "collection", "item", "comment"].map(Alias::new))
        .values_panic([
            r.action.into(),
            r.accountability.user.clone().into(),
            now.into(),
            r.accountability.ip.clone().unwrap_or_default().into(),
            r.accountability.user_agent.clone().into(),
            r.collection.into(),
            item.into(),
            r.comment.map(str::to_string).into(),
        ])
        .to_owned();
    insert_returning_id(tx, insert, "id").await
}

pub async fn revision(tx: &mut Transaction, activity: i64, collection: &str, item: &Value, data: &Map<String, Value>, delta: &Map<String, Value>) -> Result<(), DbError> {
    let item = match item {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let insert = Query::insert()
        .into_table(Alias::new("directus_revisions"))
        .columns(["activity", "collection", "item", "data", "delta"].map(Alias::new))
        .values_panic([
            activity.into(),
            collection.into(),
            item.into(),
            Value::Object(data.clone()).to_string().into(),
            Value::Object(delta.clone()).to_string().into(),
        ])
        .to_owned();
    tx.run(&insert).await?;
    Ok(())
}
