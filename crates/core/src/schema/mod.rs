//! The SchemaOverview (spec §5.1): every table with a primary key is a collection, its columns
//! are fields, overlaid with `directus_collections` / `directus_fields` rows and the built-in
//! metadata of the system tables. Serialises to the exact shape hooks get from `getSchema()`.

pub mod introspect;
pub mod relations;
pub mod system_data;
mod types;

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use crate::cluster::{Member, Peers};
use crate::db::{Database, DbError};
pub use introspect::{Column, ForeignKey};
pub use types::relation_from_row;

/// The fields of a collection by name. Every value of every row read is looked up here, so with a
/// fast hasher: the names come from the schema, not from clients.
pub type Fields = indexmap::IndexMap<String, FieldOverview, foldhash::fast::RandomState>;

#[derive(Debug, Clone, Serialize, Default)]
pub struct SchemaOverview {
    pub collections: BTreeMap<String, CollectionOverview>,
    pub relations: Vec<Value>,
    pub permissions: Vec<Value>,
    /// Where each field's relations stand in `relations`; built on first use, so `relations`
    /// stays as it is once a lookup was made (a schema is read whole and then shared).
    #[serde(skip)]
    pub relation_index: RelationIndex,
}

/// Positions in [`SchemaOverview::relations`] by collection and field: a relation is listed under
/// its many side (`collection.field`) and under its one side (`related_collection.one_field`).
/// Every filter and relational read looks fields up here; scanning the relations' JSON instead
/// cost a hash of each key per relation per field (the system relations made that measurable).
#[derive(Debug, Clone, Default)]
pub struct RelationIndex(OnceLock<HashMap<String, HashMap<String, Vec<usize>>>>);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionOverview {
    pub collection: String,
    pub primary: String,
    pub singleton: bool,
    pub sort_field: Option<String>,
    pub note: Option<String>,
    pub accountability: Option<String>,
    /// In column order, then alias fields in the order their rows are applied, as Directus's
    /// `getSchema` lists them (and so `*` answers them).
    pub fields: Fields,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldOverview {
    pub field: String,
    pub default_value: Value,
    pub nullable: bool,
    pub generated: bool,
    #[serde(rename = "type")]
    pub kind: String,
    pub db_type: Option<String>,
    pub precision: Option<i64>,
    pub scale: Option<i64>,
    pub special: Vec<String>,
    pub note: Option<String>,
    pub alias: bool,
}

impl FieldOverview {
    /// A nullable column of Directus type `kind` with nothing special (`alias` for alias types):
    /// the fields tests and benches describe by hand.
    pub fn of_type(name: &str, kind: &str) -> FieldOverview {
        FieldOverview {
            field: name.to_string(),
            default_value: serde_json::Value::Null,
            nullable: true,
            generated: false,
            kind: kind.to_string(),
            db_type: None,
            precision: None,
            scale: None,
            special: vec![],
            note: None,
            alias: kind == "alias",
        }
    }
}

impl CollectionOverview {
    pub fn field(&self, name: &str) -> Option<&FieldOverview> {
        self.fields.get(name)
    }

    /// Fields backed by a column, in a stable order (the primary key first).
    pub fn column_fields(&self) -> impl Iterator<Item = &FieldOverview> {
        let pk = self.fields.get(&self.primary);
        pk.into_iter().chain(self.fields.values().filter(move |f| !f.alias && f.field != self.primary))
    }

}

impl FieldOverview {
    pub fn has_special(&self, special: &str) -> bool {
        self.special.iter().any(|s| s == special)
    }
}

impl SchemaOverview {
    /// Reads the schema from the live database, merged with the built-in system data as rc.83's
    /// `getSchema` merges it: a stored `directus_collections` row wins over the built-in one;
    /// field rows apply stored first, then built-in (the built-in `special` wins); relations are
    /// the foreign keys and rows stitched as `/relations` serves them.
    pub async fn read(db: &Database) -> Result<SchemaOverview, DbError> {
        let tables = introspect::tables(db).await?;
        let collection_rows = db.query("SELECT * FROM directus_collections", &[]).await?.rows;
        let field_rows = db.query("SELECT * FROM directus_fields ORDER BY id", &[]).await?.rows;
        let relation_rows = db.query("SELECT * FROM directus_relations ORDER BY id", &[]).await?.rows;
        let foreign_keys = introspect::foreign_keys(db).await?;
        let system = system_data::get();

        let mut collections = BTreeMap::new();
        for (table, columns) in tables {
            let Some(primary) = columns.iter().find(|c| c.primary).map(|c| c.name.clone()) else {
                tracing::warn!("Collection \"{table}\" doesn't have a primary key column and will be ignored");
                continue;
            };
            let meta = collection_rows
                .iter()
                .find(|r| r.get("collection").and_then(Value::as_str) == Some(table.as_str()))
                .or_else(|| system.collection(&table));
            let text = |key: &str| meta.and_then(|r| r.get(key)).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
            let fields = columns.iter().map(|column| (column.name.clone(), types::field_from_column(column, vec![], None))).collect();
            let overview = CollectionOverview {
                collection: table.clone(),
                primary,
                singleton: meta.and_then(|m| m.get("singleton")).is_some_and(truthy),
                sort_field: text("sort_field"),
                note: text("note"),
                accountability: match meta.map(|m| m.get("accountability")) {
                    Some(Some(Value::Null)) => None,
                    Some(Some(Value::String(s))) => Some(s.clone()),
                    // Built-in rows without the key: these tables are only written without
                    // accountability (activity of activity would never end).
                    Some(None) if UNTRACKED.contains(&table.as_str()) => None,
                    _ => Some("all".to_string()),
                },
                fields,
            };
            collections.insert(table, overview);
        }

        for row in field_rows.iter().chain(system.fields()) {
            let (Some(collection), Some(field)) = (row.get("collection").and_then(Value::as_str), row.get("field").and_then(Value::as_str)) else {
                continue;
            };
            let special = system_data::special_list(row);
            if special.iter().any(|s| s == "no-data") {
                continue;
            }
            let Some(overview) = collections.get_mut(collection) else { continue };
            let note = row.get("note").and_then(Value::as_str).map(str::to_string);
            match overview.fields.get_mut(field) {
                Some(existing) if !existing.alias => {
                    existing.kind = types::directus_type(existing.db_type.as_deref().unwrap_or(""), &special, existing.kind.as_str());
                    existing.special = special;
                    existing.note = note;
                }
                _ => {
                    overview.fields.insert(field.to_string(), types::alias_field(field, special, note));
                }
            }
        }

        let relations = relations::stitch(relation_rows, &foreign_keys);
        Ok(SchemaOverview { collections, relations, permissions: vec![], relation_index: RelationIndex::default() })
    }

