//! `collections`, `fields` and `relations` of `/graphql/system`: shapes of their own (`{collection,
//! meta, schema}`, ...) read through the services of `/collections`, `/fields` and `/relations`.
//! Their `meta` types have the fields of the system table (`directus_collections_meta`, ...), as
//! rc.83 types them; the `schema` types list what the database side reports.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef};
use rectus_core::services::schema::{collections::CollectionsService, fields::FieldsService, relations::RelationsService, SchemaContext};
use rectus_core::ApiError;
use serde_json::Value;

use crate::caller::Caller;
use crate::schema::Plan;
use crate::types::Leaf;

fn context(caller: &Caller) -> SchemaContext {
    SchemaContext::new(caller.services.clone(), caller.accountability.clone()).at_depth(caller.depth).in_transaction(caller.transaction.clone())
}

fn scalar(name: &str, leaf: Leaf) -> Field {
    Field::new(name, leaf.type_ref(false), crate::resolve::scalar(name.to_string(), leaf))
}

fn nested(name: &str, ty: &str) -> Field {
    Field::new(name, TypeRef::named(ty), crate::resolve::related_one(name.to_string()))
}

/// `<table>_meta`: a field per column of the system table.
fn meta_type(plan: &Plan<'_>, table: &str) -> Object {
    let mut object = Object::new(format!("{table}_meta"));
    if let Some(collection) = plan.overview.collection(table) {
        for field in collection.fields.values().filter(|f| !f.alias && crate::types::valid_name(&f.field)) {
            let leaf = if field.field == collection.primary { Leaf::Id } else { Leaf::of(&field.kind) };
            object = object.field(scalar(&field.field, leaf));
        }
    }
    object
}

fn schema_type(name: &str, fields: &[(&str, Leaf)]) -> Object {
    fields.iter().fold(Object::new(name), |o, (f, leaf)| o.field(scalar(f, *leaf)))
}

fn text(ctx: &ResolverContext<'_>, name: &str) -> String {
    ctx.args.get(name).and_then(|v| v.string().ok().map(str::to_string)).unwrap_or_default()
}

fn answer(value: Value) -> Option<FieldValue<'static>> {
    match value {
        Value::Array(items) => Some(FieldValue::list(items.into_iter().map(FieldValue::owned_any))),
        Value::Null => None,
        item => Some(FieldValue::owned_any(item)),
    }
}

/// Registers `<table>` (string fields `scalars`, then `meta` and `schema` in `nested_order`, as
/// rc.83 orders them) and the `<table>_meta` and `<table>_schema` types those two point to.
fn register(builder: SchemaBuilder, plan: &Plan<'_>, table: &str, scalars: &[&str], nested_order: [&str; 2], schema_fields: &[(&str, Leaf)]) -> SchemaBuilder {
    let object = scalars.iter().fold(Object::new(table), |o, f| o.field(scalar(f, Leaf::String)));
    let object = nested_order.iter().fold(object, |o, f| o.field(nested(f, &format!("{table}_{f}"))));
    builder.register(meta_type(plan, table)).register(schema_type(&format!("{table}_schema"), schema_fields)).register(object)
}

/// `fields` and `relations`: rows per collection and field, read alike through their services.
#[derive(Clone, Copy)]
enum PerField {
    Fields,
    Relations,
}

impl PerField {
    fn name(self) -> &'static str {
        match self {
            PerField::Fields => "fields",
            PerField::Relations => "relations",
        }
    }

    async fn read_all(self, caller: &Caller, collection: Option<&str>) -> Result<Vec<Value>, ApiError> {
        match self {
            PerField::Fields => FieldsService::new(context(caller)).read_all(collection).await,
            PerField::Relations => RelationsService::new(context(caller)).read_all(collection).await,
        }
    }

    async fn read_one(self, caller: &Caller, collection: &str, field: &str) -> Result<Value, ApiError> {
        match self {
            PerField::Fields => FieldsService::new(context(caller)).read_one(collection, field).await,
            PerField::Relations => RelationsService::new(context(caller)).read_one(collection, field).await,
        }
    }
}

