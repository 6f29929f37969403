//! Webhooks from `directus_webhooks` fire on item events to a local HTTP listener, filtered by
//! action and collection, in the background, with retries.

mod common;

use common::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A minimal HTTP listener recording `(method, path, body)`; `/flaky` fails its first request.
async fn listener() -> (String, Arc<Mutex<Vec<(String, String, Value)>>>) {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", socket.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = socket.accept().await.unwrap();
            let record = record.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head, body) = loop {
                    let n = stream.read(&mut chunk).await.unwrap_or(0);
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len = head.lines().find_map(|l| l.to_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))).unwrap_or(0);
                        if body.len() >= len || n == 0 {
                            break (head.to_string(), body.to_string());
                        }
                    }
                    if n == 0 {
                        break (text, String::new());
                    }
                };
                let mut parts = head.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
                let failures = {
                    let mut seen = record.lock().unwrap();
                    seen.push((method, path.clone(), serde_json::from_str(&body).unwrap_or(Value::Null)));
                    seen.iter().filter(|(_, p, _)| p == "/flaky").count()
                };
                let status = if path == "/flaky" && failures == 1 { "500 Internal Server Error" } else { "200 OK" };
                let _ = stream.write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes()).await;
            });
        }
    });
    (base, seen)
}

#[tokio::test]
async fn webhooks_fire_in_the_background() {
    let (base, seen) = listener().await;
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
