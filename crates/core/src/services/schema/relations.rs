//! `RelationsService`: `directus_relations` rows stitched with the foreign keys of the database
//! (`{collection, field, related_collection, schema, meta}`), and creating, changing and
//! deleting them with their foreign key.
//!
//! A relation with a `related_collection` on a column gets a foreign key named
//! `<collection>_<field>_foreign` referencing the related primary key, with `schema.on_delete`
//! when given. Foreign keys without a row are listed with `meta: null`, system tables' too, and
//! the built-in system relations with their built-in meta (no `id`); changing the meta of one of
//! those stores a row that then takes its place.

use sea_query::{Alias, Expr, ExprTrait, Query as SqlQuery};
use serde_json::{json, Map, Value};

use super::ddl::{self, NewForeignKey};
use super::{as_object, optional_object, required_str, SchemaContext};
use crate::schema::introspect;
use crate::schema::relations::stitch;
use crate::services::MutationOptions;
use crate::ApiError;

pub struct RelationsService {
    ctx: SchemaContext,
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl RelationsService {
    pub fn new(ctx: SchemaContext) -> Self {
        RelationsService { ctx }
    }

    /// Every relation, or those whose many side is `collection`: foreign keys and stored rows
    /// stitched with the built-in system relations (`crate::schema::relations`). A non-admin sees
    /// the ones whose collections and fields (the many field, the one field) it may read.
    pub async fn read_all(&self, collection: Option<&str>) -> Result<Vec<Value>, ApiError> {
        let db = &self.ctx.services.db;
        let rows = db.query("SELECT * FROM directus_relations ORDER BY id", &[]).await?.rows;
        let foreign_keys = introspect::foreign_keys(db).await?;
        let mut out = stitch(rows, &foreign_keys);
        if let Some(readable) = self.ctx.readable().await? {
            let field_allowed = |collection: Option<&str>, field: Option<&str>| match (collection.and_then(|c| readable.get(c)), field) {
                (None, _) => false,
                (Some(None), _) | (Some(Some(_)), None) => true,
                (Some(Some(fields)), Some(f)) => fields.iter().any(|a| a == f),
            };
            out.retain(|r| {
                let one_allowed = r["meta"]["one_allowed_collections"].as_array().into_iter().flatten().filter_map(Value::as_str).all(|c| readable.contains_key(c));
                let related = text(r, "related_collection");
                field_allowed(text(r, "collection"), text(r, "field"))
                    && related.is_none_or(|c| readable.contains_key(c))
                    && one_allowed
                    && (related.is_none() || field_allowed(related, r["meta"]["one_field"].as_str()))
            });
        }
        if let Some(c) = collection {
            out.retain(|r| text(r, "collection") == Some(c));
        }
        Ok(out)
    }

    /// The relation of `collection.field`; 403 when there is none.
    pub async fn read_one(&self, collection: &str, field: &str) -> Result<Value, ApiError> {
        self.read_all(Some(collection)).await?.into_iter().find(|r| text(r, "field") == Some(field)).ok_or_else(ApiError::forbidden)
    }

    /// `POST /relations`: the foreign key (for an m2o on a column), then the row
    /// (`relations.create(.before)`, without accountability).
    pub async fn create_one(&self, body: &Value) -> Result<Value, ApiError> {
        self.ctx.require_admin()?;
        let schema = self.ctx.schema().await?;
        let body = as_object(body)?;
        let collection = required_str(body, "collection")?;
        let field = required_str(body, "field")?;
        let related = match body.get("related_collection") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(ApiError::invalid_payload("\"related_collection\" must be a string")),
        };
        let overview = schema.collection(collection).ok_or_else(|| ApiError::invalid_payload(format!("Collection \"{collection}\" doesn't exist")))?;
        let column = overview.field(field).ok_or_else(|| ApiError::invalid_payload(format!("Field \"{field}\" doesn't exist in collection \"{collection}\"")))?;
        let related_pk = match related {
            Some(r) => Some(schema.collection(r).ok_or_else(|| ApiError::invalid_payload(format!("Collection \"{r}\" doesn't exist")))?.primary.clone()),
            None => None,
        };
        if self.read_all(Some(collection)).await?.iter().any(|r| text(r, "field") == Some(field)) {
            return Err(ApiError::invalid_payload(format!("Field \"{field}\" in collection \"{collection}\" already has an associated relationship")));
        }
        let on_delete = on_delete(body)?;
        let result = async {
            if let (Some(related), Some(related_column), false) = (related, related_pk.as_deref(), column.alias) {
                let fk = NewForeignKey { table: collection, column: field, related, related_column, on_delete };
                ddl::add_foreign_key(&self.ctx.services.db, &fk).await?;
            }
            let mut row = optional_object(body, "meta")?.cloned().unwrap_or_default();
            row.insert("many_collection".into(), json!(collection));
            row.insert("many_field".into(), json!(field));
            row.insert("one_collection".into(), json!(related));
            self.ctx.items("directus_relations", schema.clone(), false).create_one(Value::Object(csv_collections(row)), MutationOptions::default()).await?;
            Ok::<_, ApiError>(())
        }
        .await;
        self.ctx.invalidate().await;
        result?;
        self.read_one(collection, field).await
    }

