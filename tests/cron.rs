//! `cron(...)` hooks on the real server: a per-second schedule fires repeatedly with a `Date`
//! and no `this`; an invalid expression is logged and skipped.

mod common;

use common::*;
use std::time::Duration;

#[tokio::test]
async fn cron_hooks_fire_and_invalid_ones_are_reported() {
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = fixture("hooks/cron");
    Server::start(&db, Some(&ext), &[]).await.stop();
    db.execute(&format!("CREATE TABLE ticks (id {}, arg varchar(20), this_undefined boolean);", db.serial_pk())).await;
    let server = Server::start(&db, Some(&ext), &[]).await;
    let mut ticks = 0;
    for _ in 0..100 {
        ticks = db.count("ticks", "1 = 1").await;
        if ticks >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ticks >= 2, "a per-second cron fired at least twice, got {ticks}");
    let logs = server.log_text();
    assert!(logs.contains("Provided cron is invalid: cron(bogus)"), "{logs}");
    assert!(server.stop().success());
    let total = db.count("ticks", "1 = 1").await;
    assert_eq!(db.count("ticks", "arg = 'date' AND this_undefined = 1").await, total, "one Date argument, no `this`");
}
