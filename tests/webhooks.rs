//! Webhooks from `directus_webhooks` fire on item events to a local HTTP listener, filtered by
//! action and collection, in the background, with retries.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn webhooks_fire_in_the_background() {
    let (base, seen) = http_sink::listener().await;
    let db = TestDb::new(Engine::Sqlite).await;
    Server::start(&db, None, &[]).await.stop();
    db.execute(&format!("CREATE TABLE articles (id {pk}, title varchar(50)); CREATE TABLE other (id {pk}, note varchar(50));", pk = db.serial_pk())).await;
    let server = Server::start(&db, None, &[]).await;
    let token = server.admin_token().await;
    let send = |method: &str, path: &str, body: Value| {
        let req = server.client.request(method.parse().unwrap(), server.url(path)).bearer_auth(&token).json(&body);
        async move { json(req.send().await.unwrap()).await }
    };
    let (status, body) = send("POST", "/webhooks", json!({ "name": "articles", "method": "POST", "url": format!("{base}/in"), "actions": "create", "collections": "articles", "data": true, "status": "active" })).await;
    assert_eq!(status, 200, "{body}");
    send("POST", "/webhooks", json!({ "name": "flaky", "method": "POST", "url": format!("{base}/flaky"), "actions": "create,update", "collections": "other", "data": true, "status": "active" })).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    send("POST", "/items/articles", json!({ "title": "hi" })).await;
    send("PATCH", "/items/articles/1", json!({ "title": "not sent: update is not an action of that webhook" })).await;
    send("POST", "/items/other", json!({ "note": "x" })).await;
    let mut received = vec![];
    for _ in 0..50 {
        received = seen.lock().unwrap().clone();
        if received.iter().filter(|(_, p, _)| p == "/flaky").count() >= 2 && received.iter().any(|(_, p, _)| p == "/in") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let to_in: Vec<&Value> = received.iter().filter(|(_, p, _)| p == "/in").map(|(_, _, b)| b).collect();
    assert_eq!(to_in.len(), 1, "{received:?}");
    let body = to_in[0];
    assert_eq!((body["event"].clone(), body["collection"].clone(), body["item"].clone(), body["action"].clone()), (json!("items.create"), json!("articles"), json!(1), json!("create")));
    assert_eq!(body["payload"]["title"], "hi");
    assert!(body["accountability"]["user"].is_string());
    assert_eq!(received.iter().filter(|(m, p, _)| p == "/flaky" && m == "POST").count(), 2, "retried after a 500: {received:?}");
    assert!(server.stop().success());
}
