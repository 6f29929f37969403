//! Activity and revision rows for item writes, written with plain SQL inside the write's
//! transaction (so, as in Directus, they emit no `activity.*` / `revisions.*` events).

use sea_query::{Alias, Expr, InsertStatement, Query, SimpleExpr};
use serde_json::{Map, Value};

use crate::auth::Accountability;
use crate::config::DbClient;
use crate::db::{DbError, Transaction};

pub struct ActivityRecord<'a> {
    pub action: &'a str,
    pub collection: &'a str,
    pub item: Item<'a>,
    pub accountability: &'a Accountability,
    pub comment: Option<&'a str>,
}

/// The item an activity row is about.
#[derive(Clone, Copy)]
pub enum Item<'a> {
    Key(&'a Value),
    /// SQLite only: the row the statement queued right before these inserted, into a table whose
    /// primary key `field` is its rowid. Lets a create go out as one batch, before its key is
    /// known here (see `ItemsService::create_in`); the revision's data gets the key added.
    LastInserted { field: &'a str },
}

/// The activity row the statement before inserted, in SQL (SQLite).
const LAST_ACTIVITY_ITEM: &str = "(SELECT item FROM directus_activity WHERE id = last_insert_rowid())";

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
        Some(rev) => match tx.insert_returning(activity, "id", None).await?.settle().and_then(|(id, _)| id.as_i64()) {
            Some(id) => tx.defer(&revision_insert(Expr::val(id), &r, &rev)).await,
            None => Ok(()),
        },
    }
}

fn key_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn activity_insert(r: &ActivityRecord<'_>) -> InsertStatement {
    let now = chrono::Utc::now().naive_utc();
    let item = match r.item {
        Item::Key(key) => key_text(key).into(),
        Item::LastInserted { .. } => Expr::cust("CAST(last_insert_rowid() AS TEXT)"),
    };
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
            item,
            r.comment.map(str::to_string).into(),
        ])
        .to_owned()
}

fn revision_insert(activity: SimpleExpr, r: &ActivityRecord<'_>, rev: &RevisionRecord<'_>) -> InsertStatement {
    let data = Value::Object(rev.data.clone()).to_string();
    let delta = Value::Object(rev.delta.clone()).to_string();
    let (item, data, delta) = match r.item {
        Item::Key(key) => (key_text(key).into(), data.into(), delta.into()),
        Item::LastInserted { field } => {
            // The key goes into the snapshots as the number it is.
            let path = format!("$.\"{field}\"");
            let with_key = |json: String| {
                Expr::cust_with_values(format!("json_set(?, ?, CAST({LAST_ACTIVITY_ITEM} AS INTEGER))"), [json, path.clone()])
            };
            (Expr::cust(LAST_ACTIVITY_ITEM), with_key(data), with_key(delta))
        }
    };
    Query::insert()
        .into_table(Alias::new("directus_revisions"))
        .columns(["activity", "collection", "item", "data", "delta"].map(Alias::new))
        .values_panic([activity, r.collection.into(), item, data, delta])
        .to_owned()
}
