//! The SchemaOverview (spec §5.1): every table with a primary key is a collection, its columns
//! are fields, overlaid with `directus_collections` / `directus_fields` rows and the built-in
//! metadata of the system tables. Serialises to the exact shape hooks get from `getSchema()`.

pub mod introspect;
mod system_meta;
mod types;

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cluster::{Member, Peers};
use crate::db::{Database, DbError};
pub use introspect::{Column, ForeignKey};
pub use types::relation_from_row;

#[derive(Debug, Clone, Serialize, Default)]
pub struct SchemaOverview {
    pub collections: BTreeMap<String, CollectionOverview>,
    pub relations: Vec<Value>,
    pub permissions: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionOverview {
    pub collection: String,
    pub primary: String,
    pub singleton: bool,
    pub sort_field: Option<String>,
    pub note: Option<String>,
    pub accountability: Option<String>,
    pub fields: BTreeMap<String, FieldOverview>,
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
    /// Reads the schema from the live database.
    pub async fn read(db: &Database) -> Result<SchemaOverview, DbError> {
        let tables = introspect::tables(db).await?;
        let collection_rows = db.query("SELECT * FROM directus_collections", &[]).await?.rows;
        let field_rows = db.query("SELECT * FROM directus_fields ORDER BY id", &[]).await?.rows;
        let relation_rows = db.query("SELECT * FROM directus_relations ORDER BY id", &[]).await?.rows;

        let mut collections = BTreeMap::new();
        for (table, columns) in tables {
            let Some(primary) = columns.iter().find(|c| c.primary).map(|c| c.name.clone()) else {
                tracing::warn!("Collection \"{table}\" doesn't have a primary key column and will be ignored");
                continue;
            };
            let system = table.starts_with("directus_");
            let meta = collection_rows.iter().find(|r| r.get("collection").and_then(Value::as_str) == Some(table.as_str()));
            let builtin = system_meta::collection(&table);
            let text = |row: Option<&Map<String, Value>>, key: &str| row.and_then(|r| r.get(key)).and_then(Value::as_str).map(str::to_string);
            let mut fields = BTreeMap::new();
            for column in &columns {
                let special: Vec<String> = system_meta::field_special(&table, &column.name).iter().map(|s| s.to_string()).collect();
                fields.insert(column.name.clone(), types::field_from_column(column, special, None));
            }
            let mut overview = CollectionOverview {
                collection: table.clone(),
                primary,
                singleton: builtin.map(|b| b.singleton).unwrap_or(false) || meta.and_then(|m| m.get("singleton")).map(truthy).unwrap_or(false),
                sort_field: text(meta, "sort_field"),
                note: text(meta, "note"),
                accountability: match meta.and_then(|m| m.get("accountability")) {
                    Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => Some("all".to_string()),
                },
                fields,
            };
            if system && meta.is_none() {
                overview.accountability = builtin.and_then(|b| b.accountability).map(str::to_string);
            }
            collections.insert(table, overview);
        }

        for row in &field_rows {
            let (Some(collection), Some(field)) = (row.get("collection").and_then(Value::as_str), row.get("field").and_then(Value::as_str)) else {
                continue;
            };
            let special: Vec<String> = row
                .get("special")
                .and_then(Value::as_str)
                .map(|s| s.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
                .unwrap_or_default();
            if special.iter().any(|s| s == "no-data") {
                continue;
            }
            let Some(overview) = collections.get_mut(collection) else { continue };
            let note = row.get("note").and_then(Value::as_str).map(str::to_string);
            match overview.fields.get_mut(field) {
                Some(existing) => {
                    existing.kind = types::directus_type(existing.db_type.as_deref().unwrap_or(""), &special, existing.kind.as_str());
                    existing.special = special;
                    existing.note = note;
                }
                None => {
                    overview.fields.insert(field.to_string(), types::alias_field(field, special, note));
                }
            }
        }

        let relations = relation_rows.into_iter().map(types::relation_from_row).collect();
        Ok(SchemaOverview { collections, relations, permissions: vec![] })
    }

    pub fn collection(&self, name: &str) -> Option<&CollectionOverview> {
        self.collections.get(name)
    }

}

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
