//! The YAML format of hook test files (the README's "Testing hooks" section is the reference).
//!
//! A file holds settings shared by its cases (`hooks`, `env`, `collections`) and a list of
//! `cases`. Every case either emits one event straight into the hook runtime (`event`), runs
//! one cron listener (`cron`) or makes one HTTP request to the real API (`request`), then
//! compares what happened with `expect`. Unknown keys are errors, so a typo in an expectation
//! can't silently turn a test into one that always passes.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// Hook folders to load, relative to the file. Default: the hook folder the file lives in.
    #[serde(default)]
    pub hooks: Option<OneOrMany>,
    /// Variables given to every case (the case's own `env` wins).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Tables seeded for every case, before the case's own `collections`.
    #[serde(default)]
    pub collections: BTreeMap<String, Seed>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn paths(&self, base: &Path) -> Vec<PathBuf> {
        let list = match self {
            OneOrMany::One(p) => std::slice::from_ref(p),
            OneOrMany::Many(ps) => ps.as_slice(),
        };
        list.iter().map(|p| base.join(p)).collect()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub collections: BTreeMap<String, Seed>,
    /// Answers of the outbound mock server, first match wins; anything else gets 200 `{}`.
    #[serde(default)]
    pub mock: Vec<MockResponse>,
    /// Emit this event into the hooks (with `input`, `context`, `accountability`).
    #[serde(default)]
    pub event: Option<String>,
    /// The first argument of events that have one (create/update `.before`, `auth.login`).
    #[serde(default)]
    pub input: Option<Value>,
    /// Keys of the context object beyond `event`, `action`, `accountability` and `payload`.
    #[serde(default)]
    pub context: Map<String, Value>,
    #[serde(default)]
    pub accountability: Who,
    /// Run the `cron(...)` listener with this expression, as the hook wrote it.
    #[serde(default)]
    pub cron: Option<String>,
    /// The tick a cron handler receives (RFC 3339); default: now.
    #[serde(default)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// Make this request to the API.
    #[serde(default)]
    pub request: Option<Request>,
    #[serde(default)]
    pub expect: Expect,
}

/// What a case does.
pub enum Action<'a> {
    Event { event: &'a str, input: Option<&'a Value>, context: &'a Map<String, Value>, accountability: &'a Who },
    Cron { expression: &'a str, at: chrono::DateTime<chrono::Utc> },
    Request(&'a Request),
}

impl Case {
    /// The one thing the case does; naming none or several is an error in the file.
    pub fn action(&self) -> Result<Action<'_>, String> {
        match (&self.event, &self.cron, &self.request) {
            (Some(event), None, None) => Ok(Action::Event { event, input: self.input.as_ref(), context: &self.context, accountability: &self.accountability }),
            (None, Some(expression), None) => Ok(Action::Cron { expression, at: self.at.unwrap_or_else(chrono::Utc::now) }),
            (None, None, Some(request)) => Ok(Action::Request(request)),
            _ => Err("a case needs exactly one of `event`, `cron` or `request`".into()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    #[serde(default = "default_method")]
    pub method: String,
    /// Path and query, e.g. `/items/articles?fields=id`.
    pub path: String,
    #[serde(default)]
    pub body: Option<Value>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Who sends it: `admin` (default) or `public`.
    #[serde(default, rename = "as")]
    pub sender: Sender,
}

fn default_method() -> String {
    "GET".into()
}

#[derive(Debug, Default, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    #[default]
    Admin,
    Public,
}

/// The accountability of an event case: `admin` (default, the bootstrapped admin user),
/// `public`, `null` (a service without accountability) or an explicit object.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    Admin,
    Public,
    Nobody,
    Explicit(Value),
}

impl Default for Who {
    fn default() -> Self {
        Who::Admin
    }
}

impl<'de> Deserialize<'de> for Who {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Null => Who::Nobody,
            Value::String(s) if s == "admin" => Who::Admin,
            Value::String(s) if s == "public" => Who::Public,
            v @ Value::Object(_) => Who::Explicit(v),
            other => return Err(serde::de::Error::custom(format!("accountability must be admin, public, null or an object, not {other}"))),
        })
    }
}

/// Rows for a table the case needs. Written either as a list of rows or with declared columns.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Seed {
    Rows(Vec<Map<String, Value>>),
    Table(SeedTable),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedTable {
    /// Column name → type (`integer`, `float`, `boolean`, `string`, `text`, `json`, `uuid`,
    /// `timestamp`); columns not declared are inferred from the rows' values.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub rows: Vec<Map<String, Value>>,
}

