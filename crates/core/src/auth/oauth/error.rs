//! What can go wrong in an SSO login, and how each failure reads as a Directus exception.

use crate::{ApiError, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("Route /auth/oauth/{0} doesn't exist.")]
    UnknownProvider(String),
    /// The provider sent the browser back with `error=` (the user said no, or the app is misconfigured).
    #[error("{provider} did not sign you in: {}", .description.as_deref().unwrap_or(.error.as_str()))]
    Denied { provider: String, error: String, description: Option<String> },
    #[error("The login state is missing, expired or does not match this login; start the login again.")]
    StateMismatch,
    #[error("{provider} sent the browser back without an authorization code.")]
    MissingCode { provider: String },
    #[error("{provider} refused the authorization code: {reason}")]
    CodeRejected { provider: String, reason: String },
    #[error("{provider}'s ID token is not valid: {reason}")]
    InvalidIdToken { provider: String, reason: String },
    #[error("{provider} can't be reached: {reason}")]
    Unreachable { provider: String, reason: String },
    #[error("{provider} did not share an email address (looked for \"{path}\" in the profile).")]
    EmailMissing { provider: String, path: String },
    #[error("{provider} has not verified the email address {email}.")]
    EmailUnverified { provider: String, email: String },
    #[error("No user has the email address {0}.")]
    UnknownUser(String),
    /// Raised by a hook or by the login itself (suspended user, ...): passed on unchanged.
    #[error("{0}")]
    Api(ApiError),
}

impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> Self {
        OAuthError::Api(e)
    }
}

impl From<crate::db::DbError> for OAuthError {
    fn from(e: crate::db::DbError) -> Self {
        OAuthError::Api(e.into())
    }
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        let message = e.to_string();
        match e {
            OAuthError::Api(api) => api,
            OAuthError::UnknownProvider(_) => ApiError::new(ErrorCode::RouteNotFound, message),
            OAuthError::StateMismatch | OAuthError::MissingCode { .. } => ApiError::invalid_payload(message),
            OAuthError::Denied { .. }
            | OAuthError::CodeRejected { .. }
            | OAuthError::InvalidIdToken { .. }
            | OAuthError::EmailMissing { .. }
            | OAuthError::EmailUnverified { .. }
            | OAuthError::UnknownUser(_) => ApiError::new(ErrorCode::InvalidCredentials, message),
            OAuthError::Unreachable { .. } => ApiError::service_unavailable(message, "oauth"),
        }
    }
}

/// The `?reason=` of a failed login that asked to be redirected. Directus's admin app knows
/// `INVALID_USER` (any credentials failure) and `SERVICE_UNAVAILABLE`; other failures carry the
/// exception's code where Directus said `UNKNOWN_EXCEPTION`, which tells the app more.
pub fn redirect_reason(error: &ApiError) -> String {
    match &error.code {
        ErrorCode::InvalidCredentials => "INVALID_USER".into(),
        _ if error.internal => "UNKNOWN_EXCEPTION".into(),
        code => code.to_string(),
    }
}
