//! Who runs a GraphQL operation and with what: the request data every resolver reads.

use async_graphql::ErrorExtensions;
use rectus_core::auth::Accountability;
use rectus_core::db::SharedTransaction;
use rectus_core::schema::SchemaOverview;
use rectus_core::services::items::ItemsService;
use rectus_core::services::Services;
use rectus_core::ApiError;
use std::sync::Arc;

/// `/graphql` serves the user collections, `/graphql/system` the system ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Items,
    System,
}

impl Scope {
    pub fn parse(name: &str) -> Option<Scope> {
        match name {
            "items" => Some(Scope::Items),
            "system" => Some(Scope::System),
            _ => None,
        }
    }

    /// Whether `collection` has root fields in this scope. Collections, fields and relations
    /// have shapes of their own (resolved in `system`), migrations and sessions none.
    pub fn serves(self, collection: &str) -> bool {
        match self {
            Scope::Items => !collection.starts_with("directus_"),
            Scope::System => collection.starts_with("directus_") && !SYSTEM_DENY_LIST.contains(&collection),
        }
    }

    /// The root field name of `collection`: `articles`, or `users` for `directus_users`.
    pub fn root_name(self, collection: &str) -> &str {
        match self {
            Scope::Items => collection,
            Scope::System => collection.strip_prefix("directus_").unwrap_or(collection),
        }
    }
}

/// System collections that never get a generic type (rc.83's `SYSTEM_DENY_LIST`).
pub const SYSTEM_DENY_LIST: &[&str] = &["directus_collections", "directus_fields", "directus_relations", "directus_migrations", "directus_sessions"];

/// Collections GraphQL only reads.
pub const READ_ONLY: &[&str] = &["directus_activity", "directus_revisions"];

/// The caller of one operation: the services, the schema overview it was planned on, the
/// accountability, and (from a hook) the depth and transaction its services run at.
#[derive(Clone)]
pub struct Caller {
    pub services: Services,
    pub schema: Arc<SchemaOverview>,
    pub accountability: Option<Accountability>,
    pub scope: Scope,
    pub depth: u32,
    pub transaction: Option<SharedTransaction>,
    /// The public URL, for `server_specs_oas`.
    pub public_url: String,
    /// `QUERY_LIMIT_MAX` for a client's lists; `None` for a hook's, as hooks' services are not bound.
    pub query_limit_max: Option<i64>,
}

impl Caller {
    pub fn items(&self, collection: &str) -> ItemsService {
        ItemsService::new(collection, self.services.clone(), self.schema.clone(), self.accountability.clone())
            .at_depth(self.depth)
            .in_transaction(self.transaction.clone())
    }

    pub fn admin(&self) -> bool {
        self.accountability.as_ref().is_none_or(|a| a.admin)
    }

    /// An error as a resolver answers it: the Directus exception's message and
    /// `extensions.code` (internal failures are named only to admins, as over REST).
    pub fn error(&self, error: ApiError) -> async_graphql::Error {
        if error.internal {
            tracing::error!(message = %error.message, "internal error in a GraphQL resolver");
            let message = if self.admin() { error.message } else { "An unexpected error occurred.".to_string() };
            return async_graphql::Error::new(message).extend_with(|_, e| e.set("code", "INTERNAL_SERVER_ERROR"));
        }
        let code = error.code.as_str().to_string();
        let extra = error.extensions;
        async_graphql::Error::new(error.message).extend_with(move |_, e| {
            e.set("code", code.as_str());
            for (key, value) in &extra {
                if let Ok(v) = async_graphql::Value::from_json(value.clone()) {
                    e.set(key.as_str(), v);
                }
            }
        })
    }
}
