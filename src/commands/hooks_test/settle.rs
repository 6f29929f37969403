//! The event bus of a test case: the hook runtime, except that after-events are tracked so the
//! runner can wait until every after-hook a case set off has finished before it looks at rows,
//! outbound requests and logs. On a server they stay fire-and-forget.
//!
//! An after-event is dispatched through the runtime's awaited path (`emit_before`, whose result
//! is ignored), which runs the same listeners with the same arguments and `this.event`, and
//! hands back a rejection instead of only logging it; the runner logs it under the `hooks`
//! target, so it shows up among the case's logs as Directus's warning would.

use async_trait::async_trait;
use rectus_core::events::{EventArgs, EventBus};
use rectus_core::ApiError;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub struct SettlingBus {
    inner: Arc<dyn EventBus>,
    running: Arc<Running>,
}

/// How many after-events are still running, and a wake-up for whoever waits for zero.
#[derive(Default)]
struct Running {
    count: AtomicUsize,
    idle: Notify,
}

impl SettlingBus {
    pub fn new(inner: Arc<dyn EventBus>) -> Arc<SettlingBus> {
        Arc::new(SettlingBus { inner, running: Arc::default() })
    }

    /// Waits until no after-hook is running; false when `limit` passed first.
    pub async fn settle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.running.idle.notified();
            if self.running.count.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return false;
            }
        }
    }
}

#[async_trait]
impl EventBus for SettlingBus {
    fn has_listeners(&self, event: &str) -> bool {
        self.inner.has_listeners(event)
    }

    async fn emit_before(&self, event: &str, args: EventArgs) -> Result<Option<Value>, ApiError> {
        self.inner.emit_before(event, args).await
    }

    fn emit_after(&self, event: &str, args: EventArgs) {
        if !self.inner.has_listeners(event) {
            return;
        }
        // Counted before the task starts, so an after-hook that emits another event keeps the
        // count above zero until the nested one is counted too.
        self.running.count.fetch_add(1, Ordering::SeqCst);
        let (inner, running, event) = (self.inner.clone(), self.running.clone(), event.to_string());
        tokio::spawn(async move {
            if let Err(e) = inner.emit_before(&event, args).await {
                tracing::warn!(target: "hooks", "An error was thrown while executing hook \"{event}\": {}", e.message);
            }
            if running.count.fetch_sub(1, Ordering::SeqCst) == 1 {
                running.idle.notify_waiters();
            }
        });
    }

    async fn emit_awaited(&self, event: &str, args: EventArgs) {
        self.inner.emit_awaited(event, args).await
    }
}
