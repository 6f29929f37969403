//! The resolvers. A root field runs one call of the same services REST uses (so permissions,
//! validation, events, activity and revisions are shared) with the query its selection asks
//! for; the fields under it only pick their values out of the answer, as rc.83's do.

use async_graphql::dynamic::{FieldFuture, FieldValue, ResolverContext};
use async_graphql::Value as GqlValue;
use rectus_core::query::{cap_limit, FilterContext};
use rectus_core::services::MutationOptions;
use rectus_core::ApiError;
use serde_json::{json, Map, Value};

use crate::caller::Caller;
use crate::selection::Operation;
use crate::types::Leaf;

fn caller<'a>(ctx: &ResolverContext<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.ctx.data::<Caller>()
}

fn filter_context(caller: &Caller) -> FilterContext {
    let acc = caller.accountability.as_ref();
    FilterContext { user: acc.and_then(|a| a.user.clone()), role: acc.and_then(|a| a.role.clone()) }
}

fn parent<'a>(ctx: &ResolverContext<'a>) -> Option<&'a Map<String, Value>> {
    ctx.parent_value.downcast_ref::<Value>().and_then(Value::as_object)
}

fn item(value: Value) -> FieldValue<'static> {
    FieldValue::owned_any(value)
}

fn items(values: Vec<Value>) -> FieldValue<'static> {
    FieldValue::list(values.into_iter().map(item))
}

/// A scalar field of an item.
pub fn scalar(name: String, leaf: Leaf) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| FieldFuture::from_value(Some(parent(&ctx).and_then(|p| p.get(&name)).map(|v| leaf.convert(v)).unwrap_or(GqlValue::Null)))
}

/// A many-to-one field: the related item the read expanded (null when it is only a key, which
/// it is when the caller may not read it).
pub fn related_one(name: String) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| FieldFuture::Value(parent(&ctx).and_then(|p| p.get(&name)).filter(|v| v.is_object()).map(|v| FieldValue::borrowed_any(v)))
}

/// A one-to-many field: the related items.
pub fn related_many(name: String) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let list = parent(&ctx).and_then(|p| p.get(&name)).and_then(Value::as_array);
        FieldFuture::Value(list.map(|l| FieldValue::list(l.iter().filter(|v| v.is_object()).map(|v| FieldValue::borrowed_any(v)))))
    }
}

/// A many-to-any field: the related item as the member its collection field names.
pub fn related_any(name: String, collection_field: String, members: Vec<String>) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let found = parent(&ctx).and_then(|p| {
            let collection = p.get(&collection_field).and_then(Value::as_str).filter(|c| members.iter().any(|m| m == c))?;
            let value = p.get(&name).filter(|v| v.is_object())?;
            Some(FieldValue::borrowed_any(value).with_type(collection.to_string()))
        });
        FieldFuture::Value(found)
    }
}

/// A root field's outcome as Directus answers it: on failure the field is null and the error
/// names it (`path`, `extensions.code`); the other fields of the operation still answer.
pub fn settle<'a>(ctx: &ResolverContext<'a>, caller: &Caller, result: Result<Option<FieldValue<'a>>, ApiError>) -> Option<FieldValue<'a>> {
    match result {
        Ok(value) => value,
        Err(e) => {
            let error = caller.error(e).into_server_error(ctx.ctx.item.pos);
            ctx.ctx.add_error(ctx.ctx.set_error_path(error));
            None
        }
    }
}

/// `<collection>`: the items of a query, or a singleton's item.
pub fn list(collection: String, singleton: bool) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let collection = collection.clone();
        FieldFuture::new(async move {
            let caller = caller(&ctx)?;
            let result = async {
                let mut query = Operation::of(&ctx, &caller.schema).query(&ctx.ctx.item.node, &collection, &filter_context(caller), Map::new())?;
                if let Some(max) = caller.query_limit_max {
                    cap_limit(&mut query, max)?;
                }
                let service = caller.items(&collection);
                Ok(Some(if singleton { item(service.read_singleton(&query).await?) } else { items(service.read_by_query(&query).await?) }))
            }
            .await;
            Ok(settle(&ctx, caller, result))
        })
    }
}

/// `<collection>_by_id(id:)`: the item, or null when there is none the caller may read.
pub fn by_id(collection: String) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let collection = collection.clone();
        FieldFuture::new(async move {
            let caller = caller(&ctx)?;
            let result = async {
                let operation = Operation::of(&ctx, &caller.schema);
                let id = operation.arguments(&ctx.ctx.item.node).remove("id").unwrap_or(Value::Null);
                let primary = caller.schema.collection(&collection).map(|c| c.primary.clone()).unwrap_or_default();
                let mut extra = Map::new();
                extra.insert("filter".into(), json!({ primary: { "_eq": id } }));
                extra.insert("limit".into(), json!(1));
                let query = operation.query(&ctx.ctx.item.node, &collection, &filter_context(caller), extra)?;
                Ok(caller.items(&collection).read_by_query(&query).await?.into_iter().next().map(item))
            }
            .await;
            Ok(settle(&ctx, caller, result))
        })
    }
}

