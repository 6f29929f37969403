//! `collections`, `fields` and `relations` of `/graphql/system`: shapes of their own (`{collection,
//! meta, schema}`, ...) read through the services of `/collections`, `/fields` and `/relations`.
//! Their `meta` types have the fields of the system table (`directus_collections_meta`, ...), as
//! rc.83 types them; the `schema` types list what the database side reports.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef};
use rectus_core::services::schema::{collections::CollectionsService, fields::FieldsService, relations::RelationsService, SchemaContext};
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

/// Registers the types and adds the root fields of the tables the caller may read.
pub fn add(plan: &Plan<'_>, readable: impl Fn(&str) -> bool, mut query: Object, mut builder: SchemaBuilder) -> (Object, SchemaBuilder) {
    if readable("directus_collections") {
        builder = builder
            .register(meta_type(plan, "directus_collections"))
            .register(schema_type("directus_collections_schema", &[("name", Leaf::String), ("comment", Leaf::String)]))
            .register(Object::new("directus_collections").field(scalar("collection", Leaf::String)).field(nested("meta", "directus_collections_meta")).field(nested("schema", "directus_collections_schema")));
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
        builder = builder.register(meta_type(plan, "directus_fields")).register(schema_type("directus_fields_schema", schema_fields)).register(
            Object::new("directus_fields")
                .field(scalar("collection", Leaf::String))
                .field(scalar("field", Leaf::String))
                .field(scalar("type", Leaf::String))
                .field(nested("meta", "directus_fields_meta"))
                .field(nested("schema", "directus_fields_schema")),
        );
        query = query
            .field(Field::new("fields", TypeRef::named_list("directus_fields"), |ctx| {
                FieldFuture::new(async move {
                    let caller = ctx.ctx.data::<Caller>()?;
                    let all = FieldsService::new(context(caller)).read_all(None).await;
                    Ok(crate::resolve::settle(&ctx, caller, all.map(|a| answer(Value::Array(a)))))
                })
            }))
            .field(
                Field::new("fields_in_collection", TypeRef::named_list("directus_fields"), |ctx| {
                    FieldFuture::new(async move {
                        let caller = ctx.ctx.data::<Caller>()?;
                        let all = FieldsService::new(context(caller)).read_all(Some(&text(&ctx, "collection"))).await;
                        Ok(crate::resolve::settle(&ctx, caller, all.map(|a| answer(Value::Array(a)))))
                    })
                })
                .argument(InputValue::new("collection", TypeRef::named_nn(TypeRef::STRING))),
            )
            .field(
                Field::new("fields_by_name", TypeRef::named("directus_fields"), |ctx| {
                    FieldFuture::new(async move {
                        let caller = ctx.ctx.data::<Caller>()?;
                        let one = FieldsService::new(context(caller)).read_one(&text(&ctx, "collection"), &text(&ctx, "field")).await;
                        Ok(crate::resolve::settle(&ctx, caller, one.map(answer)))
                    })
                })
                .argument(InputValue::new("collection", TypeRef::named_nn(TypeRef::STRING)))
                .argument(InputValue::new("field", TypeRef::named_nn(TypeRef::STRING))),
            );
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
        builder = builder.register(meta_type(plan, "directus_relations")).register(schema_type("directus_relations_schema", schema_fields)).register(
            Object::new("directus_relations")
                .field(scalar("collection", Leaf::String))
                .field(scalar("field", Leaf::String))
                .field(scalar("related_collection", Leaf::String))
                .field(nested("schema", "directus_relations_schema"))
                .field(nested("meta", "directus_relations_meta")),
        );
        query = query
            .field(Field::new("relations", TypeRef::named_list("directus_relations"), |ctx| {
                FieldFuture::new(async move {
                    let caller = ctx.ctx.data::<Caller>()?;
                    let all = RelationsService::new(context(caller)).read_all(None).await;
                    Ok(crate::resolve::settle(&ctx, caller, all.map(|a| answer(Value::Array(a)))))
                })
            }))
            .field(
                Field::new("relations_in_collection", TypeRef::named_list("directus_relations"), |ctx| {
                    FieldFuture::new(async move {
                        let caller = ctx.ctx.data::<Caller>()?;
                        let all = RelationsService::new(context(caller)).read_all(Some(&text(&ctx, "collection"))).await;
                        Ok(crate::resolve::settle(&ctx, caller, all.map(|a| answer(Value::Array(a)))))
                    })
                })
                .argument(InputValue::new("collection", TypeRef::named_nn(TypeRef::STRING))),
            )
            .field(
                Field::new("relations_by_name", TypeRef::named("directus_relations"), |ctx| {
                    FieldFuture::new(async move {
                        let caller = ctx.ctx.data::<Caller>()?;
                        let one = RelationsService::new(context(caller)).read_one(&text(&ctx, "collection"), &text(&ctx, "field")).await;
                        Ok(crate::resolve::settle(&ctx, caller, one.map(answer)))
                    })
                })
                .argument(InputValue::new("collection", TypeRef::named_nn(TypeRef::STRING)))
                .argument(InputValue::new("field", TypeRef::named_nn(TypeRef::STRING))),
            );
    }
    (query, builder)
}
