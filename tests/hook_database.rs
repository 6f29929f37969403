//! `database` in hooks is a real knex instance: the query patterns real hooks use, run through
//! the server on each engine, and `ctx.database` in `items.create.before` being the request's
//! transaction (a write through it is rolled back with the request; one on the pool is not).

mod common;

use common::*;
use serde_json::{json, Value};

async fn setup(engine: Engine) -> (TestDb, Server, String) {
    setup_with(engine, &[]).await
}

async fn setup_with(engine: Engine, more: &[(&str, &str)]) -> (TestDb, Server, String) {
    let db = TestDb::new(engine).await;
    let pk = db.serial_pk();
    let ext = fixture("hooks/database");
    // knex is evaluated on first use; a debug build on a loaded machine can take seconds for it.
    let mut extra = vec![("HOOKS_POOL_SIZE", "1"), ("HOOKS_TIMEOUT", "30000")];
    extra.extend_from_slice(more);
    Server::start(&db, Some(&ext), &extra).await.stop();
    for table in [
        "authors (id PK, name varchar(100))",
        "articles (id PK, title varchar(255), status varchar(20), views integer, author integer)",
        "tags (id integer PRIMARY KEY, name varchar(50))",
        "runs (id PK, pattern varchar(50), result text)",
        "notes (id PK, note varchar(100))",
        "strict (id PK, mode varchar(20), title varchar(50) NOT NULL)",
    ] {
        db.execute(&format!("CREATE TABLE {};", table.replace("PK", pk))).await;
    }
    db.execute("INSERT INTO authors (name) VALUES ('Ada'), ('Brian');").await;
    db.execute(
        "INSERT INTO articles (title, status, views, author) VALUES ('one', 'published', 3, 1), ('two', 'draft', 20, 2), ('three', 'published', 50, NULL);",
    )
    .await;
    let server = Server::start(&db, Some(&ext), &extra).await;
    let token = server.admin_token().await;
    (db, server, token)
}

async fn post(server: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    json(server.client.post(server.url(path)).bearer_auth(token).json(&body).send().await.unwrap()).await
}

/// Runs one pattern of the fixture and returns what it produced.
async fn run(server: &Server, token: &str, pattern: &str) -> Value {
    let (status, body) = post(server, token, "/items/runs", json!({ "pattern": pattern })).await;
    assert_eq!(status, 200, "{pattern}: {body}");
    let text = body["data"]["result"].as_str().unwrap_or_else(|| panic!("{pattern}: {body}"));
    serde_json::from_str(text).unwrap()
}

async fn knex_patterns(engine: Engine) {
    let (db, server, token) = setup(engine).await;
    let e = format!("{engine:?}");

    assert_eq!(run(&server, &token, "object_where").await, json!([{ "id": 1, "title": "one" }, { "id": 3, "title": "three" }]), "{e}");
    assert_eq!(run(&server, &token, "two_and_three_arg_where").await, json!({ "byId": "two", "popular": ["three", "two"] }), "{e}");
    assert_eq!(run(&server, &token, "first_missing").await, json!({ "missing": true }), "{e}");
    assert_eq!(
        run(&server, &token, "join").await,
        json!([{ "title": "one", "author_name": "Ada" }, { "title": "two", "author_name": "Brian" }]),
        "{e}"
    );
    assert_eq!(run(&server, &token, "upsert").await, json!(["merged", "two", "three"]), "{e}");
    assert_eq!(run(&server, &token, "increment").await, json!({ "changed": 1, "views": 8 }), "{e}");

    let updated = run(&server, &token, "update_returning").await;
    match engine {
        // MySQL has no RETURNING: knex gives the number of changed rows.
        Engine::MySql => assert_eq!(updated["result"], json!(1), "{e}"),
        _ => assert_eq!(updated["result"], json!([{ "id": 3, "title": "renamed" }]), "{e}"),
    }
    assert_eq!(db.count("articles", "title = 'renamed'").await, 1, "{e}");

    assert_eq!(run(&server, &token, "insert_and_delete").await, json!({ "idIsNumber": true, "deleted": 1 }), "{e}");
    assert_eq!(run(&server, &token, "count_raw").await, json!({ "count": 3, "raw": 2 }), "{e}");
    let types = match engine {
        Engine::Postgres => json!({ "count": "string", "timestampIsDate": true }),
        Engine::MySql => json!({ "count": "number", "timestampIsDate": true }),
        Engine::Sqlite => json!({ "count": "number", "timestampIsDate": false }),
    };
    assert_eq!(run(&server, &token, "driver_types").await, types, "{e}: as node-pg, mysql2 and sqlite3 hand them over");
    assert_eq!(run(&server, &token, "transaction_commit").await, json!({ "views": 2 }), "{e}");
    assert_eq!(run(&server, &token, "transaction_rollback").await, json!({ "message": "changed my mind", "left": 0 }), "{e}");
    assert_eq!(run(&server, &token, "transaction_provider").await, json!({ "left": 0, "completed": true }), "{e}");
    assert_eq!(run(&server, &token, "service_in_transaction").await, json!({ "left": 0 }), "{e}");
    assert_eq!(run(&server, &token, "is_transaction").await, json!({ "bound": true, "global": true }), "{e}");

    let failed = run(&server, &token, "sql_error").await;
    assert_eq!(failed["rejected"], true, "{e}");
    let message = failed["message"].as_str().unwrap().to_lowercase();
    assert!(message.contains("no_such_table"), "{e}: the driver's message reaches the hook: {message}");
    assert!(server.stop().success());
}

