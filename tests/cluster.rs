//! Several instances of the real binary on one PostgreSQL schema (issue #14): cron ticks run
//! once across the cluster (Redis leases, PostgreSQL advisory locks), schema, permission and
//! role changes made on one instance are seen by another within a second (Redis pub/sub,
//! PostgreSQL LISTEN/NOTIFY), webhooks created on one instance fire on another, and rate limits
//! hold across instances (Redis).
//!
//! Needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. Every test uses its own
//! `SYNCHRONIZATION_NAMESPACE`, so runs sharing the Redis never see each other's keys.

mod common;

use chrono::{DateTime, Timelike, Utc};
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const REDIS: &str = "redis://127.0.0.1:6379";

fn namespace() -> String {
    format!("rectus-test-{}", uuid::Uuid::new_v4().simple())
}

/// The first instance (bootstrapping the database) and `more` others with the same settings,
/// each with its `CLUSTER_INSTANCE` name for the rows the cron fixture writes.
async fn cluster(db: &TestDb, ext: Option<&std::path::Path>, extra: &[(&str, &str)], more: usize) -> Vec<Server> {
    let named = |name: &str| {
        let mut env = Server::env(db, ext, extra);
        env.push(("CLUSTER_INSTANCE".into(), name.into()));
        env
    };
    let mut first = extra.to_vec();
    first.push(("CLUSTER_INSTANCE", "a"));
    let mut servers = vec![Server::start(db, ext, &first).await];
    for name in ["b", "c", "d"].into_iter().take(more) {
        servers.push(Server::spawn(&db.dir, &named(name)).await);
    }
    servers
}

async fn pg_pool(db: &TestDb) -> sqlx::PgPool {
    sqlx::PgPool::connect(&format!("postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D{}", db.name)).await.unwrap()
}

/// The ticks the cron fixture recorded: tick → the instances that ran it.
async fn ticks(db: &TestDb) -> BTreeMap<DateTime<Utc>, Vec<String>> {
    let pool = pg_pool(db).await;
    let rows: Vec<(String, Option<String>)> = sqlx::query_as("SELECT tick, instance FROM cluster_ticks").fetch_all(&pool).await.unwrap();
    pool.close().await;
    let mut out: BTreeMap<DateTime<Utc>, Vec<String>> = BTreeMap::new();
    for (tick, instance) in rows {
        out.entry(tick.parse().unwrap()).or_default().push(instance.unwrap_or_default());
    }
    out
}

/// Sleeps until the middle of a second, away from the per-second ticks.
async fn to_mid_second() {
    let nanos = Utc::now().nanosecond() as u64 % 1_000_000_000;
    let wait = (1_500_000_000 - nanos) % 1_000_000_000;
    tokio::time::sleep(Duration::from_nanos(wait)).await;
}

/// Three instances run a per-second cron hook for a few seconds, one of them is killed half-way:
/// every whole second while the cluster ran has exactly one row.
async fn cron_runs_once_per_tick(store: &[(&str, &str)]) {
    let db = TestDb::new(Engine::Postgres).await;
    db.execute("CREATE TABLE cluster_ticks (id serial PRIMARY KEY, tick varchar(40), instance varchar(10));").await;
    let ns = namespace();
    let mut extra = vec![("SYNCHRONIZATION_NAMESPACE", ns.as_str()), ("HOOKS_POOL_SIZE", "1")];
    extra.extend_from_slice(store);
    let ext = fixture("hooks/cluster-cron");
    let mut servers = cluster(&db, Some(&ext), &extra, 2).await;
    let all_up = Utc::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    to_mid_second().await;
    drop(servers.pop()); // SIGKILL: no shutdown, whatever it held stays held
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before_stop = Utc::now();
    let logs: Vec<String> = servers.iter().map(Server::log_text).collect();
    for server in servers {
        assert!(server.stop().success());
    }
    let ticks = ticks(&db).await;
    let twice: Vec<_> = ticks.iter().filter(|(_, by)| by.len() > 1).collect();
    assert!(twice.is_empty(), "ticks run more than once: {twice:?}\n{}", logs.join("\n"));
    // Every whole second strictly inside the window has its row.
    let mut second = all_up.with_nanosecond(0).unwrap() + chrono::Duration::seconds(1);
    let mut expected = 0;
    while second + chrono::Duration::milliseconds(500) < before_stop {
        assert!(ticks.contains_key(&second), "tick {second} missing: {ticks:?}\n{}", logs.join("\n"));
        second += chrono::Duration::seconds(1);
        expected += 1;
    }
    assert!(expected >= 5, "the window covered {expected} ticks");
    let mut by_instance: BTreeMap<&str, usize> = BTreeMap::new();
    for by in ticks.values() {
        *by_instance.entry(by[0].as_str()).or_default() += 1;
    }
    eprintln!("{store:?}: {} ticks, run by {by_instance:?}", ticks.len());
}

