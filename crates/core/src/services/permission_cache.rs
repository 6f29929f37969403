//! The stored permission rows of each role and action, so a burst of a role's requests reads
//! `directus_permissions` once instead of once per request (and once per relation it expands).
//!
//! Like the token cache: entries live a short `ttl`, so rows changed behind Rectus's back (SQL, a
//! hook's `database`) apply within it; writes through the services to permissions, roles or a
//! collection's schema clear it here and, through the cluster bus, on the other instances.

use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cluster::{ClearedMap, Member};

/// The rows of one role (`None`: public) for one action, ordered by `id`.
pub type Rows = Arc<Vec<Map<String, Value>>>;

type Key = (Option<String>, String);

#[derive(Clone)]
pub struct PermissionCache {
    ttl: Duration,
    entries: ClearedMap<Key, (Rows, Instant)>,
}

/// The permission cache's name on the cluster bus.
const TOPIC: &str = "permissions";

impl PermissionCache {
    pub fn new(ttl: Duration) -> Self {
        PermissionCache { ttl, entries: ClearedMap::new(TOPIC) }
    }

    /// The cached rows of `role` for `action`, if still fresh.
    pub fn get(&self, role: Option<&str>, action: &str) -> Option<Rows> {
        let entries = self.entries.lock();
        let (rows, until) = entries.get(&(role.map(str::to_string), action.to_string()))?;
        (*until > Instant::now()).then(|| rows.clone())
    }

    pub fn put(&self, role: Option<&str>, action: &str, rows: Rows) {
        self.entries.lock().insert((role.map(str::to_string), action.to_string()), (rows, Instant::now() + self.ttl));
    }

    /// Forgets every role's rows here and on the other instances.
    pub fn clear(&self) {
        self.entries.clear();
    }

    /// This cache on the cluster bus: cleared here when permissions changed elsewhere.
    pub fn cluster_member(&self) -> Member {
        self.entries.cluster_member()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_kept_per_role_and_action_until_they_expire_or_are_cleared() {
        let cache = PermissionCache::new(Duration::from_millis(50));
        let rows: Rows = Arc::new(vec![Map::new()]);
        cache.put(Some("r"), "read", rows.clone());
        assert!(cache.get(Some("r"), "read").is_some());
        assert!(cache.get(Some("r"), "update").is_none() && cache.get(None, "read").is_none());
        cache.clear();
        assert!(cache.get(Some("r"), "read").is_none());
        cache.put(None, "read", rows);
        std::thread::sleep(Duration::from_millis(60));
        assert!(cache.get(None, "read").is_none(), "expired");
    }
}
