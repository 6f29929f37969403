//! What every handler can reach.

use rectus_core::auth::oauth::OAuthProviders;
use rectus_core::config::Config;
use rectus_core::hook_routes::HookRoutes;
use rectus_core::services::Services;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub services: Services,
    /// Routes and `request.not_found` listeners of the hooks.
    pub hook_routes: Arc<dyn HookRoutes>,
    /// The SSO providers (`OAUTH_PROVIDERS`), with their discovery cache.
    pub oauth: Arc<OAuthProviders>,
}
