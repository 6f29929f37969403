//! SSO login through OAuth 2 and OpenID Connect providers (Directus rc.61–rc.98's
//! `/auth/oauth` routes and `oauth.<provider>.*` events).
//!
//! - [`crate::config::oauth`]: the `OAUTH_*` settings, built-in endpoints of named providers.
//! - [`state`]: the signed cookie that carries a login from the redirect to the callback.
//! - [`protocol`]: authorization URL, code exchange, ID token verification, profile.
//! - [`login`]: the flow with its events, user lookup and registration, token issue.
//! - [`error`]: the failures and their Directus exceptions.

pub mod error;
pub mod login;
pub mod protocol;
pub mod redirect;
pub mod state;

pub use crate::config::oauth::{ProviderConfig, Protocol};
pub use error::{redirect_reason, OAuthError};
pub use login::{Authorization, Callback, Finished, OAuthLogin};
pub use protocol::OAuthProviders;
pub use state::STATE_TTL_SECONDS;
