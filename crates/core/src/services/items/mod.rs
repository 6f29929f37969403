//! `ItemsService` (spec §2.3, §4.3): CRUD on one collection with Directus's events, their
//! arguments and order, the create transaction, and activity/revision rows.
//!
//! Order of a create: `create.before` (inside the transaction) → insert + activity + revision →
//! commit → `create` (after, not awaited). Update: `update.before` → snapshot read (emits
//! `read`) → update + activity + revisions → commit → `update`. Delete: `delete.before` →
//! delete + activity → commit → `delete`. `readOne`/`readMany` emit `read`; `readByQuery` does
//! not (rc.83).
//!
//! A service created on a transaction (a hook's `new ItemsService(c, { knex: database })` inside
//! `create.before`) reads and writes in it and neither commits nor rolls it back: its owner does.
//!
//! The service's jobs, each in a room of its own:
//! - this file: the service, its transaction and the order of events of each write;
//! - [`access`]: the role's permissions applied to payloads, keys and reads;
//! - [`read`]: reads, their `SELECT` built by [`crate::query::select`], shaped for output;
//! - [`expand`]: relational fields of a read replaced by the related items;
//! - [`nested`]: related items a write's payload holds, saved with it;
//! - [`write`]: the statements of a write and their activity and revision rows, through the
//!   engine strategies of `db` ([`Transaction::insert_returning`](crate::db::Transaction::insert_returning)).
//!
//! Work on related collections (the role cascade here, relational reads in `expand`, nested
//! writes) goes through [`ItemsService::sibling`] / [`ItemsService::sibling_in`]: the same caller
//! and depth, the same transaction, their own permissions and events. Nested writes run inside
//! the write's transaction: a create's many-to-one items before its insert and its one-to-many
//! items after it; an update's the same around its `UPDATE`, before its activity and revisions
//! (so its snapshot read follows theirs, as on Directus).

mod access;
mod expand;
mod nested;
mod read;
#[cfg(test)]
mod tests;
mod write;

use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::user_rules;
use super::{event_scope, MutationOptions, Services};
use crate::auth::{accountability, Accountability};
use crate::db::{DbError, QueryResult, SharedTransaction};
use crate::events::EventArgs;
use crate::query::Query;
use crate::schema::{CollectionOverview, SchemaOverview};
use crate::ApiError;

pub use read::ItemBatches;
pub use write::Created;

/// How a create's insert relates to the end of its transaction.
#[derive(Clone, Copy, Default)]
struct Ending {
    /// The transaction is this call's, and nothing in it needs the insert's key before its commit.
    owned: bool,
    /// Moreover, nothing follows the insert in it before the commit.
    last: bool,
}

#[derive(Clone)]
pub struct ItemsService {
    pub collection: String,
    services: Services,
    schema: Arc<SchemaOverview>,
    accountability: Option<Accountability>,
    /// Nesting of hook → service calls this service was created at (see `EventArgs::depth`).
    depth: u32,
    /// The transaction this service runs in, owned by whoever created it; `None` = the pool.
    transaction: Option<SharedTransaction>,
}

impl ItemsService {
    pub fn new(collection: &str, services: Services, schema: Arc<SchemaOverview>, accountability: Option<Accountability>) -> Self {
        ItemsService { collection: collection.to_string(), services, schema, accountability, depth: 0, transaction: None }
    }

    /// A service called from a hook that was itself `depth` calls deep.
    pub fn at_depth(mut self, depth: u32) -> Self {
        self.depth = depth;
        self
    }

