//! The services that are not an `ItemsService`: the schema services, `MetaService`,
//! `PayloadService`, `UtilsService`, `ImportService`, `SpecificationService`, `ServerService`,
//! `AuthenticationService`, `MailService`, and the own methods of `UsersService`,
//! `PermissionsService` and `RevisionsService`.

use rectus_core::auth::invites::{invited_addresses, Invites};
use rectus_core::auth::password_reset::PasswordReset;
use rectus_core::auth::service::{AuthenticationService, LoginResult};
use rectus_core::auth::tfa::{self, Tfa};
use rectus_core::auth::Accountability;
use rectus_core::query::MetaKind;
use rectus_core::services::schema::{collections::CollectionsService, fields::FieldsService, relations::RelationsService, SchemaContext};
use rectus_core::services::{import, payload, permissions, revisions, server, specification, utils};
use rectus_core::ApiError;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Caller;

impl Caller {
    /// The GraphQL caller of `scope` (`items` when not given; 400 for another name).
    async fn graphql(&self, scope: Option<&str>) -> Result<rectus_graphql::Caller, ApiError> {
        let scope = match scope {
            None => rectus_graphql::Scope::Items,
            Some(name) => rectus_graphql::Scope::parse(name).ok_or_else(|| ApiError::invalid_payload(format!("\"{name}\" is not a GraphQL scope: use \"items\" or \"system\".")))?,
        };
        Ok(rectus_graphql::Caller {
            services: self.host.services.clone(),
            schema: self.host.services.schema.get().await?,
            accountability: self.accountability.clone(),
            scope,
            depth: self.depth,
            transaction: self.transaction.clone(),
            public_url: self.host.config.public_url.clone(),
            query_limit_max: None,
        })
    }

    /// The context of the schema services, at the caller's depth and in its transaction.
    fn schema_context(&self) -> SchemaContext {
        SchemaContext::new(self.host.services.clone(), self.accountability.clone()).at_depth(self.depth).in_transaction(self.transaction.clone())
    }
}

/// `field` arguments of `FieldsService` are objects that carry their own name.
fn field_name(v: &Value) -> Result<String, ApiError> {
    v.get("field").and_then(Value::as_str).map(str::to_string).ok_or_else(|| ApiError::invalid_payload("\"field\" is required"))
}

/// Collections: `readByQuery` takes no query (as in Directus); writes need an admin.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Collections {
    CreateOne((Value,)),
    ReadByQuery(),
    ReadOne((String,)),
    UpdateOne(String, Value),
    DeleteOne((String,)),
}