/// The root fields `<name>`, `<name>_in_collection` and `<name>_by_name` of `fields` or `relations`.
fn per_field_roots(query: Object, kind: PerField) -> Object {
    let (name, ty) = (kind.name(), format!("directus_{}", kind.name()));
    query
        .field(Field::new(name, TypeRef::named_list(&ty), move |ctx| {
            FieldFuture::new(async move {
                let caller = ctx.ctx.data::<Caller>()?;
                let all = kind.read_all(caller, None).await;
                Ok(crate::resolve::settle(&ctx, caller, all.map(|a| answer(Value::Array(a)))))
            })
        }))
        .field(
            Field::new(format!("{name}_in_collection"), TypeRef::named_list(&ty), move |ctx| {
                FieldFuture::new(async move {
                    let caller = ctx.ctx.data::<Caller>()?;
                    let all = kind.read_all(caller, Some(&text(&ctx, "collection"))).await;
                    Ok(crate::resolve::settle(&ctx, caller, all.map(|a| answer(Value::Array(a)))))
                })
            })
            .argument(InputValue::new("collection", TypeRef::named_nn(TypeRef::STRING))),
        )
        .field(
            Field::new(format!("{name}_by_name"), TypeRef::named(&ty), move |ctx| {
                FieldFuture::new(async move {
                    let caller = ctx.ctx.data::<Caller>()?;
                    let one = kind.read_one(caller, &text(&ctx, "collection"), &text(&ctx, "field")).await;
                    Ok(crate::resolve::settle(&ctx, caller, one.map(answer)))
                })
            })
            .argument(InputValue::new("collection", TypeRef::named_nn(TypeRef::STRING)))
            .argument(InputValue::new("field", TypeRef::named_nn(TypeRef::STRING))),
        )
}

/// Registers the types and adds the root fields of the tables the caller may read.
pub fn add(plan: &Plan<'_>, readable: impl Fn(&str) -> bool, mut query: Object, mut builder: SchemaBuilder) -> (Object, SchemaBuilder) {
    if readable("directus_collections") {
        builder = register(builder, plan, "directus_collections", &["collection"], ["meta", "schema"], &[("name", Leaf::String), ("comment", Leaf::String)]);
        query = query
            .field(Field::new("collections", TypeRef::named_list("directus_collections"), |ctx| {
                FieldFuture::new(async move {
                    let caller = ctx.ctx.data::<Caller>()?;
                    let all = CollectionsService::new(context(caller)).read_all().await;
                    Ok(crate::resolve::settle(&ctx, caller, all.map(|a| answer(Value::Array(a)))))
                })
            }))
            .field(
                Field::new("collections_by_name", TypeRef::named("directus_collections"), |ctx| {
                    FieldFuture::new(async move {
                        let caller = ctx.ctx.data::<Caller>()?;
                        let one = CollectionsService::new(context(caller)).read_one(&text(&ctx, "name")).await;
                        Ok(crate::resolve::settle(&ctx, caller, one.map(|o| o.and_then(answer))))
                    })
                })
                .argument(InputValue::new("name", TypeRef::named_nn(TypeRef::STRING))),
            );
    }
    if readable("directus_fields") {
        let schema_fields: &[(&str, Leaf)] = &[
            ("name", Leaf::String),
            ("table", Leaf::String),
            ("data_type", Leaf::String),
            ("default_value", Leaf::String),
            ("max_length", Leaf::Int),
            ("numeric_precision", Leaf::Int),
            ("numeric_scale", Leaf::Int),
            ("is_nullable", Leaf::Boolean),
            ("is_unique", Leaf::Boolean),
            ("is_primary_key", Leaf::Boolean),
            ("has_auto_increment", Leaf::Boolean),
            ("foreign_key_column", Leaf::String),
            ("foreign_key_table", Leaf::String),
            ("comment", Leaf::String),
        ];
        builder = register(builder, plan, "directus_fields", &["collection", "field", "type"], ["meta", "schema"], schema_fields);
        query = per_field_roots(query, PerField::Fields);
    }
    if readable("directus_relations") {
        let schema_fields: &[(&str, Leaf)] = &[
            ("table", Leaf::String),
            ("column", Leaf::String),
            ("foreign_key_table", Leaf::String),
            ("foreign_key_column", Leaf::String),
            ("constraint_name", Leaf::String),
            ("on_update", Leaf::String),
            ("on_delete", Leaf::String),
        ];
        builder = register(builder, plan, "directus_relations", &["collection", "field", "related_collection"], ["schema", "meta"], schema_fields);
        query = per_field_roots(query, PerField::Relations);
    }
    (query, builder)
}