    /// Runs every statement of this service in `tx` (Directus's `knex` option).
    pub fn in_transaction(mut self, tx: Option<SharedTransaction>) -> Self {
        self.transaction = tx;
        self
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// A service on another collection for the same caller, depth and transaction.
    pub fn sibling(&self, collection: &str) -> ItemsService {
        self.sibling_in(collection, self.transaction.clone())
    }

    /// [`sibling`](Self::sibling) in `tx`: the transaction of a write this service is making,
    /// so related writes commit or roll back with it (and never end it).
    pub fn sibling_in(&self, collection: &str, tx: Option<SharedTransaction>) -> ItemsService {
        ItemsService::new(collection, self.services.clone(), self.schema.clone(), self.accountability.clone()).at_depth(self.depth).in_transaction(tx)
    }

    /// Reads go through the service's transaction when it has one, so they see its writes.
    async fn read(&self, stmt: &sea_query::SelectStatement) -> Result<QueryResult, DbError> {
        match &self.transaction {
            Some(tx) => tx.run(stmt).await,
            None => self.services.db.run(stmt).await,
        }
    }

    /// The transaction to write in, and whether this call owns it (begins and ends it).
    async fn write_transaction(&self) -> Result<(SharedTransaction, bool), ApiError> {
        match &self.transaction {
            Some(tx) => Ok((tx.clone(), false)),
            None => Ok((self.services.db.begin_shared().await?, true)),
        }
    }

    /// Commits an owned transaction, or rolls it back if the work failed; after a write that
    /// stands, cached answers go (`CACHE_AUTO_PURGE`).
    async fn finish<T>(&self, tx: SharedTransaction, owned: bool, result: Result<T, ApiError>) -> Result<T, ApiError> {
        let result = match (owned, result) {
            (false, result) => result,
            // A queued insert fails at the commit: its error reads as any write's.
            (true, Ok(v)) => tx.commit().await.map(|_| v).map_err(|e| ApiError::from_write(e, &self.collection)),
            (true, Err(e)) => {
                let _ = tx.rollback().await;
                Err(e)
            }
        };
        if result.is_ok() {
            self.services.responses.after_write().await;
        }
        result
    }

    fn args(&self, input: Option<Value>, ctx: Map<String, Value>) -> EventArgs {
        match input {
            Some(i) => EventArgs::with_input(i, ctx),
            None => EventArgs::context(ctx),
        }
        .at_depth(self.depth)
    }

    /// Before-events of updates and deletes get the service's own connection as `database`
    /// (after-events always get the pool: their transaction is over).
    fn before_args(&self, input: Option<Value>, ctx: Map<String, Value>) -> EventArgs {
        self.args(input, ctx).on(self.transaction.clone())
    }

    fn overview(&self) -> Result<&CollectionOverview, ApiError> {
        self.schema.collection(&self.collection).ok_or_else(ApiError::forbidden)
    }

    fn scope(&self) -> &str {
        event_scope(&self.collection)
    }

    /// The context object hooks receive; `payload`, when the event has an input, is set to that
    /// very object on the JS side.
    fn context(&self, event: &str, action: &str, item: Value, payload: Option<Value>) -> Map<String, Value> {
        let mut ctx = Map::new();
        ctx.insert("event".into(), json!(event));
        ctx.insert("accountability".into(), accountability::to_json(self.accountability.as_ref()));
        ctx.insert("collection".into(), json!(self.collection));
        ctx.insert("item".into(), item);
        ctx.insert("action".into(), json!(action));
        if let Some(p) = payload {
            ctx.insert("payload".into(), p);
        }
        ctx
    }

    pub async fn create_one(&self, data: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        Ok(self.create_one_returning(data, opts).await?.key)
    }

    /// `create_one`, keeping the row the insert returned for [`ItemsService::read_created`].
    pub async fn create_one_returning(&self, data: Value, opts: MutationOptions) -> Result<Created, ApiError> {
        let event = self.create_event(opts);
        // The after-event gets the payload as sent, not as the before-hooks left it.
        let sent = event.is_some().then(|| data.clone());
        let (tx, owned) = self.write_transaction().await?;
        let created = self.create_in(&tx, data, opts, Ending { owned, last: owned }).await;
        let created = self.finish(tx, owned, created).await?.settle()?;
        self.forget_access();
        if let (Some(event), Some(sent)) = (event, sent) {
            self.emit_created(&event, &created.key, sent);
        }
        Ok(created)
    }

    /// All items in one transaction; the after events fire once it committed.
    pub async fn create_many(&self, items: Vec<Value>, opts: MutationOptions) -> Result<Vec<Value>, ApiError> {
        let event = self.create_event(opts);
        let sent = event.is_some().then(|| items.clone());
        let (tx, owned) = self.write_transaction().await?;
        let created = async {
            let count = items.len();
            let mut created = Vec::with_capacity(count);
            for (i, item) in items.into_iter().enumerate() {
                let last = owned && i + 1 == count;
                created.push(self.create_in(&tx, item, opts, Ending { owned, last }).await?);
            }
            Ok(created)
        }
        .await;
        let created = self.finish(tx, owned, created).await?;
        let keys = created.into_iter().map(|c| c.settle().map(|c| c.key)).collect::<Result<Vec<_>, _>>()?;
        self.forget_access();
        if let (Some(event), Some(sent)) = (event, sent) {
            for (pk, item) in keys.iter().zip(sent) {
                self.emit_created(&event, pk, item);
            }
        }
        Ok(keys)
    }

    /// Writes to users and roles change what tokens resolve to; writes to permissions and roles
    /// (whose delete takes its permissions along) change the permission rows.
    fn forget_access(&self) {
        let collection = self.collection.as_str();
        if matches!(collection, "directus_users" | "directus_roles") {
            self.services.tokens.clear();
        }
        if matches!(collection, "directus_permissions" | "directus_roles") {
            self.services.permissions.clear();
        }
    }

    /// The `<scope>.create` event when something listens to it: only then is the payload kept
    /// for it.
    fn create_event(&self, opts: MutationOptions) -> Option<String> {
        let event = format!("{}.create", self.scope());
        (opts.emit_events && self.services.bus.has_listeners(&event)).then_some(event)
    }

    fn emit_created(&self, event: &str, pk: &Value, data: Value) {
        let mut payload = match data {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if let Ok(c) = self.overview() {
            payload.entry(c.primary.clone()).or_insert(pk.clone());
        }
        let ctx = self.context(event, "create", pk.clone(), Some(Value::Object(payload)));
        self.services.bus.emit_after(event, self.args(None, ctx));
    }

    /// The rules of users, `create.before` (which gets `tx` as its `database`), the role's
    /// permission, then the insert ([`ItemsService::insert_in`]); the statements lock `tx` only
    /// after the hooks ran.
    async fn create_in(&self, shared: &SharedTransaction, data: Value, opts: MutationOptions, ending: Ending) -> Result<write::Creating, ApiError> {
        let collection = self.overview()?.clone();
        let mut data = match data {
            Value::Object(_) => data,
            _ => return Err(ApiError::invalid_payload("Payload must be an object.")),
        };
        if let (true, Value::Object(m)) = (self.collection == "directus_users", &data) {
            user_rules::check_user_write(&self.services.db, None, m).await?;
        }
        if opts.emit_events {
            let event = format!("{}.create.before", self.scope());
            let ctx = self.context(&event, "create", Value::Null, None);
            let args = self.args(Some(data), ctx).on(Some(shared.clone()));
            data = self.services.bus.emit_before(&event, args).await?.unwrap_or_else(|| Value::Object(Map::new()));
        }
        let data = self.apply_permission(data, "create").await?;
        let data = self.save_related_one(shared, data).await?;
        if !self.has_related_many(&data) {
            return self.insert_in(shared, &collection, data, ending).await;
        }
        // The one-to-many items need the key now: the insert can't wait for the commit.
        let creating = self.insert_in(shared, &collection, data.clone(), Ending::default()).await?;
        let key = creating.key().cloned().ok_or_else(|| ApiError::internal("The created item did not come back from the database."))?;
        self.save_related_many(shared, &data, &key).await?;
        Ok(creating)
    }

    pub async fn update_one(&self, key: Value, data: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        self.update_many(vec![key.clone()], data, opts).await?;
        Ok(key)
    }

    pub async fn update_many(&self, keys: Vec<Value>, data: Value, opts: MutationOptions) -> Result<Vec<Value>, ApiError> {
        let collection = self.overview()?.clone();
        if !data.is_object() {
            return Err(ApiError::invalid_payload("Payload must be an object."));
        }
        if let (true, Value::Object(m)) = (self.collection == "directus_users", &data) {
            user_rules::check_user_write(&self.services.db, Some(&keys), m).await?;
        }
        let original = data.clone();
        let mut data = data;
        if opts.emit_events {
            let event = format!("{}.update.before", self.scope());
            let ctx = self.context(&event, "update", Value::Array(keys.clone()), None);
            data = self.services.bus.emit_before(&event, self.before_args(Some(data), ctx)).await?.unwrap_or(Value::Null);
        }
        self.check_keys(&keys, "update").await?;
        let data = if data.is_object() { self.apply_permission(data, "update").await? } else { data };
        let (shared, owned) = self.write_transaction().await?;
        let written = async {
            let data = self.save_related_one(&shared, data).await?;
            self.update_in(&shared, &collection, &keys, &data, owned).await
        }
        .await;
        self.finish(shared, owned, written).await?;
        self.forget_access();
        if opts.emit_events {
            let event = format!("{}.update", self.scope());
            let ctx = self.context(&event, "update", Value::Array(keys.clone()), Some(original));
            self.services.bus.emit_after(&event, self.args(None, ctx));
        }
        Ok(keys)
    }

    pub async fn delete_one(&self, key: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        self.delete_many(vec![key.clone()], opts).await?;
        Ok(key)
    }

    pub async fn delete_many(&self, keys: Vec<Value>, opts: MutationOptions) -> Result<Vec<Value>, ApiError> {
        self.overview()?;
        match self.collection.as_str() {
            "directus_users" => user_rules::check_user_delete(&self.services.db, &keys).await?,
            "directus_roles" => self.before_role_delete(&keys).await?,
            _ => {}
        }
        self.check_keys(&keys, "delete").await?;
        if opts.emit_events {
            let event = format!("{}.delete.before", self.scope());
            let ctx = self.context(&event, "delete", Value::Array(keys.clone()), Some(Value::Null));
            self.services.bus.emit_before(&event, self.before_args(None, ctx)).await?;
        }
        let (shared, owned) = self.write_transaction().await?;
        let deleted = self.delete_in(&shared, &keys, owned).await;
        self.finish(shared, owned, deleted).await?;
        self.forget_access();
        if opts.emit_events {
            let event = format!("{}.delete", self.scope());
            let ctx = self.context(&event, "delete", Value::Array(keys.clone()), Some(Value::Null));
            self.services.bus.emit_after(&event, self.args(None, ctx));
        }
        Ok(keys)
    }

    /// Guards the last admin role, then removes what belongs to the roles through their
    /// services, so `permissions.delete`, `presets.delete` and `users.update` fire. (Boxed: it
    /// deletes through [`ItemsService::delete_many`], which calls it.)
    fn before_role_delete<'a>(&'a self, keys: &'a [Value]) -> futures_util::future::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            user_rules::check_role_delete(&self.services.db, keys).await?;
            let by_role = Query { filter: Some(json!({ "role": { "_in": keys } })), limit: Some(-1), ..Default::default() };
            for table in ["directus_permissions", "directus_presets"] {
                let service = self.sibling(table);
                let found = service.keys_by_query(&by_role).await?;
                if !found.is_empty() {
                    service.delete_many(found, MutationOptions::default()).await?;
                }
            }
            let users = self.sibling("directus_users");
            let found = users.keys_by_query(&by_role).await?;
            if !found.is_empty() {
                users.update_many(found, user_rules::suspended_without_role(), MutationOptions::default()).await?;
            }
            Ok(())
        })
    }

    /// Creates the singleton's row on first write, updates it afterwards.
    pub async fn upsert_singleton(&self, data: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        match self.singleton_key().await? {
            Some(pk) => self.update_one(pk, data, opts).await,
            None => self.create_one(data, opts).await,
        }
    }
}