    /// `PATCH /relations/:collection/:field`: recreates the foreign key when `schema` is given
    /// (to change `on_delete`), updates or creates the row when `meta` is.
    pub async fn update_one(&self, collection: &str, field: &str, body: &Value) -> Result<Value, ApiError> {
        self.ctx.require_admin()?;
        let schema = self.ctx.schema().await?;
        let existing = self.read_all(Some(collection)).await?.into_iter().find(|r| text(r, "field") == Some(field)).ok_or_else(|| no_relationship(collection, field))?;
        let body = as_object(body)?;
        let result = async {
            let related = text(&existing, "related_collection");
            if let (Some(_), Some(related)) = (optional_object(body, "schema")?, related) {
                let related_column = schema.collection(related).map(|c| c.primary.clone()).ok_or_else(ApiError::forbidden)?;
                let db = &self.ctx.services.db;
                ddl::drop_foreign_key(db, collection, field).await?;
                let fk = NewForeignKey { table: collection, column: field, related, related_column: &related_column, on_delete: on_delete(body)? };
                ddl::add_foreign_key(db, &fk).await?;
            }
            if let Some(meta) = optional_object(body, "meta")? {
                let items = self.ctx.items("directus_relations", schema.clone(), false);
                let mut row = meta.clone();
                row.remove("id");
                let row = Value::Object(csv_collections(row));
                match existing.get("meta").and_then(|m| m.get("id")).filter(|id| !id.is_null()) {
                    Some(id) => items.update_one(id.clone(), row, MutationOptions::default()).await?,
                    // No stored row yet: it starts from the built-in meta, if any, so what the
                    // body leaves out (a system relation's `one_field`) stays as it was.
                    None => {
                        let mut stored = existing.get("meta").and_then(Value::as_object).cloned().unwrap_or_default();
                        stored.remove("system");
                        stored.extend(row.as_object().cloned().unwrap_or_default());
                        stored.insert("many_collection".into(), json!(collection));
                        stored.insert("many_field".into(), json!(field));
                        stored.insert("one_collection".into(), json!(related));
                        items.create_one(Value::Object(csv_collections(stored)), MutationOptions::default()).await?
                    }
                };
            }
            Ok::<_, ApiError>(())
        }
        .await;
        self.ctx.invalidate().await;
        result?;
        self.read_one(collection, field).await
    }

    /// `DELETE /relations/:collection/:field`: drops the foreign key and deletes the row with
    /// plain SQL, so no `relations.delete` events (as Directus).
    pub async fn delete_one(&self, collection: &str, field: &str) -> Result<(), ApiError> {
        self.ctx.require_admin()?;
        if !self.read_all(Some(collection)).await?.iter().any(|r| text(r, "field") == Some(field)) {
            return Err(no_relationship(collection, field));
        }
        let db = &self.ctx.services.db;
        let result = async {
            ddl::drop_foreign_key(db, collection, field).await?;
            let delete = SqlQuery::delete()
                .from_table(Alias::new("directus_relations"))
                .and_where(Expr::col(Alias::new("many_collection")).eq(collection))
                .and_where(Expr::col(Alias::new("many_field")).eq(field))
                .to_owned();
            db.run(&delete).await?;
            Ok::<_, ApiError>(())
        }
        .await;
        self.ctx.invalidate().await;
        result
    }
}

fn no_relationship(collection: &str, field: &str) -> ApiError {
    ApiError::invalid_payload(format!("Field \"{field}\" in collection \"{collection}\" doesn't have a relationship."))
}

/// `schema.on_delete` of a relation body.
fn on_delete(body: &Map<String, Value>) -> Result<Option<&str>, ApiError> {
    match optional_object(body, "schema")?.and_then(|s| s.get("on_delete")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid_payload("\"schema.on_delete\" must be a string")),
    }
}

/// `one_allowed_collections` is stored as a comma-separated list.
fn csv_collections(mut row: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Array(items)) = row.get("one_allowed_collections") {
        let list: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
        row.insert("one_allowed_collections".into(), json!(list.join(",")));
    }
    row
}
