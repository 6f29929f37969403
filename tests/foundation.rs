//! The binary on each database engine: bootstrap (idempotent), start, ping/info, the 404
//! envelope, graceful shutdown; and the refusals with one clear line.

mod common;

use common::*;
use serde_json::json;

async fn bootstrap_and_serve(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start(&db, None, &[]).await;
    assert_eq!(db.count("directus_users", "email = 'admin@example.com'").await, 1, "{engine:?}: admin user");
    assert_eq!(db.count("directus_roles", "admin_access = true").await, 1, "{engine:?}: admin role");
    for table in ["directus_activity", "directus_collections", "directus_fields", "directus_files", "directus_folders", "directus_migrations", "directus_permissions", "directus_presets", "directus_relations", "directus_revisions", "directus_roles", "directus_sessions", "directus_settings", "directus_users", "directus_webhooks"] {
        assert_eq!(db.count(table, "1 = 0").await, 0, "{engine:?}: {table} exists");
    }
    // rc.83's migrations are recorded as done, as Directus's own bootstrap leaves them (the
    // versions of the database Directus made), so Directus's migrate:latest finds nothing to do.
    let dump = include_str!("../fixtures/databases/directus-rc83-postgres-dump.sql");
    let versions: Vec<String> = dump.lines().filter_map(|l| l.strip_prefix("INSERT INTO directus_migrations VALUES (")).map(|l| l[..11].to_string()).collect();
    assert_eq!(versions.len(), 20);
    assert_eq!(db.count("directus_migrations", &format!("version IN ({})", versions.join(", "))).await, 20, "{engine:?}");
    assert_eq!(db.count("directus_migrations", "1 = 1").await, 20, "{engine:?}");

    // A second bootstrap changes nothing and says so.
    let mut env = db.env();
    env.push(("ADMIN_EMAIL".into(), "other@example.com".into()));
    let again = run_cli(&db.dir, &env, &["bootstrap"]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"), "{engine:?}");
    assert_eq!(db.count("directus_users", "1 = 1").await, 1, "{engine:?}: still one user");

    let res = server.client.get(server.url("/server/ping")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(res.text().await.unwrap(), "pong");

    let (status, body) = json(server.client.get(server.url("/server/info")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["project"]["project_name"], "Directus");

    let (status, body) = json(server.client.get(server.url("/nope/nothing")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({ "errors": [{ "message": "Route /nope/nothing doesn't exist.", "extensions": { "code": "ROUTE_NOT_FOUND" } }] }));

    // Login works against the bootstrapped admin (argon2 hash written by bootstrap).
    let token = server.admin_token().await;
    assert!(token.split('.').count() == 3);

    let status = server.stop();
    assert!(status.success(), "{engine:?}: graceful shutdown exits 0, got {status:?}");
}

on_every_engine!(bootstrap_and_serve);

#[tokio::test]
async fn refuses_a_database_without_system_tables() {
    let db = TestDb::new(Engine::Postgres).await;
    let out = run_cli(&db.dir, &db.env(), &["start"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("system tables"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn invalid_configuration_fails_with_one_line_naming_the_variable() {
    let dir = std::env::temp_dir().join(format!("rectus-cfg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for (var, value) in [("PORT", "http"), ("DB_CLIENT", "oracledb"), ("ACCESS_TOKEN_TTL", "soon")] {
        let out = run_cli(&dir, &[(var.to_string(), value.to_string())], &["start"]);
        assert_eq!(out.status.code(), Some(1), "{var}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{var}: {stderr}");
        assert!(stderr.contains(var), "{var}: {stderr}");
    }
    // A Directus .env file is read from the working directory.
    std::fs::write(dir.join(".env"), "DB_CLIENT=\"pg\"\nDB_DATABASE=test\n").unwrap();
    let out = run_cli(&dir, &[], &["start"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("DB_HOST"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn no_env_at_all_bootstraps_and_starts_on_sqlite() {
    let dir = std::env::temp_dir().join(format!("rectus-noenv-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = run_cli(&dir, &[], &["bootstrap"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("with password"), "a generated password is shown: {stderr}");
    assert!(dir.join("data.db").exists());
    let server = Server::spawn(&dir, &[("HOST".into(), "127.0.0.1".into()), ("PORT".into(), "0".into())]).await;
    let res = server.client.get(server.url("/server/ping")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "pong");
    assert!(dir.join("extensions/hooks").is_dir(), "the extensions folder is created like Directus does");
    assert!(server.stop().success());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn hooks_list_prints_events_crons_and_failures() {
    let dir = std::env::temp_dir();
    let run = |ext: &str| {
        let env = [("EXTENSIONS_PATH".to_string(), fixture(ext).to_string_lossy().into_owned()), ("LOG_LEVEL".to_string(), "silent".to_string())];
        let out = run_cli(&dir, &env, &["hooks", "list"]);
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let loading = run("hooks/loading");
    assert!(loading.contains("a-ok\n  event  items.create.before"), "{loading}");
    assert!(loading.contains("b-syntax-error\n  FAILED SyntaxError"), "{loading}");
    assert!(loading.contains("c-missing-require\n  FAILED Error: Cannot find module 'this-package-does-not-exist'"), "{loading}");
    assert!(loading.contains("e-async-register\n  (registers nothing)"), "{loading}");
    let cron = run("hooks/cron");
    assert!(cron.contains("cron   cron(* * * * * *)  (next "), "{cron}");
    assert!(cron.contains("cron   cron(bogus)  (INVALID"), "{cron}");
}

/// Rectus on a database created the way Directus rc.83 creates it (tables of spec §8 with knex's
/// PostgreSQL types, a password hash from another argon2 implementation): start, log in, read
/// and write items; `bootstrap` sees it as installed.
#[tokio::test]
async fn starts_on_a_directus_bootstrapped_postgres_database() {
    let db = TestDb::new(Engine::Postgres).await;
    db.execute(include_str!("../fixtures/databases/directus-rc83-postgres.sql")).await;
    let mut env = db.env();
    env.extend([("HOST".into(), "127.0.0.1".into()), ("PORT".into(), "0".into()), ("SECRET".into(), "s".into()), ("KEY".into(), "k".into())]);
    let out = run_cli(&db.dir, &env, &["bootstrap"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to do"));
    let server = Server::spawn(&db.dir, &env).await;
    let token = server.admin_token().await;
    let (status, body) = json(server.client.get(server.url("/items/articles")).bearer_auth(&token).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["title"], "Written by Directus");
    let (status, body) = json(server.client.post(server.url("/items/articles")).bearer_auth(&token).json(&json!({ "title": "Written by Rectus" })).send().await.unwrap()).await;
    assert_eq!((status, body["data"]["id"].clone(), body["data"]["status"].clone()), (200, json!(2), json!("draft")));
    assert_eq!(db.count("directus_activity", "collection = 'articles' AND action = 'create'").await, 1);
    assert!(server.stop().success());
}

/// PostgreSQL ends the server's sessions under it (`pg_terminate_backend`, as a restart or a
/// failover does): the requests that meet a dead connection fail, the connections are closed
/// rather than handed to the next request, and within one pool's worth of requests the server
/// answers again, although requests come faster than the idle ping would catch them.
#[tokio::test]
async fn connections_the_server_ended_are_replaced() {
    let db = TestDb::new(Engine::Postgres).await;
    // The server's sessions carry the database's name, so only they are ended.
    let url = format!("postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D{0}&application_name={0}", db.name);
    let extra = [("DB_CONNECTION_STRING", url.as_str()), ("DB_POOL__MAX", "4"), ("DB_POOL__MIN", "4")];
    let server = Server::start(&db, None, &extra).await;
    let token = server.admin_token().await;
    let roles = || server.send(&token, "GET", "/roles?fields=id", None);
    assert_eq!(roles().await.0, 200);
    db.execute(&format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{}';", db.name)).await;
    let mut statuses = vec![];
    for _ in 0..16 {
        statuses.push(roles().await.0);
    }
    let failed = statuses.iter().filter(|s| **s != 200).count();
    assert!(failed <= 8, "at most two failures per connection of the pool: {statuses:?}");
    assert!(statuses[8..].iter().all(|s| *s == 200), "answering again: {statuses:?}");
    assert!(server.stop().success());
}
