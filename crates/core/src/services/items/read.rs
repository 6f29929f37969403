//! Reads: the `SELECT` of a query (`query::select`) for the caller's read permission, rows
//! decoded for output (`payload::for_read`), relational fields expanded (`expand`), only the
//! fields asked for and allowed; `read` events; `meta` counts; singletons.

use sea_query::{Alias, Condition, Query as SqlQuery};
use serde_json::{json, Map, Value};
use std::borrow::Cow;

use super::access::read_access;
use super::write::Created;
use super::ItemsService;
use crate::query::select::{key_condition, requested, Select};
use crate::query::{MetaKind, Query};
use crate::services::payload;
use crate::services::permissions::{self, Permission};
use crate::services::relations::{self, Relation};
use crate::db::Batches;
use crate::ApiError;

/// The items of one streamed read ([`ItemsService::stream_by_query`]), a batch at a time.
pub struct ItemBatches {
    service: ItemsService,
    query: Query,
    permission: Option<Permission>,
    rows: Batches,
}

impl ItemBatches {
    /// The next batch as `read_by_query` would answer its rows (decoded, related items expanded,
    /// only the fields asked for and allowed); `None` after the last.
    pub async fn next(&mut self) -> Option<Result<Vec<Value>, ApiError>> {
        let rows = match self.rows.recv().await? {
            Ok(rows) => rows,
            Err(e) => return Some(Err(e.into())),
        };
        Some(self.service.shape(rows, &self.query, self.permission.as_ref()).await)
    }
}

impl ItemsService {
    pub async fn read_by_query(&self, query: &Query) -> Result<Vec<Value>, ApiError> {
        let permission = self.permission("read").await?;
        let select = self.select(permission.as_ref())?.statement(&self.select_query(query), None)?;
        let rows = self.fetch(&select, query, permission.as_ref()).await?;
        Ok(if self.collection == "directus_permissions" { permissions::with_app_access_rows(rows, self.accountability.as_ref(), query.filter.as_ref()) } else { rows })
    }

    /// [`read_by_query`](Self::read_by_query) for a read whose answer may not fit in memory
    /// (`limit=-1` on a big table): its rows are read through a cursor `batch` at a time, each
    /// batch shaped as the whole answer would be, related items included. `None` where reads
    /// can't be streamed (see [`Database::can_stream`](crate::db::Database::can_stream)), in a
    /// transaction, and for `directus_permissions`, whose answer gains rows of its own.
    pub async fn stream_by_query(&self, query: &Query, batch: usize) -> Result<Option<ItemBatches>, ApiError> {
        if self.transaction.is_some() || self.collection == "directus_permissions" || !self.services.db.can_stream() {
            return Ok(None);
        }
        let permission = self.permission("read").await?;
        let select = self.select(permission.as_ref())?.statement(&self.select_query(query), None)?;
        let rows = self.services.db.stream(&select, batch);
        Ok(Some(ItemBatches { service: self.clone(), query: query.clone(), permission, rows }))
    }

    /// One item by key; 403 FORBIDDEN when it doesn't exist (Directus never answers 404).
    pub async fn read_one(&self, key: &Value, query: &Query) -> Result<Value, ApiError> {
        let mut q = query.clone();
        q.limit = Some(1);
        q.page = None;
        q.offset = None;
        let permission = self.permission("read").await?;
        let select = self.select(permission.as_ref())?;
        let statement = select.statement(&self.select_query(&q), Some(key_condition(select.collection, std::slice::from_ref(key))))?;
        let rows = self.fetch(&statement, &q, permission.as_ref()).await?;
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
        let selected: Map<String, Value> = collection.column_fields().filter_map(|f| row.get(&f.field).map(|v| (f.field.clone(), v.clone()))).collect();
        let rows = self.shape(vec![selected], query, permission.as_ref()).await?;
        self.emit_read(key, &rows);
        rows.into_iter().next().ok_or_else(ApiError::forbidden)
    }

    pub async fn read_many(&self, keys: &[Value], query: &Query) -> Result<Vec<Value>, ApiError> {
        let mut q = query.clone();
        q.limit = Some(-1);
        let permission = self.permission("read").await?;
        let select = self.select(permission.as_ref())?;
        let statement = select.statement(&self.select_query(&q), Some(key_condition(select.collection, keys)))?;
        let rows = self.fetch(&statement, &q, permission.as_ref()).await?;
        self.emit_read(Value::Array(keys.to_vec()), &rows);
        Ok(rows)
    }

    /// The query the `SELECT` runs: `query` and the columns its relational reads need that it
    /// may not name (a many-to-any's collection field); the answer keeps only what `query` names.
    fn select_query<'q>(&self, query: &'q Query) -> Cow<'q, Query> {
        let Ok(collection) = self.overview() else { return Cow::Borrowed(query) };
        let needed: Vec<String> = relations::nested(&query.fields, collection, &self.schema)
            .keys()
            .filter_map(|field| match relations::relation_of(&self.schema, &self.collection, field) {
                Some(Relation::ManyToAny { collection_field, .. }) => Some(collection_field),
                _ => None,
            })
            .filter(|field| !requested(&query.fields, field))
            .collect();
        if needed.is_empty() {
            return Cow::Borrowed(query);
        }
        let mut query = query.clone();
        query.fields.extend(needed);
        Cow::Owned(query)
    }

    pub(super) fn emit_read(&self, item: Value, rows: &[Value]) {
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
        let select = self.select(permission.as_ref())?;
        let allowed = select.with_row_filter(None)?;
        let mut meta = Map::new();
        for kind in &query.meta {
            let (key, cond) = match kind {
                MetaKind::TotalCount => ("total_count", select.condition(query, allowed.clone(), false)?),
                MetaKind::FilterCount => ("filter_count", select.condition(query, allowed.clone(), true)?),
            };
            meta.insert(key.into(), json!(self.count(&select, cond).await?));
        }
        Ok(Some(Value::Object(meta)))
    }

    /// Rows of the collection matching `cond`.
    pub(super) async fn count(&self, select: &Select<'_>, cond: Condition) -> Result<i64, ApiError> {
        let result = self.read(&select.count(cond)).await?;
        // PostgreSQL's count is a bigint; some drivers hand it over as text.
        Ok(result.rows.first().and_then(|r| r.get("count")).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0))
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
        let select = self.select(permission.as_ref())?.statement(&q, None)?;
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

    /// The key of a singleton's row, if it has one.
    pub(super) async fn singleton_key(&self) -> Result<Option<Value>, ApiError> {
        let collection = self.overview()?;
        let select = SqlQuery::select().column(Alias::new(collection.primary.as_str())).from(Alias::new(self.collection.as_str())).limit(1).to_owned();
        Ok(self.read(&select).await?.rows.into_iter().next().and_then(|mut r| r.remove(&collection.primary)))
    }

    pub(super) async fn fetch(&self, select: &sea_query::SelectStatement, query: &Query, permission: Option<&Permission>) -> Result<Vec<Value>, ApiError> {
        let result = self.read(select).await?;
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
        let access = read_access(permission);
        Ok(rows
            .into_iter()
            .map(|mut row| {
                row.retain(|k, _| requested(&query.fields, k) && access.allows(k));
                Value::Object(row)
            })
            .collect())
    }
}