impl Seed {
    pub fn table(&self) -> SeedTable {
        match self {
            Seed::Rows(rows) => SeedTable { columns: BTreeMap::new(), rows: rows.clone() },
            Seed::Table(t) => t.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockResponse {
    #[serde(default)]
    pub method: Option<String>,
    pub path: String,
    #[serde(default = "ok_status")]
    pub status: u16,
    #[serde(default)]
    pub body: Value,
}

fn ok_status() -> u16 {
    200
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Compare `payload`, `body` and `rows` for equality instead of as a subset.
    #[serde(default)]
    pub exact: bool,
    /// What the before-hooks return (the payload the service would write).
    #[serde(default)]
    pub payload: Option<Value>,
    /// The exception the hooks throw; without it any exception fails the case.
    #[serde(default)]
    pub error: Option<ExpectedError>,
    /// HTTP status of a request case.
    #[serde(default)]
    pub status: Option<u16>,
    /// JSON body of a request case.
    #[serde(default)]
    pub body: Option<Value>,
    /// Every row of each named table afterwards, in primary-key order.
    #[serde(default)]
    pub rows: BTreeMap<String, Vec<Value>>,
    /// Requests the outbound mock server received, in order.
    #[serde(default)]
    pub requests: Option<Vec<ExpectedRequest>>,
    /// The messages sent through `MailService`, in order (recorded, not delivered, unless the
    /// case's env sets `EMAIL_TRANSPORT`).
    #[serde(default)]
    pub mail: Option<Vec<ExpectedMail>>,
    /// Substrings that must each appear in some line the hooks logged (`console.*`, logger).
    #[serde(default)]
    pub logs: Vec<String>,
    /// Substrings that must appear in no logged line.
    #[serde(default)]
    pub not_logs: Vec<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExpectedError {
    /// The exception class name (`InvalidPayloadException`); checked through its code.
    #[serde(default)]
    pub class: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    /// A substring of the message.
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub body: Option<Value>,
}

/// One sent message: addresses compare without display names (`to` may be one address or a
/// list); `subject` must be equal; `text` and `html` are substrings of the message's parts.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ExpectedMail {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<OneOrMany>,
    #[serde(default)]
    pub cc: Option<OneOrMany>,
    #[serde(default)]
    pub bcc: Option<OneOrMany>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub html: Option<String>,
}

impl OneOrMany {
    pub fn strings(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(list) => list.clone(),
        }
    }
}

/// The codes of the exception classes hooks get (spec §3.1), so a case may name the class.
pub fn exception_code(class: &str) -> Option<&'static str> {
    Some(match class {
        "FailedValidationException" => "FAILED_VALIDATION",
        "ForbiddenException" => "FORBIDDEN",
        "GraphQLValidationException" => "GRAPHQL_VALIDATION_EXCEPTION",
        "HitRateLimitException" => "REQUESTS_EXCEEDED",
        "IllegalAssetTransformation" => "ILLEGAL_ASSET_TRANSFORMATION",
        "InvalidConfigException" => "INVALID_CONFIG",
        "InvalidCredentialsException" => "INVALID_CREDENTIALS",
        "InvalidIPException" => "INVALID_IP",
        "InvalidOTPException" => "INVALID_OTP",
        "InvalidPayloadException" => "INVALID_PAYLOAD",
        "InvalidQueryException" => "INVALID_QUERY",
        "MethodNotAllowedException" => "METHOD_NOT_ALLOWED",
        "RangeNotSatisfiableException" => "RANGE_NOT_SATISFIABLE",
        "RouteNotFoundException" => "ROUTE_NOT_FOUND",
        "ServiceUnavailableException" => "SERVICE_UNAVAILABLE",
        "UnprocessableEntityException" => "UNPROCESSABLE_ENTITY",
        "UserSuspendedException" => "USER_SUSPENDED",
        _ => return None,
    })
}

/// Replaces `{{mock_url}}` in every string of `value` (env, seeds, inputs, bodies).
pub fn substitute(value: &mut Value, mock_url: &str) {
    match value {
        Value::String(s) if s.contains("{{mock_url}}") => *s = s.replace("{{mock_url}}", mock_url),
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, mock_url)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, mock_url)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_of_case() {
        let file: TestFile = serde_yaml::from_str(
            r#"
cases:
  - name: event
    event: items.create.before
    input: { title: Hi }
    context: { collection: articles }
    accountability: null
    expect: { payload: { slug: hi } }
  - name: request
    request: { method: POST, path: /items/articles, body: { title: x }, as: public }
    expect: { status: 403 }
  - name: cron
    cron: "*/5 * * * *"
"#,
        )
        .unwrap();
        assert!(matches!(file.cases[0].action(), Ok(Action::Event { accountability: Who::Nobody, input: Some(_), .. })));
        assert!(matches!(file.cases[1].action(), Ok(Action::Request(r)) if r.sender == Sender::Public));
        assert!(matches!(file.cases[2].action(), Ok(Action::Cron { expression: "*/5 * * * *", .. })));
    }

    #[test]
    fn rejects_unknown_expectations() {
        let parsed: Result<TestFile, _> = serde_yaml::from_str("cases: [{name: x, event: init, expect: {payloads: {}}}]");
        assert!(parsed.is_err());
    }

    #[test]
    fn a_case_does_exactly_one_thing() {
        let file: TestFile = serde_yaml::from_str("cases: [{name: x, event: init, cron: '* * * * *'}, {name: y}]").unwrap();
        assert!(file.cases.iter().all(|c| c.action().is_err()));
    }

    #[test]
    fn substitutes_the_mock_url_everywhere() {
        let mut v = serde_json::json!({"url": "{{mock_url}}/hook", "list": ["{{mock_url}}"], "n": 1});
        substitute(&mut v, "http://127.0.0.1:9");
        assert_eq!(v, serde_json::json!({"url": "http://127.0.0.1:9/hook", "list": ["http://127.0.0.1:9"], "n": 1}));
    }
}
