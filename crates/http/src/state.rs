//! What every handler can reach.

use rectus_core::auth::oauth::OAuthProviders;
use rectus_core::config::Config;
use rectus_core::hook_routes::HookRoutes;
use rectus_core::services::Services;
use std::ops::Deref;
use std::sync::Arc;

/// Shared behind one `Arc`: axum clones the state for every layer and extractor of a request
/// (about thirty times), and cloning the services bundle field by field showed in profiles.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub config: Arc<Config>,
    pub services: Services,
    /// Routes and `request.not_found` listeners of the hooks.
    pub hook_routes: Arc<dyn HookRoutes>,
    /// The SSO providers (`OAUTH_PROVIDERS`), with their discovery cache.
    pub oauth: Arc<OAuthProviders>,
}

impl AppState {
    pub fn new(config: Arc<Config>, services: Services, hook_routes: Arc<dyn HookRoutes>, oauth: Arc<OAuthProviders>) -> AppState {
        AppState(Arc::new(Shared { config, services, hook_routes, oauth }))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