#[tokio::test]
async fn cron_ticks_run_once_across_instances_with_redis_leases() {
    cron_runs_once_per_tick(&[("SYNCHRONIZATION_STORE", "redis"), ("REDIS", REDIS)]).await;
}

#[tokio::test]
async fn cron_ticks_run_once_across_instances_with_postgres_locks() {
    cron_runs_once_per_tick(&[("SYNCHRONIZATION_STORE", "database")]).await;
}

/// The control: without a shared store (the default `memory`) every instance runs every tick.
#[tokio::test]
async fn cron_ticks_run_on_every_instance_without_a_shared_store() {
    let db = TestDb::new(Engine::Postgres).await;
    db.execute("CREATE TABLE cluster_ticks (id serial PRIMARY KEY, tick varchar(40), instance varchar(10));").await;
    let ns = namespace();
    let ext = fixture("hooks/cluster-cron");
    let servers = cluster(&db, Some(&ext), &[("SYNCHRONIZATION_NAMESPACE", &ns), ("HOOKS_POOL_SIZE", "1")], 1).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    for server in servers {
        assert!(server.stop().success());
    }
    let ticks = ticks(&db).await;
    assert!(ticks.values().filter(|by| by.len() == 2).count() >= 2, "{ticks:?}");
}

struct Client<'a> {
    server: &'a Server,
}