/// Writes through `ctx.database` share the request's fate; writes through the register-time
/// `database` (the pool) do not.
async fn request_transaction(engine: Engine) {
    let (db, server, token) = setup(engine).await;
    let e = format!("{engine:?}");
    for mode in ["db", "nested", "service", "pool"] {
        let (status, body) = post(&server, &token, "/items/strict", json!({ "mode": mode, "title": null })).await;
        assert_eq!(status, 400, "{e} {mode}: the insert violates NOT NULL: {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_NULL_VIOLATION", "{e} {mode}: {body}");
        let (status, body) = post(&server, &token, "/items/strict", json!({ "mode": mode, "title": "kept" })).await;
        assert_eq!(status, 200, "{e} {mode}: {body}");
    }
    for mode in ["db", "nested", "service"] {
        assert_eq!(db.count("notes", &format!("note = '{mode} null'")).await, 0, "{e}: the {mode} write was rolled back with the request");
        assert_eq!(db.count("notes", &format!("note = '{mode} kept'")).await, 1, "{e}: the {mode} write committed with the request");
    }
    assert_eq!(db.count("notes", "note = 'pool null'").await, 1, "{e}: a write on the pool is its own");
    assert_eq!(db.count("strict", "1 = 1").await, 4, "{e}");
    assert!(server.stop().success());
}

/// A client that goes away while its create's transaction is open (a before-hook wrote through
/// it and is still running): nothing of the create is kept, and the transaction's connection is
/// not lost: with a pool of one connection the next creates go through.
async fn a_transaction_cut_off_is_rolled_back_and_its_connection_freed(engine: Engine) {
    let (db, server, token) = setup_with(engine, &[("DB_POOL__MAX", "1")]).await;
    let e = format!("{engine:?}");
    let cut = server.client.post(server.url("/items/strict")).bearer_auth(&token).json(&json!({ "mode": "slow", "title": "cut" }));
    assert!(cut.timeout(std::time::Duration::from_millis(500)).send().await.is_err(), "{e}: the client gave up first");
    // The hook ends 1.5 s after it began; its transaction is dropped then.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    for _ in 0..3 {
        let (status, body) = post(&server, &token, "/items/strict", json!({ "mode": "db", "title": "after" })).await;
        assert_eq!(status, 200, "{e}: {body}");
    }
    assert_eq!(db.count("notes", "note = 'slow cut'").await, 0, "{e}: the hook's write was rolled back");
    assert_eq!(db.count("strict", "title = 'cut'").await, 0, "{e}");
    assert_eq!(db.count("notes", "note = 'db after'").await, 3, "{e}");
    assert!(server.stop().success());
}

on_every_engine!(knex_patterns);

on_every_engine!(a_transaction_cut_off_is_rolled_back_and_its_connection_freed);

on_every_engine!(request_transaction);
