//! `database`, `getSchema()` and `services` while `registerHook` runs (issue 24): a hook
//! learns the engine, creates its own table and reads through a service from top-level
//! promises, on every engine, with two isolates; the first request finds the table, and the
//! second isolate, started when overlapping requests keep the first busy running JS, finds it
//! too. That second isolate stops once idle (`HOOKS_IDLE_TIMEOUT`) and starts again when requests
//! saturate the first again.

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
    // Requests that overlap while waiting on a timer interleave on one isolate, as on Node's
    // event loop: no second one starts for them.
    for _ in 0..5 {
        for body in three_at_once(&server, "/registration/waits").await {
            assert_eq!(body["tableExisted"], false, "{engine:?}: {body}");
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!server.log_text().contains("starting hook isolate 2"), "{engine:?}: {}", server.log_text());
    // Requests that overlap and keep the isolate busy start it; it registers once the first is
    // done and finds its table.
    until_the_second_isolate_answers(&server).await;
    assert!(server.log_text().contains("starting hook isolate 2 of at most 2"), "{engine:?}: {}", server.log_text());
    assert_eq!(db.count("registration_log", "1 = 1").await, 1, "{engine:?}");
    assert!(!server.log_text().contains("already exists"), "{engine:?}: {}", server.log_text());
    assert!(server.stop().success());
}

/// Keeps three requests in flight, each keeping an isolate busy for 150 ms, until one is
/// answered by an isolate that found the table made by another (the second isolate); every
/// answer must be a 200. A new request goes out as each answer comes, so a second isolate that
/// has just started gets one at once (it stops when it stays without jobs).
async fn until_the_second_isolate_answers(server: &Server) {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    let slow = || server.client.get(server.url("/registration/slow")).send();
    let mut in_flight: FuturesUnordered<_> = (0..3).map(|_| slow()).collect();
    for _ in 0..150 {
        let (status, body) = json(in_flight.next().await.unwrap().unwrap()).await;
        assert_eq!(status, 200, "{body}");
        if body["tableExisted"] == true {
            return;
        }
        in_flight.push(slow());
    }
    panic!("no answer came from a second isolate\n{}", server.log_text());
}

/// Sends three requests for `path` at once; each must be answered 200. Returns the bodies.
async fn three_at_once(server: &Server, path: &str) -> Vec<serde_json::Value> {
    let answers = futures_util::future::join_all((0..3).map(|_| server.client.get(server.url(path)).send())).await;
    let mut bodies = Vec::new();
    for answer in answers {
        let (status, body) = json(answer.unwrap()).await;
        assert_eq!(status, 200, "{path}: {body}\n{}", server.log_text());
        bodies.push(body);
    }
    bodies
}

async fn until_logged(server: &Server, line: &str, times: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while server.log_text().matches(line).count() < times {
        assert!(std::time::Instant::now() < deadline, "\"{line}\" not logged {times} times\n{}", server.log_text());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_idle_second_isolate_stops_and_starts_again() {
    let db = TestDb::new(Engine::Sqlite).await;
    // An isolate answers the jobs it ran back to back together (it takes the next job before
    // it polls its event loop), so requests that keep the first busy come in batches, 450 ms
    // apart: a second isolate, idle until the next batch, must wait longer than that.
    let server = Server::start(&db, Some(&fixture("hooks/registration")), &[("HOOKS_POOL_SIZE", "2"), ("HOOKS_IDLE_TIMEOUT", "1s")]).await;
    for round in 1..=2 {
        until_the_second_isolate_answers(&server).await;
        assert_eq!(server.log_text().matches("starting hook isolate 2 of at most 2").count(), round, "{}", server.log_text());
        until_logged(&server, "hook isolate 2 stopped: no jobs for 1000 ms", round).await;
    }
    // Requests arriving around the moment it stops (a second after its last job: it collects
    // first) are all answered, by it or by the first: each round has it answer, then waits
    // about that long.
    for pause in (900..1100).step_by(40) {
        until_the_second_isolate_answers(&server).await;
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        three_at_once(&server, "/registration").await;
    }
    assert!(!server.log_text().contains("HOOKS_TIMEOUT"), "{}", server.log_text());
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
