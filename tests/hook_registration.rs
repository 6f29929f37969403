//! `database`, `getSchema()` and `services` while `registerHook` runs (issue 24): a hook
//! learns the engine, creates its own table and reads through a service from top-level
//! promises, on every engine, with two isolates; the first request finds the table, and the
//! second isolate, started when requests overlap, finds it too.

mod common;

use common::*;
use serde_json::json;

async fn registration(engine: Engine) {
    let db = TestDb::new(engine).await;
    let server = Server::start(&db, Some(&fixture("hooks/registration")), &[("HOOKS_POOL_SIZE", "2")]).await;
    // The very first request: the registration work finished before the server listened.
    let (status, body) = json(server.client.get(server.url("/registration")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{engine:?}: {body}\n{}", server.log_text());
    let client = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
        Engine::MySql => "mysql",
    };
    assert_eq!(body["seen"]["client"], client, "{engine:?}");
    assert_eq!(body["seen"]["done"], true, "{engine:?}: {body}");
    assert_eq!(body["seen"]["schemaHasRoles"], true, "{engine:?}");
    assert_eq!(body["seen"]["roles"], json!(["Admin"]), "{engine:?}");
    assert_eq!(body["rows"], json!([{ "note": "created while registering" }]), "{engine:?}");
    // One request at a time never needs a second isolate.
    assert!(!server.log_text().contains("starting hook isolate 2"), "{engine:?}: {}", server.log_text());
    // Requests that overlap start it; it registers once the first is done and finds its table.
    let mut found = false;
    for _ in 0..50 {
        let answers = futures_util::future::join_all((0..3).map(|_| server.client.get(server.url("/registration/slow")).send())).await;
        for answer in answers {
            let (status, body) = json(answer.unwrap()).await;
            assert_eq!(status, 200, "{engine:?}: {body}");
            found |= body["tableExisted"] == true;
        }
        if found {
            break;
        }
    }
    assert!(found, "{engine:?}: no answer came from a second isolate\n{}", server.log_text());
    assert!(server.log_text().contains("starting hook isolate 2 of at most 2"), "{engine:?}: {}", server.log_text());
    assert_eq!(db.count("registration_log", "1 = 1").await, 1, "{engine:?}");
    assert!(!server.log_text().contains("already exists"), "{engine:?}: {}", server.log_text());
    assert!(server.stop().success());
}

#[tokio::test]
async fn hooks_use_the_database_while_registering_on_sqlite() {
    registration(Engine::Sqlite).await;
}

#[tokio::test]
async fn hooks_use_the_database_while_registering_on_postgres() {
    registration(Engine::Postgres).await;
}

#[tokio::test]
async fn hooks_use_the_database_while_registering_on_mysql() {
    registration(Engine::MySql).await;
}
