//! `FieldsService`: fields as `{collection, field, type, schema, meta}` — the column (if any)
//! and its `directus_fields` row (if any) — and adding, altering and dropping them.

use sea_query::{Alias, Expr, ExprTrait, Query as SqlQuery};
use serde_json::{json, Map, Value};

use super::ddl::{self, ColumnSpec};
use super::relations::RelationsService;
use super::{as_object, optional_object, required_str, SchemaContext};
use crate::query::Query;
use crate::schema::introspect::{self, Column, ForeignKey};
use crate::schema::{system_data, SchemaOverview};
use crate::services::MutationOptions;
use crate::ApiError;

pub struct FieldsService {
    ctx: SchemaContext,
}

impl FieldsService {
    pub fn new(ctx: SchemaContext) -> Self {
        FieldsService { ctx }
    }

    /// Every field, or the fields of one collection (403 when it doesn't exist or the caller may
    /// not read it), in column order with alias fields last. A field's meta is its stored
    /// `directus_fields` row, else its built-in row (system collections); built-in alias fields
    /// (`directus_roles.users`, dividers) are listed like stored ones. An alias field's `type` is
    /// its first `special`, as Directus's list answers it.
    pub async fn read_all(&self, collection: Option<&str>) -> Result<Vec<Value>, ApiError> {
        let schema = self.ctx.schema().await?;
        if let Some(c) = collection {
            schema.collection(c).ok_or_else(ApiError::forbidden)?;
        }
        let readable = self.ctx.readable().await?;
        if let (Some(c), Some(readable)) = (collection, &readable) {
            if !readable.contains_key(c) {
                return Err(ApiError::forbidden());
            }
        }
        let tables = introspect::tables(&self.ctx.services.db).await?;
        let foreign_keys = introspect::foreign_keys(&self.ctx.services.db).await?;
        let stored = self.meta_rows(&schema).await?;
        let builtin = system_data::get();
        let mut out = vec![];
        for (name, overview) in &schema.collections {
            if collection.is_some_and(|c| c != name) {
                continue;
            }
            let allowed = match &readable {
                None => None,
                Some(r) => match r.get(name) {
                    Some(fields) => fields.clone(),
                    None => continue,
                },
            };
            let visible = |field: &str| allowed.as_ref().is_none_or(|a| a.iter().any(|f| f == field));
            let of_collection = |m: &&Map<String, Value>| m.get("collection").and_then(Value::as_str) == Some(name);
            let metas: Vec<&Map<String, Value>> = stored.iter().filter(of_collection).collect();
            let builtins: Vec<&Map<String, Value>> = builtin
                .fields()
                .iter()
                .filter(of_collection)
                .filter(|b| !metas.iter().any(|m| m.get("field") == b.get("field")))
                .collect();
            let meta_of = |field: &str| metas.iter().chain(&builtins).find(|m| m.get("field").and_then(Value::as_str) == Some(field)).map(|m| Value::Object((*m).clone()));
            let columns = tables.get(name).map(Vec::as_slice).unwrap_or_default();
            for column in columns {
                if visible(&column.name) {
                    let kind = overview.field(&column.name).map(|f| f.kind.clone()).unwrap_or_else(|| "unknown".into());
                    let fk = foreign_keys.iter().find(|f| f.table == *name && f.column == column.name);
                    out.push(field_json(name, &column.name, &kind, Some(column_schema(name, column, fk, &schema)), meta_of(&column.name)));
                }
            }
            let is_alias = |m: &Map<String, Value>| system_data::special_list(m).iter().any(|s| ddl::is_alias(s));
            // Stored rows without a column are alias fields (also `no-data` ones, which the
            // SchemaOverview leaves out); built-in ones only when their `special` says so.
            let aliases = metas.iter().copied().chain(builtins.iter().copied().filter(|m| is_alias(m)));
            for meta in aliases {
                let Some(field) = meta.get("field").and_then(Value::as_str) else { continue };
                if visible(field) && !columns.iter().any(|c| c.name == field) {
                    let kind = system_data::special_list(meta).into_iter().next().unwrap_or_else(|| "alias".into());
                    out.push(field_json(name, field, &kind, None, Some(Value::Object(meta.clone()))));
                }
            }
        }
        Ok(out)
    }

    /// One field; 403 when the collection or the field doesn't exist (or isn't readable).
    pub async fn read_one(&self, collection: &str, field: &str) -> Result<Value, ApiError> {
        self.read_all(Some(collection))
            .await?
            .into_iter()
            .find(|f| f.get("field").and_then(Value::as_str) == Some(field))
            .ok_or_else(ApiError::forbidden)
    }

