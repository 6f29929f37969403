//! Real npm packages in hooks (issue #8): the fixture hooks in `fixtures/node-compat/extensions`
//! require axios, got@11, node-fetch@2, nodemailer, lodash, slugify, sanitize-html, uuid and
//! dotenv, installed from the npm registry by `npm ci` (once per run, see [`install`]). They make
//! real calls to an echo server and an SMTP sink started here; the test asserts what arrived.
//! Two hooks fail to register (a missing package, an ES-module-only package) and the rest work.

mod common;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use common::smtp::{Security, SmtpSink};
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn fixtures() -> PathBuf {
    fixture("node-compat")
}

/// Installs the fixtures' packages (see [`npm_ci`]).
fn install() {
    npm_ci(&fixtures(), &["--ignore-scripts"]);
}

#[derive(Debug, Clone)]
struct Arrived {
    method: String,
    path: String,
    headers: HeaderMap,
    body: String,
}

/// An HTTP server answering every request with what it received, as JSON; `/redirect` sends
/// to `/target` and `/status/404` answers 404.
async fn echo_server() -> (String, Arc<Mutex<Vec<Arrived>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
        let log = log.clone();
        async move {
            let path = uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
            let body = String::from_utf8_lossy(&body).into_owned();
            log.lock().unwrap().push(Arrived { method: method.to_string(), path: path.clone(), headers: headers.clone(), body: body.clone() });
            match uri.path() {
                "/redirect" => (StatusCode::FOUND, [("location", "/target")]).into_response(),
                "/status/404" => (StatusCode::NOT_FOUND, "missing").into_response(),
                _ => axum::Json(json!({ "method": method.to_string(), "path": path, "body": body })).into_response(),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

struct Setup {
    server: Server,
    token: String,
    _db: TestDb,
}

impl Setup {
    async fn start(extra: &[(&str, &str)]) -> Setup {
        install();
        let db = TestDb::new(Engine::Sqlite).await;
        db.execute(&format!("CREATE TABLE payloads (id {}, kind varchar(20), input text, output text);", db.serial_pk())).await;
        let mut env = vec![("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "20s")];
        env.extend_from_slice(extra);
        let server = Server::start(&db, Some(&fixtures().join("extensions")), &env).await;
        let token = server.admin_token().await;
        Setup { server, token, _db: db }
    }

    /// Creates a payload row; returns the status and the parsed `output` the hooks wrote.
    async fn create(&self, kind: &str, input: &str) -> (u16, Value) {
        let (status, body) = self.server.send(&self.token, "POST", "/items/payloads", Some(json!({ "kind": kind, "input": input }))).await;
        let output = body["data"]["output"].as_str().map(|s| serde_json::from_str(s).unwrap()).unwrap_or(body);
        (status, output)
    }
}

#[tokio::test]
async fn http_clients_reach_a_local_server() {
    let (url, seen) = echo_server().await;
    let setup = Setup::start(&[("ECHO_URL", url.as_str())]).await;
    let (status, out) = setup.create("http", "").await;
    assert_eq!(status, 200, "{out}\n{}", setup.server.log_text());

    assert_eq!(out["axios"], json!({ "status": 200, "body": { "method": "POST", "path": "/axios?x=1", "body": "{\"client\":\"axios\"}" } }));
    assert_eq!(out["got"], json!({ "method": "POST", "path": "/got", "body": "{\"client\":\"got\"}" }));
    assert_eq!(out["nodeFetch"], json!({ "status": 200, "body": { "method": "PUT", "path": "/node-fetch", "body": "plain text" } }));
    assert_eq!(out["fetch"]["body"], json!({ "method": "PATCH", "path": "/fetch", "body": "{\"client\":\"fetch\"}" }));
    assert_eq!(out["fetch"]["contentType"], "application/json");
    assert_eq!(out["http"], json!({ "status": 200, "body": { "method": "DELETE", "path": "/http", "body": "bye" } }));
    assert_eq!(out["redirect"], "/target", "axios follows redirects (follow-redirects on http)");
    assert_eq!(out["gotError"], "HTTPError 404");
    assert_eq!(out["refused"], "fetch failed: ECONNREFUSED");
    assert_eq!(out["axiosRefused"], "ECONNREFUSED");

    let seen = seen.lock().unwrap().clone();
    let by_path = |p: &str| seen.iter().find(|a| a.path == p).unwrap_or_else(|| panic!("no request to {p}: {seen:?}")).clone();
    let header = |a: &Arrived, name: &str| a.headers.get(name).map(|v| v.to_str().unwrap().to_string());
    let axios = by_path("/axios?x=1");
    assert_eq!(header(&axios, "x-client").as_deref(), Some("axios"));
    assert_eq!(header(&axios, "content-type").as_deref(), Some("application/json"));
    assert!(header(&axios, "user-agent").unwrap().starts_with("axios/"), "{axios:?}");
    let got = by_path("/got");
    assert_eq!(header(&got, "x-client").as_deref(), Some("got"));
    assert!(header(&got, "user-agent").unwrap().starts_with("got "), "{got:?}");
    let node_fetch = by_path("/node-fetch");
    assert_eq!((node_fetch.method.as_str(), header(&node_fetch, "content-type").as_deref()), ("PUT", Some("text/plain")));
    assert_eq!(header(&by_path("/fetch"), "x-client").as_deref(), Some("fetch"));
    let http = by_path("/http");
    assert_eq!((http.method.as_str(), http.body.as_str()), ("DELETE", "bye"));
    assert_eq!(by_path("/target").method, "GET");
}

#[tokio::test]
async fn nodemailer_sends_through_smtp() {
    let sink = SmtpSink::start().await;
    let port = sink.port.to_string();
    let setup = Setup::start(&[("SMTP_PORT", port.as_str())]).await;
    let (status, out) = setup.create("mail", "reader@example.com").await;
    assert_eq!(status, 200, "{out}\n{}", setup.server.log_text());
    assert_eq!(out, json!({ "accepted": ["reader@example.com"], "messageId": true }));
    let mail = sink.next().await;
    assert_eq!(mail.from, "hooks@example.com");
    assert_eq!(mail.to, vec!["reader@example.com"]);
    assert!(mail.auth.as_deref().is_some_and(|a| a.starts_with("AUTH PLAIN")), "{mail:?}");
    assert_eq!(mail.header("Subject").as_deref(), Some("Sent by nodemailer"));
    assert_eq!(mail.header("From").as_deref(), Some("Rectus Hooks <hooks@example.com>"));
    let text = mail.text();
    assert!(text.contains("Hello from a hook") && text.contains("<p>Hello from a <b>hook</b></p>"), "{text}");
}

#[tokio::test]
async fn nodemailer_sends_over_implicit_tls_and_starttls() {
    let implicit = SmtpSink::start_with(Security::Implicit).await;
    let starttls = SmtpSink::start_with(Security::StartTls).await;
    let (smtps, upgrade, ca) = (implicit.port.to_string(), starttls.port.to_string(), common::tls::ca_path());
    let setup = Setup::start(&[("SMTPS_PORT", smtps.as_str()), ("STARTTLS_PORT", upgrade.as_str()), ("TLS_CA_FILE", ca.to_str().unwrap())]).await;
    let (status, out) = setup.create("mail-tls", "").await;
    assert_eq!(status, 200, "{out}\n{}", setup.server.log_text());
    assert_eq!(out, json!({ "implicit": ["reader@example.com"], "starttls": ["reader@example.com"] }));
    for (sink, subject) in [(&implicit, "over TLS"), (&starttls, "over STARTTLS")] {
        let mail = sink.next().await;
        assert!(mail.tls, "{subject} arrived in plain text");
        assert!(mail.auth.as_deref().is_some_and(|a| a.starts_with("AUTH PLAIN")), "{mail:?}");
        assert_eq!(mail.header("Subject").as_deref(), Some(subject));
        assert!(mail.text().contains("Hello over TLS"), "{}", mail.text());
    }
}

#[tokio::test]
async fn tls_sockets_and_https_check_certificates_as_node_does() {
    let port = common::tls::https_server().await.to_string();
    let ca = common::tls::ca_path();
    let setup = Setup::start(&[("HTTPS_PORT", port.as_str()), ("TLS_CA_FILE", ca.to_str().unwrap())]).await;
    let (status, out) = setup.create("tls", "").await;
    assert_eq!(status, 200, "{out}\n{}", setup.server.log_text());

    // The server sends its leaf alone, issued by a CA no default store has: Node's verdict.
    assert_eq!(out["defaultRoots"], json!({ "error": "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "message": "unable to verify the first certificate" }));
    assert_eq!(
        out["withCa"],
        json!({
            "authorized": true,
            "authorizationError": null,
            "encrypted": true,
            "protocol": "TLSv1.3",
            "subject": { "O": "Rectus Tests", "CN": "localhost" },
            "issuer": { "O": "Rectus Tests", "CN": "Rectus Test CA" },
            "subjectaltname": "DNS:localhost, IP Address:127.0.0.1",
            "valid_from": "Jan  1 00:00:00 2025 GMT",
            "valid_to": "Jan  1 00:00:00 2125 GMT",
            "fingerprint": "2F:6A:8D:BC:17:8C:59:C4:3D:D6:5D:E9:60:F7:6C:BF:5F:C9:C7:48",
            "body": { "path": "/tls-connect", "tls": true },
        })
    );
    assert_eq!(out["insecure"]["authorized"], false);
    assert_eq!(out["insecure"]["authorizationError"], "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert_eq!(out["insecure"]["body"]["tls"], true);
    assert_eq!(out["wrongName"]["error"], "ERR_TLS_CERT_ALTNAME_INVALID");
    assert_eq!(
        out["wrongName"]["message"],
        "Hostname/IP does not match certificate's altnames: Host: example.com. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1"
    );

    assert_eq!(out["https"]["withCa"], json!({ "path": "/with-ca", "tls": true }));
    assert_eq!(out["https"]["insecure"], json!({ "path": "/insecure", "tls": true }));
    assert_eq!(out["https"]["default"], "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
}

#[tokio::test]
async fn utility_packages_transform_payloads() {
    let setup = Setup::start(&[]).await;
    let input = json!({ "title": "Héllo Wörld, from Rectus!", "html": "<p>Hi <b>there</b> <a href=\"/x\" onclick=\"evil()\">link</a><script>alert(1)</script></p>" });
    let (status, out) = setup.create("transform", &input.to_string()).await;
    assert_eq!(status, 200, "{out}\n{}", setup.server.log_text());
    assert_eq!(out["slug"], "hello-world-from-rectus");
    assert_eq!(out["html"], "Hi <b>there</b> <a href=\"/x\">link</a>");
    assert_eq!(out["camel"], "helloWorldFromRectus");
    assert_eq!(out["chunks"], json!([[1, 2], [3, 4], [5]]));
    assert_eq!(out["uuidValid"], true);
    assert_eq!(out["uuidV5"], "0f05ad23-3a1c-5b24-8609-ab1e35853ab4", "as uuid computes it on Node");
    assert_eq!(out["greeting"], "hello from dotenv");
}

#[tokio::test]
async fn crypto_and_fs_in_a_hook() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().to_string_lossy().into_owned();
    let setup = Setup::start(&[("SCRATCH_DIR", dir.as_str())]).await;
    let (status, out) = setup.create("crypto", "abc").await;
    assert_eq!(status, 200, "{out}\n{}", setup.server.log_text());
    assert_eq!(out["md5"], "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(out["sha1"], "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(out["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(out["hmac"], "nBluMtwBdfhvSxy4konWYZ3mvuaZ5MN45oMJ7Zehpqs=");
    assert_eq!(std::fs::read_to_string(scratch.path().join("digest.txt")).unwrap(), out["sha256"].as_str().unwrap());
}

#[tokio::test]
async fn broken_requires_fail_their_hook_and_name_the_package() {
    let setup = Setup::start(&[]).await;
    let logs = setup.server.log_text();
    // LOG_STYLE=raw: one JSON object per line, so quotes in messages are escaped.
    assert!(logs.contains(r#"Couldn't register hook \"missing-package\""#), "{logs}");
    assert!(logs.contains("Cannot find module 'left-pad-is-not-installed'"), "{logs}");
    assert!(logs.contains(r#"Package \"uuid-esm\" is an ES module"#), "{logs}");
    // The other hooks still run.
    let (status, out) = setup.create("transform", &json!({ "title": "Still here", "html": "" }).to_string()).await;
    assert_eq!((status, out["slug"].as_str()), (200, Some("still-here")));

    let out = run_cli(&fixtures(), &[], &["hooks", "check", "extensions"]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{text}");
    for expected in [
        "✗ error: requires \"left-pad-is-not-installed\" (index.js), which does not resolve",
        "✗ error: failed to register: Error: Cannot find module 'left-pad-is-not-installed'",
        "✗ error: failed to register: Error: Package \"uuid-esm\" is an ES module",
        "hooks check: 7 hooks, 3 errors, 0 warnings",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
}
