//! The schema as served: the collections' part ([`crate::schema`]), then for `/graphql/system`
//! the fields rc.83 adds there (`users_me`, `server_*`), the limits, and `_empty` when the
//! caller may read nothing (a schema needs a query field).

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, Scalar, Schema, SchemaError, TypeRef, Enum};
use serde_json::Value;

use crate::caller::{Caller, Scope};
use crate::schema::{Action, Plan};
use crate::types::{Leaf, VOID};

const QUERY: &str = "Query";
const MUTATION: &str = "Mutation";

pub fn build(plan: &Plan<'_>, caller: &Caller) -> Result<Schema, SchemaError> {
    let parts = plan.assemble(QUERY, MUTATION);
    let mut query = parts.query;
    let mut builder = parts.builder;
    let mut has_query_fields = parts.has_query_fields;
    if plan.scope == Scope::System {
        let (q, b) = system_fields(plan, caller, query, builder);
        query = q;
        builder = b;
        has_query_fields = true;
    }
    if !has_query_fields {
        builder = builder.register(Scalar::new(VOID).description("Represents NULL values"));
        query = query.field(Field::new("_empty", TypeRef::named(VOID), |_| FieldFuture::from_value(None)).description("There's no data to query."));
    }
    builder = builder.register(query);
    if parts.has_mutations {
        builder = builder.register(parts.mutation);
    }
    builder.limit_depth(crate::MAX_DEPTH).limit_complexity(crate::MAX_COMPLEXITY).finish()
}

fn text(name: &str) -> Field {
    let key = name.to_string();
    Field::new(name, TypeRef::named(TypeRef::STRING), crate::resolve::scalar(key, Leaf::String))
}

fn int(name: &str) -> Field {
    let key = name.to_string();
    Field::new(name, TypeRef::named(TypeRef::INT), crate::resolve::scalar(key, Leaf::Int))
}

fn nested(name: &str, ty: &str) -> Field {
    let key = name.to_string();
    Field::new(name, TypeRef::named(ty), move |ctx| {
        let value = ctx.parent_value.downcast_ref::<Value>().and_then(|p| p.get(&key)).filter(|v| v.is_object());
        FieldFuture::Value(value.map(|v| FieldValue::borrowed_any(v)))
    })
}

/// `users_me`, `server_ping`, `server_info`, `server_health`, `server_specs_oas` and
/// `server_specs_graphql(scope:)`.
fn system_fields(plan: &Plan<'_>, caller: &Caller, mut query: Object, mut builder: async_graphql::dynamic::SchemaBuilder) -> (Object, async_graphql::dynamic::SchemaBuilder) {
    if plan.allows(Action::Read, "directus_users") {
        query = query.field(Field::new("users_me", TypeRef::named("directus_users"), crate::resolve::me()));
    }
    let mut info = Object::new("server_info");
    for name in ["project_name", "project_logo", "project_color", "project_foreground", "project_background", "project_note", "custom_css"] {
        info = info.field(text(name));
    }
    if caller.admin() {
        info = info.field(nested("directus", "server_info_directus")).field(nested("node", "server_info_node")).field(nested("os", "server_info_os"));
        builder = builder
            .register(Object::new("server_info_directus").field(text("version")))
            .register(Object::new("server_info_node").field(text("version")).field(int("uptime")))
            .register(Object::new("server_info_os").field(text("type")).field(text("version")).field(int("uptime")).field(int("totalmem")));
    }
    builder = builder.register(info).register(Enum::new("graphql_sdl_scope").item("items").item("system"));
    let (q, b) = crate::meta::add(plan, |table| plan.readable_system_table(table), query, builder);
    query = q;
    builder = b;
    query = query
        .field(Field::new("server_ping", TypeRef::named(TypeRef::STRING), |_| FieldFuture::from_value(Some("pong".into()))))
        .field(Field::new("server_info", TypeRef::named("server_info"), |ctx| {
            FieldFuture::new(async move {
                let caller = ctx.ctx.data::<Caller>()?;
                let mut info = match rectus_core::services::server::info(&caller.services, caller.accountability.as_ref()).await {
                    Ok(info) => info,
                    Err(e) => return Ok(crate::resolve::settle(&ctx, caller, Err(e))),
                };
                // The type has the project's settings at the top, `public_*` named `project_*`
                // (Directus hands its resolver the nested `/server/info` shape and so answers
                // null for them; Rectus answers what the type promises).
                if let (Some(Value::Object(project)), Some(o)) = (info.as_object_mut().and_then(|o| o.remove("project")), info.as_object_mut()) {
                    for (key, value) in project {
                        o.insert(key.replace("public_", "project_"), value);
                    }
                }
                Ok(Some(FieldValue::owned_any(info)))
            })
        }))
        .field(Field::new("server_health", TypeRef::named(crate::types::JSON), |ctx| {
            FieldFuture::new(async move {
                let caller = ctx.ctx.data::<Caller>()?;
                let health = rectus_core::services::server::health(&caller.services, caller.accountability.as_ref(), "").await;
                Ok(Some(FieldValue::value(Leaf::Json.convert(&health))))
            })
        }))
        .field(Field::new("server_specs_oas", TypeRef::named(crate::types::JSON), |ctx| {
            FieldFuture::new(async move {
                let caller = ctx.ctx.data::<Caller>()?;
                let oas = rectus_core::services::specification::oas(&caller.services, caller.accountability.as_ref(), &caller.public_url).await;
                Ok(crate::resolve::settle(&ctx, caller, oas.map(|o| Some(FieldValue::value(Leaf::Json.convert(&o))))))
            })
        }))
        .field(
            Field::new("server_specs_graphql", TypeRef::named(TypeRef::STRING), |ctx| {
                FieldFuture::new(async move {
                    let caller = ctx.ctx.data::<Caller>()?;
                    let scope = ctx.args.get("scope").and_then(|s| s.enum_name().ok().and_then(Scope::parse)).unwrap_or(Scope::Items);
                    let other = Caller { scope, ..caller.clone() };
                    let sdl = crate::sdl(&other).await;
                    Ok(crate::resolve::settle(&ctx, caller, sdl.map(|s| Some(FieldValue::value(s)))))
                })
            })
            .argument(InputValue::new("scope", TypeRef::named("graphql_sdl_scope"))),
        );
    (query, builder)
}
