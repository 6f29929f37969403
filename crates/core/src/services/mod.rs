//! The services HTTP routes and hooks both call. They emit the Directus events on the bus.

pub mod activity;
pub mod assets;
pub mod comments;
pub mod export;
pub mod files;
pub mod import;
pub mod items;
pub mod payload;
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

use std::sync::Arc;

use crate::db::Database;
use crate::events::EventBus;
use crate::mail::Mailer;
use crate::auth::tokens::TokenCache;
use crate::cache::ResponseCache;
use crate::schema::SchemaCache;
use crate::storage::Storage;

/// What every service needs: the pool, the schema cache, the event bus, the token cache
/// (cleared when users or roles change), the mailer, file storage and the response cache
/// (purged after writes when `CACHE_AUTO_PURGE` is on).
#[derive(Clone)]
pub struct Services {
    pub db: Database,
    pub schema: SchemaCache,
    pub bus: Arc<dyn EventBus>,
    pub tokens: TokenCache,
    pub mail: Arc<Mailer>,
    pub storage: Storage,
    pub responses: ResponseCache,
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
