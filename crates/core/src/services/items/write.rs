//! The statements of a write, in the write's transaction: the payload encoded for storage
//! (`payload::for_write`), the INSERT, UPDATE or DELETE, and the activity and revision rows
//! (`services::activity`). How a row's key comes back is the engine's business
//! ([`Transaction::insert_returning`]); failures become Directus's exceptions through
//! [`ApiError::from_write`].
//!
//! On PostgreSQL the write and its activity and revision rows go out as one statement
//! ([`activity::joined`]), which the transaction holds until its commit when it is the last
//! ([`Transaction::write_last`]): a create or a delete that no hook or nested write shares the
//! transaction with is then one round trip, with no `BEGIN` or `COMMIT`. An update whose
//! collection keeps revisions reads its snapshot through the `UPDATE`'s `RETURNING` and writes its
//! rows in one more statement. Writes with one-to-many items in their payload keep the steps of
//! the other engines: those items are saved between the write and its rows.

use sea_query::{Alias, Asterisk, InsertStatement, Query as SqlQuery, QueryStatementWriter, UpdateStatement};
use serde_json::{json, Map, Value};

use super::access::key_text;
use super::{Ending, ItemsService};
use crate::config::DbClient;
use crate::db::bind::sql_value;
use crate::db::{DbError, Inserted, SharedTransaction, Transaction};
use crate::query::select::key_condition;
use crate::schema::CollectionOverview;
use crate::services::activity::{self, ActivityRecord, Record, RevisionRecord};
use crate::services::payload::{self, Action};
use crate::ApiError;

/// An item a create wrote: its key and, on engines with `RETURNING`, the row as stored.
pub struct Created {
    pub key: Value,
    pub(super) row: Option<Map<String, Value>>,
}

/// A create whose insert may still be queued in its transaction (SQLite, see
/// [`ItemsService::insert_in`]): its key and row are known once that transaction committed.
pub(super) struct Creating(Inserted);

impl Creating {
    /// The key, once the insert ran (always, unless it was queued).
    pub(super) fn key(&self) -> Option<&Value> {
        match &self.0 {
            Inserted::Done { key, .. } => Some(key),
            Inserted::Queued { .. } => None,
        }
    }

    pub(super) fn settle(self) -> Result<Created, ApiError> {
        let (key, row) = self.0.settle().ok_or_else(|| ApiError::internal("The created item did not come back from the database."))?;
        Ok(Created { key, row })
    }
}

fn table(name: &str) -> Alias {
    Alias::new(name)
}

/// Whether the collection's key is SQLite's rowid (a single `integer` primary key, which SQLite
/// numbers itself), so `last_insert_rowid()` is the key of the row just inserted.
fn rowid_key(collection: &CollectionOverview) -> bool {
    let simple_name = collection.primary.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    simple_name && collection.fields.get(&collection.primary).is_some_and(|f| f.default_value == json!("AUTO_INCREMENT"))
}

impl ItemsService {
    fn writes_activity(&self) -> bool {
        self.accountability.is_some() && self.overview().map(|c| c.accountability.is_some()).unwrap_or(false)
    }

    fn writes_revisions(&self) -> bool {
        self.accountability.is_some() && self.overview().map(|c| c.accountability.as_deref() == Some("all")).unwrap_or(false)
    }

