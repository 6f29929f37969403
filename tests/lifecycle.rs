//! Lifecycle, `response` and `error` events on the real server.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn lifecycle_response_and_error_events() {
    let db = TestDb::new(Engine::Sqlite).await;
    let server = Server::start(&db, Some(&fixture("hooks/lifecycle")), &[("HOOKS_POOL_SIZE", "1")]).await;
    let res = server.client.get(server.url("/server/ping?x=1")).send().await.unwrap();
    assert_eq!(res.text().await.unwrap(), "pong");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (status, body) = json(server.client.get(server.url("/nope")).send().await.unwrap()).await;
    assert_eq!(status, 404);
    let error = &body["errors"][0];
    assert_eq!(error["message"], "Route /nope doesn't exist. (seen by a hook)");
    assert_eq!(error["extensions"]["code"], "ROUTE_NOT_FOUND");
    assert_eq!(error["extensions"]["seen"], json!([["init", 0], ["server.start", 0], ["response", "GET", 200, "string", "1", "string"]]));
    let logs = server.log_text();
    assert!(logs.contains("lifecycle hook saw init") && logs.contains("\\\"hook\\\":\\\"lifecycle\\\""), "require('directus/dist/logger') writes to Rectus's log: {logs}");
    assert!(server.stop().success());
}
