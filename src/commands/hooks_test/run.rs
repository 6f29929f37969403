//! Running one case: set up its sandbox, do its action, wait for the after-hooks, then check
//! each expectation. The result is a list of failures (empty = passed) and the logs.

use anyhow::anyhow;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use rectus_core::events::{EventArgs, EventBus};
use rectus_core::ApiError;
use rectus_hooks::cron;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

use super::case::{exception_code, substitute, Action, Case, Expect, ExpectedError, ExpectedMail, Seed, Sender, Who};
use super::compare::mismatch;
use super::mock_server::MockServer;
use super::sandbox::{Sandbox, Template, ADMIN_TOKEN};
use super::log_capture;

/// What the file gives every case.
pub struct Shared<'a> {
    pub hooks: &'a [PathBuf],
    pub env: &'a BTreeMap<String, String>,
    pub collections: &'a BTreeMap<String, Seed>,
}

pub struct Failure {
    pub what: String,
    pub diff: Option<String>,
}

impl Failure {
    fn new(what: impl Into<String>) -> Failure {
        Failure { what: what.into(), diff: None }
    }
}

pub struct CaseResult {
    pub name: String,
    pub failures: Vec<Failure>,
    pub logs: Vec<String>,
    pub duration: Duration,
}

/// What the action produced.
#[derive(Default)]
struct Outcome {
    payload: Option<Value>,
    error: Option<ApiError>,
    status: Option<u16>,
    body: Option<Value>,
}

pub async fn run_case(template: &Template, shared: &Shared<'_>, case: &Case) -> CaseResult {
    let started = Instant::now();
    log_capture::take();
    let failures = match run(template, shared, case).await {
        Ok(failures) => failures,
        Err(e) => vec![Failure::new(format!("{e:#}"))],
    };
    CaseResult { name: case.name.clone(), failures, logs: log_capture::take(), duration: started.elapsed() }
}

async fn run(template: &Template, shared: &Shared<'_>, case: &Case) -> anyhow::Result<Vec<Failure>> {
    let action = case.action().map_err(|e| anyhow!(e))?;
    let mock = MockServer::start(case.mock.clone()).await?;
    let with_mock_url = |v: Value| {
        let mut v = v;
        substitute(&mut v, &mock.url);
        v
    };
    let mut env: BTreeMap<String, String> = shared.env.clone();
    env.extend(case.env.clone());
    let env: BTreeMap<String, String> = env.into_iter().map(|(k, v)| (k, v.replace("{{mock_url}}", &mock.url))).collect();
    let collections: BTreeMap<String, Seed> = shared
        .collections
        .iter()
        .chain(&case.collections)
        .map(|(name, seed)| {
            let mut table = seed.table();
            table.rows.iter_mut().flat_map(|row| row.values_mut()).for_each(|v| substitute(v, &mock.url));
            (name.clone(), Seed::Table(table))
        })
        .collect();
    let sandbox = Sandbox::open(template, shared.hooks, &env, &collections).await?;
    let failures = registration_failures(&sandbox);
    if !failures.is_empty() {
        sandbox.close().await;
        return Ok(failures);
    }
    let outcome = match action {
        Action::Event { event, input, context, accountability } => {
            if !sandbox.runtime.has_listeners(event) {
                sandbox.close().await;
                return Ok(vec![Failure::new(format!("no listener of the loaded hooks matches \"{event}\""))]);
            }
            let input = input.cloned().map(&with_mock_url);
            let context = match with_mock_url(Value::Object(context.clone())) {
                Value::Object(m) => m,
                _ => Map::new(),
            };
            let ctx = event_context(event, input.as_ref(), context, accountability_json(accountability, template));
            let args = match input {
                Some(input) => EventArgs::with_input(input, ctx),
                None => EventArgs::context(ctx),
            };
            match sandbox.runtime.emit_before(event, args).await {
                Ok(payload) => Outcome { payload, ..Default::default() },
                Err(e) => Outcome { error: Some(e), ..Default::default() },
            }
        }
        Action::Cron { expression, at } => {
            let listener = sandbox.runtime.report().crons.iter().find(|c| cron::expression(&c.key) == Some(expression.trim())).cloned();
            let Some(listener) = listener else {
                sandbox.close().await;
                return Ok(vec![Failure::new(format!("no loaded hook registers cron({expression})"))]);
            };
            match sandbox.runtime.run_cron(listener.id, &listener.key, at).await {
                Ok(()) => Outcome::default(),
                Err(e) => Outcome { error: Some(e), ..Default::default() },
            }
        }
        Action::Request(request) => {
            let body = request.body.clone().map(&with_mock_url);
            let (status, body) = send(&sandbox, &request.method, &request.path, &request.headers, request.sender, body).await?;
            Outcome { status: Some(status), body, ..Default::default() }
        }
    };
    let limit = sandbox.config.hooks.timeout * 2;
    let mut failures = vec![];
    if !sandbox.bus.settle(limit).await {
        failures.push(Failure::new(format!("after-hooks were still running {} ms after the case", limit.as_millis())));
    }
    failures.extend(check(&case.expect, &outcome, &sandbox, &mock).await?);
    sandbox.close().await;
    Ok(failures)
}

