//! The conversations with a provider: the authorization URL, the code exchange and the profile.
//! The `oauth2` crate speaks plain OAuth 2; `openidconnect` adds discovery and ID token
//! verification (signature against the provider's JWKS, issuer, audience, expiry, nonce,
//! `at_hash`). What comes back is the grant response Directus handed to its hooks:
//! `{access_token, refresh_token?, id_token?, profile}`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenUrl};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{AccessTokenHash, IssuerUrl, Nonce, OAuth2TokenResponse, TokenResponse as _};
use serde_json::{json, Map, Value};

use crate::config::oauth::{ProviderConfig, Protocol};
use super::error::OAuthError;
use super::state::{LoginState, STATE_TTL_SECONDS};

/// Discovery documents (with their JWKS) are reused this long; a key the cached set lacks
/// triggers one fresh discovery, so key rotations need no restart.
const DISCOVERY_TTL: Duration = Duration::from_secs(600);

/// The configured providers and what talking to them needs.
pub struct OAuthProviders {
    providers: Vec<ProviderConfig>,
    secret: String,
    http: OnceLock<reqwest::Client>,
    discovered: Mutex<HashMap<String, (CoreProviderMetadata, Instant)>>,
}

fn unreachable(provider: &ProviderConfig, reason: impl std::fmt::Display) -> OAuthError {
    OAuthError::Unreachable { provider: provider.name.clone(), reason: reason.to_string() }
}

fn rejected(provider: &ProviderConfig, reason: impl std::fmt::Display) -> OAuthError {
    OAuthError::CodeRejected { provider: provider.name.clone(), reason: reason.to_string() }
}

/// A token endpoint failure: the provider's OAuth error, or the transport's.
fn token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + std::fmt::Display + 'static>(provider: &ProviderConfig, e: RequestTokenError<RE, T>) -> OAuthError {
    match e {
        RequestTokenError::ServerResponse(r) => rejected(provider, r),
        RequestTokenError::Request(r) => unreachable(provider, r),
        RequestTokenError::Parse(_, body) => rejected(provider, String::from_utf8_lossy(&body[..body.len().min(200)])),
        RequestTokenError::Other(o) => rejected(provider, o),
    }
}

impl OAuthProviders {
    /// `secret` signs the login state (`SECRET`).
    pub fn new(providers: Vec<ProviderConfig>, secret: &str) -> Self {
        OAuthProviders { providers, secret: secret.to_string(), http: OnceLock::new(), discovered: Mutex::new(HashMap::new()) }
    }

    pub fn names(&self) -> Vec<&str> {
        self.providers.iter().map(|p| p.name.as_str()).collect()
    }

    pub fn get(&self, name: &str) -> Result<&ProviderConfig, OAuthError> {
        self.providers.iter().find(|p| p.name == name).ok_or_else(|| OAuthError::UnknownProvider(name.to_string()))
    }

