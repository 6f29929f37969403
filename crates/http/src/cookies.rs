//! Cookies through the `cookie` crate: one read from a request's `Cookie` headers, and the
//! `Set-Cookie` values Rectus sends (the refresh token, the SSO login state).

use axum::http::{header, HeaderMap};
use cookie::time::Duration;
use cookie::{Cookie, CookieBuilder};

/// The value of the first cookie called `name`.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// An httpOnly cookie on `path` that lives `max_age_seconds` (0 removes it from the browser).
pub fn http_only(name: &'static str, value: String, path: &'static str, max_age_seconds: i64) -> CookieBuilder<'static> {
    Cookie::build((name, value)).path(path).http_only(true).max_age(Duration::seconds(max_age_seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie_of_any_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; directus_refresh_token=abc".parse().unwrap());
        headers.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(read(&headers, "directus_refresh_token").as_deref(), Some("abc"));
        assert_eq!(read(&headers, "b").as_deref(), Some("2"));
        assert_eq!(read(&headers, "c"), None);
    }

    #[test]
    fn writes_http_only_cookies() {
        let cookie = http_only("t", "v".into(), "/", 60).same_site(cookie::SameSite::Lax).build().to_string();
        for part in ["t=v", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=60"] {
            assert!(cookie.split("; ").any(|p| p == part), "{part} in {cookie}");
        }
    }
}