    pub fn collection(&self, name: &str) -> Option<&CollectionOverview> {
        self.collections.get(name)
    }

    /// The relations `collection.field` takes part in, on either side, in their order in
    /// `relations`.
    pub fn relations_of<'a>(&'a self, collection: &str, field: &str) -> impl Iterator<Item = &'a Value> + 'a {
        let index = self.relation_index.0.get_or_init(|| {
            let mut index: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
            let text = |v: &Value| v.as_str().map(str::to_string);
            for (i, r) in self.relations.iter().enumerate() {
                let sides = [(text(&r["collection"]), text(&r["field"])), (text(&r["related_collection"]), text(&r["meta"]["one_field"]))];
                for (collection, field) in sides {
                    if let (Some(collection), Some(field)) = (collection, field) {
                        let at = index.entry(collection).or_default().entry(field).or_default();
                        if at.last() != Some(&i) {
                            at.push(i);
                        }
                    }
                }
            }
            index
        });
        let positions = index.get(collection).and_then(|fields| fields.get(field)).map(Vec::as_slice).unwrap_or_default();
        positions.iter().map(|&i| &self.relations[i])
    }

}

/// System tables written only without accountability: no activity is recorded for them.
const UNTRACKED: &[&str] = &["directus_activity", "directus_revisions", "directus_sessions", "directus_migrations"];

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => s == "true" || s == "1",
        _ => false,
    }
}

/// The schema, read once and refreshed after schema changes (`CACHE_SCHEMA`). Each change bumps
/// a version so the hook runtime knows when its copy is stale.
#[derive(Clone)]
pub struct SchemaCache {
    db: Database,
    current: Arc<std::sync::RwLock<Option<Arc<SchemaOverview>>>>,
    json: Arc<std::sync::Mutex<Option<(u64, Arc<String>)>>>,
    version: Arc<std::sync::atomic::AtomicU64>,
    /// The other instances, told about every local invalidation.
    peers: Peers,
}

/// The schema cache's name on the cluster bus.
const TOPIC: &str = "schema";

impl SchemaCache {
    pub fn new(db: Database) -> Self {
        SchemaCache { db, current: Default::default(), json: Default::default(), version: Default::default(), peers: Peers::new(TOPIC) }
    }

    pub async fn get(&self) -> Result<Arc<SchemaOverview>, DbError> {
        if let Some(s) = self.current.read().unwrap().as_ref() {
            return Ok(s.clone());
        }
        let version = self.version();
        let fresh = Arc::new(SchemaOverview::read(&self.db).await?);
        if self.version() == version {
            *self.current.write().unwrap() = Some(fresh.clone());
        }
        Ok(fresh)
    }

    /// Forgets the cached schema (and the database's statement caches) here and on the other
    /// instances; the next `get` reads it again.
    pub fn invalidate(&self) {
        self.invalidate_local();
        self.peers.notify();
    }

    /// [`invalidate`](Self::invalidate) on this instance only: for changes another instance made.
    pub fn invalidate_local(&self) {
        self.db.schema_changed();
        self.version.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *self.current.write().unwrap() = None;
    }

    /// This cache on the cluster bus: invalidated here when another instance changed the schema.
    pub fn cluster_member(&self) -> Member {
        let cache = self.clone();
        self.peers.member(move || cache.invalidate_local())
    }

    pub fn version(&self) -> u64 {
        self.version.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The cached schema as JSON, without touching the database (`None` before the first read).
    pub fn peek_json(&self) -> Option<(u64, Arc<String>)> {
        let version = self.version();
        let mut json = self.json.lock().unwrap();
        if let Some((v, text)) = json.as_ref() {
            if *v == version {
                return Some((*v, text.clone()));
            }
        }
        let schema = self.current.read().unwrap().clone()?;
        let text = Arc::new(serde_json::to_string(&*schema).unwrap_or_else(|_| "null".into()));
        *json = Some((version, text.clone()));
        Some((version, text))
    }

    /// The schema as JSON, read from the database if needed.
    pub async fn json(&self) -> Result<Arc<String>, DbError> {
        loop {
            self.get().await?;
            if let Some((_, text)) = self.peek_json() {
                return Ok(text);
            }
        }
    }
}
