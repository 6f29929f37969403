//! Two-factor authentication (spec §4.4 `generateTFA` / `enableTFA` / `disableTFA`, the
//! `/users/me/tfa/*` routes and the `otp` of a login): TOTP as authenticator apps and otplib
//! compute it (SHA-1, 6 digits, 30 s steps), secrets stored base32 in
//! `directus_users.tfa_secret`, so secrets set up under Directus keep working.
//!
//! Decisions:
//! - A code of the step before or after the current one is accepted too (clock drift); otplib
//!   accepted only the current step.
//! - New secrets are 160 bits (RFC 4226's recommendation); otplib made 80-bit ones, which are
//!   still verified.
//! - Errors are Directus's: a missing or wrong `otp` at login is 401 `INVALID_OTP`; a wrong `otp`
//!   when enabling is 400 `INVALID_PAYLOAD`, when disabling 401 `INVALID_OTP`; generating while a
//!   secret is set is 400.

use rand::RngCore;
use sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::Value;
use totp_rs::{Builder, Secret};

use super::password;
use crate::services::Services;
use crate::{ApiError, ErrorCode};

/// Whether `otp` is the code of `secret` (base32) now, give or take a step.
pub fn verify(secret: &str, otp: &str) -> bool {
    let Ok(secret) = Secret::try_from_base32(secret.trim().to_uppercase()) else { return false };
    Builder::new().with_secret(secret).with_skew(1).build_noncompliant().check_current(otp.trim()).is_some()
}

/// The login's second factor: nothing to check without a secret.
pub fn check_login(tfa_secret: Option<&str>, otp: Option<&str>) -> Result<(), ApiError> {
    let Some(secret) = tfa_secret.filter(|s| !s.is_empty()) else { return Ok(()) };
    match otp.filter(|o| !o.is_empty()) {
        None => Err(invalid_otp("\"otp\" is required")),
        Some(otp) if verify(secret, otp) => Ok(()),
        Some(_) => Err(invalid_otp("\"otp\" is invalid")),
    }
}

fn invalid_otp(message: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidOtp, message)
}

/// `otpauth://` URI the authenticator apps scan, labelled `<issuer>:<email>`.
fn otpauth_url(issuer: &str, email: &str, secret: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    format!("otpauth://totp/{}:{}?secret={secret}&period=30&digits=6&algorithm=SHA1&issuer={}", enc(issuer), enc(email), enc(issuer))
}

pub struct Tfa<'a> {
    pub services: &'a Services,
}

