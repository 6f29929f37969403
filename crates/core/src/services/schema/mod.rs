//! The schema services behind `/collections`, `/fields` and `/relations` (spec §2.4, §4.4, §7.4):
//! real DDL plus the `directus_collections` / `directus_fields` / `directus_relations` rows, with
//! Directus's events.
//!
//! Metadata rows are written through `ItemsService` on the system table, so the events are the
//! ones Directus emits: `collections.create.before` gets the meta row and `collections.create`
//! the collection name; each field meta fires `fields.create(.before)` with the numeric row id as
//! `item`; relation rows are written without accountability (`accountability: null` in their
//! events) and deleted with plain SQL (no `relations.delete`). `fields.delete(.before)` are
//! emitted explicitly with the user collection and the field name.
//!
//! Decisions:
//! - Writes need an admin (403 otherwise). Reads are open to every role, limited to the
//!   collections (and fields) its `read` permissions cover, as Directus does.
//! - Creating a collection with a schema but without a primary key field is refused (400);
//!   Directus would create a table it then ignores.
//! - A collection create with `schema` runs its DDL and metadata in one transaction (atomic on
//!   SQLite and PostgreSQL; MySQL commits DDL implicitly). Field and relation changes run their
//!   DDL first and write the metadata afterwards, as Directus does; a SQLite rebuild always runs
//!   in its own transaction (see `ddl`). On SQLite the metadata hooks of a collection create
//!   (`collections.create.before`, `fields.create.before`) run while its transaction holds the
//!   write lock, so a before-hook that writes on its own waits for it (Directus gets SQLITE_BUSY).
//! - Deleting a collection deletes its meta row (`collections.delete*`), then the fields of
//!   other collections that point at it (`fields.delete*` each), then drops the table and its
//!   metadata — in that order, not in one transaction.
//! - `PATCH /fields` keeps what the body leaves out (type, nullability, default); knex's
//!   `alter()` would reset them.
//! - The schema cache is invalidated after every change, also a failed one (its DDL may have
//!   run), so `/items` and hooks' `getSchema()` see the new state at once.
//! - System collections, fields and relations are served with rc.83's built-in meta
//!   (`crate::schema::system_data`) unless a stored row takes its place. `/relations` lists every
//!   foreign key, system tables' included, as rc.83 does.
//! - Deviations from rc.83 there: the first stored row of a system field or relation (`PATCH`)
//!   starts from the built-in meta instead of the body alone, so a system form keeps its
//!   interface; a field or relation with both a stored and a built-in row is listed once;
//!   `/relations/:collection/:field` answers system relations too (rc.83 only stored rows);
//!   `/fields/:c/:f` of an alias gives the same `type` as the list (its first `special`, where
//!   rc.83 says `alias`); the app-access rows appended to `/permissions` are filtered by the
//!   query's `filter` (rc.83 appends all of them).
//! - Called from a hook, the services run at the hook's depth (`HOOKS_MAX_DEPTH` bounds their
//!   events too) and write the metadata rows in the hook's transaction when it gave one
//!   (`knex: database`); the DDL itself runs on a connection of its own, as MySQL commits DDL
//!   implicitly anyway and a SQLite table rebuild needs a connection with foreign keys off.

pub mod collections;
mod ddl;
pub mod fields;
pub mod relations;

use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

use super::items::ItemsService;
use super::Services;
use crate::auth::{accountability, Accountability};
use crate::db::SharedTransaction;
use crate::events::EventArgs;
use crate::schema::SchemaOverview;
use crate::ApiError;

/// What the three schema services share: the caller and the core services.
#[derive(Clone)]
pub struct SchemaContext {
    services: Services,
    accountability: Option<Accountability>,
    /// Hook → service nesting of the caller (see `EventArgs::depth`).
    depth: u32,
    /// The caller's transaction for the metadata rows; `None` = their own.
    transaction: Option<SharedTransaction>,
}

impl SchemaContext {
    pub fn new(services: Services, accountability: Option<Accountability>) -> Self {
        SchemaContext { services, accountability, depth: 0, transaction: None }
    }

    /// A context for a hook that was itself `depth` calls deep.
    pub fn at_depth(self, depth: u32) -> Self {
        SchemaContext { depth, ..self }
    }

    /// Writes the metadata rows in `tx` (a hook's `knex: database`).
    pub fn in_transaction(self, transaction: Option<SharedTransaction>) -> Self {
        SchemaContext { transaction, ..self }
    }

    fn require_admin(&self) -> Result<(), ApiError> {
        match &self.accountability {
            Some(a) if !a.admin => Err(ApiError::forbidden()),
            _ => Ok(()),
        }
    }

    async fn schema(&self) -> Result<Arc<SchemaOverview>, ApiError> {
        Ok(self.services.schema.get().await?)
    }

    /// An `ItemsService` on a system table, as the caller (or without accountability).
    fn items(&self, table: &str, schema: Arc<SchemaOverview>, as_caller: bool) -> ItemsService {
        let accountability = if as_caller { self.accountability.clone() } else { None };
        ItemsService::new(table, self.services.clone(), schema, accountability).at_depth(self.depth).in_transaction(self.transaction.clone())
    }

    async fn invalidate(&self) {
        self.services.schema.invalidate();
        self.services.responses.after_write().await;
    }

    /// The context of an event emitted outside `ItemsService` (`fields.delete`).
    fn event_args(&self, event: &str, collection: &str, item: Value, action: &str) -> EventArgs {
        let mut ctx = Map::new();
        ctx.insert("event".into(), json!(event));
        ctx.insert("accountability".into(), accountability::to_json(self.accountability.as_ref()));
        ctx.insert("collection".into(), json!(collection));
        ctx.insert("item".into(), item);
        ctx.insert("action".into(), json!(action));
        ctx.insert("payload".into(), Value::Null);
        EventArgs::context(ctx).at_depth(self.depth)
    }

    /// The fields a non-admin role may read per collection (`None`: everything, for admins and
    /// internal calls), app-access permissions included. A collection missing from the map is
    /// not readable at all.
    async fn readable(&self) -> Result<Option<HashMap<String, Option<Vec<String>>>>, ApiError> {
        super::permissions::readable(&self.services, self.accountability.as_ref()).await
    }
}

/// A required string member of a body, or 400 as Joi words it.
fn required_str<'a>(body: &'a Map<String, Value>, key: &str) -> Result<&'a str, ApiError> {
    match body.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) => Err(ApiError::invalid_payload(format!("\"{key}\" is not allowed to be empty"))),
        None | Some(Value::Null) => Err(ApiError::invalid_payload(format!("\"{key}\" is required"))),
        Some(_) => Err(ApiError::invalid_payload(format!("\"{key}\" must be a string"))),
    }
}

/// An optional object member (`null` counts as absent).
fn optional_object<'a>(body: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(ApiError::invalid_payload(format!("\"{key}\" must be of type object"))),
    }
}

fn as_object(body: &Value) -> Result<&Map<String, Value>, ApiError> {
    body.as_object().ok_or_else(|| ApiError::invalid_payload("\"value\" must be of type object"))
}
