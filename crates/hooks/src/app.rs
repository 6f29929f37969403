//! The routes hooks register on the Express-shaped `app` (`js-runtime/45_app.js`): the table each
//! isolate reports after running the app events, compiled to regexes with Express 4's path rules
//! (`:param`, `:param?`, `*`; case-insensitive; optional trailing slash; `use` matches a path
//! prefix at a segment boundary), and the [`HookRoutes`] implementation that sends matching
//! requests to an isolate.

use async_trait::async_trait;
use rectus_core::events::EventBus;
use rectus_core::hook_routes::{HookRequest, HookResponse, HookRoutes, RoutePhase};
use rectus_core::ApiError;
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::job::JobKind;
use crate::{HookRuntime, JobArgs};

/// The events that carry `app`, in the order Directus emits them (spec §2.1).
pub const APP_EVENTS: &[&str] = &[
    "init.before",
    "middlewares.init.before",
    "middlewares.init.after",
    "routes.init.before",
    "routes.custom.init.before",
    "routes.custom.init.after",
    "routes.init.after",
];

/// One registration as the JS side reports it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct RouteSpec {
    pub id: u32,
    /// `early`, `late` or `unreachable`.
    pub phase: String,
    /// `None` for `use` and `all`.
    pub method: Option<String>,
    /// `use` (prefix match) rather than a route (whole path).
    pub prefix: bool,
    #[serde(default)]
    pub path: Option<String>,
    /// A JS RegExp path: its source and flags.
    #[serde(default)]
    pub regexp: Option<String>,
    #[serde(default)]
    pub flags: Option<String>,
}

pub struct HookRoute {
    id: u32,
    phase: RoutePhase,
    method: Option<String>,
    regex: Regex,
    keys: Vec<String>,
    prefix: bool,
}

#[derive(Debug, Serialize)]
struct Match {
    id: u32,
    params: Map<String, Value>,
    /// The mount path a `use` matched (stripped from `req.url` for that middleware).
    base: String,
}

/// Express 4 path syntax as a regex source, with the parameter names in capture order.
fn express_regex(path: &str, prefix: bool) -> (String, Vec<String>) {
    let mut out = String::from("(?i)^");
    let mut keys = Vec::new();
    let mut unnamed = 0;
    let mut chars = path.trim_end_matches('/').chars().peekable();
    let mut literal = String::new();
    let flush = |literal: &mut String, out: &mut String| {
        out.push_str(&regex::escape(literal));
        literal.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            ':' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek().filter(|n| n.is_alphanumeric() || **n == '_') {
                    name.push(n);
                    chars.next();
                }
                let optional = chars.peek() == Some(&'?');
                if optional {
                    chars.next();
                }
                keys.push(name);
                if optional && literal.ends_with('/') {
                    literal.pop();
                    flush(&mut literal, &mut out);
                    out.push_str("(?:/([^/]+?))?");
                } else {
                    flush(&mut literal, &mut out);
                    out.push_str(if optional { "([^/]+?)?" } else { "([^/]+?)" });
                }
            }
            '*' => {
                flush(&mut literal, &mut out);
                keys.push(unnamed.to_string());
                unnamed += 1;
                out.push_str("(.*)");
            }
            other => literal.push(other),
        }
    }
    flush(&mut literal, &mut out);
    out.push_str(if prefix { "/?(?:/|$)" } else { "/?$" });
    (out, keys)
}

impl HookRoute {
    pub fn compile(spec: &RouteSpec) -> Result<HookRoute, String> {
        let phase = match spec.phase.as_str() {
            "early" => RoutePhase::Early,
            "late" => RoutePhase::Late,
            other => return Err(format!("registered at a phase no request reaches ({other})")),
        };
        let (source, keys) = match (&spec.path, &spec.regexp) {
            (Some(path), _) => express_regex(path, spec.prefix),
            (None, Some(source)) => {
                let case = if spec.flags.as_deref().unwrap_or("").contains('i') { "(?i)" } else { "" };
                let groups = Regex::new(source).map(|r| r.captures_len() - 1).unwrap_or(0);
                (format!("{case}{source}"), (0..groups).map(|i| i.to_string()).collect())
            }
            (None, None) => return Err("a route without a path".into()),
        };
        let regex = Regex::new(&source).map_err(|e| format!("path can't be matched: {e}"))?;
        Ok(HookRoute { id: spec.id, phase, method: spec.method.clone(), regex, keys, prefix: spec.prefix })
    }

