//! `EXTENSIONS_AUTO_RELOAD`: editing a hook swaps in a new generation without failing requests;
//! a broken edit keeps the running generation.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

fn write_hook(dir: &std::path::Path, body: &str) {
    std::fs::create_dir_all(dir.join("hooks/stamp")).unwrap();
    std::fs::write(dir.join("hooks/stamp/index.js"), body).unwrap();
}

fn stamping(version: &str) -> String {
    format!("module.exports = () => ({{ 'items.create.before': (input) => ({{ ...input, note: '{version}' }}) }});\n")
}

fn reloads(server: &Server) -> usize {
    server.log_text().matches("Reloaded the hooks").count()
}

#[tokio::test]
async fn edits_reload_without_failing_requests() {
    let db = TestDb::new(Engine::Sqlite).await;
    let ext = db.dir.join("extensions");
    write_hook(&ext, &stamping("v1"));
    let extra = [("EXTENSIONS_AUTO_RELOAD", "true"), ("HOOKS_POOL_SIZE", "1")];
    Server::start(&db, Some(&ext), &extra).await.stop();
    db.execute(&format!("CREATE TABLE stamped (id {}, note varchar(10));", db.serial_pk())).await;
    let server = Server::start(&db, Some(&ext), &extra).await;
    let token = server.admin_token().await;
    let create = || {
        let req = server.client.post(server.url("/items/stamped")).bearer_auth(&token).json(&json!({}));
        async move { json(req.send().await.unwrap()).await }
    };
    let (status, body) = create().await;
    assert_eq!((status, body["data"]["note"].clone()), (200, json!("v1")));
    // Loading a generation reads the hook files; reads are not edits.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(reloads(&server), 0, "nothing was edited: {}", server.log_text());

    write_hook(&ext, &stamping("v2"));
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut statuses = vec![];
    loop {
        let (status, body) = create().await;
        statuses.push(status);
        if body["data"]["note"] == "v2" {
            break;
        }
        assert!(Instant::now() < deadline, "the edit was not picked up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(statuses.iter().all(|s| *s == 200), "no request failed during the reload: {statuses:?}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(reloads(&server), 1, "one edit, one reload: {}", server.log_text());

    write_hook(&ext, "module.exports = () => ({ 'items.create.before': (input) => { return input +; } });\n");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !server.log_text().contains("keeping the running hooks") {
        assert!(Instant::now() < deadline, "the broken edit was not reported: {}", server.log_text());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = create().await;
    assert_eq!((status, body["data"]["note"].clone()), (200, json!("v2")), "the previous generation keeps serving");
    assert!(server.stop().success());
}