    pub fn secret(&self) -> &str {
        &self.secret
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                // Following redirects would let a provider point Rectus at internal addresses.
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(15))
                // GitHub's API refuses requests without a user agent.
                .user_agent(concat!("Rectus/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("the HTTP client builds")
        })
    }

    async fn metadata(&self, provider: &ProviderConfig, issuer: &str, fresh: bool) -> Result<CoreProviderMetadata, OAuthError> {
        if !fresh {
            if let Some((metadata, at)) = self.discovered.lock().unwrap().get(&provider.name) {
                if at.elapsed() < DISCOVERY_TTL {
                    return Ok(metadata.clone());
                }
            }
        }
        let issuer = IssuerUrl::new(issuer.to_string()).map_err(|e| unreachable(provider, e))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, self.http()).await.map_err(|e| unreachable(provider, format!("discovery failed: {e}")))?;
        self.discovered.lock().unwrap().insert(provider.name.clone(), (metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    fn redirect_url(provider: &ProviderConfig) -> RedirectUrl {
        RedirectUrl::from_url(provider.redirect_uri.clone())
    }

    fn secret_of(provider: &ProviderConfig) -> Option<ClientSecret> {
        provider.secret.clone().map(ClientSecret::new)
    }

    /// Where to send the browser, and the state its callback must bring back.
    pub async fn authorization(&self, provider: &ProviderConfig, redirect: Option<String>) -> Result<(String, LoginState), OAuthError> {
        let csrf = CsrfToken::new_random();
        let (challenge, verifier) = if provider.pkce {
            let (c, v) = PkceCodeChallenge::new_random_sha256();
            (Some(c), Some(v.secret().clone()))
        } else {
            (None, None)
        };
        let scopes = provider.scope.iter().map(|s| Scope::new(s.clone()));
        let params: Vec<(String, String)> =
            provider.custom_params.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect();
        let state = |nonce: Option<String>| LoginState {
            provider: provider.name.clone(),
            csrf: csrf.secret().clone(),
            pkce_verifier: verifier.clone(),
            nonce,
            redirect: redirect.clone(),
            expires: chrono::Utc::now().timestamp() + STATE_TTL_SECONDS,
        };
        match &provider.protocol {
            Protocol::OAuth2 { authorize_url, access_url, .. } => {
                let client = BasicClient::new(ClientId::new(provider.key.clone()))
                    .set_auth_uri(AuthUrl::from_url(authorize_url.clone()))
                    .set_token_uri(TokenUrl::from_url(access_url.clone()))
                    .set_redirect_uri(Self::redirect_url(provider));
                let token = csrf.clone();
                let mut request = client.authorize_url(move || token).add_scopes(scopes);
                for (k, v) in &params {
                    request = request.add_extra_param(k, v);
                }
                if let Some(c) = challenge {
                    request = request.set_pkce_challenge(c);
                }
                Ok((request.url().0.to_string(), state(None)))
            }
            Protocol::OpenIdConnect { issuer_url } => {
                let metadata = self.metadata(provider, issuer_url, false).await?;
                let client = CoreClient::from_provider_metadata(metadata, ClientId::new(provider.key.clone()), Self::secret_of(provider))
                    .set_redirect_uri(Self::redirect_url(provider));
                // `openid` is always requested by the flow; the configured scopes come on top.
                let token = csrf.clone();
                let mut request = client
                    .authorize_url(CoreAuthenticationFlow::AuthorizationCode, move || token, Nonce::new_random)
                    .add_scopes(scopes.filter(|s| s.as_str() != "openid"));
                for (k, v) in &params {
                    request = request.add_extra_param(k, v);
                }
                if let Some(c) = challenge {
                    request = request.set_pkce_challenge(c);
                }
                let (url, _, nonce) = request.url();
                Ok((url.to_string(), state(Some(nonce.secret().clone()))))
            }
        }
    }

    /// Exchanges the callback's code for tokens and reads who signed in.
    pub async fn exchange(&self, provider: &ProviderConfig, state: &LoginState, code: &str) -> Result<Value, OAuthError> {
        let code = AuthorizationCode::new(code.to_string());
        let verifier = state.pkce_verifier.clone().map(PkceCodeVerifier::new);
        match &provider.protocol {
            Protocol::OAuth2 { authorize_url, access_url, profile_url } => {
                let mut client = BasicClient::new(ClientId::new(provider.key.clone()))
                    .set_auth_uri(AuthUrl::from_url(authorize_url.clone()))
                    .set_token_uri(TokenUrl::from_url(access_url.clone()))
                    .set_redirect_uri(Self::redirect_url(provider))
                    // Credentials in the form body, as grant sent them; every provider takes that.
                    .set_auth_type(AuthType::RequestBody);
                if let Some(s) = Self::secret_of(provider) {
                    client = client.set_client_secret(s);
                }
                let mut request = client.exchange_code(code);
                if let Some(v) = verifier {
                    request = request.set_pkce_verifier(v);
                }
                let tokens = request.request_async(self.http()).await.map_err(|e| token_error(provider, e))?;
                let mut profile = self.profile(provider, profile_url.as_str(), tokens.access_token().secret()).await?;
                if provider.name == "github" && profile.get("email").is_none_or(Value::is_null) {
                    profile["email"] = self.github_email(provider, profile_url.as_str(), tokens.access_token().secret()).await?;
                }
                let mut response = Map::new();
                response.insert("access_token".into(), json!(tokens.access_token().secret()));
                if let Some(r) = tokens.refresh_token() {
                    response.insert("refresh_token".into(), json!(r.secret()));
                }
                response.insert("profile".into(), profile);
                Ok(Value::Object(response))
            }
            Protocol::OpenIdConnect { issuer_url } => {
                let metadata = self.metadata(provider, issuer_url, false).await?;
                let client = CoreClient::from_provider_metadata(metadata, ClientId::new(provider.key.clone()), Self::secret_of(provider))
                    .set_redirect_uri(Self::redirect_url(provider));
                let mut request = client.exchange_code(code).map_err(|e| unreachable(provider, e))?;
                if let Some(v) = verifier {
                    request = request.set_pkce_verifier(v);
                }
                let tokens = request.request_async(self.http()).await.map_err(|e| token_error(provider, e))?;
                let id_token = tokens.id_token().ok_or_else(|| rejected(provider, "the token response has no id_token"))?;
                let nonce = Nonce::new(state.nonce.clone().unwrap_or_default());
                let invalid = |reason: String| OAuthError::InvalidIdToken { provider: provider.name.clone(), reason };
                let verify = |client: &CoreClient<_, _, _, _, _, _>| -> Result<(), openidconnect::ClaimsVerificationError> {
                    let verifier = client.id_token_verifier();
                    let claims = id_token.claims(&verifier, &nonce)?;
                    if let Some(expected) = claims.access_token_hash() {
                        let actual = id_token
                            .signing_alg()
                            .and_then(|alg| id_token.signing_key(&verifier).map(|key| (alg, key)))
                            .map_err(openidconnect::ClaimsVerificationError::SignatureVerification)
                            .and_then(|(alg, key)| AccessTokenHash::from_token(tokens.access_token(), alg, key).map_err(|e| openidconnect::ClaimsVerificationError::Other(e.to_string())))?;
                        if actual != *expected {
                            return Err(openidconnect::ClaimsVerificationError::Other("at_hash does not match the access token".into()));
                        }
                    }
                    Ok(())
                };
                if let Err(first) = verify(&client) {
                    // A key the cached JWKS lacks: the provider may have rotated its keys.
                    let unknown_key = matches!(first, openidconnect::ClaimsVerificationError::SignatureVerification(openidconnect::SignatureVerificationError::NoMatchingKey));
                    if !unknown_key {
                        return Err(invalid(first.to_string()));
                    }
                    let metadata = self.metadata(provider, issuer_url, true).await?;
                    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(provider.key.clone()), Self::secret_of(provider));
                    verify(&client).map_err(|e| invalid(e.to_string()))?;
                }
                let jwt = id_token.to_string();
                let mut profile = jwt
                    .split('.')
                    .nth(1)
                    .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
                    .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
                    .ok_or_else(|| invalid("its claims are not a JSON object".into()))?;
                if let Some(userinfo) = client.user_info_url() {
                    let info = self.profile(provider, userinfo.as_str(), tokens.access_token().secret()).await?;
                    if info.get("sub") != profile.get("sub") {
                        return Err(invalid("the userinfo subject differs from the ID token's".into()));
                    }
                    profile.extend(info.as_object().cloned().unwrap_or_default());
                }
                let mut response = Map::new();
                response.insert("access_token".into(), json!(tokens.access_token().secret()));
                if let Some(r) = tokens.refresh_token() {
                    response.insert("refresh_token".into(), json!(r.secret()));
                }
                response.insert("id_token".into(), json!(jwt));
                response.insert("profile".into(), Value::Object(profile));
                Ok(Value::Object(response))
            }
        }
    }

    /// GitHub's `/user` has no email when the user keeps it private; `/user/emails` (scope
    /// `user:email`) lists them: the primary one, if verified.
    async fn github_email(&self, provider: &ProviderConfig, profile_url: &str, access_token: &str) -> Result<Value, OAuthError> {
        let url = format!("{}/emails", profile_url.trim_end_matches('/'));
        let response = self.http().get(url).bearer_auth(access_token).header(reqwest::header::ACCEPT, "application/json").send().await;
        let emails: Vec<Value> = match response {
            Ok(r) if r.status().is_success() => r.json().await.map_err(|e| unreachable(provider, format!("the email list is not JSON: {e}")))?,
            // Without the `user:email` scope there is no list: the login then lacks an email.
            Ok(_) => return Ok(Value::Null),
            Err(e) => return Err(unreachable(provider, format!("email list request failed: {e}"))),
        };
        let primary = emails.into_iter().find(|e| e.get("primary") == Some(&json!(true)) && e.get("verified") == Some(&json!(true)));
        Ok(primary.and_then(|e| e.get("email").cloned()).unwrap_or(Value::Null))
    }

    async fn profile(&self, provider: &ProviderConfig, url: &str, access_token: &str) -> Result<Value, OAuthError> {
        let response = self
            .http()
            .get(url)
            .bearer_auth(access_token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unreachable(provider, format!("profile request failed: {e}")))?;
        if !response.status().is_success() {
            return Err(unreachable(provider, format!("the profile endpoint answered {}", response.status())));
        }
        let profile: Value = response.json().await.map_err(|e| unreachable(provider, format!("the profile is not JSON: {e}")))?;
        if !profile.is_object() {
            return Err(unreachable(provider, "the profile is not a JSON object"));
        }
        Ok(profile)
    }
}