fn registration_failures(sandbox: &Sandbox) -> Vec<Failure> {
    sandbox.runtime.report().failures.iter().map(|f| Failure::new(format!("hook \"{}\" failed to register: {}", f.hook, f.error))).collect()
}

/// The context object a service would pass: the case's keys, plus `event`, `action` (the
/// second segment of `<scope>.<action>…`), `accountability` and `payload` (the input) unless the
/// case gives them.
fn event_context(event: &str, input: Option<&Value>, mut ctx: Map<String, Value>, accountability: Value) -> Map<String, Value> {
    ctx.entry("event").or_insert_with(|| Value::String(event.into()));
    if let Some(action) = event.split('.').nth(1) {
        ctx.entry("action").or_insert_with(|| Value::String(action.into()));
    }
    ctx.entry("accountability").or_insert(accountability);
    ctx.entry("payload").or_insert_with(|| input.cloned().unwrap_or(Value::Null));
    ctx
}

fn accountability_json(who: &Who, template: &Template) -> Value {
    match who {
        Who::Admin => template.admin.to_json(),
        Who::Public => json!({ "user": null, "role": null, "admin": false, "app": false }),
        Who::Nobody => Value::Null,
        Who::Explicit(v) => v.clone(),
    }
}

/// One request through the real router, from 127.0.0.1.
async fn send(sandbox: &Sandbox, method: &str, path: &str, headers: &BTreeMap<String, String>, sender: Sender, body: Option<Value>) -> anyhow::Result<(u16, Option<Value>)> {
    let oauth = Arc::new(rectus_core::auth::oauth::OAuthProviders::new(sandbox.config.oauth.clone(), &sandbox.config.secret));
    let state = rectus_http::AppState::new(Arc::new(sandbox.config.clone()), sandbox.services.clone(), sandbox.runtime.clone(), oauth);
    let mut builder = Request::builder().method(method).uri(path);
    if sender == Sender::Admin {
        builder = builder.header("authorization", format!("Bearer {ADMIN_TOKEN}"));
    }
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    let body = match body {
        Some(b) => {
            builder = builder.header("content-type", "application/json");
            Body::from(serde_json::to_vec(&b)?)
        }
        None => Body::empty(),
    };
    let mut request = builder.body(body)?;
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 0))));
    let response = rectus_http::app(state).oneshot(request).await?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    let body = if bytes.is_empty() { None } else { Some(serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))) };
    Ok((status, body))
}

async fn check(expect: &Expect, outcome: &Outcome, sandbox: &Sandbox, mock: &MockServer) -> anyhow::Result<Vec<Failure>> {
    let mut failures = vec![];
    match (&expect.error, &outcome.error) {
        (Some(expected), Some(actual)) => failures.extend(error_mismatch(expected, actual)),
        (Some(expected), None) => failures.push(Failure::new(format!("expected the hooks to throw {}, but nothing was thrown", describe(expected)))),
        (None, Some(actual)) => failures.push(Failure::new(format!("the hooks threw {} ({}): {}", actual.code, actual.status, actual.message))),
        (None, None) => {}
    }
    if let Some(expected) = &expect.payload {
        match &outcome.payload {
            Some(actual) => failures.extend(mismatch(expected, actual, expect.exact).map(|d| Failure { what: "payload differs".into(), diff: Some(d) })),
            None if outcome.error.is_none() => failures.push(Failure::new("expected a payload, but the event had no input to return")),
            None => {}
        }
    }
    if let Some(status) = expect.status {
        if outcome.status != Some(status) {
            let body = outcome.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
            failures.push(Failure::new(format!("expected status {status}, got {} {body}", outcome.status.map(|s| s.to_string()).unwrap_or("none".into()))));
        }
    }
    if let Some(expected) = &expect.body {
        let actual = outcome.body.clone().unwrap_or(Value::Null);
        failures.extend(mismatch(expected, &actual, expect.exact).map(|d| Failure { what: "response body differs".into(), diff: Some(d) }));
    }
    for (table, expected) in &expect.rows {
        let actual = Value::Array(sandbox.rows(table).await?);
        failures.extend(mismatch(&Value::Array(expected.clone()), &actual, expect.exact).map(|d| Failure { what: format!("rows of {table} differ"), diff: Some(d) }));
    }
    if let Some(expected) = &expect.requests {
        let received = mock.received(expected.len(), Duration::from_secs(2)).await;
        let expected = Value::Array(expected.iter().map(|r| {
            let mut m = Map::new();
            if let Some(method) = &r.method { m.insert("method".into(), Value::String(method.to_uppercase())); }
            if let Some(path) = &r.path { m.insert("path".into(), Value::String(path.clone())); }
            if let Some(body) = &r.body { m.insert("body".into(), body.clone()); }
            Value::Object(m)
        }).collect());
        let actual = Value::Array(received.iter().map(|r| r.to_json()).collect());
        failures.extend(mismatch(&expected, &actual, false).map(|d| Failure { what: "outbound requests differ".into(), diff: Some(d) }));
    }
    if let Some(expected) = &expect.mail {
        failures.extend(mail_mismatch(expected, &sandbox.outbox.take()));
    }
    // Peeked, not taken: the report still shows every line of a failing case.
    let lines = log_capture::peek();
    for wanted in &expect.logs {
        if !lines.iter().any(|l| l.contains(wanted.as_str())) {
            failures.push(Failure::new(format!("no log line contains {wanted:?}")));
        }
    }
    for unwanted in &expect.not_logs {
        if let Some(line) = lines.iter().find(|l| l.contains(unwanted.as_str())) {
            failures.push(Failure::new(format!("a log line contains {unwanted:?}: {line}")));
        }
    }
    Ok(failures)
}

