//! The response cache of `CACHE_ENABLED` (spec §6.3, §7.1): successful JSON answers to `GET`
//! requests, keyed by user, path and query, kept for `CACHE_TTL` in memory or in Redis.
//!
//! What a Directus user gets, and what we decided where Directus was vague or buggy:
//! - A hit answers without running any service, so no read hooks fire (as in Directus).
//! - A request with `Cache-Control: no-cache` or `no-store` skips the lookup; its fresh answer
//!   replaces the stored one.
//! - `CACHE_AUTO_PURGE=true`: every write through the items, system or schema services empties
//!   the whole cache before the write's response is sent (Directus clears the namespace too).
//!   With `CACHE_STORE=redis` the purge is one `INCR` of the namespace's generation, which every
//!   instance sees at once; with the memory store it also travels over the cluster bus.
//! - `Cache-Control` of cached answers: `no-cache` when auto-purge is on (the answer can go stale
//!   any moment), else `public` (no role) or `private`, `max-age` in *seconds* of what is left of
//!   the entry's life (Directus sent milliseconds on a hit, a bug), plus `s-maxage` from
//!   `CACHE_CONTROL_S_MAXAGE` (default `0`; `false` leaves it out, `true` copies `max-age`).
//!   A request that asked for `no-cache` gets `no-store`.
//! - Answers over 8 MB, and list answers streamed as they are read (`limit=-1` past one batch),
//!   are served but not stored: keeping them would hold in memory what streaming avoids.
//! - `CACHE_STORE=memcache` is refused at start with a clear line; memory is bounded at
//!   [`MEMORY_LIMIT_BYTES`] of bodies.

mod memory;
mod redis;

use async_trait::async_trait;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cluster::{Member, Peers};
use crate::config::{parse_duration_ms, ConfigError, Env};

pub use memory::MEMORY_LIMIT_BYTES;

/// The response cache's name on the cluster bus.
const TOPIC: &str = "responses";

/// A stored answer and when it stops being served (ms since the epoch).
#[derive(Clone, Debug)]
pub struct Stored {
    pub body: Bytes,
    pub expires_at_ms: u64,
}

/// Where answers live. Errors of a remote store are logged by the store and read as a miss:
/// a cache that is down slows requests, it never fails them.
#[async_trait]
pub trait ResponseStore: Send + Sync {
    async fn get(&self, key: &str) -> Option<Stored>;
    async fn set(&self, key: &str, stored: Stored, ttl: Duration);
    async fn clear(&self);
    /// Whether every instance reads the same entries (then a purge needs no cluster message).
    fn shared(&self) -> bool;
}

struct Settings {
    store: Arc<dyn ResponseStore>,
    ttl: Duration,
    auto_purge: bool,
    s_maxage: Option<SMaxAge>,
    peers: Peers,
}

#[derive(Clone, Debug, PartialEq)]
enum SMaxAge {
    SameAsMaxAge,
    Fixed(String),
}

