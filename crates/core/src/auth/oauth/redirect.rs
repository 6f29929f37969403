//! Where an SSO login may send the browser once it is done (`GET /auth/oauth/:provider?redirect=`).
//!
//! rc.83 sent the browser, refresh-token cookie set, to any URL it was given: an open redirect.
//! Later Directus releases closed it with an allow list per provider; Rectus does the same:
//!
//! - no redirect, or a relative one that stays on the server's origin (`/admin/login`), is allowed;
//!   a scheme-relative or backslash trick (`//evil.example`, `/\evil.example`) is not relative;
//! - an absolute URL on the origin of `PUBLIC_URL` is allowed;
//! - otherwise it must be in the provider's allow list, `OAUTH_<PROVIDER>_REDIRECT_ALLOW_LIST`
//!   (this era's variable prefix) or `AUTH_<PROVIDER>_REDIRECT_ALLOW_LIST` (later releases'),
//!   comma-separated or an `array:` list, matched as `PASSWORD_RESET_URL_ALLOW_LIST` is: exactly,
//!   or by origin and path with any query;
//! - anything else is refused with 400 `INVALID_PAYLOAD` before a provider is contacted.

use serde_json::Value;
use url::Url;

use crate::auth::password_reset::url_allowed;
use crate::config::Env;
use crate::ApiError;

/// Checks `redirect` for the provider `provider` (its name as configured).
pub fn check(redirect: &str, provider: &str, env: &Env, public_url: &str) -> Result<(), ApiError> {
    if allowed(redirect, provider, env, public_url) {
        Ok(())
    } else {
        Err(ApiError::invalid_payload(format!("URL \"{redirect}\" can't be used to redirect after login.")))
    }
}

fn allowed(redirect: &str, provider: &str, env: &Env, public_url: &str) -> bool {
    // Relative URLs resolve against the server's own origin; a placeholder stands in for it when
    // PUBLIC_URL is not absolute.
    let base = Url::parse(public_url).ok().filter(|u| u.origin().is_tuple()).unwrap_or_else(|| Url::parse("http://rectus.invalid/").expect("a valid URL"));
    // WHATWG parsing drops tabs and newlines and reads `\` as `/`, as browsers do, so what is
    // checked is where the browser would go.
    let Ok(target) = base.join(redirect) else { return false };
    if target.origin() == base.origin() {
        return true;
    }
    let upper = provider.to_uppercase();
    [format!("OAUTH_{upper}_REDIRECT_ALLOW_LIST"), format!("AUTH_{upper}_REDIRECT_ALLOW_LIST")]
        .iter()
        .filter_map(|key| env.get(key))
        .any(|list| url_allowed(redirect, &allow_list(list)) && target.origin().is_tuple())
}

/// The list as the comma-separated text `url_allowed` reads.
fn allow_list(value: &Value) -> String {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(redirect: &str, env: &[(&str, &str)]) -> bool {
        allowed(redirect, "github", &Env::from_pairs(env.iter().copied()), "https://cms.example/api")
    }

    #[test]
    fn same_origin_and_relative_targets() {
        assert!(ok("/admin/login?continue", &[]));
        assert!(ok("admin/login", &[]));
        assert!(ok("https://cms.example/admin/login?continue", &[]));
        assert!(!ok("http://cms.example/admin", &[]), "another scheme is another origin");
        assert!(!ok("https://cms.example:8443/admin", &[]), "another port is another origin");
    }

    #[test]
    fn tricks_that_leave_the_origin() {
        for hostile in ["//evil.example/x", "/\\evil.example", "\\\\evil.example", "/\t/evil.example", "https://evil.example", "https://cms.example@evil.example/", "javascript:alert(1)", "data:text/html,x"] {
            assert!(!ok(hostile, &[]), "{hostile}");
        }
    }

    #[test]
    fn allow_list_by_provider() {
        let list = [("OAUTH_GITHUB_REDIRECT_ALLOW_LIST", "https://app.example/done, https://other.example")];
        assert!(ok("https://app.example/done?x=1", &list));
        assert!(ok("https://other.example/", &list));
        assert!(!ok("https://app.example/elsewhere", &list));
        assert!(!ok("https://app.example.evil/done", &list));
        assert!(ok("https://app.example/done", &[("AUTH_GITHUB_REDIRECT_ALLOW_LIST", "https://app.example/done")]));
        assert!(!ok("https://app.example/done", &[("AUTH_GOOGLE_REDIRECT_ALLOW_LIST", "https://app.example/done")]));
        assert!(!ok("javascript:alert(1)", &[("OAUTH_GITHUB_REDIRECT_ALLOW_LIST", "javascript:alert(1)")]), "an opaque origin is never a redirect target");
    }
}
