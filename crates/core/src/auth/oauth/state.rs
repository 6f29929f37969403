//! The state of one login between the redirect to the provider and its callback.
//!
//! Directus kept it in an express-session (memory store). Rectus keeps it in the browser instead:
//! a cookie holding the state as JSON, HMAC-SHA256-signed with `SECRET`, valid 10 minutes. Nothing
//! is stored server-side, so any instance behind a load balancer can finish a login another one
//! started, and a restart loses nothing. The signature stops tampering (another provider, another
//! `redirect`); the cookie is httpOnly, so pages can't read the PKCE verifier or the nonce.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How long a user may spend at the provider.
pub const STATE_TTL_SECONDS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginState {
    pub provider: String,
    /// The `state` parameter sent to the provider (CSRF protection).
    pub csrf: String,
    pub pkce_verifier: Option<String>,
    /// OpenID Connect only: the nonce the ID token must carry.
    pub nonce: Option<String>,
    /// `?redirect=` of the login request: where the browser goes after the callback.
    pub redirect: Option<String>,
    /// Unix seconds.
    pub expires: i64,
}

fn mac(secret: &str) -> Hmac<Sha256> {
    // A key of its own, so this signature can never be confused with an access token's.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"rectus oauth login state\0");
    mac
}

impl LoginState {
    /// The cookie value: `<base64url JSON>.<base64url HMAC>`.
    pub fn seal(&self, secret: &str) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("the state serializes"));
        let mut mac = mac(secret);
        mac.update(payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The state of a cookie value, if this server signed it and it has not expired.
    pub fn open(sealed: &str, secret: &str) -> Option<LoginState> {
        let (payload, signature) = sealed.split_once('.')?;
        let mut mac = mac(secret);
        mac.update(payload.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?).ok()?;
        let state: LoginState = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (state.expires > chrono::Utc::now().timestamp()).then_some(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(expires: i64) -> LoginState {
        LoginState { provider: "github".into(), csrf: "abc".into(), pkce_verifier: Some("v".into()), nonce: None, redirect: Some("https://app/".into()), expires }
    }

    #[test]
    fn only_untampered_unexpired_states_open() {
        let future = chrono::Utc::now().timestamp() + 60;
        let sealed = state(future).seal("s3cret");
        assert_eq!(LoginState::open(&sealed, "s3cret"), Some(state(future)));
        assert_eq!(LoginState::open(&sealed, "other"), None);
        let (_, sig) = sealed.split_once('.').unwrap();
        let forged = LoginState { redirect: Some("https://evil/".into()), ..state(future) }.seal("guess");
        let (forged_payload, _) = forged.split_once('.').unwrap();
        assert_eq!(LoginState::open(&format!("{forged_payload}.{sig}"), "s3cret"), None);
        assert_eq!(LoginState::open(&state(future - 120).seal("s3cret"), "s3cret"), None);
        assert_eq!(LoginState::open("garbage", "s3cret"), None);
    }
}
