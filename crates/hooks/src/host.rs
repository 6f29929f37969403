//! What hooks may reach in the application: the services (and through them the schema and the
//! database), plus the tokio runtime their futures run on — the isolates' own current-thread
//! runtimes must not own database connections.

use deno_core::OpState;
use deno_error::JsErrorBox;
use rectus_core::cluster::CronLeases;
use rectus_core::services::Services;
use std::sync::{Arc, OnceLock};

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

/// Where an isolate finds its [`Host`] (in its `OpState`): set once the services exist, which
/// is after the hooks registered (the services need the runtime as their event bus).
#[derive(Clone, Default)]
pub struct HostCell(pub Arc<OnceLock<Host>>);

impl Host {
    /// The host of the isolate whose op is running.
    pub fn of(state: &OpState) -> Result<Host, JsErrorBox> {
        state.borrow::<HostCell>().0.get().cloned().ok_or_else(|| JsErrorBox::generic("the schema is not available while hooks are being registered"))
    }
}
