//! `SYNCHRONIZATION_STORE=memory`: nothing is shared, every instance runs every tick.

use async_trait::async_trait;
use std::time::Duration;

use super::CronLeases;

/// Grants every lease: the single-instance behaviour.
pub struct Unshared;

#[async_trait]
impl CronLeases for Unshared {
    async fn acquire(&self, _job: &str, _tick: chrono::DateTime<chrono::Utc>, _ttl: Duration) -> bool {
        true
    }
}