/// Sent messages against `expect.mail`: the same number, each matching in order. Equality
/// fields compare as JSON (diffed), `text`/`html` as substrings.
fn mail_mismatch(expected: &[ExpectedMail], sent: &[Value]) -> Vec<Failure> {
    if expected.len() != sent.len() {
        let subjects: Vec<&str> = sent.iter().map(|m| m["subject"].as_str().unwrap_or("")).collect();
        return vec![Failure::new(format!("expected {} sent message(s), got {}: subjects {subjects:?}", expected.len(), sent.len()))];
    }
    let mut failures = vec![];
    for (i, (want, got)) in expected.iter().zip(sent).enumerate() {
        let mut fields = Map::new();
        if let Some(from) = &want.from {
            fields.insert("from".into(), json!(from));
        }
        for (name, list) in [("to", &want.to), ("cc", &want.cc), ("bcc", &want.bcc)] {
            if let Some(list) = list {
                fields.insert(name.into(), json!(list.strings()));
            }
        }
        if let Some(subject) = &want.subject {
            fields.insert("subject".into(), json!(subject));
        }
        failures.extend(mismatch(&Value::Object(fields), got, false).map(|d| Failure { what: format!("message {} differs", i + 1), diff: Some(d) }));
        for (part, wanted) in [("text", &want.text), ("html", &want.html)] {
            if let Some(wanted) = wanted {
                if !got[part].as_str().unwrap_or("").contains(wanted.as_str()) {
                    failures.push(Failure::new(format!("message {}: its {part} doesn't contain {wanted:?}", i + 1)));
                }
            }
        }
    }
    failures
}

fn describe(e: &ExpectedError) -> String {
    let parts: Vec<String> = [
        e.class.clone(),
        e.code.clone(),
        e.status.map(|s| s.to_string()),
        e.message.as_ref().map(|m| format!("{m:?}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if parts.is_empty() { "an exception".into() } else { parts.join(" ") }
}

fn error_mismatch(expected: &ExpectedError, actual: &ApiError) -> Option<Failure> {
    let mut problems = vec![];
    if let Some(class) = &expected.class {
        match exception_code(class) {
            Some(code) if code != actual.code.as_str() => problems.push(format!("class {class} (code {code}), got code {}", actual.code)),
            Some(_) => {}
            None => problems.push(format!("class {class} is not one of the exceptions hooks get")),
        }
    }
    if let Some(code) = &expected.code {
        if code.as_str() != actual.code.as_str() {
            problems.push(format!("code {code}, got {}", actual.code));
        }
    }
    if let Some(status) = expected.status {
        if status != actual.status {
            problems.push(format!("status {status}, got {}", actual.status));
        }
    }
    if let Some(message) = &expected.message {
        if !actual.message.contains(message.as_str()) {
            problems.push(format!("a message containing {message:?}, got {:?}", actual.message));
        }
    }
    let extensions = expected.extensions.as_ref().and_then(|e| mismatch(e, &Value::Object(actual.extensions.clone()), false));
    if problems.is_empty() && extensions.is_none() {
        return None;
    }
    let what = if problems.is_empty() { "the exception's extensions differ".to_string() } else { format!("wrong exception: expected {}", problems.join("; ")) };
    Some(Failure { what, diff: extensions })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_defaults_come_from_the_event_and_input() {
        let ctx = event_context("items.create.before", Some(&json!({"title": "x"})), Map::new(), Value::Null);
        assert_eq!(Value::Object(ctx), json!({"event": "items.create.before", "action": "create", "accountability": null, "payload": {"title": "x"}}));
    }

    #[test]
    fn an_exception_is_matched_by_class_code_status_and_message() {
        let thrown = ApiError::invalid_payload("\"title\" must not be empty");
        let by_class = ExpectedError { class: Some("InvalidPayloadException".into()), message: Some("must not be empty".into()), ..Default::default() };
        assert!(error_mismatch(&by_class, &thrown).is_none());
        let wrong = ExpectedError { class: Some("ForbiddenException".into()), status: Some(403), ..Default::default() };
        let failure = error_mismatch(&wrong, &thrown).unwrap();
        assert!(failure.what.contains("FORBIDDEN") && failure.what.contains("status 403, got 400"), "{}", failure.what);
    }
}
