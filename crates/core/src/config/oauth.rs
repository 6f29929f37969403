//! The `OAUTH_*` settings. Names are the ones Directus rc.61–rc.98 users have in their `.env`:
//! `OAUTH_PROVIDERS` lists the providers and every grant option of a provider is
//! `OAUTH_<PROVIDER>_<OPTION>` (`KEY`, `SECRET`, `SCOPE`, `AUTHORIZE_URL`, `ACCESS_URL`,
//! `PROFILE_URL`, `CUSTOM_PARAMS`, `PKCE`, `REDIRECT_URI`) plus Directus's own `PROFILE_EMAIL`.
//! Rectus adds three, named as Directus later named them for its own SSO drivers:
//! `ISSUER_URL` (an OpenID Connect provider found by discovery), `ALLOW_PUBLIC_REGISTRATION` and
//! `DEFAULT_ROLE_ID` (create unknown users in that role instead of refusing them).
//!
//! Read with the rest of the configuration, so a misconfigured provider stops every command;
//! `auth::oauth` runs the logins.

use serde_json::{Map, Value};
use url::Url;

use super::{ConfigError, Env};

/// How Rectus talks to a provider.
#[derive(Clone, Debug, PartialEq)]
pub enum Protocol {
    /// Plain OAuth 2: the identity comes from `profile_url`.
    OAuth2 { authorize_url: Url, access_url: Url, profile_url: Url },
    /// OpenID Connect: endpoints and keys come from `<issuer>/.well-known/openid-configuration`;
    /// the ID token is verified and its claims, merged with the userinfo claims, are the profile.
    /// Kept as written: discovery compares it with the metadata's `issuer` character for character.
    OpenIdConnect { issuer_url: String },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProviderConfig {
    /// Lower-case, as Directus lower-cased `OAUTH_PROVIDERS` entries.
    pub name: String,
    pub protocol: Protocol,
    pub key: String,
    pub secret: Option<String>,
    pub scope: Vec<String>,
    /// Where the provider sends the browser back: `<PUBLIC_URL>/auth/oauth/<name>/callback`.
    pub redirect_uri: Url,
    pub pkce: bool,
    /// Extra query parameters of the authorization request (grant's `custom_params`).
    pub custom_params: Map<String, Value>,
    /// A lodash-style path into the profile (`email`, `emails.0.value`).
    pub profile_email: String,
    pub allow_public_registration: bool,
    /// The role of registered users; `None` registers them without a role.
    pub default_role_id: Option<String>,
}

/// Built-in endpoints and scopes, so `OAUTH_GITHUB_KEY` and `_SECRET` are enough for these.
fn preset(name: &str) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    Some(match name {
        "github" => ("https://github.com/login/oauth/authorize", "https://github.com/login/oauth/access_token", "https://api.github.com/user", "read:user user:email"),
        "google" => (
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            "https://openidconnect.googleapis.com/v1/userinfo",
            "openid email profile",
        ),
        "gitlab" => ("https://gitlab.com/oauth/authorize", "https://gitlab.com/oauth/token", "https://gitlab.com/api/v4/user", "read_user"),
        "discord" => ("https://discord.com/api/oauth2/authorize", "https://discord.com/api/oauth2/token", "https://discord.com/api/users/@me", "identify email"),
        _ => return None,
    })
}

/// A list setting: an `array:` value or a string split on commas (and, for scopes, spaces).
fn list(env: &Env, key: &str, separators: &[char]) -> Vec<String> {
    let items: Vec<String> = match env.get(key) {
        Some(Value::Array(items)) => items.iter().map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).collect(),
        _ => env.string(key).map(|s| s.split(separators).map(str::to_string).collect()).unwrap_or_default(),
    };
    items.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn url(env: &Env, key: &str) -> Result<Option<Url>, ConfigError> {
    match env.string(key).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => Url::parse(&text).map(Some).map_err(|e| ConfigError::invalid(key, format!("\"{text}\" is not a URL: {e}"))),
    }
}

/// Every provider of `OAUTH_PROVIDERS`, in order. `public_url` is `PUBLIC_URL`.
pub fn providers(env: &Env, public_url: &str) -> Result<Vec<ProviderConfig>, ConfigError> {
    let mut providers = Vec::new();
    for name in list(env, "OAUTH_PROVIDERS", &[',']) {
        let name = name.to_lowercase();
        if providers.iter().any(|p: &ProviderConfig| p.name == name) {
            continue;
        }
        providers.push(provider(env, &name, public_url)?);
    }
    Ok(providers)
}