impl Collections {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let service = CollectionsService::new(caller.schema_context());
        match self {
            Collections::CreateOne((raw,)) => service.create_one(&raw).await.map(Value::String),
            Collections::ReadByQuery() => service.read_all().await.map(Value::Array),
            Collections::ReadOne((name,)) => service.read_one(&name).await?.ok_or_else(ApiError::forbidden),
            Collections::UpdateOne(name, data) => service.update_one(&name, &data).await.map(|_| Value::String(name)),
            Collections::DeleteOne((name,)) => service.delete_one(&name).await.map(|_| Value::String(name)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Fields {
    ReadAll((Option<String>,)),
    ReadOne(String, String),
    CreateField(String, Value),
    UpdateField(String, Value),
    DeleteField(String, String),
}

impl Fields {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let service = FieldsService::new(caller.schema_context());
        match self {
            Fields::ReadAll((collection,)) => service.read_all(collection.as_deref()).await.map(Value::Array),
            Fields::ReadOne(collection, field) => service.read_one(&collection, &field).await,
            Fields::CreateField(collection, field) => service.create_field(&collection, &field).await,
            Fields::UpdateField(collection, field) => service.update_field(&collection, &field_name(&field)?, &field).await,
            Fields::DeleteField(collection, field) => service.delete_field(&collection, &field).await.map(|_| Value::Null),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Relations {
    ReadAll((Option<String>,)),
    ReadOne(String, String),
    CreateOne((Value,)),
    UpdateOne(String, String, Value),
    DeleteOne(String, String),
}

impl Relations {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let service = RelationsService::new(caller.schema_context());
        match self {
            Relations::ReadAll((collection,)) => service.read_all(collection.as_deref()).await.map(Value::Array),
            Relations::ReadOne(collection, field) => service.read_one(&collection, &field).await,
            Relations::CreateOne((relation,)) => service.create_one(&relation).await,
            Relations::UpdateOne(collection, field, relation) => service.update_one(&collection, &field, &relation).await,
            Relations::DeleteOne(collection, field) => service.delete_one(&collection, &field).await.map(|_| Value::Null),
        }
    }
}

/// `(collection, query)`: the `meta` of the REST API's list reads.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Meta {
    GetMetaForQuery(String, #[serde(default)] Value),
    TotalCount(String, #[serde(default)] Value),
    FilterCount(String, #[serde(default)] Value),
}

impl Meta {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let (collection, query, only) = match self {
            Meta::GetMetaForQuery(collection, query) => (collection, query, None),
            Meta::TotalCount(collection, query) => (collection, query, Some((MetaKind::TotalCount, "total_count"))),
            Meta::FilterCount(collection, query) => (collection, query, Some((MetaKind::FilterCount, "filter_count"))),
        };
        let mut query = caller.query(&query)?;
        if let Some((kind, _)) = only {
            query.meta = vec![kind];
        }
        let meta = caller.items(&collection).await?.meta(&query).await?;
        Ok(match (only, meta) {
            (Some((_, key)), Some(m)) => m.get(key).cloned().unwrap_or(Value::Null),
            (_, meta) => meta.unwrap_or(Value::Null),
        })
    }
}

/// `new PayloadService(collection)`: `processValues(action, payload | payloads)`, the
/// special-field transforms of spec §4.5; `processM2O(data)`, `processA2O(data)` and
/// `processO2M(data, parentPk)`, the nested writes of the items routes (saved as the caller, in
/// its transaction); `processDates(payloads, action)`.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Payload {
    ProcessValues(String, Value),
    #[serde(rename = "processM2O")]
    ProcessM2o((Value,)),
    #[serde(rename = "processA2O")]
    ProcessA2o((Value,)),
    #[serde(rename = "processO2M")]
    ProcessO2m(Value, Value),
    ProcessDates(Value, String),
}

impl Payload {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let (action, payload) = match self {
            Payload::ProcessM2o((data,)) => return caller.items(caller.collection()?).await?.process_many_to_one(data).await,
            Payload::ProcessA2o((data,)) => return caller.items(caller.collection()?).await?.process_many_to_any(data).await,
            Payload::ProcessO2m(data, parent) => return caller.items(caller.collection()?).await?.process_one_to_many(&data, &parent).await.map(|_| Value::Null),
            Payload::ProcessDates(payloads, action) => (format!("dates.{action}"), payloads),
            Payload::ProcessValues(action, payload) => (action, payload),
        };
        let schema = caller.host.services.schema.get().await?;
        let collection = schema.collection(caller.collection()?).ok_or_else(ApiError::forbidden)?;
        let process = |item: Value| -> Result<Value, ApiError> {
            let Value::Object(mut item) = item else { return Ok(item) };
            match action.as_str() {
                "read" => payload::for_read(collection, &mut item),
                "create" | "update" => {
                    let kind = if action == "create" { payload::Action::Create } else { payload::Action::Update };
                    // Directus transforms the fields it knows and leaves the rest as they are.
                    let written = payload::for_write(collection, &item, kind, caller.accountability.as_ref());
                    item.extend(written);
                }
                dates => payload::process_dates(collection, &mut item, dates == "dates.read"),
            }
            Ok(Value::Object(item))
        };
        if !matches!(action.as_str(), "read" | "create" | "update" | "dates.read" | "dates.create" | "dates.update") {
            return Err(ApiError::invalid_payload(format!("\"{}\" is not read, create or update", action.trim_start_matches("dates."))));
        }
        match payload {
            Value::Array(items) => items.into_iter().map(process).collect::<Result<Vec<_>, _>>().map(Value::Array),
            item => process(item),
        }
    }
}

/// `PermissionsService.getAllowedFields(action, collection?)`; the rest of the service is the
/// `ItemsService` on `directus_permissions`.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Permissions {
    GetAllowedFields(String, #[serde(default)] Option<String>),
}

impl Permissions {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let Permissions::GetAllowedFields(action, collection) = self;
        permissions::allowed_fields(&caller.host.services, caller.accountability.as_ref(), &action, collection.as_deref()).await.map(Value::Object)
    }
}

/// `RevisionsService.revert(pk)`: `POST /utils/revert/:pk` as the caller.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Revisions {
    Revert((Value,)),
}

impl Revisions {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let Revisions::Revert((revision,)) = self;
        revisions::revert(caller.host.services.clone(), caller.accountability, &revision).await.map(|_| Value::Null)
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Utils {
    /// `(collection, {item, to})`.
    Sort(String, Value),
}

impl Utils {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let Utils::Sort(collection, body) = self;
        let (item, to) = (body.get("item").cloned().unwrap_or(Value::Null), body.get("to").cloned().unwrap_or(Value::Null));
        utils::sort(&caller.host.services, caller.accountability.as_ref(), &collection, &item, &to).await.map(|_| Value::Null)
    }
}

/// `import(collection, mimetype, text)`: the file's text, not a stream. The rows are created at
/// the caller's depth and in its transaction, which then decides whether they stay.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Import {
    Import(String, String, String),
}

