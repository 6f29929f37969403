//! `CollectionsService`: collections as `{collection, meta, schema}` — every table with a
//! primary key plus its `directus_collections` row — and creating, updating and deleting them.

use sea_query::{Alias, Cond, Expr, ExprTrait, Query as SqlQuery};
use serde_json::{json, Map, Value};

use super::ddl::{self, ColumnSpec};
use super::fields::{field_type, meta_row, FieldsService};
use super::{as_object, optional_object, required_str, SchemaContext};
use crate::query::Query;
use crate::schema::system_data;
use crate::services::MutationOptions;
use crate::ApiError;

pub struct CollectionsService {
    ctx: SchemaContext,
}

/// One field of a collection create body.
struct NewField<'a> {
    name: &'a str,
    column: Option<ColumnSpec>,
    meta: Option<Map<String, Value>>,
}

impl CollectionsService {
    pub fn new(ctx: SchemaContext) -> Self {
        CollectionsService { ctx }
    }

    /// Every collection the caller may read, with its stored meta row or, for a system
    /// collection without one, its built-in meta.
    pub async fn read_all(&self) -> Result<Vec<Value>, ApiError> {
        let schema = self.ctx.schema().await?;
        let query = Query { limit: Some(-1), ..Default::default() };
        let metas = self.ctx.items("directus_collections", schema.clone(), false).read_by_query(&query).await?;
        let readable = self.ctx.readable().await?;
        let builtin = system_data::get();
        Ok(schema
            .collections
            .keys()
            .filter(|name| readable.as_ref().is_none_or(|r| r.contains_key(*name)))
            .map(|name| {
                let meta = metas
                    .iter()
                    .find(|m| m.get("collection").and_then(Value::as_str) == Some(name))
                    .cloned()
                    .or_else(|| builtin.collection(name).cloned().map(Value::Object));
                json!({ "collection": name, "meta": meta, "schema": { "name": name, "comment": null } })
            })
            .collect())
    }

    /// One collection, or `None` when it doesn't exist (Directus answers `{data: null}`); 403
    /// when the caller may not read it.
    pub async fn read_one(&self, collection: &str) -> Result<Option<Value>, ApiError> {
        if let Some(readable) = self.ctx.readable().await? {
            if !readable.contains_key(collection) {
                return Err(ApiError::forbidden());
            }
        }
        Ok(self.read_all().await?.into_iter().find(|c| c.get("collection").and_then(Value::as_str) == Some(collection)))
    }

    /// `POST /collections`: the table with its fields' columns, then the meta row
    /// (`collections.create(.before)`, from `meta` or empty) and each field's meta row
    /// (`fields.create(.before)`), all in one transaction. Returns the collection's name.
    ///
    /// As in rc.83 every collection is a table: `schema` is not looked at (the admin app sends
    /// none). Collections without a table (folders, `schema: null`) came with later releases.
    pub async fn create_one(&self, body: &Value) -> Result<String, ApiError> {
        self.ctx.require_admin()?;
        let body = as_object(body)?;
        let collection = required_str(body, "collection")?;
        if collection.starts_with("directus_") {
            return Err(ApiError::invalid_payload("Collections can't start with \"directus_\""));
        }
        let schema = self.ctx.schema().await?;
        if schema.collection(collection).is_some() || self.meta_exists(collection).await? {
            return Err(ApiError::invalid_payload(format!("Collection \"{collection}\" already exists")));
        }
        let meta = optional_object(body, "meta")?;
        let fields = new_fields(body)?;
        if !fields.iter().any(|f| f.column.as_ref().is_some_and(|c| c.primary)) {
            return Err(ApiError::invalid_payload(format!("Collection \"{collection}\" needs a primary key field")));
        }
        let db = &self.ctx.services.db;
        let result = async {
            // Shared so the metadata rows' before-hooks get it as their `database`.
            let tx = db.begin_shared().await?;
            let columns: Vec<ColumnSpec> = fields.iter().filter_map(|f| f.column.clone()).collect();
            ddl::create_table(&mut *tx.lock().await?, db, collection, &columns).await?;
            let mut row = meta.cloned().unwrap_or_default();
            row.insert("collection".into(), json!(collection));
            self.ctx.items("directus_collections", schema.clone(), true).in_transaction(Some(tx.clone())).create_one(Value::Object(row), MutationOptions::default()).await?;
            let field_items = self.ctx.items("directus_fields", schema.clone(), true).in_transaction(Some(tx.clone()));
            for field in &fields {
                if let Some(meta) = &field.meta {
                    field_items.create_one(meta_row(meta, collection, field.name), MutationOptions::default()).await?;
                }
            }
            tx.commit().await?;
            Ok::<_, ApiError>(())
        }
        .await;
        self.ctx.invalidate().await;
        result?;
        Ok(collection.to_string())
    }

