//! The response cache (`CACHE_ENABLED`, issue #14): answers served from the cache without
//! running services or read hooks, `Cache-Control` both ways, `CACHE_AUTO_PURGE` and
//! `CACHE_TTL`, and coherence across instances with the Redis store and with per-instance
//! memory stores purged over the cluster bus. Rows are changed behind the API's back (plain
//! SQL) to tell a cached answer from a fresh one.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A database with a `notes` collection holding one row titled "one", and the env of the
/// servers that will serve it.
async fn notes_db(engine: Engine) -> TestDb {
    let db = TestDb::new(engine).await;
    Server::start(&db, None, &[]).await.stop();
    let pk = db.serial_pk();
    db.execute(&format!("CREATE TABLE notes (id {pk}, title varchar(255)); INSERT INTO notes (title) VALUES ('one');")).await;
    db
}

async fn get(server: &Server, token: Option<&str>, path: &str, headers: &[(&str, &str)]) -> (u16, Option<String>, Value) {
    let mut req = server.client.get(server.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    let control = res.headers().get("cache-control").map(|v| v.to_str().unwrap().to_string());
    let (status, body) = json(res).await;
    (status, control, body)
}

async fn title(server: &Server, token: &str) -> String {
    let (status, _, body) = get(server, Some(token), "/items/notes/1?fields=title", &[]).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["title"].as_str().unwrap().to_string()
}

/// The read events the hook counted, once it has counted `want` (after-events run in the
/// background) or three seconds passed; then a little longer, so a late extra event shows.
async fn reads(server: &Server, want: i64) -> i64 {
    let started = Instant::now();
    let count = || async { get(server, None, "/read-count", &[]).await.2["reads"].as_i64().unwrap() };
    while count().await < want && started.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    count().await
}

#[tokio::test]
async fn cached_answers_skip_services_and_read_hooks() {
    let db = notes_db(Engine::Sqlite).await;
    let server = Server::start(&db, Some(&fixture("hooks/read-counter")), &[("CACHE_ENABLED", "true"), ("CACHE_TTL", "1m"), ("HOOKS_POOL_SIZE", "1")]).await;
    let token = server.admin_token().await;

    // A list (which emits no read event in rc.83) and an item read (which does).
    let (status, control, body) = get(&server, Some(&token), "/items/notes?fields=id,title", &[]).await;
    assert_eq!((status, body["data"].clone()), (200, json!([{ "id": 1, "title": "one" }])));
    assert_eq!(control.as_deref(), Some("private, max-age=60, s-maxage=0"), "the admin has a role");
    let one = "/items/notes/1?fields=id,title";
    assert_eq!(get(&server, Some(&token), one, &[]).await.2["data"]["title"], "one");
    assert_eq!(reads(&server, 1).await, 1);

    db.execute("UPDATE notes SET title = 'changed'").await;
    let (_, control, body) = get(&server, Some(&token), "/items/notes?fields=id,title", &[]).await;
    assert_eq!(body["data"][0]["title"], "one", "served from the cache");
    let max_age: u64 = control.unwrap().split("max-age=").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
    assert!((58..=60).contains(&max_age), "what is left of the entry's life: {max_age}");
    assert_eq!(get(&server, Some(&token), one, &[]).await.2["data"]["title"], "one");
    assert_eq!(reads(&server, 1).await, 1, "a hit runs no read hook; the hook route itself is never cached");

    // The same query in another order and with the token in the query is the same entry.
    let (_, _, body) = get(&server, None, &format!("/items/notes/1?access_token={token}&fields=id,title"), &[]).await;
    assert_eq!(body["data"]["title"], "one");

    // `Cache-Control: no-cache` asks for a fresh answer, which then replaces the entry.
    let (_, control, body) = get(&server, Some(&token), one, &[("cache-control", "no-cache")]).await;
    assert_eq!((body["data"]["title"].as_str(), control.as_deref()), (Some("changed"), Some("no-store")));
    assert_eq!(reads(&server, 2).await, 2);
    assert_eq!(get(&server, Some(&token), one, &[]).await.2["data"]["title"], "changed");

    // Without CACHE_AUTO_PURGE a write through the API leaves cached answers alone (Directus).
    assert_eq!(title(&server, &token).await, "changed");
    let (status, _) = server.send(&token, "PATCH", "/items/notes/1", Some(json!({ "title": "patched" }))).await;
    assert_eq!(status, 200);
    assert_eq!(title(&server, &token).await, "changed");

    // Each user has entries of their own; the public role is refused, and errors aren't kept.
    let (status, _, _) = get(&server, None, "/items/notes/1?fields=title", &[]).await;
    assert_eq!(status, 403);
    let (status, _) = server.send(&token, "POST", "/permissions", Some(json!({ "role": null, "collection": "notes", "action": "read", "fields": ["*"] }))).await;
    assert_eq!(status, 200);
    let (status, control, body) = get(&server, None, "/items/notes/1?fields=title", &[]).await;
    assert_eq!((status, body["data"]["title"].as_str()), (200, Some("patched")), "{body}");
    assert_eq!(control.as_deref(), Some("public, max-age=60, s-maxage=0"));
}

#[tokio::test]
async fn auto_purge_and_ttl() {
    let db = notes_db(Engine::Sqlite).await;
    db.execute("CREATE TABLE other (id integer PRIMARY KEY AUTOINCREMENT, note varchar(20));").await;
    let server = Server::start(&db, None, &[("CACHE_ENABLED", "true"), ("CACHE_TTL", "2s"), ("CACHE_AUTO_PURGE", "true")]).await;
    let token = server.admin_token().await;

    let (_, control, _) = get(&server, Some(&token), "/items/notes/1?fields=title", &[]).await;
    assert_eq!(control.as_deref(), Some("no-cache"), "entries can be purged any moment");
    db.execute("UPDATE notes SET title = 'changed'").await;
    assert_eq!(title(&server, &token).await, "one");

    // Any write through the services empties the whole cache, whatever collection it touched.
    let (status, _) = server.send(&token, "POST", "/items/other", Some(json!({ "note": "x" }))).await;
    assert_eq!(status, 200);
    assert_eq!(title(&server, &token).await, "changed");

    // Entries die after CACHE_TTL.
    db.execute("UPDATE notes SET title = 'later'").await;
    assert_eq!(title(&server, &token).await, "changed");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(title(&server, &token).await, "later");
}

/// Polls `title` on `server` until it reads `want` or a second passed; the time it took.
async fn until_title(server: &Server, token: &str, want: &str) -> Duration {
    let started = Instant::now();
    loop {
        let seen = title(server, token).await;
        if seen == want {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(1), "still {seen:?} after a second, want {want:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn redis_store_is_one_cache_for_every_instance() {
    let db = notes_db(Engine::Postgres).await;
    let namespace = format!("rectus-test-{}", uuid::Uuid::new_v4().simple());
    let settings = [("CACHE_ENABLED", "true"), ("CACHE_STORE", "redis"), ("REDIS", "redis://127.0.0.1:6379"), ("CACHE_NAMESPACE", namespace.as_str()), ("CACHE_AUTO_PURGE", "true"), ("SYNCHRONIZATION_NAMESPACE", namespace.as_str())];
    let a = Server::start(&db, None, &settings).await;
    let b = Server::spawn(&db.dir, &Server::env(&db, None, &settings)).await;
    let token = a.admin_token().await;

    assert_eq!(title(&a, &token).await, "one");
    db.execute("UPDATE notes SET title = 'changed'").await;
    assert_eq!(title(&b, &token).await, "one", "b answers from the entry a stored");

    let (status, _) = b.send(&token, "PATCH", "/items/notes/1", Some(json!({ "title": "patched" }))).await;
    assert_eq!(status, 200);
    assert_eq!(title(&a, &token).await, "patched", "b's write purged the shared cache at once");
}

#[tokio::test]
async fn memory_stores_are_purged_over_the_cluster_bus() {
    let db = notes_db(Engine::Postgres).await;
    let namespace = format!("rectus-test-{}", uuid::Uuid::new_v4().simple());
    let settings = [("CACHE_ENABLED", "true"), ("CACHE_AUTO_PURGE", "true"), ("SYNCHRONIZATION_NAMESPACE", namespace.as_str())];
    let a = Server::start(&db, None, &settings).await;
    let b = Server::spawn(&db.dir, &Server::env(&db, None, &settings)).await;
    let token = a.admin_token().await;

    assert_eq!(title(&a, &token).await, "one");
    db.execute("UPDATE notes SET title = 'changed'").await;
    assert_eq!(title(&a, &token).await, "one");
    assert_eq!(title(&b, &token).await, "changed", "b has its own store");

    let (status, _) = b.send(&token, "PATCH", "/items/notes/1", Some(json!({ "title": "patched" }))).await;
    assert_eq!(status, 200);
    let took = until_title(&a, &token, "patched").await;
    eprintln!("a's memory cache purged {took:?} after b's write (PostgreSQL NOTIFY)");
}
