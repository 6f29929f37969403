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

use sea_query::{Alias, Asterisk, Cond, Condition, Expr, ExprTrait, Order, Query as SqlQuery, SelectStatement};
use serde_json::{json, Map, Value};
use std::sync::Arc;

use super::activity::{self, ActivityRecord, RevisionRecord};
use super::payload::{self, Action};
use super::permissions::{self, Permission};
use super::relations::{self, Relation};
use super::user_rules;
use super::validation;
use super::{event_scope, MutationOptions, Services};
use crate::auth::{accountability, Accountability};
use crate::config::DbClient;
use crate::db::{DbError, Deferred, QueryResult, SharedTransaction, Transaction};
use crate::events::EventArgs;
use crate::query::{compile_filter, compile_search, MetaKind, Query};
use crate::schema::{CollectionOverview, SchemaOverview};
use crate::ApiError;

/// An item a create wrote: its key and, on engines with `RETURNING`, the row as stored.
pub struct Created {
    pub key: Value,
    row: Option<Map<String, Value>>,
}

/// A create whose insert may still be queued in its transaction (SQLite, see
/// `ItemsService::create_in`): its key and row are known once that transaction committed.
struct Creating {
    done: Created,
    /// The queued insert's result, and the primary key field to read the key from.
    queued: Option<(Deferred, String)>,
}

impl Creating {
    fn settle(self) -> Result<Created, ApiError> {
        let Some((result, primary)) = self.queued else { return Ok(self.done) };
        let row = result.take().and_then(|mut r| r.rows.pop()).ok_or_else(|| ApiError::internal("The created item did not come back from the database."))?;
        let key = row.get(&primary).cloned().unwrap_or(Value::Null);
        Ok(Created { key, row: Some(row) })
    }
}

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

