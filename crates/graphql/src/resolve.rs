//! The resolvers. A root field runs one call of the same services REST uses (so permissions,
//! validation, events, activity and revisions are shared) with the query its selection asks
//! for; the fields under it only pick their values out of the answer, as rc.83's do.

use async_graphql::dynamic::{FieldFuture, FieldValue, ResolverContext};
use async_graphql::Value as GqlValue;
use rectus_core::query::FilterContext;
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

/// `<collection>`: the items of a query, or a singleton's item.
pub fn list(collection: String, singleton: bool) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let collection = collection.clone();
        FieldFuture::new(async move {
            let caller = caller(&ctx)?;
            let operation = Operation::of(&ctx, &caller.schema);
            let query = operation.query(&ctx.ctx.item.node, &collection, &filter_context(caller), Map::new()).map_err(|e| caller.error(e))?;
            let service = caller.items(&collection);
            if singleton {
                return Ok(Some(item(service.read_singleton(&query).await.map_err(|e| caller.error(e))?)));
            }
            Ok(Some(items(service.read_by_query(&query).await.map_err(|e| caller.error(e))?)))
        })
    }
}

/// `<collection>_by_id(id:)`: the item, or null when there is none the caller may read.
pub fn by_id(collection: String) -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        let collection = collection.clone();
        FieldFuture::new(async move {
            let caller = caller(&ctx)?;
            let operation = Operation::of(&ctx, &caller.schema);
            let id = operation.arguments(&ctx.ctx.item.node).remove("id").unwrap_or(Value::Null);
            let primary = caller.schema.collection(&collection).map(|c| c.primary.clone()).unwrap_or_default();
            let mut extra = Map::new();
            extra.insert("filter".into(), json!({ primary: { "_eq": id } }));
            extra.insert("limit".into(), json!(1));
            let query = operation.query(&ctx.ctx.item.node, &collection, &filter_context(caller), extra).map_err(|e| caller.error(e))?;
            let found = caller.items(&collection).read_by_query(&query).await.map_err(|e| caller.error(e))?;
            Ok(found.into_iter().next().map(item))
        })
    }
}

/// `users_me`: the caller's own user (null without one).
pub fn me() -> impl for<'a> Fn(ResolverContext<'a>) -> FieldFuture<'a> + Send + Sync + 'static {
    move |ctx| {
        FieldFuture::new(async move {
            let caller = caller(&ctx)?;
            let Some(user) = caller.accountability.as_ref().and_then(|a| a.user.clone()) else { return Ok(None) };
            let operation = Operation::of(&ctx, &caller.schema);
            let query = operation.query(&ctx.ctx.item.node, "directus_users", &filter_context(caller), Map::new()).map_err(|e| caller.error(e))?;
            let found = caller.items("directus_users").read_one(&json!(user), &query).await.map_err(|e| caller.error(e))?;
            Ok(Some(item(found)))
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
            let operation = Operation::of(&ctx, &caller.schema);
            let field = &ctx.ctx.item.node;
            let mut args = operation.arguments(field);
            let data = args.remove("data").unwrap_or(Value::Null);
            let service = caller.items(&collection);
            let opts = MutationOptions::default();
            let fail = |e: ApiError| caller.error(e);
            let read_back = readable && operation.selects_fields(field);
            let query = || operation.query(field, &collection, &filter_context(caller), Map::new()).map_err(fail);
            let answer = match kind {
                Mutation::DeleteOne => {
                    let id = args.remove("id").unwrap_or(Value::Null);
                    service.delete_one(id.clone(), opts).await.map_err(fail)?;
                    return Ok(Some(FieldValue::owned_any(json!({ "id": id }))));
                }
                Mutation::DeleteMany => {
                    let ids = id_list(args.remove("ids"));
                    let keys = service.delete_many(ids, opts).await.map_err(fail)?;
                    return Ok(Some(FieldValue::owned_any(json!({ "ids": keys }))));
                }
                Mutation::CreateOne => {
                    let created = service.create_one_returning(data, opts).await.map_err(fail)?;
                    if !read_back {
                        return Ok(Some(FieldValue::value(true)));
                    }
                    item(service.read_created(created, &query()?).await.map_err(fail)?)
                }
                Mutation::CreateMany => {
                    let list = match data {
                        Value::Array(list) => list,
                        Value::Null => vec![],
                        single => vec![single],
                    };
                    let keys = service.create_many(list, opts).await.map_err(fail)?;
                    if !read_back {
                        return Ok(Some(FieldValue::value(true)));
                    }
                    items(service.read_many(&keys, &query()?).await.map_err(fail)?)
                }
                Mutation::UpdateOne => {
                    let id = args.remove("id").unwrap_or(Value::Null);
                    let key = service.update_one(id, data, opts).await.map_err(fail)?;
                    if !read_back {
                        return Ok(Some(FieldValue::value(true)));
                    }
                    item(service.read_one(&key, &query()?).await.map_err(fail)?)
                }
                Mutation::UpdateMany => {
                    let keys = service.update_many(id_list(args.remove("ids")), data, opts).await.map_err(fail)?;
                    if !read_back {
                        return Ok(Some(FieldValue::value(true)));
                    }
                    items(service.read_many(&keys, &query()?).await.map_err(fail)?)
                }
                Mutation::UpdateSingleton => {
                    service.upsert_singleton(data, opts).await.map_err(fail)?;
                    if !read_back {
                        return Ok(Some(FieldValue::value(true)));
                    }
                    item(service.read_singleton(&query()?).await.map_err(fail)?)
                }
            };
            Ok(Some(answer))
        })
    }
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