    /// Inserts `data` (a payload the hooks and permissions have had) with its activity and
    /// revision rows.
    ///
    /// In a transaction this call owns, the insert may wait for the commit, and its key and row
    /// are known once that ran. On SQLite an insert that lets the database pick an integer key is
    /// queued with its activity and revision rows ([`Transaction::insert_queued`]): all of them go
    /// out with the `COMMIT`, so the write holds SQLite's one writer slot for one round trip to the
    /// connection's thread instead of two, and only from then on (the before-hooks of the items
    /// after it in a batch may write on the pool). On PostgreSQL see [`ItemsService::insert_joined`].
    pub(super) async fn insert_in(&self, shared: &SharedTransaction, collection: &CollectionOverview, data: Value, ending: Ending) -> Result<Creating, ApiError> {
        let empty = Map::new();
        let fields = payload::for_write(collection, data.as_object().unwrap_or(&empty), Action::Create, self.accountability.as_ref());
        let pk_field = &collection.primary;
        let mut insert = SqlQuery::insert();
        insert.into_table(table(&self.collection));
        let given_pk = fields.get(pk_field).filter(|v| !v.is_null()).cloned();
        let columns: Vec<(&String, &Value)> = fields.iter().filter(|(k, v)| *k != pk_field || !v.is_null()).collect();
        if columns.is_empty() {
            insert.or_default_values();
        } else {
            insert.columns(columns.iter().map(|(k, _)| Alias::new(k.as_str())));
            insert.values(columns.iter().map(|(_, v)| sea_query::SimpleExpr::from(sql_value(v)))).map_err(|e| ApiError::internal(e.to_string()))?;
        }
        let mut tx = shared.lock().await?;
        let tx = &mut *tx;
        if tx.client() == DbClient::Postgres {
            let inserted = self.insert_joined(tx, collection, insert, &data, given_pk, ending.last).await;
            return inserted.map(Creating).map_err(|e| ApiError::from_write(e, &self.collection));
        }
        let inserted = if ending.owned && given_pk.is_none() && rowid_key(collection) {
            tx.insert_queued(insert, pk_field).await
        } else {
            tx.insert_returning(insert, pk_field, given_pk).await
        }
        .map_err(|e| ApiError::from_write(e, &self.collection))?;
        if self.writes_activity() {
            let accountability = self.accountability.clone().unwrap_or_default();
            let key = match &inserted {
                Inserted::Done { key, .. } => Some(key),
                Inserted::Queued { .. } => None,
            };
            let item = match key {
                Some(key) => activity::Item::Key(key),
                None => activity::Item::LastInserted { field: pk_field },
            };
            let record = ActivityRecord { action: "create", collection: &self.collection, item, accountability: &accountability, comment: None };
            let snapshot = self.writes_revisions().then(|| {
                let mut snapshot = data.as_object().cloned().unwrap_or_default();
                if let Some(key) = key {
                    snapshot.entry(pk_field.clone()).or_insert(key.clone());
                }
                snapshot
            });
            let revision = snapshot.as_ref().map(|s| RevisionRecord { data: s, delta: s });
            activity::write(tx, record, revision).await?;
        }
        Ok(Creating(inserted))
    }

    /// PostgreSQL: the insert and its activity and revision rows as one statement, whose
    /// revision takes the new key from the insert inside it; held for the commit when `last`.
    async fn insert_joined(&self, tx: &mut Transaction, collection: &CollectionOverview, mut insert: InsertStatement, data: &Value, given_pk: Option<Value>, last: bool) -> Result<Inserted, DbError> {
        let pk_field = &collection.primary;
        insert.returning_all();
        if !self.writes_activity() {
            return inserted(tx, &insert, pk_field, given_pk, last).await;
        }
        let accountability = self.accountability.clone().unwrap_or_default();
        let item = match &given_pk {
            Some(key) => activity::Item::Key(key),
            None => activity::Item::Written { field: pk_field },
        };
        let snapshot = self.writes_revisions().then(|| {
            let mut snapshot = data.as_object().cloned().unwrap_or_default();
            if let Some(key) = &given_pk {
                snapshot.entry(pk_field.clone()).or_insert(key.clone());
            }
            snapshot
        });
        let activity = ActivityRecord { action: "create", collection: &self.collection, item, accountability: &accountability, comment: None };
        let record = Record { activity, revision: snapshot.as_ref().map(|s| RevisionRecord { data: s, delta: s }) };
        let statement = activity::joined(insert, &[record], true);
        inserted(tx, &statement, pk_field, given_pk.clone(), last).await
    }

