//! The per-instance store: a bounded moka cache whose entries all live `CACHE_TTL`.

use async_trait::async_trait;
use std::time::Duration;

use super::{ResponseStore, Stored};

/// Bodies kept at most, in bytes; the least used entries go first.
pub const MEMORY_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

pub struct Memory(moka::sync::Cache<String, Stored>);

impl Memory {
    pub fn new(ttl: Duration) -> Memory {
        let cache = moka::sync::Cache::builder()
            .max_capacity(MEMORY_LIMIT_BYTES)
            .weigher(|key: &String, stored: &Stored| (key.len() + stored.body.len()).try_into().unwrap_or(u32::MAX))
            .time_to_live(ttl)
            .build();
        Memory(cache)
    }
}

#[async_trait]
impl ResponseStore for Memory {
    async fn get(&self, key: &str) -> Option<Stored> {
        self.0.get(key)
    }

    async fn set(&self, key: &str, stored: Stored, _ttl: Duration) {
        self.0.insert(key.to_string(), stored);
    }

    async fn clear(&self) {
        self.0.invalidate_all();
    }

    fn shared(&self) -> bool {
        false
    }
}