impl Tfa<'_> {
    async fn user(&self, id: &str) -> Result<serde_json::Map<String, Value>, ApiError> {
        let query = Query::select().columns(["email", "password", "tfa_secret"].map(Alias::new)).from(Alias::new("directus_users")).and_where(Expr::col(Alias::new("id")).eq(id)).limit(1).to_owned();
        self.services.db.run(&query).await?.rows.into_iter().next().ok_or_else(|| ApiError::new(ErrorCode::InvalidCredentials, "Invalid user credentials."))
    }

    async fn set_secret(&self, id: &str, secret: Option<&str>) -> Result<(), ApiError> {
        let update = Query::update().table(Alias::new("directus_users")).value(Alias::new("tfa_secret"), secret.map(str::to_string)).and_where(Expr::col(Alias::new("id")).eq(id)).to_owned();
        self.services.db.run(&update).await?;
        Ok(())
    }

    /// A new secret and its URI for user `id`, after checking their password (the route's
    /// `generate`).
    pub async fn generate(&self, id: &str, password_given: &str) -> Result<(String, String), ApiError> {
        self.verify_password(id, password_given).await?;
        self.generate_for(id).await
    }

    /// `AuthenticationService.verifyPassword(pk, password)`: whether it is user `id`'s password;
    /// a wrong one (or a user without one) is 401 `INVALID_CREDENTIALS`.
    pub async fn verify_password(&self, id: &str, password_given: &str) -> Result<(), ApiError> {
        let user = self.user(id).await?;
        match user.get("password").and_then(Value::as_str) {
            Some(hash) if password::verify(password_given, hash) => Ok(()),
            _ => Err(ApiError::new(ErrorCode::InvalidCredentials, "Invalid user credentials.")),
        }
    }

    /// `UsersService.generateTFA(pk)`: a new secret and its URI for user `id`, who must have an
    /// email and no secret yet. Nothing is stored until [`enable`](Self::enable) proves the
    /// app has it.
    pub async fn generate_for(&self, id: &str) -> Result<(String, String), ApiError> {
        let user = self.user(id).await?;
        if user.get("tfa_secret").and_then(Value::as_str).is_some_and(|s| !s.is_empty()) {
            return Err(ApiError::invalid_payload("TFA Secret is already set for this user"));
        }
        if user.get("email").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(ApiError::invalid_payload("User must have a valid email to enable TFA"));
        }
        let secret = new_secret();
        let url = self.otpauth_url(id, &secret).await?;
        Ok((secret, url))
    }

    /// `AuthenticationService.generateOTPAuthURL(pk, secret)`: the `otpauth://` URI of `secret`
    /// for user `id`, issued by the project.
    pub async fn otpauth_url(&self, id: &str, secret: &str) -> Result<String, ApiError> {
        let user = self.user(id).await?;
        let email = user.get("email").and_then(Value::as_str).unwrap_or_default();
        let settings = Query::select().column(Alias::new("project_name")).from(Alias::new("directus_settings")).limit(1).to_owned();
        let project = self.services.db.run(&settings).await?.rows.into_iter().next().and_then(|r| r.get("project_name").and_then(Value::as_str).map(str::to_string));
        Ok(otpauth_url(project.as_deref().filter(|p| !p.is_empty()).unwrap_or("Directus"), email, secret))
    }

    /// `AuthenticationService.verifyOTP(pk, otp, secret?)`: whether `otp` is a current code of
    /// `secret`, or of user `id`'s stored secret (400 when they have none).
    pub async fn verify_otp(&self, id: &str, otp: &str, secret: Option<&str>) -> Result<bool, ApiError> {
        let stored;
        let secret = match secret.filter(|s| !s.is_empty()) {
            Some(secret) => secret,
            None => {
                let user = self.user(id).await?;
                stored = user.get("tfa_secret").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
                stored.as_deref().ok_or_else(|| ApiError::invalid_payload(format!("User \"{id}\" doesn't have TFA enabled.")))?
            }
        };
        Ok(verify(secret, otp))
    }

    /// Stores `secret` once `otp` shows the authenticator app computes its codes.
    pub async fn enable(&self, id: &str, otp: &str, secret: &str) -> Result<(), ApiError> {
        if !verify(secret, otp) {
            return Err(ApiError::invalid_payload("\"otp\" is invalid"));
        }
        self.set_secret(id, Some(secret)).await?;
        self.services.tokens.clear();
        Ok(())
    }

    /// Removes the secret, given a current code of it (the route's `disable`).
    pub async fn disable(&self, id: &str, otp: &str) -> Result<(), ApiError> {
        let user = self.user(id).await?;
        let secret = user.get("tfa_secret").and_then(Value::as_str).unwrap_or_default();
        if secret.is_empty() || !verify(secret, otp) {
            return Err(invalid_otp("\"otp\" is invalid"));
        }
        self.remove(id).await
    }

    /// `UsersService.disableTFA(pk)`: removes user `id`'s secret, no questions asked.
    pub async fn remove(&self, id: &str) -> Result<(), ApiError> {
        self.set_secret(id, None).await
    }
}

/// `AuthenticationService.generateTFASecret()`: a new base32 secret.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut bytes);
    Secret::from(bytes).to_base32()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(secret: &str, at: u64) -> String {
        Builder::new().with_secret(Secret::try_from_base32(secret).unwrap()).build_noncompliant().generate(at).to_string()
    }

    #[test]
    fn codes_of_the_current_step_and_its_neighbours_pass() {
        // An 80-bit otplib secret, as Directus stored them.
        let secret = "JBSWY3DPEHPK3PXP";
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        assert!(verify(secret, &code(secret, now)));
        assert!(verify(&secret.to_lowercase(), &code(secret, now - 30)));
        assert!(!verify(secret, &code(secret, now - 120)));
        assert!(!verify("not base32!", "123456"));
    }

    #[test]
    fn logins_need_a_code_only_with_a_secret() {
        assert!(check_login(None, None).is_ok());
        assert_eq!(check_login(Some("JBSWY3DPEHPK3PXP"), None).unwrap_err().code.as_str(), "INVALID_OTP");
        assert_eq!(check_login(Some("JBSWY3DPEHPK3PXP"), Some("000000x")).unwrap_err().message, "\"otp\" is invalid");
    }

    #[test]
    fn urls_name_the_project_and_the_user() {
        assert_eq!(otpauth_url("My CMS", "a@b.io", "ABC"), "otpauth://totp/My%20CMS:a%40b%2Eio?secret=ABC&period=30&digits=6&algorithm=SHA1&issuer=My%20CMS");
    }
}