    fn matches(&self, phase: RoutePhase, method: &str, path: &str) -> Option<Match> {
        if self.phase != phase {
            return None;
        }
        // Express answers HEAD with GET routes.
        if let Some(m) = &self.method {
            if !(m.eq_ignore_ascii_case(method) || (m == "GET" && method.eq_ignore_ascii_case("HEAD"))) {
                return None;
            }
        }
        let captures = self.regex.captures(path)?;
        let whole = captures.get(0)?.as_str();
        let mut params = Map::new();
        for (key, value) in self.keys.iter().zip(captures.iter().skip(1)) {
            if let Some(v) = value {
                let decoded = percent_encoding::percent_decode_str(v.as_str()).decode_utf8_lossy().into_owned();
                params.insert(key.clone(), Value::String(decoded));
            }
        }
        let base = if self.prefix { whole.trim_end_matches('/').to_string() } else { String::new() };
        Some(Match { id: self.id, params, base })
    }
}

/// Compiles a reported table; registrations no request can reach are logged and left out.
pub fn compile_all(specs: &[RouteSpec]) -> Vec<HookRoute> {
    specs
        .iter()
        .filter_map(|spec| match HookRoute::compile(spec) {
            Ok(route) => Some(route),
            Err(e) => {
                tracing::warn!("hook route {:?} ignored: {e}", spec.path.as_ref().or(spec.regexp.as_ref()));
                None
            }
        })
        .collect()
}

fn response(value: Value) -> Result<Option<HookResponse>, ApiError> {
    if value.get("next").and_then(Value::as_bool) == Some(true) {
        return Ok(None);
    }
    let status = value.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
    let mut headers = Vec::new();
    if let Some(map) = value.get("headers").and_then(Value::as_object) {
        for (name, v) in map {
            match v {
                Value::Array(items) => headers.extend(items.iter().map(|i| (name.clone(), i.as_str().unwrap_or_default().to_string()))),
                other => headers.push((name.clone(), other.as_str().unwrap_or_default().to_string())),
            }
        }
    }
    let body = value.get("body").and_then(Value::as_str).unwrap_or_default().to_string();
    Ok(Some(HookResponse { status, headers, body }))
}

fn request_job(values: Vec<Value>) -> JobArgs {
    JobArgs { values, has_input: false, payload_is_input: false, depth: 0, transaction: None }
}

#[async_trait]
impl HookRoutes for HookRuntime {
    fn matches(&self, phase: RoutePhase, method: &str, path: &str) -> bool {
        self.routes.iter().any(|r| r.matches(phase, method, path).is_some())
    }

    async fn handle(&self, phase: RoutePhase, request: HookRequest) -> Result<Option<HookResponse>, ApiError> {
        let matches: Vec<Match> = self.routes.iter().filter_map(|r| r.matches(phase, &request.method, &request.path)).collect();
        if matches.is_empty() {
            return Ok(None);
        }
        let job = request_job(vec![json!(request), json!(matches)]);
        response(self.run(JobKind::Route, "route", vec![], job).await?)
    }

    fn handles_not_found(&self) -> bool {
        self.has_listeners("request.not_found")
    }

    async fn not_found(&self, request: HookRequest) -> Result<Option<HookResponse>, ApiError> {
        let ids = self.registry.matching("request.not_found").to_vec();
        if ids.is_empty() {
            return Ok(None);
        }
        response(self.run(JobKind::NotFound, "request.not_found", ids, request_job(vec![json!(request)])).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str, prefix: bool) -> HookRoute {
        let spec = RouteSpec { id: 0, phase: "early".into(), method: None, prefix, path: Some(path.into()), regexp: None, flags: None };
        HookRoute::compile(&spec).unwrap()
    }

    fn params(r: &HookRoute, path: &str) -> Option<Value> {
        r.matches(RoutePhase::Early, "GET", path).map(|m| Value::Object(m.params))
    }

    #[test]
    fn express_paths() {
        let r = route("/hello/:name", false);
        assert_eq!(params(&r, "/hello/ada"), Some(json!({ "name": "ada" })));
        assert_eq!(params(&r, "/HELLO/ada/"), Some(json!({ "name": "ada" })), "case-insensitive, trailing slash");
        assert_eq!(params(&r, "/hello/ada/more"), None);
        assert_eq!(params(&r, "/hello"), None);
        let r = route("/files/:id/:size?", false);
        assert_eq!(params(&r, "/files/7"), Some(json!({ "id": "7" })));
        assert_eq!(params(&r, "/files/7/small"), Some(json!({ "id": "7", "size": "small" })));
        let r = route("/assets/*", false);
        assert_eq!(params(&r, "/assets/a/b.png"), Some(json!({ "0": "a/b.png" })));
        assert_eq!(params(&route("/a.b", false), "/aXb"), None, "dots are literal");
    }

    #[test]
    fn use_matches_prefixes_at_segment_boundaries() {
        let r = route("/custom", true);
        assert!(params(&r, "/custom").is_some());
        assert_eq!(r.matches(RoutePhase::Early, "POST", "/custom/x/y").map(|m| m.base), Some("/custom".into()));
        assert!(params(&r, "/customer").is_none());
        assert!(params(&route("/", true), "/anything/at/all").is_some());
        assert!(r.matches(RoutePhase::Late, "GET", "/custom").is_none(), "phases are separate");
    }
}
