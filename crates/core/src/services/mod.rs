//! The services HTTP routes and hooks both call. They emit the Directus events on the bus.

pub mod activity;
pub mod assets;
pub mod comments;
pub mod export;
pub mod files;
pub mod import;
pub mod items;
pub mod payload;
pub mod permission_cache;
pub mod permissions;
pub mod relations;
pub mod revisions;
pub mod schema;
pub mod server;
pub mod specification;
pub mod user_rules;
pub mod utils;
pub mod validation;
pub mod webhooks;
#[cfg(test)]
pub(crate) mod testing;

use std::sync::Arc;

use crate::auth::tokens::TokenCache;
use crate::services::permission_cache::PermissionCache;
use crate::cache::ResponseCache;
use crate::db::Database;
use crate::events::{EventBus, NoHooks};
use crate::mail::Mailer;
use crate::schema::SchemaCache;
use crate::storage::Storage;

/// How long a resolved token is trusted without looking its user up again (see [`TokenCache`]).
const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);
/// How long a role's permission rows are trusted without reading them again (see [`PermissionCache`]).
const PERMISSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

/// What every service needs: the pool, the schema cache, the event bus, the token cache
/// (cleared when users or roles change), the mailer, file storage and the response cache
/// (purged after writes when `CACHE_AUTO_PURGE` is on).
#[derive(Clone)]
pub struct Services {
    pub db: Database,
    pub schema: SchemaCache,
    pub bus: Arc<dyn EventBus>,
    pub tokens: TokenCache,
    pub permissions: PermissionCache,
    pub mail: Arc<Mailer>,
    pub storage: Storage,
    pub responses: ResponseCache,
}

impl Services {
    /// The services of `db`: a schema cache and a token cache of their own, no response cache,
    /// and no hooks until [`with_bus`](Self::with_bus) gives them an event bus.
    pub fn new(db: Database, mail: Arc<Mailer>, storage: Storage) -> Services {
        Services {
            schema: SchemaCache::new(db.clone()),
            db,
            bus: Arc::new(NoHooks),
            tokens: TokenCache::new(TOKEN_CACHE_TTL),
            permissions: PermissionCache::new(PERMISSION_CACHE_TTL),
            mail,
            storage,
            responses: ResponseCache::disabled(),
        }
    }

    /// The same services (sharing their caches) emitting on `bus`.
    pub fn with_bus(&self, bus: Arc<dyn EventBus>) -> Services {
        Services { bus, ..self.clone() }
    }

    pub fn with_responses(self, responses: ResponseCache) -> Services {
        Services { responses, ..self }
    }
}

/// Options of writes (Directus `MutationOptions`).
#[derive(Debug, Clone, Copy)]
pub struct MutationOptions {
    /// `false` suppresses the before and after events of this call.
    pub emit_events: bool,
}

impl Default for MutationOptions {
    fn default() -> Self {
        MutationOptions { emit_events: true }
    }
}

/// The event scope of a collection: `items` for user collections, the table name without
/// `directus_` for system collections (spec §2.3).
pub fn event_scope(collection: &str) -> &str {
    collection.strip_prefix("directus_").unwrap_or("items")
}