/// `users_me`: the caller's own user (null without one).
pub fn me() -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        FieldFuture::new(async move {
            let caller = caller(&ctx)?;
            let Some(user) = caller.accountability.as_ref().and_then(|a| a.user.clone()) else { return Ok(None) };
            let result = async {
                let query = Operation::of(&ctx, &caller.schema).query(&ctx.ctx.item.node, "directus_users", &filter_context(caller), Map::new())?;
                Ok(Some(item(caller.items("directus_users").read_one(&json!(user), &query).await?)))
            }
            .await;
            Ok(settle(&ctx, caller, result))
        })
    }
}

/// What a mutation field does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    CreateOne,
    CreateMany,
    UpdateOne,
    UpdateMany,
    UpdateSingleton,
    DeleteOne,
    DeleteMany,
}

/// A mutation: the write through the items service, then (when the caller may read the
/// collection and asked for fields) the written items read back with the field's query, else
/// `true`; deletes answer the deleted keys.
pub fn mutation(collection: String, kind: Mutation, readable: bool) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let collection = collection.clone();
        FieldFuture::new(async move {
            let caller = caller(&ctx)?;
            let result = write(&ctx, caller, &collection, kind, readable).await;
            Ok(settle(&ctx, caller, result))
        })
    }
}

async fn write<'a>(ctx: &ResolverContext<'a>, caller: &Caller, collection: &str, kind: Mutation, readable: bool) -> Result<Option<FieldValue<'a>>, ApiError> {
    let operation = Operation::of(ctx, &caller.schema);
    let field = &ctx.ctx.item.node;
    let mut args = operation.arguments(field);
    let data = args.remove("data").unwrap_or(Value::Null);
    let service = caller.items(collection);
    let opts = MutationOptions::default();
    let read_back = readable && operation.selects_fields(field);
    let query = || operation.query(field, collection, &filter_context(caller), Map::new());
    let done = || Ok(Some(FieldValue::value(true)));
    let answer = match kind {
        Mutation::DeleteOne => {
            let id = args.remove("id").unwrap_or(Value::Null);
            service.delete_one(id.clone(), opts).await?;
            item(json!({ "id": id }))
        }
        Mutation::DeleteMany => {
            let keys = service.delete_many(id_list(args.remove("ids")), opts).await?;
            item(json!({ "ids": keys }))
        }
        Mutation::CreateOne => {
            let created = service.create_one_returning(data, opts).await?;
            if !read_back {
                return done();
            }
            item(service.read_created(created, &query()?).await?)
        }
        Mutation::CreateMany => {
            let list = match data {
                Value::Array(list) => list,
                Value::Null => vec![],
                single => vec![single],
            };
            let keys = service.create_many(list, opts).await?;
            if !read_back {
                return done();
            }
            items(service.read_many(&keys, &query()?).await?)
        }
        Mutation::UpdateOne => {
            let key = service.update_one(args.remove("id").unwrap_or(Value::Null), data, opts).await?;
            if !read_back {
                return done();
            }
            item(service.read_one(&key, &query()?).await?)
        }
        Mutation::UpdateMany => {
            let keys = service.update_many(id_list(args.remove("ids")), data, opts).await?;
            if !read_back {
                return done();
            }
            items(service.read_many(&keys, &query()?).await?)
        }
        Mutation::UpdateSingleton => {
            service.upsert_singleton(data, opts).await?;
            if !read_back {
                return done();
            }
            item(service.read_singleton(&query()?).await?)
        }
    };
    Ok(Some(answer))
}

fn id_list(value: Option<Value>) -> Vec<Value> {
    match value {
        Some(Value::Array(ids)) => ids,
        Some(Value::Null) | None => vec![],
        Some(single) => vec![single],
    }
}

/// `delete_one.id` / `delete_many.ids`.
pub fn deleted_keys(name: &'static str) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let value = parent(&ctx).and_then(|p| p.get(name)).cloned().unwrap_or(Value::Null);
        let converted = match value {
            Value::Array(keys) => GqlValue::List(keys.iter().map(|k| Leaf::Id.convert(k)).collect()),
            key => Leaf::Id.convert(&key),
        };
        FieldFuture::from_value(Some(converted))
    }
}