    /// Updates the rows of `keys` with `data` (already through hooks and permissions), saves the
    /// one-to-many items `data` holds for each key ([`ItemsService::save_related_many`]), then
    /// writes an activity row per key and, where the collection keeps them, revisions of the rows
    /// as they are afterwards. The key itself is never updated, as in Directus.
    ///
    /// On PostgreSQL, when the payload holds no one-to-many items, the `UPDATE` and its rows go
    /// out together ([`ItemsService::update_joined`]); `last` says the transaction this call owns
    /// ends after it.
    pub(super) async fn update_in(&self, shared: &SharedTransaction, collection: &CollectionOverview, keys: &[Value], data: &Value, last: bool) -> Result<(), ApiError> {
        let mut fields = match data {
            Value::Object(m) => payload::for_write(collection, m, Action::Update, self.accountability.as_ref()),
            _ => Map::new(),
        };
        fields.remove(&collection.primary);
        if !fields.is_empty() && !keys.is_empty() {
            let update = SqlQuery::update()
                .table(table(&self.collection))
                .values(fields.iter().map(|(k, v)| (Alias::new(k.as_str()), sea_query::SimpleExpr::from(sql_value(v)))))
                .cond_where(key_condition(collection, keys))
                .to_owned();
            let mut tx = shared.lock().await?;
            if tx.client() == DbClient::Postgres && self.writes_activity() && !self.has_related_many(data) {
                return self.update_joined(&mut tx, collection, keys, data, update, last).await;
            }
            tx.run(&update).await.map_err(|e| ApiError::from_write(e, &self.collection))?;
        }
        for key in keys {
            self.save_related_many(shared, data, key).await?;
        }
        if self.writes_activity() {
            let mut tx = shared.lock().await?;
            let accountability = self.accountability.clone().unwrap_or_default();
            let snapshots = if self.writes_revisions() { self.snapshots(&mut tx, collection, keys).await? } else { Default::default() };
            let delta = update_delta(collection, data);
            for key in keys {
                let record = ActivityRecord { action: "update", collection: &self.collection, item: activity::Item::Key(key), accountability: &accountability, comment: None };
                let revision = snapshots.get(&key_text(key)).map(|data| RevisionRecord { data, delta: &delta });
                activity::write(&mut tx, record, revision).await?;
            }
        }
        Ok(())
    }

    /// PostgreSQL: the update of `keys` with its activity rows as one statement, held for the
    /// commit when `last`. Where the collection keeps revisions, the `UPDATE` returns the rows as
    /// they are afterwards (the snapshot, read in the same statement), and the activity and
    /// revision rows follow in one more.
    async fn update_joined(&self, tx: &mut Transaction, collection: &CollectionOverview, keys: &[Value], data: &Value, mut update: UpdateStatement, last: bool) -> Result<(), ApiError> {
        let fail = |e| ApiError::from_write(e, &self.collection);
        let accountability = self.accountability.clone().unwrap_or_default();
        let delta = update_delta(collection, data);
        let activity_of = |key| ActivityRecord { action: "update", collection: &self.collection, item: activity::Item::Key(key), accountability: &accountability, comment: None };
        if !self.writes_revisions() {
            let records: Vec<Record> = keys.iter().map(|key| Record { activity: activity_of(key), revision: None }).collect();
            return self.write_joined(tx, update, &records, last).await.map_err(fail);
        }
        update.returning_all();
        let rows = tx.run(&update).await.map_err(fail)?.rows;
        let snapshots = self.snapshots_of(collection, keys, rows);
        let records: Vec<Record> = keys
            .iter()
            .map(|key| Record { activity: activity_of(key), revision: snapshots.get(&key_text(key)).map(|data| RevisionRecord { data, delta: &delta }) })
            .collect();
        activity::write_rest(tx, &records).await.map_err(fail)
    }