impl Import {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let Import::Import(collection, mimetype, text) = self;
        let items = caller.items(&collection).await?;
        Ok(json!(import::import_into(&items, &mimetype, text.as_bytes()).await?))
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Specification {
    /// `oas.generate()`: the OpenAPI document of `/server/specs/oas`.
    Oas(),
    /// `graphql.generate(scope)`: the caller's GraphQL schema as SDL.
    Graphql((Option<String>,)),
}

impl Specification {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        match self {
            Specification::Oas() => specification::oas(&caller.host.services, caller.accountability.as_ref(), &caller.host.config.public_url).await,
            Specification::Graphql((scope,)) => Ok(json!(rectus_graphql::sdl(&caller.graphql(scope.as_deref()).await?).await?)),
        }
    }
}

/// `GraphQLService`: operations run with the caller's accountability, depth and transaction.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum GraphQL {
    /// `execute({document, variables, operationName})` on the service's scope; `document` is the
    /// operation's text.
    Execute(Option<String>, GraphQLParams),
    /// `getSchema('sdl')` on the service's scope.
    GetSchema((Option<String>,)),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphQLParams {
    document: Option<String>,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default)]
    operation_name: Option<String>,
}

impl GraphQL {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        match self {
            GraphQL::Execute(scope, params) => {
                let request = rectus_graphql::GraphQLRequest { query: params.document, variables: params.variables, operation_name: params.operation_name };
                let prepared = rectus_graphql::prepare(request)?;
                rectus_graphql::execute(caller.graphql(scope.as_deref()).await?, prepared).await
            }
            GraphQL::GetSchema((scope,)) => Ok(json!(rectus_graphql::sdl(&caller.graphql(scope.as_deref()).await?).await?)),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Server {
    ServerInfo(),
    Health(),
}

impl Server {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let services = &caller.host.services;
        match self {
            Server::ServerInfo() => server::info(services, caller.accountability.as_ref()).await,
            Server::Health() => Ok(server::health(services, caller.accountability.as_ref(), &caller.host.config.env.string("KEY").unwrap_or_default()).await),
        }
    }
}

/// `authenticate({email, password, otp, ip, userAgent})` → `{accessToken, refreshToken,
/// expires, id}`; `refresh(token)`; `logout(token)`; the two-factor helpers of `auth/tfa.rs`.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Authentication {
    Authenticate((Value,)),
    Refresh((String,)),
    Logout((String,)),
    #[serde(rename = "generateTFASecret")]
    GenerateTfaSecret(),
    #[serde(rename = "generateOTPAuthURL")]
    GenerateOtpAuthUrl(String, String),
    #[serde(rename = "verifyOTP")]
    VerifyOtp(String, String, #[serde(default)] Option<String>),
    VerifyPassword(String, String),
}

impl Authentication {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let (services, config) = (&caller.host.services, &caller.host.config);
        let tfa = Tfa { services };
        let options = match &self {
            Authentication::Authenticate((options,)) => options.clone(),
            _ => Value::Null,
        };
        let text_of = |key: &str| options.get(key).and_then(Value::as_str).map(str::to_string);
        let auth = AuthenticationService { services, config, accountability: Accountability::public(text_of("ip"), text_of("userAgent")) };
        let tokens = |r: LoginResult| json!({ "accessToken": r.access_token, "refreshToken": r.refresh_token, "expires": r.expires_ms, "id": r.user });
        match self {
            Authentication::Authenticate(_) => auth.login(&options).await.map(tokens),
            Authentication::Refresh((token,)) => auth.refresh(&token).await.map(tokens),
            Authentication::Logout((token,)) => auth.logout(&token).await.map(|_| Value::Null),
            Authentication::GenerateTfaSecret() => Ok(Value::String(tfa::new_secret())),
            Authentication::GenerateOtpAuthUrl(id, secret) => tfa.otpauth_url(&id, &secret).await.map(Value::String),
            Authentication::VerifyOtp(id, otp, secret) => tfa.verify_otp(&id, &otp, secret.as_deref()).await.map(Value::Bool),
            Authentication::VerifyPassword(id, password) => tfa.verify_password(&id, &password).await.map(|_| Value::Bool(true)),
        }
    }
}