/// The response cache; a disabled one does nothing and costs nothing.
#[derive(Clone, Default)]
pub struct ResponseCache(Option<Arc<Settings>>);

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl ResponseCache {
    pub fn disabled() -> ResponseCache {
        ResponseCache(None)
    }

    /// The cache the environment asks for; `CACHE_*` errors name the variable.
    pub fn from_env(env: &Env) -> Result<ResponseCache, ConfigError> {
        if env.bool("CACHE_ENABLED") != Some(true) {
            return Ok(ResponseCache::disabled());
        }
        let ttl = match env.string("CACHE_TTL") {
            None => Duration::from_secs(300),
            Some(text) => Duration::from_millis(parse_duration_ms(&text).filter(|ms| *ms > 0).ok_or_else(|| ConfigError::invalid("CACHE_TTL", format!("\"{text}\" is not a duration")))?),
        };
        let namespace = env.string("CACHE_NAMESPACE").unwrap_or_else(|| "system-cache".into());
        let store: Arc<dyn ResponseStore> = match env.string("CACHE_STORE").as_deref() {
            None | Some("memory") => Arc::new(memory::Memory::new(ttl)),
            Some("redis") => {
                let url = match crate::cluster::redis_url(env, "CACHE_REDIS")? {
                    Some(url) => url,
                    None => crate::cluster::redis_url(env, "REDIS")?.ok_or_else(|| ConfigError::invalid("CACHE_STORE", "redis needs CACHE_REDIS, REDIS or REDIS_HOST"))?,
                };
                Arc::new(redis::Redis::open(&url, &namespace).map_err(|e| ConfigError::invalid("CACHE_REDIS", e.to_string()))?)
            }
            Some(other) => return Err(ConfigError::invalid("CACHE_STORE", format!("\"{other}\" is not supported; use memory or redis"))),
        };
        let s_maxage = match env.get("CACHE_CONTROL_S_MAXAGE") {
            None => Some(SMaxAge::Fixed("0".into())),
            Some(serde_json::Value::Bool(false)) => None,
            Some(serde_json::Value::Bool(true)) => Some(SMaxAge::SameAsMaxAge),
            Some(_) => match env.string("CACHE_CONTROL_S_MAXAGE").as_deref() {
                Some("false") => None,
                Some("true") => Some(SMaxAge::SameAsMaxAge),
                Some(v) if v.parse::<u64>().is_ok() => Some(SMaxAge::Fixed(v.to_string())),
                other => return Err(ConfigError::invalid("CACHE_CONTROL_S_MAXAGE", format!("{other:?} is not a number of seconds, true or false"))),
            },
        };
        let auto_purge = env.bool("CACHE_AUTO_PURGE") == Some(true);
        Ok(ResponseCache(Some(Arc::new(Settings { store, ttl, auto_purge, s_maxage, peers: Peers::new(TOPIC) }))))
    }

    pub fn enabled(&self) -> bool {
        self.0.is_some()
    }

    /// This cache on the cluster bus, when enabled: purged here when another instance purged
    /// its own (memory stores only read their own; a shared store needs no message).
    pub fn cluster_member(&self) -> Option<Member> {
        let settings = self.0.as_ref()?;
        let cache = self.clone();
        Some(settings.peers.member(move || {
            let cache = cache.clone();
            tokio::spawn(async move { cache.purge_local().await });
        }))
    }

    /// The entry of a request: who asks (`None` for the public role), the path and the query
    /// without the access token, its pairs sorted so their order doesn't split entries.
    pub fn key(user: Option<&str>, path: &str, query: &str) -> String {
        let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("access_token=")).collect();
        pairs.sort_unstable();
        let mut hash = Sha256::new();
        for part in [user.unwrap_or(""), "\0", path, "\0", &pairs.join("&")] {
            hash.update(part.as_bytes());
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub async fn get(&self, key: &str) -> Option<Stored> {
        let settings = self.0.as_ref()?;
        settings.store.get(key).await.filter(|s| s.expires_at_ms > now_ms())
    }

    /// Stores an answer for `CACHE_TTL` and returns its `Cache-Control`.
    pub async fn set(&self, key: &str, body: Bytes, public: bool) -> Option<String> {
        let settings = self.0.as_ref()?;
        let stored = Stored { body, expires_at_ms: now_ms() + settings.ttl.as_millis() as u64 };
        let header = self.cache_control(&stored, public);
        settings.store.set(key, stored, settings.ttl).await;
        header
    }

    /// The `Cache-Control` header of a stored answer (see the module docs).
    pub fn cache_control(&self, stored: &Stored, public: bool) -> Option<String> {
        let settings = self.0.as_ref()?;
        if settings.auto_purge {
            return Some("no-cache".into());
        }
        let seconds = stored.expires_at_ms.saturating_sub(now_ms()).div_ceil(1000);
        let mut header = format!("{}, max-age={seconds}", if public { "public" } else { "private" });
        match &settings.s_maxage {
            Some(SMaxAge::SameAsMaxAge) => header.push_str(&format!(", s-maxage={seconds}")),
            Some(SMaxAge::Fixed(v)) => header.push_str(&format!(", s-maxage={v}")),
            None => {}
        }
        Some(header)
    }

    /// Called after every committed write: with `CACHE_AUTO_PURGE`, nothing cached survives it.
    pub async fn after_write(&self) {
        if self.0.as_ref().is_some_and(|s| s.auto_purge) {
            self.purge().await;
        }
    }

    /// Empties the cache here and, for a per-instance store, on the other instances.
    pub async fn purge(&self) {
        let Some(settings) = self.0.as_ref() else { return };
        settings.store.clear().await;
        if !settings.store.shared() {
            settings.peers.notify();
        }
    }

    /// Another instance purged: empty this instance's own store.
    pub async fn purge_local(&self) {
        if let Some(settings) = self.0.as_ref() {
            settings.store.clear().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(pairs: &[(&str, &str)]) -> Result<ResponseCache, ConfigError> {
        let mut all = vec![("CACHE_ENABLED", "true")];
        all.extend_from_slice(pairs);
        ResponseCache::from_env(&Env::from_pairs(all))
    }

    #[test]
    fn keys_ignore_pair_order_and_the_access_token() {
        let a = ResponseCache::key(None, "/items/a", "limit=1&fields=id");
        assert_eq!(a, ResponseCache::key(None, "/items/a", "fields=id&limit=1&access_token=x"));
        assert_ne!(a, ResponseCache::key(Some("u1"), "/items/a", "fields=id&limit=1"));
        assert_ne!(a, ResponseCache::key(None, "/items/b", "fields=id&limit=1"));
    }

    #[test]
    fn settings_are_checked() {
        assert!(!ResponseCache::from_env(&Env::from_pairs([])).unwrap().enabled());
        assert!(cache(&[]).unwrap().enabled());
        assert!(cache(&[("CACHE_STORE", "memcache")]).err().unwrap().to_string().contains("CACHE_STORE"));
        assert!(cache(&[("CACHE_TTL", "soon")]).err().unwrap().to_string().contains("CACHE_TTL"));
        assert!(cache(&[("CACHE_STORE", "redis")]).err().unwrap().to_string().contains("CACHE_STORE"));
    }

    #[tokio::test]
    async fn headers_follow_the_settings() {
        let stored = Stored { body: Bytes::new(), expires_at_ms: now_ms() + 60_000 };
        let plain = cache(&[("CACHE_TTL", "1m")]).unwrap();
        assert_eq!(plain.cache_control(&stored, true).unwrap(), "public, max-age=60, s-maxage=0");
        assert_eq!(plain.cache_control(&stored, false).unwrap(), "private, max-age=60, s-maxage=0");
        let same = cache(&[("CACHE_CONTROL_S_MAXAGE", "true")]).unwrap();
        assert_eq!(same.cache_control(&stored, true).unwrap(), "public, max-age=60, s-maxage=60");
        let none = cache(&[("CACHE_CONTROL_S_MAXAGE", "false")]).unwrap();
        assert_eq!(none.cache_control(&stored, true).unwrap(), "public, max-age=60");
        let purging = cache(&[("CACHE_AUTO_PURGE", "true")]).unwrap();
        assert_eq!(purging.cache_control(&stored, true).unwrap(), "no-cache");
    }

    #[tokio::test]
    async fn memory_entries_live_until_purged() {
        let cache = cache(&[]).unwrap();
        cache.set("k", Bytes::from_static(b"{}"), true).await;
        assert_eq!(cache.get("k").await.unwrap().body, Bytes::from_static(b"{}"));
        cache.purge().await;
        assert!(cache.get("k").await.is_none());
    }
}