impl Client<'_> {
    async fn send(&self, method: &str, path: &str, body: Option<Value>, token: &str) -> (u16, Value) {
        let mut req = self.server.client.request(method.parse().unwrap(), self.server.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        json(req.send().await.unwrap()).await
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>, token: &str) -> Value {
        let (status, body) = self.send(method, path, body, token).await;
        assert_eq!(status, 200, "{method} {path}: {body}");
        body
    }

    /// Polls until `path` answers `status`, for at most a second; the time it took.
    async fn within_a_second(&self, method: &str, path: &str, body: Option<Value>, token: &str, status: u16) -> Duration {
        let start = Instant::now();
        loop {
            let (got, answer) = self.send(method, path, body.clone(), token).await;
            if got == status {
                return start.elapsed();
            }
            assert!(start.elapsed() < Duration::from_secs(1), "{method} {path} still answers {got} after a second: {answer}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A collection created on A is usable on B, a permission granted on A applies on B, and a role
/// change and a suspension on A apply on B (whose token cache would otherwise keep the old
/// answer for two seconds) — each within a second.
async fn changes_reach_other_instances(extra: &[(&str, &str)]) {
    let db = TestDb::new(Engine::Postgres).await;
    let ns = namespace();
    let mut env = vec![("SYNCHRONIZATION_NAMESPACE", ns.as_str())];
    env.extend_from_slice(extra);
    let servers = cluster(&db, None, &env, 1).await;
    let (a, b) = (Client { server: &servers[0] }, Client { server: &servers[1] });
    let admin = servers[0].admin_token().await;

    // B reads the schema (and caches it) before A changes it.
    let (status, _) = b.send("GET", "/items/articles", None, &admin).await;
    assert_eq!(status, 403, "no such collection yet");
    let articles = json!({
        "collection": "articles",
        "schema": {},
        "fields": [
            { "field": "id", "type": "integer", "schema": { "is_primary_key": true, "has_auto_increment": true } },
            { "field": "title", "type": "string" },
        ],
    });
    a.ok("POST", "/collections", Some(articles), &admin).await;
    let took = b.within_a_second("POST", "/items/articles", Some(json!({ "title": "via B" })), &admin, 200).await;
    eprintln!("{extra:?}: new collection usable on B after {took:?}");
    a.ok("POST", "/fields/articles", Some(json!({ "field": "body", "type": "text" })), &admin).await;
    let took = b.within_a_second("POST", "/items/articles", Some(json!({ "title": "t", "body": "new field" })), &admin, 200).await;
    eprintln!("{extra:?}: new field usable on B after {took:?}");

    // Without app access, which would let it read its own user.
    let role = a.ok("POST", "/roles", Some(json!({ "name": "Reader", "app_access": false })), &admin).await["data"]["id"].as_str().unwrap().to_string();
    let user = a.ok("POST", "/users", Some(json!({ "email": "reader@example.com", "password": "s3cret!", "role": role })), &admin).await;
    let user = user["data"]["id"].as_str().unwrap().to_string();
    let (_, login) = json(servers[1].client.post(servers[1].url("/auth/login")).json(&json!({ "email": "reader@example.com", "password": "s3cret!" })).send().await.unwrap()).await;
    let reader = login["data"]["access_token"].as_str().unwrap().to_string();
    let (status, _) = b.send("GET", "/items/articles", None, &reader).await;
    assert_eq!(status, 403, "no read permission yet");
    a.ok("POST", "/permissions", Some(json!({ "role": role, "collection": "articles", "action": "read", "fields": ["*"] })), &admin).await;
    let took = b.within_a_second("GET", "/items/articles", None, &reader, 200).await;
    eprintln!("{extra:?}: permission applies on B after {took:?}");

    let (status, _) = b.send("GET", "/users", None, &reader).await;
    assert_eq!(status, 403, "B now caches the reader's token as a non-admin");
    a.ok("PATCH", &format!("/roles/{role}"), Some(json!({ "admin_access": true })), &admin).await;
    let took = b.within_a_second("GET", "/users", None, &reader, 200).await;
    eprintln!("{extra:?}: role change applies on B after {took:?}");
    a.ok("PATCH", &format!("/users/{user}"), Some(json!({ "status": "suspended" })), &admin).await;
    let took = b.within_a_second("GET", "/users", None, &reader, 401).await;
    eprintln!("{extra:?}: suspension applies on B after {took:?}");

    // A webhook created on A fires for items created on B.
    let (sink, seen) = http_sink::listener().await;
    let hook = json!({ "name": "sink", "method": "POST", "url": format!("{sink}/created"), "actions": "create", "collections": "articles", "data": true, "status": "active" });
    a.ok("POST", "/webhooks", Some(hook), &admin).await;
    let start = Instant::now();
    loop {
        b.ok("POST", "/items/articles", Some(json!({ "title": "hooked" })), &admin).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        if seen.lock().unwrap().iter().any(|(_, path, body)| path == "/created" && body["payload"]["title"] == "hooked") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(1), "B does not fire the webhook A created");
    }
    eprintln!("{extra:?}: new webhook fires on B after {:?}", start.elapsed());

    let logs = servers[1].log_text();
    assert!(!logs.contains("can't tell the other instances"), "{logs}");
}

#[tokio::test]
async fn changes_reach_other_instances_through_postgres_notify() {
    changes_reach_other_instances(&[]).await;
}

#[tokio::test]
async fn changes_reach_other_instances_through_redis() {
    changes_reach_other_instances(&[("REDIS", REDIS)]).await;
}

/// Five requests per window across three instances, taken in turns: the sixth is refused
/// whichever instance it reaches.
#[tokio::test]
async fn rate_limits_hold_across_instances_with_redis() {
    let db = TestDb::new(Engine::Postgres).await;
    let ns = namespace();
    let env = [
        ("SYNCHRONIZATION_NAMESPACE", ns.as_str()),
        ("RATE_LIMITER_ENABLED", "true"),
        ("RATE_LIMITER_STORE", "redis"),
        ("REDIS", REDIS),
        ("RATE_LIMITER_POINTS", "5"),
        ("RATE_LIMITER_DURATION", "60"),
    ];
    let servers = cluster(&db, None, &env, 2).await;
    let mut answers = vec![];
    for i in 0..9 {
        let server = &servers[i % servers.len()];
        let res = server.client.get(server.url("/server/ping")).send().await.unwrap();
        answers.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(answers, [200, 200, 200, 200, 200, 429, 429, 429, 429]);
}
