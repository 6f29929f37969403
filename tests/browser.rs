//! The Directus admin app (npm `@directus/app@9.0.0-rc.83`) against Rectus in Debian's headless
//! Chromium, on SQLite, on PostgreSQL and on a PostgreSQL database Directus made:
//! `tests/browser/walkthrough.mjs` (puppeteer-core) does what a person does, checking each step
//! on the page; this side checks each step in the
//! database, then checks that every request the app made is one the app also makes against
//! Directus (`tests/browser/requests.txt`, recorded against the rc.83 oracle) and was not
//! answered "no such route", "method not allowed" or a server error.
//!
//! `./scripts/setup --test` installs chromium and the walkthrough's npm packages. A failing step
//! saves a screenshot under `target/browser-screenshots/`.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Every step of the walkthrough, in order.
const STEPS: &[&str] = &[
    "login",
    "open_collection",
    "create_item",
    "edit_item",
    "delete_item",
    "edit_many_to_one",
    "edit_one_to_many",
    "create_collection",
    "create_field",
    "role_and_user",
    "login_as_role_user",
    "upload_image",
    "project_name",
    "activity_and_revert",
];

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn installed() {
    assert!(Path::new("/usr/bin/chromium").exists() || which("chromium"), "chromium is not installed: run ./scripts/setup --test");
    assert!(browser_dir().join("node_modules/puppeteer-core").is_dir() && browser_dir().join("node_modules/@directus/app/dist/index.html").is_file(), "the walkthrough's npm packages are not installed: run ./scripts/setup --test");
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// What the database must hold after `step`; `None` when it does, else what is wrong.
async fn check(db: &TestDb, prefix: &str, step: &str, data: &Value) -> Option<String> {
    let s = |key: &str| quote(data[key].as_str().unwrap_or_default());
    let articles = format!("{prefix}_articles");
    let user = |email: String| format!("(SELECT id FROM directus_users WHERE email = {email})");
    let expectations: Vec<(String, String, i64)> = match step {
        "login" | "login_as_role_user" => vec![("directus_sessions".into(), format!("\"user\" = {}", user(s("email"))), -1)],
        "open_collection" => vec![("directus_users".into(), format!("email = {} AND last_page = {}", s("email"), s("last_page")), 1)],
        "create_item" => vec![(articles.clone(), format!("title = {}", s("title")), 1)],
        "edit_item" => vec![(articles.clone(), format!("title = {}", s("title")), 1), (articles.clone(), "title = 'Third'".into(), 0)],
        "delete_item" => vec![(articles.clone(), format!("title = {}", s("title")), 0), (articles.clone(), "1 = 1".into(), 2)],
        "edit_many_to_one" | "edit_one_to_many" => {
            let author = format!("(SELECT id FROM {prefix}_authors WHERE name = {})", s("author"));
            vec![(articles.clone(), format!("title = {} AND author = {author}", s("title")), 1)]
        }
        "create_collection" => vec![("directus_collections".into(), format!("collection = {}", s("collection")), 1), (data["collection"].as_str().unwrap_or("-").into(), "1 = 1".into(), 0)],
        "create_field" => vec![
            ("directus_fields".into(), format!("collection = {} AND field = {}", s("collection"), s("field")), 1),
            (data["collection"].as_str().unwrap_or("-").into(), format!("{} IS NULL", data["field"].as_str().unwrap_or("-")), 0),
        ],
        "role_and_user" => {
            let role = format!("(SELECT id FROM directus_roles WHERE name = {})", s("role"));
            vec![
                ("directus_roles".into(), format!("name = {} AND app_access = true AND admin_access = false", s("role")), 1),
                ("directus_users".into(), format!("email = {} AND role = {role}", s("email")), 1),
                ("directus_permissions".into(), format!("role = {role} AND collection = {} AND action = 'read'", s("collection")), 1),
            ]
        }
        "upload_image" => {
            let id = data["thumbnail"].as_str().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_string();
            vec![("directus_files".into(), format!("id = {} AND type = 'image/png' AND width = 4", quote(&id)), 1)]
        }
        "project_name" => vec![("directus_settings".into(), format!("project_name = {}", s("project_name")), 1)],
        "activity_and_revert" => vec![
            (articles.clone(), format!("title = {}", s("title")), 1),
            ("directus_activity".into(), format!("collection = {} AND action = 'update'", quote(&articles)), -2),
            ("directus_revisions".into(), format!("collection = {}", quote(&articles)), -2),
        ],
        other => return Some(format!("no database check for step {other}")),
    };
    for (table, condition, expected) in expectations {
        let found = match db.try_count(&table, &condition).await {
            Ok(found) => found,
            Err(error) => return Some(error),
        };
        // A negative expectation is a minimum.
        let ok = if expected < 0 { found >= -expected } else { found == expected };
        if !ok {
            let wanted = if expected < 0 { format!("at least {}", -expected) } else { expected.to_string() };
            return Some(format!("{table} WHERE {condition}: {found} rows, expected {wanted}"));
        }
    }
    None
}

/// `GET /items/walkab_articles/3` → `GET /items/<collection>/<id>`: the shape of a request, as
/// `requests.txt` lists them.
fn shape(method: &str, path: &str, prefix: &str) -> String {
    let parts: Vec<String> = path
        .split('/')
        .map(|part| {
            if part.starts_with(&format!("{prefix}_")) {
                "<collection>".to_string()
            } else if !part.is_empty() && (part.bytes().all(|b| b.is_ascii_digit()) || (part.len() == 36 && part.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))) {
                "<id>".to_string()
            } else {
                part.to_string()
            }
        })
        .collect();
    format!("{method} {}", parts.join("/"))
}

