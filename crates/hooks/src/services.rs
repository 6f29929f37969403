//! `services.ItemsService` (and the system services built on it) for hooks: each JS method call
//! runs the very `ItemsService` that serves HTTP, with the caller's accountability (`null` = no
//! permission checks), the same events and the same errors.

use rectus_core::auth::Accountability;
use rectus_core::db::SharedTransaction;
use rectus_core::query::{sanitize, FilterContext, Query};
use rectus_core::services::items::ItemsService;
use rectus_core::services::{MutationOptions, Services};
use rectus_core::ApiError;
use serde_json::{json, Map, Value};

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Null)
}

fn options(v: &Value) -> MutationOptions {
    MutationOptions { emit_events: v.get("emitEvents").and_then(Value::as_bool).unwrap_or(true) }
}

fn query(v: &Value, accountability: Option<&Accountability>) -> Result<Query, ApiError> {
    let params: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
    let ctx = FilterContext { user: accountability.and_then(|a| a.user.clone()), role: accountability.and_then(|a| a.role.clone()) };
    sanitize(&params, &ctx)
}

fn keys(v: Value) -> Result<Vec<Value>, ApiError> {
    match v {
        Value::Array(k) => Ok(k),
        _ => Err(ApiError::invalid_payload("Keys must be an array.")),
    }
}

fn list(keys: Vec<Value>) -> Value {
    Value::Array(keys)
}

/// One JS `ItemsService` method call.
pub struct ItemsCall {
    pub collection: String,
    pub accountability: Option<Accountability>,
    /// The service's `knex` when that is a transaction (`None` = the pool).
    pub transaction: Option<SharedTransaction>,
    pub method: String,
    pub args: Vec<Value>,
    pub depth: u32,
}

pub async fn items_call(services: Services, call: ItemsCall) -> Result<Value, ApiError> {
    let ItemsCall { collection, accountability, transaction, method, args, depth } = call;
    let schema = services.schema.get().await?;
    if schema.collection(&collection).is_none() {
        return Err(ApiError::forbidden());
    }
    let primary = schema.collection(&collection).map(|c| c.primary.clone()).unwrap_or_default();
    let acc = accountability.clone();
    let items = ItemsService::new(&collection, services, schema, accountability).at_depth(depth).in_transaction(transaction);
    let a = |i| arg(&args, i);
    match method.as_str() {
        "createOne" => items.create_one(a(0), options(&a(1))).await,
        "createMany" => items.create_many(keys(a(0))?, options(&a(1))).await.map(list),
        "readByQuery" => items.read_by_query(&query(&a(0), acc.as_ref())?).await.map(Value::Array),
        "readOne" => items.read_one(&a(0), &query(&a(1), acc.as_ref())?).await,
        "readMany" => items.read_many(&keys(a(0))?, &query(&a(1), acc.as_ref())?).await.map(Value::Array),
        "updateOne" => items.update_one(a(0), a(1), options(&a(2))).await,
        "updateMany" => items.update_many(keys(a(0))?, a(1), options(&a(2))).await.map(list),
        "updateByQuery" => {
            let found = items.keys_by_query(&query(&a(0), acc.as_ref())?).await?;
            if found.is_empty() {
                return Ok(Value::Array(vec![]));
            }
            items.update_many(found, a(1), options(&a(2))).await.map(list)
        }
        "deleteOne" => items.delete_one(a(0), options(&a(1))).await,
        "deleteMany" => items.delete_many(keys(a(0))?, options(&a(1))).await.map(list),
        "deleteByQuery" => {
            let found = items.keys_by_query(&query(&a(0), acc.as_ref())?).await?;
            items.delete_many(found, options(&a(1))).await.map(list)
        }
        "upsertOne" => {
            let payload = a(0);
            let existing = match payload.get(&primary).filter(|k| !k.is_null()) {
                Some(key) => items.read_many(std::slice::from_ref(key), &Query { limit: Some(1), ..Default::default() }).await?.into_iter().next().map(|_| key.clone()),
                None => None,
            };
            match existing {
                Some(key) => items.update_one(key, payload, options(&a(1))).await,
                None => items.create_one(payload, options(&a(1))).await,
            }
        }
        "readSingleton" => items.read_singleton(&query(&a(0), acc.as_ref())?).await,
        "upsertSingleton" => items.upsert_singleton(a(0), options(&a(1))).await,
        "getKeysByQuery" => items.keys_by_query(&query(&a(0), acc.as_ref())?).await.map(list),
        other => Err(ApiError::internal(format!("ItemsService.{other} is not supported"))),
    }
}

