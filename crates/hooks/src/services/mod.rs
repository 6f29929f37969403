//! The one bridge from JavaScript's `services` to the Rust services: `op_rectus_call` takes one
//! envelope per call, `{service, collection, method, args, accountability, transaction, depth,
//! upload}`
//! (built by `rectus.call` in `js-runtime/60_services.js`), and runs the Rust service that
//! serves HTTP with the caller's accountability (`null` = no permission checks), at the caller's
//! hook depth and in the transaction of its `knex` option. The result comes back as `{ok}`, or as
//! `{error}` — an [`ApiError`] the JS side throws as the exception class of its code.
//!
//! `service` and `method` are serde tags: [`Call`] names the services, and each service's
//! methods are an enum whose variants hold the JS arguments in order. A method JS calls that the
//! enum lacks is refused with an `InvalidPayloadException` naming the methods there are; a
//! variant without its arm in the service's `run` doesn't compile.
//!
//! # Adding a method
//!
//! 1. Rust: a variant on the service's enum (`services/items.rs`, `services/system.rs`) holding
//!    the arguments in the order JS passes them, and its arm in that enum's `run`. serde reads a
//!    variant of one field as the bare value rather than an array, so a method of one argument
//!    takes a 1-tuple, `Method((T,))`; one of none, `Method()`. Trailing arguments JS may leave
//!    out (`opts`) are `#[serde(default)]`.
//! 2. JS: one line on the class in `js-runtime/60_services.js`,
//!    `method(a, b) { return this._call('method', a, b); }`, passing every parameter.
//!
//! A new service is a variant of [`Call`] wrapping its method enum, and a JS class extending
//! `RustService` with `static serviceName` set to the variant's name.

mod items;
mod system;
mod upload;

pub use upload::{op_rectus_upload_end, op_rectus_upload_open, op_rectus_upload_write};

use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use rectus_core::auth::Accountability;
use rectus_core::db::SharedTransaction;
use rectus_core::query::{sanitize, FilterContext, Query};
use rectus_core::services::items::ItemsService;
use rectus_core::services::MutationOptions;
use rectus_core::ApiError;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::database::Connections;
use crate::host::Host;

/// One service call from JavaScript.
#[derive(Debug, Deserialize)]
pub struct Envelope {
    #[serde(flatten)]
    pub call: Call,
    /// The collection of an `ItemsService` (or of the `PayloadService`).
    #[serde(default)]
    pub collection: Option<String>,
    #[serde(default)]
    pub accountability: Option<Accountability>,
    /// Handle of the `knex` option's transaction (see `database.rs`); 0 = the pool.
    #[serde(default)]
    pub transaction: u32,
    /// Hook → service nesting of the caller (see `EventArgs::depth`).
    #[serde(default)]
    pub depth: u32,
}

/// The services JS can call, each with its methods.
#[derive(Debug, Deserialize)]
#[serde(tag = "service")]
pub enum Call {
    ItemsService(items::Items),
    FilesService(items::Files),
    AssetsService(items::Assets),
    CollectionsService(system::Collections),
    FieldsService(system::Fields),
    RelationsService(system::Relations),
    MetaService(system::Meta),
    PayloadService(system::Payload),
    UtilsService(system::Utils),
    ImportService(system::Import),
    SpecificationService(system::Specification),
    GraphQLService(system::GraphQL),
    ServerService(system::Server),
    AuthenticationService(system::Authentication),
    /// The account flows; the rest of `UsersService` is the `ItemsService` on `directus_users`.
    UsersService(system::Users),
    PermissionsService(system::Permissions),
    RevisionsService(system::Revisions),
    MailService(system::Mail),
}

/// Who calls, from where: what every method's `run` gets besides its arguments.
pub struct Caller {
    pub host: Host,
    pub collection: Option<String>,
    pub accountability: Option<Accountability>,
    pub transaction: Option<SharedTransaction>,
    pub depth: u32,
    /// The bytes JS streams to the call, if it opened an upload for it (in a mutex only so
    /// that the caller is `Sync`; one method takes it).
    pub upload: std::sync::Mutex<Option<rectus_core::storage::ByteStream<'static>>>,
}

/// What a call answers: a JSON value, or an asset's description and its bytes, which cross into
/// JS as one buffer (`op_rectus_take_asset`): a JSON round trip would inflate them.
pub enum Reply {
    Value(Value),
    Asset(Value, Vec<u8>),
}

impl From<Value> for Reply {
    fn from(value: Value) -> Self {
        Reply::Value(value)
    }
}