    /// `PATCH /collections/:collection`: only `meta`, updating the row or creating it
    /// (`collections.update*` or `collections.create*`).
    pub async fn update_one(&self, collection: &str, body: &Value) -> Result<(), ApiError> {
        self.ctx.require_admin()?;
        let schema = self.ctx.schema().await?;
        let exists = self.meta_exists(collection).await?;
        if schema.collection(collection).is_none() && !exists {
            return Err(ApiError::forbidden());
        }
        let meta = match as_object(body)?.get("meta") {
            Some(Value::Object(m)) => m.clone(),
            _ => return Err(ApiError::invalid_payload("\"meta\" key is required")),
        };
        let items = self.ctx.items("directus_collections", schema, true);
        let result = if exists {
            items.update_one(json!(collection), Value::Object(meta), MutationOptions::default()).await.map(|_| ())
        } else {
            let mut row = meta;
            row.insert("collection".into(), json!(collection));
            items.create_one(Value::Object(row), MutationOptions::default()).await.map(|_| ())
        };
        self.ctx.invalidate().await;
        result
    }

    /// `DELETE /collections/:collection`: the meta row (`collections.delete*`), the fields of
    /// other collections relating to this one (`fields.delete*`), then the table and the rows
    /// of `directus_fields`, `_relations`, `_presets`, `_revisions`, `_activity`, `_permissions`
    /// that name it.
    pub async fn delete_one(&self, collection: &str) -> Result<(), ApiError> {
        self.ctx.require_admin()?;
        let schema = self.ctx.schema().await?;
        let has_meta = self.meta_exists(collection).await?;
        let has_table = schema.collection(collection).is_some();
        if !has_table && !has_meta {
            return Err(ApiError::forbidden());
        }
        if has_meta {
            self.ctx.items("directus_collections", schema.clone(), true).delete_one(json!(collection), MutationOptions::default()).await?;
        }
        let fields = FieldsService::new(self.ctx.clone());
        let text = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        for relation in &schema.relations {
            let (many, field, related) = (text(relation, "collection"), text(relation, "field"), text(relation, "related_collection"));
            let one_field = relation.get("meta").and_then(|m| m.get("one_field")).and_then(Value::as_str).map(str::to_string);
            match (many, field, related) {
                // An m2o elsewhere pointing here loses its column.
                (Some(many), Some(field), Some(related)) if related == collection && many != collection => fields.delete_field(&many, &field).await?,
                // An o2m elsewhere listing this collection's items loses its alias.
                (Some(many), _, Some(related)) if many == collection && related != collection => {
                    if let Some(one_field) = one_field {
                        fields.delete_field(&related, &one_field).await?;
                    }
                }
                _ => {}
            }
        }
        let db = &self.ctx.services.db;
        let result = async {
            let mut tx = db.begin().await?;
            for table in ["directus_fields", "directus_presets", "directus_revisions", "directus_activity", "directus_permissions"] {
                let delete = SqlQuery::delete().from_table(Alias::new(table)).and_where(Expr::col(Alias::new("collection")).eq(collection)).to_owned();
                tx.run(&delete).await?;
            }
            let relations = SqlQuery::delete()
                .from_table(Alias::new("directus_relations"))
                .cond_where(Cond::any().add(Expr::col(Alias::new("many_collection")).eq(collection)).add(Expr::col(Alias::new("one_collection")).eq(collection)))
                .to_owned();
            tx.run(&relations).await?;
            if has_table {
                ddl::drop_table(&mut tx, db, collection).await?;
            }
            tx.commit().await?;
            Ok::<_, ApiError>(())
        }
        .await;
        self.ctx.invalidate().await;
        // Its permission rows went with it.
        self.ctx.services.permissions.clear();
        result
    }

    async fn meta_exists(&self, collection: &str) -> Result<bool, ApiError> {
        let select = SqlQuery::select()
            .column(Alias::new("collection"))
            .from(Alias::new("directus_collections"))
            .and_where(Expr::col(Alias::new("collection")).eq(collection))
            .to_owned();
        Ok(!self.ctx.services.db.run(&select).await?.rows.is_empty())
    }
}

/// The `fields` of a create body; without any, the `id` integer auto-increment key Directus adds.
fn new_fields(body: &Map<String, Value>) -> Result<Vec<NewField<'_>>, ApiError> {
    let list = match body.get("fields") {
        None | Some(Value::Null) => {
            let schema = json!({ "is_primary_key": true, "has_auto_increment": true });
            let meta = json!({ "hidden": true, "interface": "numeric", "readonly": true });
            return Ok(vec![NewField { name: "id", column: Some(ColumnSpec::new("id", "integer", schema.as_object())?), meta: meta.as_object().cloned() }]);
        }
        Some(Value::Array(list)) => list,
        Some(_) => return Err(ApiError::invalid_payload("\"fields\" must be an array")),
    };
    list.iter()
        .map(|f| {
            let f = f.as_object().ok_or_else(|| ApiError::invalid_payload("\"fields\" must contain objects"))?;
            let name = required_str(f, "field")?;
            let column = match field_type(f)? {
                Some(kind) if !ddl::is_alias(kind) => Some(ColumnSpec::new(name, kind, optional_object(f, "schema")?)?),
                _ => None,
            };
            Ok(NewField { name, column, meta: optional_object(f, "meta")?.cloned() })
        })
        .collect()
}
