//! The outbound HTTP mock of a case: a local server on an ephemeral port whose URL replaces
//! `{{mock_url}}` in the case (env, seed rows, inputs), so hooks and webhooks send their requests
//! here. It records every request and answers from the case's `mock` list (first match by
//! method and path), else 200 `{}`.

use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::case::MockResponse;

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query as received.
    pub path: String,
    /// The body as JSON when it parses, else as a string (`null` when empty).
    pub body: Value,
}

impl Recorded {
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "method": self.method, "path": self.path, "body": self.body })
    }
}

pub struct MockServer {
    pub url: String,
    received: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl MockServer {
    pub async fn start(responses: Vec<MockResponse>) -> std::io::Result<MockServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let received: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let record = received.clone();
        let responses = Arc::new(responses);
        let app = axum::Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
            let (record, responses) = (record.clone(), responses.clone());
            async move {
                let path = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
                let body = match serde_json::from_slice(&body) {
                    Ok(json) => json,
                    Err(_) if body.is_empty() => Value::Null,
                    Err(_) => Value::String(String::from_utf8_lossy(&body).into_owned()),
                };
                let answer = responses
                    .iter()
                    .find(|r| r.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str())) && r.path == uri.path())
                    .map(|r| (StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK), r.body.clone()))
                    .unwrap_or((StatusCode::OK, serde_json::json!({})));
                record.lock().unwrap().push(Recorded { method: method.to_string(), path, body });
                (answer.0, Json(answer.1)).into_response()
            }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(MockServer { url, received, task })
    }

    /// The requests received so far, after waiting (up to `limit`) for at least `expected` of
    /// them: webhooks are sent from background tasks that may still be on their way.
    pub async fn received(&self, expected: usize, limit: Duration) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + limit;
        while self.received.lock().unwrap().len() < expected && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.received.lock().unwrap().clone()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