    /// `directus_fields` rows, decoded (special as an array, JSON options parsed).
    async fn meta_rows(&self, schema: &std::sync::Arc<SchemaOverview>) -> Result<Vec<Map<String, Value>>, ApiError> {
        let query = Query { limit: Some(-1), ..Default::default() };
        let rows = self.ctx.items("directus_fields", schema.clone(), false).read_by_query(&query).await?;
        Ok(rows.into_iter().filter_map(|r| r.as_object().cloned()).collect())
    }

    /// `POST /fields/:collection`: adds the column (unless the type is an alias or null) and
    /// the meta row (`fields.create(.before)`), then returns the field.
    pub async fn create_field(&self, collection: &str, body: &Value) -> Result<Value, ApiError> {
        self.ctx.require_admin()?;
        let schema = self.ctx.schema().await?;
        let overview = schema.collection(collection).ok_or_else(ApiError::forbidden)?;
        let body = as_object(body)?;
        let field = required_str(body, "field")?;
        let kind = field_type(body)?;
        let meta = optional_object(body, "meta")?;
        let column_schema = optional_object(body, "schema")?;
        if overview.field(field).is_some() || self.meta_id(collection, field).await?.is_some() {
            return Err(ApiError::invalid_payload(format!("Field \"{field}\" already exists in collection \"{collection}\"")));
        }
        let db = &self.ctx.services.db;
        let result = async {
            let tx = db.begin_shared().await?;
            if let Some(kind) = kind.filter(|k| !ddl::is_alias(k)) {
                ddl::add_column(&mut *tx.lock().await?, db, collection, &ColumnSpec::new(field, kind, column_schema)?).await?;
            }
            if let Some(meta) = meta {
                let row = meta_row(meta, collection, field);
                self.ctx.items("directus_fields", schema.clone(), true).in_transaction(Some(tx.clone())).create_one(row, MutationOptions::default()).await?;
            }
            tx.commit().await?;
            Ok::<_, ApiError>(())
        }
        .await;
        self.ctx.invalidate().await;
        result?;
        self.read_one(collection, field).await
    }