/// One call on a service that is not an `ItemsService`: the schema services and `MetaService`.
pub struct ServiceCall {
    pub service: String,
    pub accountability: Option<Accountability>,
    pub method: String,
    pub args: Vec<Value>,
}

fn text(args: &[Value], i: usize) -> Result<String, ApiError> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(ApiError::invalid_payload(format!("Argument {} must be a string.", i + 1))),
    }
}

/// `field` arguments of `FieldsService` are objects that carry their own name.
fn field_name(v: &Value) -> Result<String, ApiError> {
    v.get("field").and_then(Value::as_str).map(str::to_string).ok_or_else(|| ApiError::invalid_payload("\"field\" is required"))
}

pub async fn service_call(services: Services, config: std::sync::Arc<rectus_core::config::Config>, call: ServiceCall) -> Result<Value, ApiError> {
    use rectus_core::auth::invites::{invited_addresses, Invites};
    use rectus_core::auth::service::{AuthenticationService, LoginResult};
    use rectus_core::auth::password_reset::PasswordReset;
    use rectus_core::query::MetaKind;
    use rectus_core::services::payload;
    use rectus_core::services::schema::{collections::CollectionsService, fields::FieldsService, relations::RelationsService, SchemaContext};
    let ServiceCall { service, accountability, method, args } = call;
    let a = |i| arg(&args, i);
    let ctx = SchemaContext::new(services.clone(), accountability.clone());
    match (service.as_str(), method.as_str()) {
        ("CollectionsService", "createOne") => CollectionsService::new(ctx).create_one(&a(0)).await.map(Value::String),
        ("CollectionsService", "readByQuery") => CollectionsService::new(ctx).read_all().await.map(Value::Array),
        ("CollectionsService", "readOne") => CollectionsService::new(ctx).read_one(&text(&args, 0)?).await?.ok_or_else(ApiError::forbidden),
        ("CollectionsService", "updateOne") => {
            let name = text(&args, 0)?;
            CollectionsService::new(ctx).update_one(&name, &a(1)).await.map(|_| Value::String(name))
        }
        ("CollectionsService", "deleteOne") => {
            let name = text(&args, 0)?;
            CollectionsService::new(ctx).delete_one(&name).await.map(|_| Value::String(name))
        }
        ("FieldsService", "readAll") => FieldsService::new(ctx).read_all(a(0).as_str()).await.map(Value::Array),
        ("FieldsService", "readOne") => FieldsService::new(ctx).read_one(&text(&args, 0)?, &text(&args, 1)?).await,
        ("FieldsService", "createField") => FieldsService::new(ctx).create_field(&text(&args, 0)?, &a(1)).await,
        ("FieldsService", "updateField") => FieldsService::new(ctx).update_field(&text(&args, 0)?, &field_name(&a(1))?, &a(1)).await,
        ("FieldsService", "deleteField") => FieldsService::new(ctx).delete_field(&text(&args, 0)?, &text(&args, 1)?).await.map(|_| Value::Null),
        ("RelationsService", "readAll") => RelationsService::new(ctx).read_all(a(0).as_str()).await.map(Value::Array),
        ("RelationsService", "readOne") => RelationsService::new(ctx).read_one(&text(&args, 0)?, &text(&args, 1)?).await,
        ("RelationsService", "createOne") => RelationsService::new(ctx).create_one(&a(0)).await,
        ("RelationsService", "updateOne") => RelationsService::new(ctx).update_one(&text(&args, 0)?, &text(&args, 1)?, &a(2)).await,
        ("RelationsService", "deleteOne") => RelationsService::new(ctx).delete_one(&text(&args, 0)?, &text(&args, 1)?).await.map(|_| Value::Null),
        ("PayloadService", "processValues") => {
            let schema = services.schema.get().await?;
            let collection = schema.collection(&text(&args, 0)?).ok_or_else(ApiError::forbidden)?;
            let action = text(&args, 1)?;
            let process = |item: Value| -> Result<Value, ApiError> {
                let Value::Object(mut item) = item else { return Ok(item) };
                match action.as_str() {
                    "read" => payload::for_read(collection, &mut item),
                    "create" | "update" => {
                        let kind = if action == "create" { payload::Action::Create } else { payload::Action::Update };
                        // Directus transforms the fields it knows and leaves the rest as they are.
                        let written = payload::for_write(collection, &item, kind, accountability.as_ref());
                        item.extend(written);
                    }
                    other => return Err(ApiError::invalid_payload(format!("\"{other}\" is not read, create or update"))),
                }
                Ok(Value::Object(item))
            };
            match a(2) {
                Value::Array(items) => items.into_iter().map(process).collect::<Result<Vec<_>, _>>().map(Value::Array),
                item => process(item),
            }
        }
        ("UtilsService", "sort") => {
            let body = a(1);
            let (item, to) = (body.get("item").cloned().unwrap_or(Value::Null), body.get("to").cloned().unwrap_or(Value::Null));
            rectus_core::services::utils::sort(&services, accountability.as_ref(), &text(&args, 0)?, &item, &to).await.map(|_| Value::Null)
        }
        ("ImportService", "import") => {
            let created = rectus_core::services::import::import(&services, accountability, &text(&args, 0)?, &text(&args, 1)?, text(&args, 2)?.as_bytes()).await?;
            Ok(json!(created))
        }
        ("SpecificationService", "oas") => rectus_core::services::specification::oas(&services, accountability.as_ref(), &config.public_url).await,
        ("ServerService", "serverInfo") => rectus_core::services::server::info(&services, accountability.as_ref()).await,
        ("ServerService", "health") => Ok(rectus_core::services::server::health(&services, accountability.as_ref(), &config.env.string("KEY").unwrap_or_default()).await),
        ("AuthenticationService", "authenticate" | "refresh" | "logout") => {
            let options = a(0);
            let text_of = |key: &str| options.get(key).and_then(Value::as_str).map(str::to_string);
            let caller = Accountability::public(text_of("ip"), text_of("userAgent"));
            let auth = AuthenticationService { services: &services, config: &config, accountability: caller };
            let tokens = |r: LoginResult| json!({ "accessToken": r.access_token, "refreshToken": r.refresh_token, "expires": r.expires_ms, "id": r.user });
            match method.as_str() {
                "authenticate" => auth.login(&options).await.map(tokens),
                "refresh" => auth.refresh(&text(&args, 0)?).await.map(tokens),
                _ => auth.logout(&text(&args, 0)?).await.map(|_| Value::Null),
            }
        }
        ("UsersService", "inviteUser") => {
            let invites = Invites { services: &services, config: &config };
            let emails = invited_addresses(Some(&a(0)))?;
            invites.invite(&emails, &text(&args, 1)?, a(2).as_str(), a(3).as_str(), accountability).await.map(|_| Value::Null)
        }
        ("UsersService", "acceptInvite") => Invites { services: &services, config: &config }.accept(&text(&args, 0)?, &text(&args, 1)?).await.map(|_| Value::Null),
        ("UsersService", "requestPasswordReset") => PasswordReset { services: &services, config: &config }.request(&text(&args, 0)?, a(1).as_str()).await.map(|_| Value::Null),
        ("UsersService", "resetPassword") => PasswordReset { services: &services, config: &config }.reset(&text(&args, 0)?, &text(&args, 1)?).await.map(|_| Value::Null),
        ("MetaService", "getMetaForQuery" | "totalCount" | "filterCount") => {
            let collection = text(&args, 0)?;
            let schema = services.schema.get().await?;
            let mut q = query(&a(1), accountability.as_ref())?;
            q.meta = match method.as_str() {
                "totalCount" => vec![MetaKind::TotalCount],
                "filterCount" => vec![MetaKind::FilterCount],
                _ => std::mem::take(&mut q.meta),
            };
            let meta = ItemsService::new(&collection, services, schema, accountability).meta(&q).await?;
            Ok(match (method.as_str(), meta) {
                ("totalCount", Some(m)) => m.get("total_count").cloned().unwrap_or(Value::Null),
                ("filterCount", Some(m)) => m.get("filter_count").cloned().unwrap_or(Value::Null),
                (_, meta) => meta.unwrap_or(Value::Null),
            })
        }
        (service, method) => Err(ApiError::internal(format!("{service}.{method} is not supported"))),
    }
}
