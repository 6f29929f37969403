//! The shared store: entries in Redis under `<namespace>:<generation>:<key>`, with `PX` expiry.
//! A purge increments `<namespace>:generation`, so every instance stops reading the old entries
//! in one command, and Redis expires them later; no key scans.

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use std::time::Duration;

use super::{ResponseStore, Stored};

/// A request waits at most this long for the cache before it is served without it.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

pub struct Redis {
    conn: ConnectionManager,
    namespace: String,
}

impl Redis {
    /// Connects lazily: nothing is sent before the first request.
    pub fn open(url: &str, namespace: &str) -> anyhow::Result<Redis> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new().set_connection_timeout(Some(RESPONSE_TIMEOUT)).set_response_timeout(Some(RESPONSE_TIMEOUT)).set_number_of_retries(1);
        Ok(Redis { conn: ConnectionManager::new_lazy_with_config(client, config)?, namespace: namespace.to_string() })
    }

    fn generation_key(&self) -> String {
        format!("{}:generation", self.namespace)
    }

    async fn entry_key(&self, key: &str) -> redis::RedisResult<String> {
        let generation: Option<u64> = self.conn.clone().get(self.generation_key()).await?;
        Ok(format!("{}:{}:{key}", self.namespace, generation.unwrap_or(0)))
    }
}

/// Stored as `<expires_at_ms> <body>`.
fn encode(stored: &Stored) -> Vec<u8> {
    let mut out = format!("{} ", stored.expires_at_ms).into_bytes();
    out.extend_from_slice(&stored.body);
    out
}

fn decode(raw: Vec<u8>) -> Option<Stored> {
    let space = raw.iter().position(|b| *b == b' ')?;
    let expires_at_ms = std::str::from_utf8(&raw[..space]).ok()?.parse().ok()?;
    Some(Stored { body: bytes::Bytes::copy_from_slice(&raw[space + 1..]), expires_at_ms })
}

#[async_trait]
impl ResponseStore for Redis {
    async fn get(&self, key: &str) -> Option<Stored> {
        let read = async {
            let key = self.entry_key(key).await?;
            self.conn.clone().get::<_, Option<Vec<u8>>>(key).await
        };
        match read.await {
            Ok(raw) => raw.and_then(decode),
            Err(e) => {
                tracing::warn!("response cache: can't read from Redis: {e}");
                None
            }
        }
    }

    async fn set(&self, key: &str, stored: Stored, ttl: Duration) {
        let write = async {
            let key = self.entry_key(key).await?;
            self.conn.clone().pset_ex::<_, _, ()>(key, encode(&stored), ttl.as_millis() as u64).await
        };
        if let Err(e) = write.await {
            tracing::warn!("response cache: can't write to Redis: {e}");
        }
    }

    async fn clear(&self) {
        if let Err(e) = self.conn.clone().incr::<_, _, u64>(self.generation_key(), 1).await {
            tracing::warn!("response cache: can't purge in Redis: {e}");
        }
    }

    fn shared(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        let stored = Stored { body: bytes::Bytes::from_static(b"{\"data\": 1}"), expires_at_ms: 42 };
        let back = decode(encode(&stored)).unwrap();
        assert_eq!((back.body, back.expires_at_ms), (stored.body, 42));
        assert!(decode(b"nospace".to_vec()).is_none());
    }
}