impl Caller {
    fn collection(&self) -> Result<&str, ApiError> {
        self.collection.as_deref().ok_or_else(|| ApiError::invalid_payload("The service was created without a collection."))
    }

    /// An `ItemsService` on `collection` for this caller: its accountability, depth and
    /// transaction. An unknown collection is 403, as over HTTP.
    async fn items(&self, collection: &str) -> Result<ItemsService, ApiError> {
        let schema = self.host.services.schema.get().await?;
        if schema.collection(collection).is_none() {
            return Err(ApiError::forbidden());
        }
        Ok(ItemsService::new(collection, self.host.services.clone(), schema, self.accountability.clone()).at_depth(self.depth).in_transaction(self.transaction.clone()))
    }

    /// A query object as the REST API would read it, with `$CURRENT_USER` & co. of the caller.
    fn query(&self, v: &Value) -> Result<Query, ApiError> {
        let params: Map<String, Value> = v.as_object().cloned().unwrap_or_default();
        let acc = self.accountability.as_ref();
        let ctx = FilterContext { user: acc.and_then(|a| a.user.clone()), role: acc.and_then(|a| a.role.clone()) };
        sanitize(&params, &ctx)
    }
}

impl Call {
    async fn run(self, caller: Caller) -> Result<Reply, ApiError> {
        match self {
            Call::ItemsService(m) => m.run(caller).await,
            Call::FilesService(m) => m.run(caller).await,
            Call::AssetsService(m) => m.run(caller).await,
            Call::CollectionsService(m) => m.run(caller).await.map(Reply::Value),
            Call::FieldsService(m) => m.run(caller).await.map(Reply::Value),
            Call::RelationsService(m) => m.run(caller).await.map(Reply::Value),
            Call::MetaService(m) => m.run(caller).await.map(Reply::Value),
            Call::PayloadService(m) => m.run(caller).await.map(Reply::Value),
            Call::UtilsService(m) => m.run(caller).await.map(Reply::Value),
            Call::ImportService(m) => m.run(caller).await.map(Reply::Value),
            Call::SpecificationService(m) => m.run(caller).await.map(Reply::Value),
            Call::GraphQLService(m) => m.run(caller).await.map(Reply::Value),
            Call::ServerService(m) => m.run(caller).await.map(Reply::Value),
            Call::AuthenticationService(m) => m.run(caller).await.map(Reply::Value),
            Call::UsersService(m) => m.run(caller).await.map(Reply::Value),
            Call::PermissionsService(m) => m.run(caller).await.map(Reply::Value),
            Call::RevisionsService(m) => m.run(caller).await.map(Reply::Value),
            Call::MailService(m) => m.run(caller).await.map(Reply::Value),
        }
    }
}

/// Directus's `MutationOptions` as JS passes them (`{emitEvents}`, or nothing).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Options {
    emit_events: Option<bool>,
}

fn options(opts: Option<Options>) -> MutationOptions {
    MutationOptions { emit_events: opts.and_then(|o| o.emit_events).unwrap_or(true) }
}

/// Parses an envelope; a call of something Rust doesn't have is refused naming what was called.
fn envelope(value: Value) -> Result<Envelope, ApiError> {
    let name = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or("?").to_string();
    let called = format!("{}.{}", name("service"), name("method"));
    serde_json::from_value(value).map_err(|e| ApiError::invalid_payload(format!("{called} can't be called: {e}")))
}

/// Asset bytes waiting for `op_rectus_take_asset`, by ticket.
#[derive(Default)]
struct PendingAssets {
    next: u32,
    bytes: HashMap<u32, Vec<u8>>,
}