fn provider(env: &Env, name: &str, public_url: &str) -> Result<ProviderConfig, ConfigError> {
    let prefix = format!("OAUTH_{}_", name.to_uppercase());
    let var = |option: &str| format!("{prefix}{option}");
    let text = |option: &str| env.string(&var(option)).filter(|s| !s.is_empty());
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ConfigError::invalid("OAUTH_PROVIDERS", format!("\"{name}\" is not a provider name (letters, digits, - and _)")));
    }
    if let Some(version) = text("OAUTH").filter(|v| v != "2") {
        return Err(ConfigError::invalid(&var("OAUTH"), format!("OAuth {version} is not supported, only OAuth 2")));
    }
    let key = text("KEY").ok_or_else(|| ConfigError::invalid(&var("KEY"), format!("is required for the provider \"{name}\" (its client id)")))?;
    let preset = preset(name);
    let protocol = if let Some(issuer) = url(env, &var("ISSUER_URL"))? {
        Protocol::OpenIdConnect { issuer_url: env.string(&var("ISSUER_URL")).unwrap_or_else(|| issuer.to_string()) }
    } else {
        let endpoint = |option: &str, built_in: Option<&str>| -> Result<Url, ConfigError> {
            match (url(env, &var(option))?, built_in) {
                (Some(u), _) => Ok(u),
                (None, Some(b)) => Ok(Url::parse(b).expect("built-in endpoints are URLs")),
                (None, None) => Err(ConfigError::invalid(
                    &var(option),
                    format!("is required for the provider \"{name}\" (or set {prefix}ISSUER_URL for OpenID Connect)"),
                )),
            }
        };
        Protocol::OAuth2 {
            authorize_url: endpoint("AUTHORIZE_URL", preset.map(|p| p.0))?,
            access_url: endpoint("ACCESS_URL", preset.map(|p| p.1))?,
            profile_url: endpoint("PROFILE_URL", preset.map(|p| p.2))?,
        }
    };
    let mut scope = list(env, &var("SCOPE"), &[',', ' ']);
    if scope.is_empty() {
        scope = match (&protocol, preset) {
            (Protocol::OpenIdConnect { .. }, _) => vec!["openid".into(), "email".into(), "profile".into()],
            (_, Some(p)) => p.3.split(' ').map(str::to_string).collect(),
            _ => vec![],
        };
    }
    let redirect_uri = match url(env, &var("REDIRECT_URI"))? {
        Some(u) => u,
        None => {
            let text = format!("{}/auth/oauth/{name}/callback", public_url.trim_end_matches('/'));
            Url::parse(&text).map_err(|e| ConfigError::invalid("PUBLIC_URL", format!("\"{public_url}\" can't be the base of the OAuth callback: {e}")))?
        }
    };
    let custom_params = match env.get(&var("CUSTOM_PARAMS")) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => m,
            _ => return Err(ConfigError::invalid(&var("CUSTOM_PARAMS"), "must be a JSON object of query parameters")),
        },
        Some(_) => return Err(ConfigError::invalid(&var("CUSTOM_PARAMS"), "must be a JSON object of query parameters")),
    };
    let flag = |option: &str, default: bool| -> Result<bool, ConfigError> {
        match env.get(&var(option)) {
            None | Some(Value::Null) => Ok(default),
            Some(_) => env.bool(&var(option)).ok_or_else(|| ConfigError::invalid(&var(option), "must be true or false")),
        }
    };
    Ok(ProviderConfig {
        name: name.to_string(),
        key,
        secret: text("SECRET"),
        scope,
        redirect_uri,
        pkce: flag("PKCE", true)?,
        custom_params,
        profile_email: text("PROFILE_EMAIL").unwrap_or_else(|| "email".into()),
        allow_public_registration: flag("ALLOW_PUBLIC_REGISTRATION", false)?,
        default_role_id: text("DEFAULT_ROLE_ID"),
        protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_provider_needs_only_key_and_secret() {
        let env = Env::from_pairs([("OAUTH_PROVIDERS", "GitHub"), ("OAUTH_GITHUB_KEY", "id"), ("OAUTH_GITHUB_SECRET", "s")]);
        let p = providers(&env, "https://api.example.com/").unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "github");
        assert_eq!(p[0].redirect_uri.as_str(), "https://api.example.com/auth/oauth/github/callback");
        assert!(matches!(&p[0].protocol, Protocol::OAuth2 { profile_url, .. } if profile_url.as_str() == "https://api.github.com/user"));
        assert_eq!(p[0].scope, ["read:user", "user:email"]);
        assert!(p[0].pkce && !p[0].allow_public_registration);
    }

    #[test]
    fn generic_providers_name_the_missing_variable() {
        let env = Env::from_pairs([("OAUTH_PROVIDERS", "acme"), ("OAUTH_ACME_KEY", "id")]);
        assert_eq!(providers(&env, "http://localhost:8055").unwrap_err().variable, "OAUTH_ACME_AUTHORIZE_URL");
        let env = Env::from_pairs([("OAUTH_PROVIDERS", "acme")]);
        assert_eq!(providers(&env, "http://localhost:8055").unwrap_err().variable, "OAUTH_ACME_KEY");
        let env = Env::from_pairs([("OAUTH_PROVIDERS", "acme"), ("OAUTH_ACME_KEY", "id"), ("OAUTH_ACME_ISSUER_URL", "not a url")]);
        assert_eq!(providers(&env, "http://localhost:8055").unwrap_err().variable, "OAUTH_ACME_ISSUER_URL");
    }

    #[test]
    fn openid_connect_by_issuer() {
        let env = Env::from_pairs([
            ("OAUTH_PROVIDERS", "array:sso"),
            ("OAUTH_SSO_KEY", "12345"),
            ("OAUTH_SSO_ISSUER_URL", "https://id.example.com"),
            ("OAUTH_SSO_SCOPE", "openid, email"),
            ("OAUTH_SSO_ALLOW_PUBLIC_REGISTRATION", "true"),
            ("OAUTH_SSO_DEFAULT_ROLE_ID", "r1"),
            ("OAUTH_SSO_CUSTOM_PARAMS", r#"{"prompt":"login"}"#),
        ]);
        let p = &providers(&env, "http://localhost:8055").unwrap()[0];
        assert_eq!(p.key, "12345");
        assert!(matches!(&p.protocol, Protocol::OpenIdConnect { .. }));
        assert_eq!(p.scope, ["openid", "email"]);
        assert!(p.allow_public_registration);
        assert_eq!(p.default_role_id.as_deref(), Some("r1"));
        assert_eq!(p.custom_params.get("prompt"), Some(&Value::String("login".into())));
    }
}