    /// `PATCH /fields/:collection/:field`: alters the column's type, nullability or default when
    /// `schema` is given, and updates (or creates) the meta row when `meta` is given.
    pub async fn update_field(&self, collection: &str, field: &str, body: &Value) -> Result<Value, ApiError> {
        self.ctx.require_admin()?;
        let schema = self.ctx.schema().await?;
        let overview = schema.collection(collection).ok_or_else(ApiError::forbidden)?;
        let existing = overview.field(field).cloned();
        let meta_id = self.meta_id(collection, field).await?;
        let builtin = system_data::get().field(collection, field);
        if existing.is_none() && meta_id.is_none() && builtin.is_none() {
            return Err(ApiError::forbidden());
        }
        let body = as_object(body)?;
        let kind = field_type(body)?;
        let column_schema = optional_object(body, "schema")?;
        let meta = optional_object(body, "meta")?;
        let result = async {
            if let (Some(current), Some(column_schema)) = (existing.as_ref().filter(|f| !f.alias), column_schema) {
                let kind = kind.unwrap_or(current.kind.as_str());
                let spec = ColumnSpec::new(field, kind, Some(column_schema))?;
                let type_changed = kind != current.kind || spec.max_length.is_some() || spec.precision.is_some() || spec.scale.is_some();
                if type_changed || spec.nullable.is_some() || spec.default.is_some() {
                    ddl::alter_column(&self.ctx.services.db, collection, &spec, type_changed).await?;
                }
            }
            if let Some(meta) = meta {
                let items = self.ctx.items("directus_fields", schema.clone(), true);
                match &meta_id {
                    Some(id) => items.update_one(id.clone(), meta_row(meta, collection, field), MutationOptions::default()).await?,
                    // The first stored row of a system field starts from its built-in meta, so
                    // what the body leaves out keeps its built-in value.
                    None => {
                        let mut row = builtin.cloned().unwrap_or_default();
                        row.remove("system");
                        row.extend(meta.clone());
                        items.create_one(meta_row(&row, collection, field), MutationOptions::default()).await?
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

    /// `DELETE /fields/:collection/:field`: `fields.delete.before`, then the relations on the
    /// field (an m2o takes its o2m counterpart with it; an o2m only clears `one_field`), the
    /// column and the meta row, then `fields.delete`.
    pub fn delete_field<'a>(&'a self, collection: &'a str, field: &'a str) -> futures_util::future::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            self.ctx.require_admin()?;
            let schema = self.ctx.schema().await?;
            let overview = schema.collection(collection).ok_or_else(ApiError::forbidden)?;
            let is_column = overview.field(field).is_some_and(|f| !f.alias);
            if overview.field(field).is_none() && self.meta_id(collection, field).await?.is_none() {
                return Err(ApiError::forbidden());
            }
            let bus = &self.ctx.services.bus;
            bus.emit_before("fields.delete.before", self.ctx.event_args("fields.delete.before", collection, json!(field), "delete")).await?;
            let result = self.delete_field_now(&schema, collection, field, is_column).await;
            self.ctx.invalidate().await;
            result?;
            bus.emit_after("fields.delete", self.ctx.event_args("fields.delete", collection, json!(field), "delete"));
            Ok(())
        })
    }

    async fn delete_field_now(&self, schema: &SchemaOverview, collection: &str, field: &str, is_column: bool) -> Result<(), ApiError> {
        let db = &self.ctx.services.db;
        let text = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
        for relation in &schema.relations {
            let one_field = relation.get("meta").and_then(|m| m.get("one_field")).and_then(Value::as_str).map(str::to_string);
            let (many, many_field, related) = (text(relation, "collection"), text(relation, "field"), text(relation, "related_collection"));
            if many.as_deref() == Some(collection) && many_field.as_deref() == Some(field) {
                RelationsService::new(self.ctx.clone()).delete_one(collection, field).await?;
                if let (Some(related), Some(one_field)) = (related, one_field) {
                    self.delete_field(&related, &one_field).await?;
                }
            } else if related.as_deref() == Some(collection) && one_field.as_deref() == Some(field) {
                let clear = SqlQuery::update()
                    .table(Alias::new("directus_relations"))
                    .value(Alias::new("one_field"), Expr::val(None::<String>))
                    .and_where(Expr::col(Alias::new("many_collection")).eq(many.unwrap_or_default()))
                    .and_where(Expr::col(Alias::new("many_field")).eq(many_field.unwrap_or_default()))
                    .to_owned();
                db.run(&clear).await?;
            }
        }
        if is_column {
            ddl::drop_column(db, collection, field).await?;
        }
        let delete = SqlQuery::delete()
            .from_table(Alias::new("directus_fields"))
            .and_where(Expr::col(Alias::new("collection")).eq(collection))
            .and_where(Expr::col(Alias::new("field")).eq(field))
            .to_owned();
        db.run(&delete).await?;
        Ok(())
    }

    /// The id of the field's `directus_fields` row.
    async fn meta_id(&self, collection: &str, field: &str) -> Result<Option<Value>, ApiError> {
        let select = SqlQuery::select()
            .column(Alias::new("id"))
            .from(Alias::new("directus_fields"))
            .and_where(Expr::col(Alias::new("collection")).eq(collection))
            .and_where(Expr::col(Alias::new("field")).eq(field))
            .to_owned();
        Ok(self.ctx.services.db.run(&select).await?.rows.into_iter().next().and_then(|mut r| r.remove("id")))
    }
}

/// The optional `type`: one of the Directus types, an alias type, or null.
pub(super) fn field_type(body: &Map<String, Value>) -> Result<Option<&str>, ApiError> {
    const TYPES: &[&str] = &[
        "bigInteger", "boolean", "date", "dateTime", "decimal", "float", "integer", "json", "string", "text", "time", "timestamp", "binary", "uuid", "hash", "csv",
        "unknown", "alias", "o2m", "m2m", "m2a", "files", "translations",
    ];
    match body.get("type") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => Ok(Some(t)),
        Some(_) => Err(ApiError::invalid_payload(format!("\"type\" must be one of [{}]", TYPES.join(", ")))),
    }
}

/// The `directus_fields` row of a field's meta (`{...meta, collection, field}`).
pub(super) fn meta_row(meta: &Map<String, Value>, collection: &str, field: &str) -> Value {
    let mut row = meta.clone();
    row.insert("collection".into(), json!(collection));
    row.insert("field".into(), json!(field));
    Value::Object(row)
}

fn field_json(collection: &str, field: &str, kind: &str, schema: Option<Value>, meta: Option<Value>) -> Value {
    json!({
        "collection": collection,
        "field": field,
        "type": kind,
        "schema": schema,
        "meta": meta,
    })
}

/// A column in the shape of Directus's schema inspector.
fn column_schema(table: &str, column: &Column, fk: Option<&ForeignKey>, schema: &SchemaOverview) -> Value {
    let default = schema.collection(table).and_then(|c| c.field(&column.name)).map(|f| f.default_value.clone()).filter(|d| d != "AUTO_INCREMENT").unwrap_or(Value::Null);
    json!({
        "name": column.name,
        "table": table,
        "data_type": column.db_type,
        "default_value": default,
        "max_length": column.max_length,
        "numeric_precision": column.precision,
        "numeric_scale": column.scale,
        "is_nullable": column.nullable,
        "is_unique": column.unique,
        "is_primary_key": column.primary,
        "has_auto_increment": column.auto_increment,
        "foreign_key_table": fk.map(|f| f.foreign_key_table.clone()),
        "foreign_key_column": fk.map(|f| f.foreign_key_column.clone()),
        "comment": null,
    })
}
