//! What hooks may reach in the application: the services (and through them the schema and the
//! database), plus the tokio runtime their futures run on — the isolates' own current-thread
//! runtimes must not own database connections.

use rectus_core::cluster::CronLeases;
use rectus_core::services::Services;
use std::sync::Arc;

#[derive(Clone)]
pub struct Host {
    /// Services whose event bus points back at the hook runtime (weakly, so no cycle).
    pub services: Services,
    pub runtime: tokio::runtime::Handle,
    /// Who runs a cron tick when several instances share the database.
    pub leases: Arc<dyn CronLeases>,
    /// The configuration `UsersService`'s invite and password-reset methods need (`SECRET`,
    /// `PUBLIC_URL`, the URL allow lists).
    pub config: Arc<rectus_core::config::Config>,
}
