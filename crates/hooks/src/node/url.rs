//! WHATWG URL parsing for the `URL` and `URLSearchParams` globals: the `url` crate (which
//! implements the WHATWG URL standard, setters included, in `url::quirks`) instead of a JS
//! implementation whose Unicode tables would dominate the bundle's size.

use deno_core::op2;
use deno_error::JsErrorBox;
use serde::Serialize;
use url::{quirks, Url};

use super::coded;

/// Every component the JS `URL` object exposes, computed once per change.
#[derive(Serialize)]
pub struct UrlParts {
    href: String,
    origin: String,
    protocol: String,
    username: String,
    password: String,
    host: String,
    hostname: String,
    port: String,
    pathname: String,
    search: String,
    hash: String,
}

fn parts(url: &Url) -> UrlParts {
    UrlParts {
        href: quirks::href(url).to_string(),
        origin: quirks::origin(url),
        protocol: quirks::protocol(url).to_string(),
        username: quirks::username(url).to_string(),
        password: quirks::password(url).to_string(),
        host: quirks::host(url).to_string(),
        hostname: quirks::hostname(url).to_string(),
        port: quirks::port(url).to_string(),
        pathname: quirks::pathname(url).to_string(),
        search: quirks::search(url).to_string(),
        hash: quirks::hash(url).to_string(),
    }
}

fn invalid(input: &str) -> JsErrorBox {
    coded("ERR_INVALID_URL", format!("Invalid URL: {input}"))
}

#[op2]
#[serde]
pub fn op_node_url_parse(#[string] href: &str, #[string] base: Option<String>) -> Result<UrlParts, JsErrorBox> {
    let base = base.map(|b| Url::parse(&b).map_err(|_| invalid(&b))).transpose()?;
    let url = Url::options().base_url(base.as_ref()).parse(href).map_err(|_| invalid(href))?;
    Ok(parts(&url))
}

/// Sets one component with the standard's setter rules (an invalid value leaves the URL as it
/// was, except for `href`, which throws).
#[op2]
#[serde]
pub fn op_node_url_set(#[string] href: &str, #[string] component: &str, #[string] value: &str) -> Result<UrlParts, JsErrorBox> {
    let mut url = Url::parse(href).map_err(|_| invalid(href))?;
    match component {
        "href" => quirks::set_href(&mut url, value).map_err(|_| invalid(value))?,
        "protocol" => {
            let _ = quirks::set_protocol(&mut url, value);
        }
        "username" => {
            let _ = quirks::set_username(&mut url, value);
        }
        "password" => {
            let _ = quirks::set_password(&mut url, value);
        }
        "host" => {
            let _ = quirks::set_host(&mut url, value);
        }
        "hostname" => {
            let _ = quirks::set_hostname(&mut url, value);
        }
        "port" => {
            let _ = quirks::set_port(&mut url, value);
        }
        "pathname" => quirks::set_pathname(&mut url, value),
        "search" => quirks::set_search(&mut url, value),
        "hash" => quirks::set_hash(&mut url, value),
        other => return Err(JsErrorBox::type_error(format!("unknown URL component {other}"))),
    }
    Ok(parts(&url))
}

/// `application/x-www-form-urlencoded` parsing, as `URLSearchParams` does it.
#[op2]
#[serde]
pub fn op_node_url_parse_query(#[string] query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

#[op2]
#[string]
pub fn op_node_url_serialize_query(#[serde] pairs: Vec<(String, String)>) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[op2]
#[string]
pub fn op_node_domain_to_ascii(#[string] domain: &str) -> String {
    quirks::domain_to_ascii(domain)
}

#[op2]
#[string]
pub fn op_node_domain_to_unicode(#[string] domain: &str) -> String {
    quirks::domain_to_unicode(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setters_follow_the_standard() {
        let url = Url::parse("https://example.com/a?b=1#c").unwrap();
        let p = parts(&url);
        assert_eq!((p.origin.as_str(), p.search.as_str(), p.hash.as_str(), p.port.as_str()), ("https://example.com", "?b=1", "#c", ""));
        let mut url = url;
        quirks::set_port(&mut url, "443").unwrap();
        assert_eq!(quirks::href(&url), "https://example.com/a?b=1#c", "the default port is dropped");
    }
}