/// Runs one service call (see the module docs). Failures come back as `{error}`.
#[op2]
#[serde]
pub async fn op_rectus_call(state: Rc<RefCell<OpState>>, #[serde] call: serde_json::Value) -> Result<serde_json::Value, JsErrorBox> {
    let host = Host::of(&state.borrow())?;
    // `upload`: the ticket of a byte stream JS feeds the call (`upload.rs`), taken whether or
    // not the call can run; 0 = none.
    let ticket = call.get("upload").and_then(Value::as_u64).unwrap_or(0) as u32;
    let upload = (ticket != 0).then(|| upload::take(&mut state.borrow_mut(), ticket)).flatten();
    let envelope = match envelope(call) {
        Ok(envelope) => envelope,
        Err(e) => return Ok(json!({ "error": e })),
    };
    let Envelope { call, collection, accountability, transaction, depth } = envelope;
    let transaction = match transaction {
        0 => None,
        handle => Some(
            state.borrow().borrow::<Connections>().get(handle).ok_or_else(|| JsErrorBox::generic("Transaction query already complete, run with DEBUG=knex:tx for more info"))?,
        ),
    };
    let caller = Caller { host: host.clone(), collection, accountability, transaction, depth, upload: std::sync::Mutex::new(upload) };
    let result = host.runtime.spawn(call.run(caller)).await.map_err(|e| JsErrorBox::generic(e.to_string()))?;
    Ok(match result {
        Ok(Reply::Value(value)) => json!({ "ok": value }),
        Ok(Reply::Asset(mut meta, bytes)) => {
            let mut state = state.borrow_mut();
            if !state.has::<PendingAssets>() {
                state.put(PendingAssets::default());
            }
            let pending = state.borrow_mut::<PendingAssets>();
            pending.next = pending.next.wrapping_add(1);
            let ticket = pending.next;
            pending.bytes.insert(ticket, bytes);
            if let Some(m) = meta.as_object_mut() {
                m.insert("ticket".into(), json!(ticket));
            }
            json!({ "ok": meta })
        }
        Err(e) => json!({ "error": e }),
    })
}

/// The bytes of a `getAsset` result, once.
#[op2]
#[buffer]
pub fn op_rectus_take_asset(state: &mut OpState, ticket: u32) -> Vec<u8> {
    state.try_borrow_mut::<PendingAssets>().and_then(|p| p.bytes.remove(&ticket)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_name_what_is_called() {
        let call = envelope(json!({ "service": "ItemsService", "collection": "articles", "method": "createOne", "args": [{ "title": "x" }, null], "depth": 2 })).unwrap();
        assert!(matches!(call.call, Call::ItemsService(items::Items::CreateOne(_, None))));
        assert_eq!((call.collection.as_deref(), call.depth, call.transaction), (Some("articles"), 2, 0));
        // A trailing `opts` may be left out; a one-argument method reads its array.
        assert!(matches!(envelope(json!({ "service": "ItemsService", "method": "deleteMany", "args": [[1, 2]] })).unwrap().call, Call::ItemsService(items::Items::DeleteMany(keys, None)) if keys.len() == 2));
        assert!(matches!(envelope(json!({ "service": "ServerService", "method": "health", "args": [] })).unwrap().call, Call::ServerService(_)));

        let missing = envelope(json!({ "service": "ItemsService", "method": "frobnicate", "args": [] })).unwrap_err();
        assert_eq!(missing.code, rectus_core::ErrorCode::InvalidPayload);
        assert!(missing.message.starts_with("ItemsService.frobnicate can't be called: unknown variant `frobnicate`, expected one of `createOne`"), "{}", missing.message);
        let service = envelope(json!({ "service": "NoSuchService", "method": "execute", "args": [] })).unwrap_err();
        assert!(service.message.starts_with("NoSuchService.execute can't be called: unknown variant `NoSuchService`"), "{}", service.message);
        assert!(matches!(envelope(json!({ "service": "GraphQLService", "method": "execute", "args": ["system", { "document": "{ server_ping }" }] })).unwrap().call, Call::GraphQLService(_)));
        let bad = envelope(json!({ "service": "ItemsService", "method": "deleteMany", "args": ["not keys"] })).unwrap_err();
        assert!(bad.message.starts_with("ItemsService.deleteMany can't be called: invalid type"), "{}", bad.message);
    }

    /// The classes `js-runtime/20_exceptions.js` makes of error codes are the codes Rust knows,
    /// with the same statuses.
    #[test]
    fn the_js_exception_classes_are_the_rust_error_codes() {
        use rectus_core::ErrorCode;
        let source = include_str!("../../../../js-runtime/20_exceptions.js");
        let row = regex::Regex::new(r"\['(\w+)', (\d{3}), '([A-Z_]+)'").unwrap();
        let classes: Vec<(String, u16, String)> = row.captures_iter(source).map(|c| (c[1].to_string(), c[2].parse().unwrap(), c[3].to_string())).collect();
        assert_eq!(classes.len(), 22, "{classes:?}");
        for (class, status, code) in &classes {
            let known = ErrorCode::parse(code);
            assert!(!matches!(known, ErrorCode::Custom(_)), "{class}: {code} is no ErrorCode");
            assert_eq!(known.status(), *status, "{class}");
        }
        for code in ErrorCode::KNOWN.iter().filter(|c| !matches!(c, ErrorCode::InternalServerError | ErrorCode::UnsupportedMediaType)) {
            assert!(classes.iter().any(|(_, _, c)| c == code.as_str()), "no class for {code}");
        }
    }
}