    /// PostgreSQL: `write` joined with `records` (not empty), held for the commit when `last`;
    /// records past one statement's limit follow in the same transaction.
    async fn write_joined(&self, tx: &mut Transaction, write: impl Into<sea_query::SubQueryStatement>, records: &[Record<'_>], last: bool) -> Result<(), DbError> {
        let (first, rest) = activity::split(records);
        let statement = activity::joined(write, first, false);
        if last && rest.is_empty() {
            tx.write_last(&statement).await?;
        } else {
            tx.run(&statement).await?;
        }
        activity::write_rest(tx, rest).await
    }

    /// The rows after the update by key, read inside the transaction for the revisions. Emits
    /// `read` like Directus's snapshot `readMany` does.
    async fn snapshots(&self, tx: &mut Transaction, collection: &CollectionOverview, keys: &[Value]) -> Result<std::collections::HashMap<String, Map<String, Value>>, ApiError> {
        let select = SqlQuery::select().column(Asterisk).from(table(&self.collection)).cond_where(key_condition(collection, keys)).to_owned();
        let rows = tx.run(&select).await?.rows;
        Ok(self.snapshots_of(collection, keys, rows))
    }

    /// `rows` of the collection as the API reads them, by key; emits `read` for them.
    fn snapshots_of(&self, collection: &CollectionOverview, keys: &[Value], rows: Vec<Map<String, Value>>) -> std::collections::HashMap<String, Map<String, Value>> {
        let rows: Vec<Map<String, Value>> = rows
            .into_iter()
            .map(|mut r| {
                payload::for_read(collection, &mut r);
                r
            })
            .collect();
        self.emit_read(Value::Array(keys.to_vec()), &rows.iter().cloned().map(Value::Object).collect::<Vec<_>>());
        let mut by_key = std::collections::HashMap::new();
        for row in rows {
            if let Some(key) = row.get(&collection.primary).map(key_text) {
                by_key.entry(key).or_insert(row);
            }
        }
        by_key
    }

    /// Deletes the rows of `keys`, with an activity row per key; on PostgreSQL in one statement,
    /// held for the commit when `last` (the transaction this call owns ends after it).
    pub(super) async fn delete_in(&self, shared: &SharedTransaction, keys: &[Value], last: bool) -> Result<(), ApiError> {
        let collection = self.overview()?;
        let mut tx = shared.lock().await?;
        let accountability = self.accountability.clone().unwrap_or_default();
        if !keys.is_empty() {
            let delete = SqlQuery::delete().from_table(table(&self.collection)).cond_where(key_condition(collection, keys)).to_owned();
            if tx.client() == DbClient::Postgres && self.writes_activity() {
                let records: Vec<Record> = keys
                    .iter()
                    .map(|key| Record {
                        activity: ActivityRecord { action: "delete", collection: &self.collection, item: activity::Item::Key(key), accountability: &accountability, comment: None },
                        revision: None,
                    })
                    .collect();
                return self.write_joined(&mut tx, delete, &records, last).await.map_err(|e| ApiError::from_write(e, &self.collection));
            }
            tx.run(&delete).await.map_err(|e| ApiError::from_write(e, &self.collection))?;
        }
        if self.writes_activity() {
            for key in keys {
                let record = ActivityRecord { action: "delete", collection: &self.collection, item: activity::Item::Key(key), accountability: &accountability, comment: None };
                activity::write(&mut tx, record, None).await?;
            }
        }
        Ok(())
    }
}

/// The delta of an update's revisions: the columns written, as Directus's holds them.
fn update_delta(collection: &CollectionOverview, data: &Value) -> Map<String, Value> {
    let mut delta = data.as_object().cloned().unwrap_or_default();
    delta.retain(|k, _| *k != collection.primary && collection.field(k).is_some_and(|f| !f.alias));
    delta
}

/// Runs an insert `statement` that answers the inserted row, or holds it for the commit when it
/// is the transaction's `last`: the key is `given_key` or the row's `key_column`.
async fn inserted(tx: &mut Transaction, statement: &impl QueryStatementWriter, key_column: &str, given_key: Option<Value>, last: bool) -> Result<Inserted, DbError> {
    if last {
        return Ok(Inserted::Queued { result: tx.write_last(statement).await?, key_column: key_column.to_string(), key: given_key });
    }
    let row = tx.run(statement).await?.rows.pop();
    let key = given_key.or_else(|| row.as_ref().and_then(|r| r.get(key_column)).cloned()).unwrap_or(Value::Null);
    Ok(Inserted::Done { key, row })
}