fn table(name: &str) -> Alias {
    Alias::new(name)
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
        ItemsService::new(collection, self.services.clone(), self.schema.clone(), self.accountability.clone())
            .at_depth(self.depth)
            .in_transaction(self.transaction.clone())
    }

    /// Reads go through the service's transaction when it has one, so they see its writes.
    async fn read(&self, stmt: &SelectStatement) -> Result<QueryResult, DbError> {
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
            (true, Ok(v)) => tx.commit().await.map(|_| v).map_err(ApiError::from_write),
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

    async fn permission(&self, action: &str) -> Result<Option<Permission>, ApiError> {
        permissions::for_action(&self.services.db, self.accountability.as_ref(), &self.collection, action).await
    }

    /// Presets under the payload, then 403 if it writes a field the role may not write.
    async fn apply_permission(&self, data: Value, action: &str) -> Result<Value, ApiError> {
        let Some(permission) = self.permission(action).await? else { return Ok(data) };
        let mut merged = permission.presets.clone();
        if let Value::Object(m) = data {
            merged.extend(m);
        }
        if merged.keys().any(|k| !permission.allows_field(k)) {
            return Err(ApiError::forbidden());
        }
        if let Some(rules) = &permission.validation {
            validation::validate(rules, &merged, action == "create")?;
        }
        Ok(Value::Object(merged))
    }

    /// 403 unless every key is an existing item the role may act on.
    async fn check_keys(&self, keys: &[Value], action: &str) -> Result<(), ApiError> {
        let Some(permission) = self.permission(action).await? else { return Ok(()) };
        let collection = self.overview()?;
        let mut cond = Cond::all().add(self.pk_condition(keys)?);
        if let Some(filter) = &permission.filter {
            cond = cond.add(compile_filter(filter, collection, &self.schema)?);
        }
        let n = self.count(cond).await?;
        let distinct: std::collections::HashSet<String> = keys.iter().map(|k| k.as_str().map(str::to_string).unwrap_or_else(|| k.to_string())).collect();
        if n as usize != distinct.len() {
            return Err(ApiError::forbidden());
        }
        Ok(())
    }

    /// Rows of the collection matching `cond`.
    async fn count(&self, cond: Condition) -> Result<i64, ApiError> {
        let count = SqlQuery::select()
            .expr_as(Expr::col(Asterisk).count(), Alias::new("count"))
            .from(table(&self.collection))
            .cond_where(cond)
            .to_owned();
        let result = self.read(&count).await?;
        // PostgreSQL's count is a bigint; some drivers hand it over as text.
        Ok(result.rows.first().and_then(|r| r.get("count")).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0))
    }

    fn writes_activity(&self) -> bool {
        self.accountability.is_some() && self.overview().map(|c| c.accountability.is_some()).unwrap_or(false)
    }

    fn writes_revisions(&self) -> bool {
        self.accountability.is_some() && self.overview().map(|c| c.accountability.as_deref() == Some("all")).unwrap_or(false)
    }

    pub async fn create_one(&self, data: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        Ok(self.create_one_returning(data, opts).await?.key)
    }

    /// `create_one`, keeping the row the insert returned for [`ItemsService::read_created`].
    pub async fn create_one_returning(&self, data: Value, opts: MutationOptions) -> Result<Created, ApiError> {
        let (tx, owned) = self.write_transaction().await?;
        let created = self.create_in(&tx, data.clone(), opts, owned).await;
        let created = self.finish(tx, owned, created).await?.settle()?;
        self.after_create(&created.key, data, opts);
        Ok(created)
    }

    /// All items in one transaction; the after events fire once it committed.
    pub async fn create_many(&self, items: Vec<Value>, opts: MutationOptions) -> Result<Vec<Value>, ApiError> {
        let (tx, owned) = self.write_transaction().await?;
        let created = async {
            let mut created = Vec::with_capacity(items.len());
            for item in &items {
                created.push(self.create_in(&tx, item.clone(), opts, owned).await?);
            }
            Ok(created)
        }
        .await;
        let created = self.finish(tx, owned, created).await?;
        let keys = created.into_iter().map(|c| c.settle().map(|c| c.key)).collect::<Result<Vec<_>, _>>()?;
        for (pk, item) in keys.iter().zip(items) {
            self.after_create(pk, item, opts);
        }
        Ok(keys)
    }

    /// Writes to users and roles change what tokens resolve to.
    fn forget_tokens(&self) {
        if matches!(self.collection.as_str(), "directus_users" | "directus_roles") {
            self.services.tokens.clear();
        }
    }

    fn after_create(&self, pk: &Value, data: Value, opts: MutationOptions) {
        self.forget_tokens();
        if !opts.emit_events {
            return;
        }
        let event = format!("{}.create", self.scope());
        let mut payload = match data {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        if let Ok(c) = self.overview() {
            payload.entry(c.primary.clone()).or_insert(pk.clone());
        }
        let ctx = self.context(&event, "create", pk.clone(), Some(Value::Object(payload)));
        self.services.bus.emit_after(&event, self.args(None, ctx));
    }

    /// `create.before` gets `tx` as its `database`; the statements lock it only after the hooks ran.
    ///
    /// On SQLite, in a transaction this call owns, an insert that lets the database pick an
    /// integer key is queued with its activity and revision rows rather than run: all of them go
    /// out with the `COMMIT`, so the write holds SQLite's one writer slot for one round trip to
    /// the connection's thread instead of two. The key and row are known once it committed.
    async fn create_in(&self, shared: &SharedTransaction, data: Value, opts: MutationOptions, owned: bool) -> Result<Creating, ApiError> {
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
            if let Some(replaced) = self.services.bus.emit_before(&event, args).await? {
                data = replaced;
            } else {
                data = Value::Object(Map::new());
            }
        }
        let data = self.apply_permission(data, "create").await?;
        let fields = match &data {
            Value::Object(m) => payload::for_write(&collection, m, Action::Create, self.accountability.as_ref()),
            _ => payload::for_write(&collection, &Map::new(), Action::Create, self.accountability.as_ref()),
        };
        let pk_field = collection.primary.clone();
        let mut insert = SqlQuery::insert();
        insert.into_table(table(&self.collection));
        let given_pk = fields.get(&pk_field).filter(|v| !v.is_null()).cloned();
        let columns: Vec<(&String, &Value)> = fields.iter().filter(|(k, v)| **k != pk_field || !v.is_null()).collect();
        if columns.is_empty() {
            insert.or_default_values();
        } else {
            insert.columns(columns.iter().map(|(k, _)| Alias::new(k.as_str())));
            insert
                .values(columns.iter().map(|(_, v)| sea_query::SimpleExpr::from(json_to_sea(v))))
                .map_err(|e| ApiError::internal(e.to_string()))?;
        }
        let mut tx = shared.lock().await?;
        let tx = &mut *tx;
        let queue = owned && given_pk.is_none() && tx.client() == DbClient::Sqlite && rowid_key(&collection);
        let (pk, row, queued) = match (tx.client(), given_pk) {
            (DbClient::MySql, Some(pk)) => {
                tx.run(&insert).await.map_err(ApiError::from_write)?;
                (pk, None, None)
            }
            (DbClient::MySql, None) => {
                let id = activity::insert_returning_id(tx, insert, &pk_field).await.map_err(ApiError::from_write)?;
                (id.map(Value::from).unwrap_or(Value::Null), None, None)
            }
            (_, None) if queue => {
                insert.returning_all();
                let result = tx.defer_returning(&insert).await.map_err(ApiError::from_write)?;
                (Value::Null, None, Some((result, pk_field.clone())))
            }
            (_, given) => {
                insert.returning_all();
                let row = tx.run(&insert).await.map_err(ApiError::from_write)?.rows.pop();
                let pk = given.or_else(|| row.as_ref().and_then(|r| r.get(&pk_field)).cloned()).unwrap_or(Value::Null);
                (pk, row, None)
            }
        };
        if self.writes_activity() {
            let accountability = self.accountability.clone().unwrap_or_default();
            let item = match queued {
                Some(_) => activity::Item::LastInserted { field: &pk_field },
                None => activity::Item::Key(&pk),
            };
            let record = ActivityRecord { action: "create", collection: &self.collection, item, accountability: &accountability, comment: None };
            let snapshot = self.writes_revisions().then(|| {
                let mut snapshot = match &data {
                    Value::Object(m) => m.clone(),
                    _ => Map::new(),
                };
                if queued.is_none() {
                    snapshot.entry(pk_field.clone()).or_insert(pk.clone());
                }
                snapshot
            });
            let revision = snapshot.as_ref().map(|s| RevisionRecord { data: s, delta: s });
            activity::write(tx, record, revision).await?;
        }
        Ok(Creating { done: Created { key: pk, row }, queued })
    }

    /// Builds the SELECT for a query, with `extra` (e.g. a primary key filter) and the read
    /// permission's filter AND-ed in, selecting only the fields the role may read.
    fn select(&self, query: &Query, extra: Option<Condition>, permission: Option<&Permission>) -> Result<SelectStatement, ApiError> {
        let collection = self.overview()?;
        let extra = match permission.and_then(|p| p.filter.as_ref()) {
            Some(filter) => Some(Cond::all().add_option(extra).add(compile_filter(filter, collection, &self.schema)?)),
            None => extra,
        };
        let t = table(&self.collection);
        let mut select = SqlQuery::select();
        select.from(t.clone());
        for field in collection.column_fields() {
            // The key is always read: relational reads group by it; `fetch` drops it if unasked.
            let wanted = field.field == collection.primary || requested(&query.fields, &field.field);
            if wanted && permission.is_none_or(|p| p.allows_field(&field.field)) {
                select.column((t.clone(), Alias::new(field.field.as_str())));
            }
        }
        select.cond_where(self.where_condition(query, extra, true, permission)?);
        if query.sort.is_empty() {
            let default = collection.sort_field.clone().filter(|s| collection.field(s).is_some()).unwrap_or_else(|| collection.primary.clone());
            select.order_by((t.clone(), Alias::new(default.as_str())), Order::Asc);
        }
        for sort in &query.sort {
            if permission.is_some_and(|p| !p.allows_field(&sort.column)) {
                return Err(ApiError::forbidden());
            }
            if collection.field(&sort.column).is_none_or(|f| f.alias) {
                return Err(ApiError::invalid_query(format!("Field \"{}\" doesn't exist in collection \"{}\".", sort.column, self.collection)));
            }
            select.order_by((t.clone(), Alias::new(sort.column.as_str())), if sort.descending { Order::Desc } else { Order::Asc });
        }
        let limit = query.limit.unwrap_or(100);
        if limit >= 0 {
            select.limit(limit as u64);
        }
        let offset = match query.page {
            Some(page) if page > 0 && limit >= 0 => limit * (page - 1),
            _ => query.offset.unwrap_or(0),
        };
        if offset > 0 {
            if limit < 0 && self.services.db.client() != crate::config::DbClient::Postgres {
                // SQLite and MySQL need a LIMIT before OFFSET.
                select.limit(i64::MAX as u64);
            }
            select.offset(offset as u64);
        }
        Ok(select)
    }

    /// The user's filter and search AND-ed to `extra`. A role limited to some fields may neither
    /// filter on nor search in the others (that would reveal their values).
    fn where_condition(&self, query: &Query, extra: Option<Condition>, with_filter: bool, permission: Option<&Permission>) -> Result<Condition, ApiError> {
        let collection = self.overview()?;
        let mut cond = Cond::all();
        if let Some(extra) = extra {
            cond = cond.add(extra);
        }
        if with_filter {
            if let Some(filter) = &query.filter {
                if let Some(p) = permission {
                    if filter_fields(filter).iter().any(|f| !p.allows_field(f)) {
                        return Err(ApiError::forbidden());
                    }
                }
                cond = cond.add(compile_filter(filter, collection, &self.schema)?);
            }
            if let Some(term) = query.search.as_deref().filter(|s| !s.is_empty()) {
                match permission.filter(|p| p.fields.is_some()) {
                    Some(p) => {
                        let mut visible = collection.clone();
                        visible.fields.retain(|name, _| p.allows_field(name));
                        cond = cond.add(compile_search(term, &visible));
                    }
                    None => cond = cond.add(compile_search(term, collection)),
                }
            }
        }
        Ok(cond)
    }

    async fn fetch(&self, select: &SelectStatement, query: &Query, permission: Option<&Permission>) -> Result<Vec<Value>, ApiError> {
        let result = self.read(select).await.map_err(|e| ApiError::internal(e.message()))?;
        self.shape(result.rows, query, permission).await
    }

    /// Rows as read from the table → the items a query answers: values as Directus gives them,
    /// relational fields expanded, only the fields asked for and allowed.
    async fn shape(&self, mut rows: Vec<Map<String, Value>>, query: &Query, permission: Option<&Permission>) -> Result<Vec<Value>, ApiError> {
        let collection = self.overview()?;
        for row in rows.iter_mut() {
            payload::for_read(collection, row);
        }
        self.expand(&mut rows, query).await?;
        Ok(rows
            .into_iter()
            .map(|mut row| {
                row.retain(|k, _| requested(&query.fields, k) && permission.is_none_or(|p| p.allows_field(k)));
                Value::Object(row)
            })
            .collect())
    }

    /// Replaces relational fields the query asks into (`author.name`, `comments.*`, `*.*`)
    /// with the related items, read through their own service so their permissions apply.
    fn expand<'a>(&'a self, rows: &'a mut [Map<String, Value>], query: &'a Query) -> futures_util::future::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let collection = self.overview()?;
            for (field, nested) in relations::nested(&query.fields, collection, &self.schema) {
                let deep = relations::deep_for(query.deep.as_ref(), &field);
                match relations::relation_of(&self.schema, &self.collection, &field) {
                    Some(Relation::ManyToOne { related }) => {
                        let keys = distinct(rows.iter().filter_map(|r| r.get(&field)).filter(|v| !v.is_null()));
                        if keys.is_empty() {
                            continue;
                        }
                        let pk = self.schema.collection(&related).ok_or_else(ApiError::forbidden)?.primary.clone();
                        let found = self.related(&related, &nested.fields, &pk, keys, deep).await?;
                        for row in rows.iter_mut() {
                            if let Some(value) = row.get_mut(&field) {
                                if !Value::is_null(value) {
                                    let key = key_text(value);
                                    *value = found.iter().find(|(k, _)| *k == key).map(|(_, item)| strip(item, &pk, &nested.fields)).unwrap_or(Value::Null);
                                }
                            }
                        }
                    }
                    Some(Relation::OneToMany { child, fk }) => {
                        let keys = distinct(rows.iter().filter_map(|r| r.get(&collection.primary)));
                        let found = if keys.is_empty() { vec![] } else { self.related(&child, &nested.fields, &fk, keys, deep).await? };
                        let child_pk = self.schema.collection(&child).map(|c| c.primary.clone()).unwrap_or_default();
                        let limit = deep.and_then(|d| d.get("_limit")).and_then(Value::as_i64).filter(|l| *l >= 0);
                        for row in rows.iter_mut() {
                            let key = row.get(&collection.primary).map(key_text).unwrap_or_default();
                            let mut items: Vec<Value> = found
                                .iter()
                                .filter(|(k, _)| *k == key)
                                .map(|(_, item)| if nested.keys_only { item.get(&child_pk).cloned().unwrap_or(Value::Null) } else { strip(item, &fk, &nested.fields) })
                                .collect();
                            if let Some(l) = limit {
                                items.truncate(l as usize);
                            }
                            row.insert(field.clone(), Value::Array(items));
                        }
                    }
                    None => {}
                }
            }
            Ok(())
        })
    }

    /// Items of `collection` whose `by` is one of `keys`, with `fields` (and `by`), keyed by
    /// `by`'s value. `deep` adds its `_filter` and `_sort`.
    async fn related(&self, collection: &str, fields: &[String], by: &str, keys: Vec<Value>, deep: Option<&Map<String, Value>>) -> Result<Vec<(String, Value)>, ApiError> {
        let mut fields = fields.to_vec();
        fields.push(by.to_string());
        let mut filter = json!({ by: { "_in": keys } });
        if let Some(extra) = deep.and_then(|d| d.get("_filter")).filter(|f| f.as_object().is_some_and(|o| !o.is_empty())) {
            filter = json!({ "_and": [filter, extra] });
        }
        let sort = deep
            .and_then(|d| d.get("_sort"))
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .filter_map(|o| Some(crate::query::Sort { column: o.get("column")?.as_str()?.to_string(), descending: o.get("order").and_then(Value::as_str) == Some("desc") }))
                    .collect()
            })
            .unwrap_or_default();
        let nested_deep = deep.map(|d| d.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect());
        let service = ItemsService::new(collection, self.services.clone(), self.schema.clone(), self.accountability.clone())
            .at_depth(self.depth)
            .in_transaction(self.transaction.clone());
        let expands_by = fields.iter().any(|f| f.strip_prefix(by).is_some_and(|rest| rest.starts_with('.')));
        if !expands_by {
            let query = Query { fields, filter: Some(filter), sort, limit: Some(-1), deep: nested_deep, ..Default::default() };
            let rows = service.read_by_query(&query).await?;
            return Ok(rows.into_iter().map(|row| (row.get(by).map(key_text).unwrap_or_default(), row)).collect());
        }
        // `by` itself is expanded into an object: match rows to parents by their own key instead.
        let pk = self.schema.collection(collection).ok_or_else(ApiError::forbidden)?.primary.clone();
        let plain = Query { fields: vec![pk.clone(), by.to_string()], filter: Some(filter.clone()), limit: Some(-1), ..Default::default() };
        let parent_of: std::collections::HashMap<String, String> = service
            .read_by_query(&plain)
            .await?
            .iter()
            .map(|r| (r.get(&pk).map(key_text).unwrap_or_default(), r.get(by).map(key_text).unwrap_or_default()))
            .collect();
        let wanted_pk = requested(&fields, &pk);
        fields.push(pk.clone());
        let query = Query { fields, filter: Some(filter), sort, limit: Some(-1), deep: nested_deep, ..Default::default() };
        let rows = service.read_by_query(&query).await?;
        Ok(rows
            .into_iter()
            .map(|mut row| {
                let parent = row.get(&pk).map(key_text).and_then(|k| parent_of.get(&k).cloned()).unwrap_or_default();
                if !wanted_pk {
                    if let Some(o) = row.as_object_mut() {
                        o.remove(&pk);
                    }
                }
                (parent, row)
            })
            .collect())
    }

    pub async fn read_by_query(&self, query: &Query) -> Result<Vec<Value>, ApiError> {
        let permission = self.permission("read").await?;
        let select = self.select(query, None, permission.as_ref())?;
        self.fetch(&select, query, permission.as_ref()).await
    }

    fn pk_condition(&self, keys: &[Value]) -> Result<Condition, ApiError> {
        let collection = self.overview()?;
        let column = Expr::col((table(&self.collection), Alias::new(collection.primary.as_str())));
        Ok(Cond::all().add(column.is_in(keys.iter().map(json_to_sea))))
    }

    /// One item by key; 403 FORBIDDEN when it doesn't exist (Directus never answers 404).
    pub async fn read_one(&self, key: &Value, query: &Query) -> Result<Value, ApiError> {
        let mut q = query.clone();
        q.limit = Some(1);
        q.page = None;
        q.offset = None;
        let permission = self.permission("read").await?;
        let select = self.select(&q, Some(self.pk_condition(std::slice::from_ref(key))?), permission.as_ref())?;
        let rows = self.fetch(&select, &q, permission.as_ref()).await?;
        self.emit_read(key.clone(), &rows);
        rows.into_iter().next().ok_or_else(ApiError::forbidden)
    }

    /// Reads a created item back as `read_one` would, from the row its insert returned when that
    /// row is what the `SELECT` would find: the query filters nothing, and the role's read
    /// permission has no filter. It was read inside the create's transaction, so nothing else
    /// wrote to it in between (Directus reads after the commit, while the after-hooks start).
    pub async fn read_created(&self, created: Created, query: &Query) -> Result<Value, ApiError> {
        let Created { key, row } = created;
        let plain = query.filter.is_none() && query.search.as_deref().is_none_or(str::is_empty);
        let Some(row) = row.filter(|_| plain) else { return self.read_one(&key, query).await };
        let permission = self.permission("read").await?;
        if permission.as_ref().is_some_and(|p| p.filter.is_some()) {
            return self.read_one(&key, query).await;
        }
        // The columns in the order the `SELECT` lists them.
        let collection = self.overview()?;
        let selected: Map<String, Value> =
            collection.column_fields().filter_map(|f| row.get(&f.field).map(|v| (f.field.clone(), v.clone()))).collect();
        let rows = self.shape(vec![selected], query, permission.as_ref()).await?;
        self.emit_read(key, &rows);
        rows.into_iter().next().ok_or_else(ApiError::forbidden)
    }

    pub async fn read_many(&self, keys: &[Value], query: &Query) -> Result<Vec<Value>, ApiError> {
        let mut q = query.clone();
        q.limit = Some(-1);
        let permission = self.permission("read").await?;
        let select = self.select(&q, Some(self.pk_condition(keys)?), permission.as_ref())?;
        let rows = self.fetch(&select, &q, permission.as_ref()).await?;
        self.emit_read(Value::Array(keys.to_vec()), &rows);
        Ok(rows)
    }

    fn emit_read(&self, item: Value, rows: &[Value]) {
        let event = format!("{}.read", self.scope());
        if self.services.bus.has_listeners(&event) {
            let ctx = self.context(&event, "read", item, Some(Value::Array(rows.to_vec())));
            self.services.bus.emit_after(&event, self.args(None, ctx));
        }
    }

    /// `meta=total_count,filter_count` for a list query.
    pub async fn meta(&self, query: &Query) -> Result<Option<Value>, ApiError> {
        if query.meta.is_empty() {
            return Ok(None);
        }
        let permission = self.permission("read").await?;
        let collection = self.overview()?;
        let allowed = match permission.as_ref().and_then(|p| p.filter.as_ref()) {
            Some(filter) => Some(compile_filter(filter, collection, &self.schema)?),
            None => None,
        };
        let mut meta = Map::new();
        for kind in &query.meta {
            let (key, cond) = match kind {
                MetaKind::TotalCount => ("total_count", self.where_condition(query, allowed.clone(), false, permission.as_ref())?),
                MetaKind::FilterCount => ("filter_count", self.where_condition(query, allowed.clone(), true, permission.as_ref())?),
            };
            meta.insert(key.into(), json!(self.count(cond).await?));
        }
        Ok(Some(Value::Object(meta)))
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
        let fields = match &data {
            Value::Object(m) => payload::for_write(&collection, m, Action::Update, self.accountability.as_ref()),
            _ => Map::new(),
        };
        let (shared, owned) = self.write_transaction().await?;
        let written = self.update_in(&shared, &collection, &keys, &fields, &data).await;
        self.finish(shared, owned, written).await?;
        self.forget_tokens();
        if opts.emit_events {
            let event = format!("{}.update", self.scope());
            let ctx = self.context(&event, "update", Value::Array(keys.clone()), Some(original));
            self.services.bus.emit_after(&event, self.args(None, ctx));
        }
        Ok(keys)
    }

    async fn update_in(&self, shared: &SharedTransaction, collection: &CollectionOverview, keys: &[Value], fields: &Map<String, Value>, data: &Value) -> Result<(), ApiError> {
        let mut tx = shared.lock().await?;
        if !fields.is_empty() && !keys.is_empty() {
            let update = SqlQuery::update()
                .table(table(&self.collection))
                .values(fields.iter().map(|(k, v)| (Alias::new(k.as_str()), sea_query::SimpleExpr::from(json_to_sea(v)))))
                .cond_where(self.pk_condition(keys)?)
                .to_owned();
            tx.run(&update).await.map_err(ApiError::from_write)?;
        }
        if self.writes_activity() {
            let accountability = self.accountability.clone().unwrap_or_default();
            let snapshots = if self.writes_revisions() { self.snapshots(&mut tx, keys).await? } else { vec![] };
            let delta = match data {
                Value::Object(m) => m.clone(),
                _ => Map::new(),
            };
            for key in keys {
                let record = ActivityRecord { action: "update", collection: &self.collection, item: activity::Item::Key(key), accountability: &accountability, comment: None };
                let key_text = key.as_str().map(str::to_string).unwrap_or_else(|| key.to_string());
                let snapshot = snapshots.iter().find(|s| {
                    s.get(&collection.primary).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())) == Some(key_text.clone())
                });
                let revision = snapshot.map(|data| RevisionRecord { data, delta: &delta });
                activity::write(&mut tx, record, revision).await?;
            }
        }
        Ok(())
    }

    /// The rows after the update, read inside the transaction for the revisions. Emits `read`
    /// like Directus's snapshot `readMany` does.
    async fn snapshots(&self, tx: &mut Transaction, keys: &[Value]) -> Result<Vec<Map<String, Value>>, ApiError> {
        let collection = self.overview()?;
        let select = SqlQuery::select().column(Asterisk).from(table(&self.collection)).cond_where(self.pk_condition(keys)?).to_owned();
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
        Ok(rows)
    }

    pub async fn delete_one(&self, key: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        self.delete_many(vec![key.clone()], opts).await?;
        Ok(key)
    }

    pub async fn delete_many(&self, keys: Vec<Value>, opts: MutationOptions) -> Result<Vec<Value>, ApiError> {
        self.overview()?;
        match self.collection.as_str() {
            "directus_users" => user_rules::check_user_delete(&self.services.db, &keys).await?,
            "directus_roles" => user_rules::before_role_delete(self, &keys).await?,
            _ => {}
        }
        self.check_keys(&keys, "delete").await?;
        if opts.emit_events {
            let event = format!("{}.delete.before", self.scope());
            let ctx = self.context(&event, "delete", Value::Array(keys.clone()), Some(Value::Null));
            self.services.bus.emit_before(&event, self.before_args(None, ctx)).await?;
        }
        let (shared, owned) = self.write_transaction().await?;
        let deleted = self.delete_in(&shared, &keys).await;
        self.finish(shared, owned, deleted).await?;
        self.forget_tokens();
        if opts.emit_events {
            let event = format!("{}.delete", self.scope());
            let ctx = self.context(&event, "delete", Value::Array(keys.clone()), Some(Value::Null));
            self.services.bus.emit_after(&event, self.args(None, ctx));
        }
        Ok(keys)
    }

    async fn delete_in(&self, shared: &SharedTransaction, keys: &[Value]) -> Result<(), ApiError> {
        let mut tx = shared.lock().await?;
        if !keys.is_empty() {
            let delete = SqlQuery::delete().from_table(table(&self.collection)).cond_where(self.pk_condition(keys)?).to_owned();
            tx.run(&delete).await.map_err(ApiError::from_write)?;
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

    /// Keys of the items a query matches (for batch updates and deletes by query).
    pub async fn keys_by_query(&self, query: &Query) -> Result<Vec<Value>, ApiError> {
        let collection = self.overview()?;
        let mut q = query.clone();
        q.fields = vec![collection.primary.clone()];
        if q.limit.is_none() {
            q.limit = Some(-1);
        }
        let permission = self.permission("read").await?;
        let select = self.select(&q, None, permission.as_ref())?;
        let result = self.read(&select).await?;
        Ok(result.rows.into_iter().filter_map(|mut r| r.remove(&collection.primary)).collect())
    }

    /// A singleton's only row, or an object of the field defaults when there is none.
    pub async fn read_singleton(&self, query: &Query) -> Result<Value, ApiError> {
        let mut q = query.clone();
        q.limit = Some(1);
        let rows = self.read_by_query(&q).await?;
        if let Some(row) = rows.into_iter().next() {
            return Ok(row);
        }
        let collection = self.overview()?;
        let defaults: Map<String, Value> = collection
            .column_fields()
            .map(|f| {
                let v = if f.field == collection.primary || f.default_value == json!("AUTO_INCREMENT") { Value::Null } else { f.default_value.clone() };
                (f.field.clone(), v)
            })
            .collect();
        Ok(Value::Object(defaults))
    }

    /// Creates the singleton's row on first write, updates it afterwards.
    pub async fn upsert_singleton(&self, data: Value, opts: MutationOptions) -> Result<Value, ApiError> {
        let collection = self.overview()?.clone();
        let select = SqlQuery::select().column(Alias::new(collection.primary.as_str())).from(table(&self.collection)).limit(1).to_owned();
        let existing = self.read(&select).await?.rows.into_iter().next().and_then(|mut r| r.remove(&collection.primary));
        match existing {
            Some(pk) => self.update_one(pk, data, opts).await,
            None => self.create_one(data, opts).await,
        }
    }
}

/// Whether `field` is among the requested `fields` (`*`, `*.x`, itself, or `field.x`).
/// Whether the collection's key is SQLite's rowid (a single `integer` primary key, which SQLite
/// numbers itself), so `last_insert_rowid()` is the key of the row just inserted.
fn rowid_key(collection: &CollectionOverview) -> bool {
    let simple_name = collection.primary.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    simple_name && collection.fields.get(&collection.primary).is_some_and(|f| f.default_value == json!("AUTO_INCREMENT"))
}

fn requested(fields: &[String], field: &str) -> bool {
    fields.is_empty()
        || fields.iter().any(|f| f == "*" || f.starts_with("*.") || f == field || f.split_once('.').is_some_and(|(head, _)| head == field))
}

/// A key as text, so keys of different JSON types (1 and "1") compare equal.
fn key_text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn distinct<'a>(values: impl Iterator<Item = &'a Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    values.filter(|v| seen.insert(key_text(v))).cloned().collect()
}

/// A related item without the key column that was only read to match it to its parent.
fn strip(item: &Value, key: &str, fields: &[String]) -> Value {
    let mut item = item.clone();
    if !requested(fields, key) {
        if let Some(o) = item.as_object_mut() {
            o.remove(key);
        }
    }
    item
}

/// The fields of this collection a filter refers to (through `_and`/`_or`, not into relations).
fn filter_fields(filter: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match filter {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "_and" || key == "_or" {
                    if let Value::Array(items) = value {
                        items.iter().for_each(|i| out.extend(filter_fields(i)));
                    }
                } else if !key.starts_with('_') {
                    out.push(key.clone());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| out.extend(filter_fields(i))),
        _ => {}
    }
    out
}

/// JSON values as sea-query parameters (bound, never inlined).
pub fn json_to_sea(v: &Value) -> sea_query::Value {
    match v {
        Value::Null => sea_query::Value::String(None),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or_default().into(),
        },
        Value::String(s) => s.clone().into(),
        other => other.to_string().into(),
    }
}