fn known_requests() -> BTreeSet<String> {
    let text = std::fs::read_to_string(browser_dir().join("requests.txt")).unwrap();
    text.lines().map(|l| l.split('#').next().unwrap_or_default().trim()).filter(|l| !l.is_empty()).map(str::to_string).collect()
}

/// One walkthrough at a time: each drives a Chromium and a server, and side by side on a small
/// CI machine they slow each other past the page's waits.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The walkthrough against Rectus on `engine`, on a new database or on `existing`, SQL that makes
/// the database another server (Directus) created.
async fn walkthrough(engine: Engine, existing: Option<&str>) {
    installed();
    let _turn = ONE_AT_A_TIME.lock().await;
    let db = TestDb::new(engine).await;
    if let Some(sql) = existing {
        db.execute(sql).await;
    }
    // The app is found the way Node finds packages: from the server's working directory.
    std::os::unix::fs::symlink(browser_dir().join("node_modules"), db.dir.join("node_modules")).unwrap();
    // The app's <base href> comes from PUBLIC_URL, so the port is chosen before the start.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let public_url = format!("http://127.0.0.1:{port}");
    let server = Server::start(&db, None, &[("PORT", &port), ("PUBLIC_URL", &public_url)]).await;
    let prefix = format!("walk{}", uuid::Uuid::new_v4().simple().to_string().chars().filter(char::is_ascii_alphabetic).take(6).collect::<String>());

    let mut node = Command::new("node")
        .arg(browser_dir().join("walkthrough.mjs"))
        .current_dir(browser_dir())
        .env("BASE_URL", &server.base)
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("PREFIX", &prefix)
        .env("STEPS", STEPS.join(","))
        .env("OUT", screenshots())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs the walkthrough");
    let mut to_node = node.stdin.take().unwrap();
    let from_node = BufReader::new(node.stdout.take().unwrap());
    let mut failures = vec![];
    let mut passed = vec![];
    let mut requests = None;
    for line in from_node.lines().map_while(Result::ok) {
        let message: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("walkthrough printed {line}"));
        if let Some(step) = message["check"].as_str() {
            let answer = check(&db, &prefix, step, &message["data"]).await.unwrap_or_else(|| "ok".into());
            writeln!(to_node, "{answer}").unwrap();
        } else if let Some(step) = message["step"].as_str() {
            if message["ok"] == true {
                eprintln!("step {step}: ok");
                passed.push(step.to_string());
            } else {
                eprintln!("step {step}: FAILED {message}");
                failures.push(format!("{step}: {} (screenshot {}, at {}; requests without an answer: {})", message["error"], message["screenshot"], message["url"], message["unanswered"]));
            }
        } else if message.get("requests").is_some() {
            requests = Some(message["requests"].clone());
        } else if let Some(fatal) = message["fatal"].as_str() {
            failures.push(format!("the walkthrough stopped: {fatal}"));
        }
    }
    drop(to_node);
    let status = node.wait().unwrap();
    assert!(failures.is_empty(), "{engine:?}: {} of {} steps failed:\n{}\nserver log:\n{}", failures.len(), STEPS.len(), failures.join("\n"), server.log_text());
    assert!(status.success(), "{engine:?}: the walkthrough exited with {status}");
    assert_eq!(passed, STEPS, "{engine:?}: every step ran");

    let known = known_requests();
    let requests = requests.expect("the walkthrough lists the app's requests");
    let mut unexpected = vec![];
    for request in requests.as_array().unwrap() {
        let (method, path, status) = (request["method"].as_str().unwrap(), request["path"].as_str().unwrap(), request["status"].as_u64().unwrap());
        let shape = shape(method, path, &prefix);
        if !known.contains(&shape) {
            unexpected.push(format!("{shape} (not in requests.txt: the app doesn't send it to Directus)"));
        }
        if status == 404 && path != "/auth/refresh" || status == 405 || status >= 500 {
            unexpected.push(format!("{method} {path}{} answered {status}", request["query"].as_str().unwrap_or_default()));
        }
    }
    assert!(unexpected.is_empty(), "{engine:?}:\n{}", unexpected.join("\n"));
    assert!(server.stop().success());
}