/// `UsersService`'s account flows (`crates/core/src/auth/{invites,password_reset}.rs`).
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Users {
    /// `(email or emails, role, invite url, subject)`.
    InviteUser(Value, String, #[serde(default)] Option<String>, #[serde(default)] Option<String>),
    AcceptInvite(String, String),
    RequestPasswordReset(String, #[serde(default)] Option<String>),
    ResetPassword(String, String),
    /// `(pk)` → `{secret, url}`; like the rest of two-factor setup, straight to the user's row
    /// (no permission check, no events), as in rc.83.
    #[serde(rename = "generateTFA")]
    GenerateTfa((String,)),
    #[serde(rename = "enableTFA")]
    EnableTfa(String, String, String),
    #[serde(rename = "disableTFA")]
    DisableTfa((String,)),
}

impl Users {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let (services, config) = (&caller.host.services, &caller.host.config);
        match self {
            Users::InviteUser(email, role, url, subject) => {
                let emails = invited_addresses(Some(&email))?;
                Invites { services, config }.invite(&emails, &role, url.as_deref(), subject.as_deref(), caller.accountability).await?
            }
            Users::AcceptInvite(token, password) => Invites { services, config }.accept(&token, &password).await?,
            Users::RequestPasswordReset(email, url) => PasswordReset { services, config }.request(&email, url.as_deref()).await?,
            Users::ResetPassword(token, password) => PasswordReset { services, config }.reset(&token, &password).await?,
            Users::GenerateTfa((id,)) => {
                let (secret, url) = Tfa { services }.generate_for(&id).await?;
                return Ok(json!({ "secret": secret, "url": url }));
            }
            Users::EnableTfa(id, otp, secret) => Tfa { services }.enable(&id, &otp, &secret).await?,
            Users::DisableTfa((id,)) => Tfa { services }.remove(&id).await?,
        }
        Ok(Value::Null)
    }
}

/// `send({to, cc, bcc, replyTo, from, subject, text, html, template: {name, data}})`.
#[derive(Debug, Deserialize)]
#[serde(tag = "method", content = "args", rename_all = "camelCase")]
pub enum Mail {
    Send((Value,)),
}

impl Mail {
    pub async fn run(self, caller: Caller) -> Result<Value, ApiError> {
        let Mail::Send((options,)) = self;
        let services = &caller.host.services;
        services.mail.send(&services.db, &options).await.map(|_| Value::Null)
    }
}
