//! `RATE_LIMITER_ENABLED`: like Directus's memory store, each client IP may spend
//! `RATE_LIMITER_POINTS` requests per `RATE_LIMITER_DURATION` seconds (fixed windows); beyond
//! that the answer is 429 `REQUESTS_EXCEEDED` with `Retry-After`.
//!
//! `RATE_LIMITER_STORE=redis` keeps the windows in Redis so the points hold across instances
//! behind one load balancer. When Redis can't be reached the request passes (logged): an outage
//! of the limiter's store should not take the API down with it.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rectus_core::cluster::WindowCounter;
use rectus_core::{ApiError, ErrorCode};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::render;
use crate::extract::client_ip;

#[derive(Clone)]
pub struct RateLimiter {
    points: u32,
    window: Duration,
    windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
    /// The cluster-wide windows, instead of `windows`.
    shared: Option<Arc<dyn WindowCounter>>,
}

impl RateLimiter {
    pub fn new(points: u32, window: Duration) -> Self {
        RateLimiter { points, window, windows: Default::default(), shared: None }
    }

    /// Counts in `shared` rather than in this process.
    pub fn shared(self, counter: Arc<dyn WindowCounter>) -> Self {
        RateLimiter { shared: Some(counter), ..self }
    }

    /// Spends one point for `key` in the configured store.
    async fn spend(&self, key: &str) -> Result<(), Duration> {
        let Some(counter) = &self.shared else { return self.consume(key) };
        match counter.hit(key, self.window).await {
            Ok((count, left)) if count > self.points as u64 => Err(left),
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!("rate limiter store unavailable, letting the request through: {e}");
                Ok(())
            }
        }
    }

    /// Spends one point for `key`; `Err(wait)` when the window's points are used up.
    fn consume(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap();
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > self.points {
            return Err(self.window.saturating_sub(now.duration_since(entry.0)));
        }
        Ok(())
    }
}

pub async fn limit(State(limiter): State<RateLimiter>, req: Request, next: Next) -> Response {
    let ip = client_ip(&req).unwrap_or_default();
    match limiter.spend(&ip).await {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let reset = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
            let mut extensions = serde_json::Map::new();
            extensions.insert("limit".into(), json!(limiter.points));
            extensions.insert("reset".into(), json!(reset.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
            let error = ApiError::new(ErrorCode::RequestsExceeded, format!("Too many requests, retry after {}ms.", wait.as_millis())).with_extensions(extensions);
            let mut response = render(&error, false).into_response();
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = seconds.to_string().parse() {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_per_key() {
        let limiter = RateLimiter::new(2, Duration::from_millis(200));
        assert!(limiter.consume("a").is_ok());
        assert!(limiter.consume("a").is_ok());
        assert!(limiter.consume("a").is_err());
        assert!(limiter.consume("b").is_ok(), "keys are independent");
        std::thread::sleep(Duration::from_millis(220));
        assert!(limiter.consume("a").is_ok(), "a new window");
    }
}
