//! What hooks may reach in the application: the schema (and, with the services issue, the
//! services and the database), plus the tokio runtime their futures run on — the isolates'
//! own current-thread runtimes must not own database connections.

use rectus_core::db::Database;
use rectus_core::schema::SchemaCache;

#[derive(Clone)]
pub struct Host {
    pub db: Database,
    pub schema: SchemaCache,
    pub runtime: tokio::runtime::Handle,
}
