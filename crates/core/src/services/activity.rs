//! Activity and revision rows for item writes, written with plain SQL inside the write's
//! transaction (so, as in Directus, they emit no `activity.*` / `revisions.*` events).

use sea_query::{Alias, Expr, InsertStatement, Query, SimpleExpr};
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

/// What a revision row holds besides its activity, collection and item.
pub struct RevisionRecord<'a> {
    pub data: &'a Map<String, Value>,
    pub delta: &'a Map<String, Value>,
}

/// Writes an activity row and, with `revision`, the revision pointing at it. Nothing reads them
/// back, so they are deferred (see `Transaction::defer`); on SQLite the revision finds its
/// activity through `last_insert_rowid()`, the activity insert running right before it.
pub async fn write(tx: &mut Transaction, r: ActivityRecord<'_>, revision: Option<RevisionRecord<'_>>) -> Result<(), DbError> {
    let activity = activity_insert(&r);
    if tx.client() == DbClient::Sqlite {
        tx.defer(&activity).await?;
        if let Some(rev) = revision {
            tx.defer(&revision_insert(Expr::cust("last_insert_rowid()"), &r, &rev)).await?;
        }
        return Ok(());
    }
    match revision {
        None => tx.defer(&activity).await,
        Some(rev) => match insert_returning_id(tx, activity, "id").await? {
            Some(id) => tx.defer(&revision_insert(Expr::val(id), &r, &rev)).await,
            None => Ok(()),
        },
    }
}

fn item_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn activity_insert(r: &ActivityRecord<'_>) -> InsertStatement {
    let now = chrono::Utc::now().naive_utc();
    Query::insert()
        .into_table(Alias::new("directus_activity"))
        .columns(["action", "user", "timestamp", "ip", "user_agent", "collection", "item", "comment"].map(Alias::new))
        .values_panic([
            r.action.into(),
            r.accountability.user.clone().into(),
            now.into(),
            r.accountability.ip.clone().unwrap_or_default().into(),
            r.accountability.user_agent.clone().into(),
            r.collection.into(),
            item_text(r.item).into(),
            r.comment.map(str::to_string).into(),
        ])
        .to_owned()
}

fn revision_insert(activity: SimpleExpr, r: &ActivityRecord<'_>, rev: &RevisionRecord<'_>) -> InsertStatement {
    Query::insert()
        .into_table(Alias::new("directus_revisions"))
        .columns(["activity", "collection", "item", "data", "delta"].map(Alias::new))
        .values_panic([
            activity,
            r.collection.into(),
            item_text(r.item).into(),
            Value::Object(rev.data.clone()).to_string().into(),
            Value::Object(rev.delta.clone()).to_string().into(),
        ])
        .to_owned()
}