#[tokio::test]
async fn admin_app_walkthrough_on_sqlite() {
    walkthrough(Engine::Sqlite, None).await;
}

#[tokio::test]
async fn admin_app_walkthrough_on_postgres() {
    walkthrough(Engine::Postgres, None).await;
}

/// A team moving from Directus keeps its database: the walkthrough on the PostgreSQL database
/// Directus rc.83 made and used (`fixtures/databases/directus-rc83-postgres-dump.sql`, whose admin
/// is the test's), which Rectus's bootstrap leaves as it is.
#[tokio::test]
async fn admin_app_walkthrough_on_a_database_directus_made() {
    walkthrough(Engine::Postgres, Some(include_str!("../fixtures/databases/directus-rc83-postgres-dump.sql"))).await;
}

/// A custom interface built for rc.83 (`fixtures/extensions-endpoints`) in the app served by
/// Rectus: the app loads the interface bundle and the interface's module after login, and the
/// module renders with the app's own Vue (`tests/browser/custom-interface.mjs`).
#[tokio::test]
async fn a_custom_interface_loads_in_the_app() {
    installed();
    let db = TestDb::new(Engine::Sqlite).await;
    std::os::unix::fs::symlink(browser_dir().join("node_modules"), db.dir.join("node_modules")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let public_url = format!("http://127.0.0.1:{port}");
    let extensions = fixture("extensions-endpoints/extensions");
    let server = Server::start(&db, Some(&extensions), &[("PORT", &port), ("PUBLIC_URL", &public_url)]).await;
    let out = Command::new("node")
        .arg(browser_dir().join("custom-interface.mjs"))
        .current_dir(browser_dir())
        .env("BASE_URL", &server.base)
        .env("ADMIN_EMAIL", ADMIN_EMAIL)
        .env("ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stderr(Stdio::inherit())
        .output()
        .expect("node runs the check");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\nserver log:\n{}", server.log_text());
    let result: Value = serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("the check printed {text}"));
    let requests: Vec<&str> = result["requests"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for expected in ["200 /extensions/interfaces/index.js", "200 /extensions/interfaces/rectus-stars/index.js", "200 /extensions/displays/index.js"] {
        assert!(requests.contains(&expected), "{expected}: {requests:?}");
    }
    assert_eq!(result["rendered"], serde_json::json!({ "ids": ["rectus-stars"], "text": "★★★" }));
    assert_eq!(result["errors"], serde_json::json!([]), "no page errors");
    assert!(server.stop().success());
}
