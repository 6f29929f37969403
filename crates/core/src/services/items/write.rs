//! The statements of a write, in the write's transaction: the payload encoded for storage
//! (`payload::for_write`), the INSERT, UPDATE or DELETE, and the activity and revision rows
//! (`services::activity`). How a row's key comes back is the engine's business
//! ([`Transaction::insert_returning`]); failures become Directus's exceptions through
//! [`ApiError::from_write`].

use sea_query::{Alias, Asterisk, Query as SqlQuery};
use serde_json::{json, Map, Value};

use super::access::key_text;
use super::ItemsService;
use crate::db::bind::sql_value;
use crate::db::{Inserted, SharedTransaction, Transaction};
use crate::query::select::key_condition;
use crate::schema::CollectionOverview;
use crate::services::activity::{self, ActivityRecord, RevisionRecord};
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
    /// In a transaction this call owns, an insert that lets the database pick an integer key is
    /// queued with its activity and revision rows rather than run ([`Transaction::insert_queued`]):
    /// on SQLite all of them go out with the `COMMIT`, so the write holds SQLite's one writer slot
    /// for one round trip to the connection's thread instead of two. The key and row are known
    /// once it committed.
    pub(super) async fn insert_in(&self, shared: &SharedTransaction, collection: &CollectionOverview, data: Value, owned: bool) -> Result<Creating, ApiError> {
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
        let inserted = if owned && given_pk.is_none() && rowid_key(collection) {
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

    /// Updates the rows of `keys` with `data` (already through hooks and permissions), saves the
    /// one-to-many items `data` holds for each key ([`ItemsService::save_related_many`]), then
    /// writes an activity row per key and, where the collection keeps them, revisions of the rows
    /// as they are afterwards. The key itself is never updated, as in Directus.
    pub(super) async fn update_in(&self, shared: &SharedTransaction, collection: &CollectionOverview, keys: &[Value], data: &Value) -> Result<(), ApiError> {
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
            shared.lock().await?.run(&update).await.map_err(|e| ApiError::from_write(e, &self.collection))?;
        }
        for key in keys {
            self.save_related_many(shared, data, key).await?;
        }
        if self.writes_activity() {
            let mut tx = shared.lock().await?;
            let accountability = self.accountability.clone().unwrap_or_default();
            let snapshots = if self.writes_revisions() { self.snapshots(&mut tx, collection, keys).await? } else { Default::default() };
            // The delta holds the columns written, as Directus's does.
            let mut delta = data.as_object().cloned().unwrap_or_default();
            delta.retain(|k, _| *k != collection.primary && collection.field(k).is_some_and(|f| !f.alias));
            for key in keys {
                let record = ActivityRecord { action: "update", collection: &self.collection, item: activity::Item::Key(key), accountability: &accountability, comment: None };
                let revision = snapshots.get(&key_text(key)).map(|data| RevisionRecord { data, delta: &delta });
                activity::write(&mut tx, record, revision).await?;
            }
        }
        Ok(())
    }

    /// The rows after the update by key, read inside the transaction for the revisions. Emits
    /// `read` like Directus's snapshot `readMany` does.
    async fn snapshots(&self, tx: &mut Transaction, collection: &CollectionOverview, keys: &[Value]) -> Result<std::collections::HashMap<String, Map<String, Value>>, ApiError> {
        let select = SqlQuery::select().column(Asterisk).from(table(&self.collection)).cond_where(key_condition(collection, keys)).to_owned();
        let rows: Vec<Map<String, Value>> = tx
            .run(&select)
            .await?
            .rows
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
        Ok(by_key)
    }

    /// Deletes the rows of `keys`, with an activity row per key.
    pub(super) async fn delete_in(&self, shared: &SharedTransaction, keys: &[Value]) -> Result<(), ApiError> {
        let collection = self.overview()?;
        let mut tx = shared.lock().await?;
        if !keys.is_empty() {
            let delete = SqlQuery::delete().from_table(table(&self.collection)).cond_where(key_condition(collection, keys)).to_owned();
            tx.run(&delete).await.map_err(|e| ApiError::from_write(e, &self.collection))?;
        }
        if self.writes_activity() {
            let accountability = self.accountability.clone().unwrap_or_default();
            for key in keys {
                let record = ActivityRecord { action: "delete", collection: &self.collection, item: activity::Item::Key(key), accountability: &accountability, comment: None };
                activity::write(&mut tx, record, None).await?;
            }
        }
        Ok(())
    }
}
