//! A minimal HTTP listener for outbound calls (webhooks): it records `(method, path, JSON body)`
//! of every request and answers 200, except the first request to `/flaky`, which gets a 500.

use serde_json::Value;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

/// The listener's base URL and what it received so far.
pub async fn listener() -> (String, Seen) {
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
