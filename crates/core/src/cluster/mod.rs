//! Several Rectus instances behind one load balancer (issue #14).
//!
//! Three things have to hold across instances, each behind a small seam:
//!
//! - **Cache coherence** ([`ClusterBus`]): a cache that something changed (the schema, the
//!   resolved tokens, webhooks, a memory response cache) is a [`Member`] under a topic of its
//!   own: its invalidations are published, and a listener task on every other instance runs the
//!   handler the cache registered, which invalidates it there without publishing again (no echo
//!   loops). Messages carry the sender's instance id. The caches know this module; it knows none
//!   of them. Redis
//!   pub/sub when Redis is configured, else PostgreSQL `LISTEN`/`NOTIFY` on PostgreSQL, else
//!   nothing (SQLite is one process; MySQL has no notification channel). Both transports lose
//!   messages while disconnected, so a listener that reconnects drops every cache once.
//! - **Cron once per tick** ([`CronLeases`]): before running a job at a tick an instance takes a
//!   lease named after the job and the tick; only the winner runs it. `SYNCHRONIZATION_STORE`
//!   picks `memory` (default: every instance runs every tick, the single-instance behaviour),
//!   `redis` or `database` (PostgreSQL advisory locks). Leases are per tick, so an instance dying
//!   mid-run never blocks the next tick.
//! - **Shared rate limits** ([`WindowCounter`]): `RATE_LIMITER_STORE=redis` counts requests in
//!   Redis so the points hold across instances.
//!
//! Configuration follows Directus 10's names: `REDIS` (a URL) or `REDIS_HOST` / `REDIS_PORT` /
//! `REDIS_USERNAME` / `REDIS_PASSWORD` / `REDIS_DB`; `SYNCHRONIZATION_NAMESPACE` prefixes every
//! Redis key and channel so several deployments (or test runs) can share one Redis.

pub mod memory;
pub mod postgres;
pub mod redis;

use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::config::{Config, ConfigError, DbClient};
use crate::db::Database;

/// What a change on one instance makes the others forget: a cache's name on the wire, chosen
/// by the cache (`"schema"`, `"tokens"`, …).
pub type Topic = &'static str;

/// Sends invalidations to the other instances. Fire-and-forget: callers are synchronous cache
/// methods, and a lost message costs staleness, not correctness of the sender.
pub trait ClusterBus: Send + Sync {
    fn publish(&self, topic: Topic);
}

/// A cache's link to the other instances: empty until [`join`] connects a bus, so a single
/// instance (and every test that builds caches by hand) publishes nothing.
#[derive(Clone)]
pub struct Peers {
    topic: Topic,
    bus: Arc<OnceLock<Arc<dyn ClusterBus>>>,
}

impl Peers {
    pub fn new(topic: Topic) -> Peers {
        Peers { topic, bus: Default::default() }
    }

    /// Tells the other instances to invalidate this cache.
    pub fn notify(&self) {
        if let Some(bus) = self.bus.get() {
            bus.publish(self.topic);
        }
    }

    /// The cache as a member of the cluster: `on_remote` invalidates it on this instance when
    /// another one did (without publishing again: no echo loops).
    pub fn member(&self, on_remote: impl Fn() + Send + Sync + 'static) -> Member {
        Member { peers: self.clone(), on_remote: Arc::new(on_remote) }
    }
}

/// A cache [`join`] connects to the other instances.
#[derive(Clone)]
pub struct Member {
    peers: Peers,
    on_remote: Arc<dyn Fn() + Send + Sync>,
}

/// The entries of a cache that a change on any instance empties on all of them (the token and
/// permission caches).
pub struct ClearedMap<K, V> {
    entries: Arc<Mutex<HashMap<K, V>>>,
    peers: Peers,
}

// Not derived: that would ask for `K: Clone, V: Clone`, and clones share the entries anyway.
impl<K, V> Clone for ClearedMap<K, V> {
    fn clone(&self) -> Self {
        ClearedMap { entries: self.entries.clone(), peers: self.peers.clone() }
    }
}

impl<K: Send + 'static, V: Send + 'static> ClearedMap<K, V> {
    pub fn new(topic: Topic) -> Self {
        ClearedMap { entries: Default::default(), peers: Peers::new(topic) }
    }

    pub fn lock(&self) -> MutexGuard<'_, HashMap<K, V>> {
        self.entries.lock().unwrap()
    }

    /// Empties the map here and on the other instances.
    pub fn clear(&self) {
        self.lock().clear();
        self.peers.notify();
    }

    /// The map as a member of the cluster: emptied here when another instance cleared it.
    pub fn cluster_member(&self) -> Member {
        let entries = self.entries.clone();
        self.peers.member(move || entries.lock().unwrap().clear())
    }
}

/// A message on the wire: `<origin instance> <topic>`.
fn encode(origin: &str, topic: Topic) -> String {
    format!("{origin} {topic}")
}

/// The caches of this instance, as the listener tasks apply remote messages to them.
#[derive(Clone)]
pub struct Local {
    instance: String,
    members: Arc<Vec<Member>>,
}

impl Local {
    /// Applies a message from the wire unless this instance sent it.
    fn receive(&self, message: &str) {
        let Some((origin, topic)) = message.split_once(' ') else { return };
        if origin == self.instance {
            return;
        }
        let mut known = false;
        for member in self.members.iter().filter(|m| m.peers.topic == topic) {
            (member.on_remote)();
            known = true;
        }
        if !known {
            tracing::debug!("ignoring cluster message {message:?}");
        }
    }

    /// After a reconnect: whatever was published meanwhile is lost, so forget everything.
    fn apply_all(&self) {
        self.members.iter().for_each(|m| (m.on_remote)());
    }
}

/// May this instance run cron job `job` at `tick`? One caller per job and tick gets `true`
/// across the cluster; the lease lasts `ttl`, which only has to outlive the instances' clock
/// skew and scheduling lag (a later tick has its own lease).
#[async_trait]
pub trait CronLeases: Send + Sync {
    async fn acquire(&self, job: &str, tick: chrono::DateTime<chrono::Utc>, ttl: Duration) -> bool;
}

/// Counts hits of `key` in fixed windows of `window`: the count in the current window and the
/// time left in it.
#[async_trait]
pub trait WindowCounter: Send + Sync {
    async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), String>;
}

/// `SYNCHRONIZATION_STORE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStore {
    Memory,
    Redis,
    Database,
}

/// The cluster settings of the environment, checked before anything connects.
#[derive(Clone, Debug)]
pub struct Settings {
    pub sync: SyncStore,
    pub namespace: String,
    pub redis_url: Option<String>,
}

impl Settings {
    pub fn from_config(config: &Config) -> Result<Settings, ConfigError> {
        let env = &config.env;
        let sync = match env.string("SYNCHRONIZATION_STORE").as_deref() {
            None | Some("memory") => SyncStore::Memory,
            Some("redis") => SyncStore::Redis,
            Some("database") => SyncStore::Database,
            Some(other) => return Err(ConfigError::invalid("SYNCHRONIZATION_STORE", format!("\"{other}\" is not memory, redis or database"))),
        };
        let redis_url = redis_url(env, "REDIS")?;
        if sync == SyncStore::Redis && redis_url.is_none() {
            return Err(ConfigError::invalid("SYNCHRONIZATION_STORE", "redis needs REDIS or REDIS_HOST"));
        }
        if sync == SyncStore::Database && config.db.client != DbClient::Postgres {
            return Err(ConfigError::invalid("SYNCHRONIZATION_STORE", "database needs DB_CLIENT=pg (advisory locks)"));
        }
        rate_limit_counter(env)?;
        Ok(Settings { sync, namespace: namespace(env), redis_url })
    }
}

fn namespace(env: &crate::config::Env) -> String {
    env.string("SYNCHRONIZATION_NAMESPACE").unwrap_or_else(|| "rectus".into())
}

/// The shared counter of `RATE_LIMITER_STORE=redis` (Redis from `RATE_LIMITER_REDIS`, a URL
/// as in Directus 9, else the `REDIS` settings); `None` for the default `memory` store.
pub fn rate_limit_counter(env: &crate::config::Env) -> Result<Option<Arc<dyn WindowCounter>>, ConfigError> {
    match env.string("RATE_LIMITER_STORE").as_deref() {
        None | Some("memory") => Ok(None),
        Some("redis") => {
            let url = match redis_url(env, "RATE_LIMITER_REDIS")? {
                Some(url) => url,
                None => redis_url(env, "REDIS")?.ok_or_else(|| ConfigError::invalid("RATE_LIMITER_STORE", "redis needs RATE_LIMITER_REDIS, REDIS or REDIS_HOST"))?,
            };
            let counter = redis::Counter::open(&url, &format!("{}:rate-limit:", namespace(env))).map_err(|e| ConfigError::invalid("RATE_LIMITER_REDIS", e.to_string()))?;
            Ok(Some(Arc::new(counter)))
        }
        Some(other) => Err(ConfigError::invalid("RATE_LIMITER_STORE", format!("\"{other}\" is not memory or redis"))),
    }
}

/// The Redis URL of the `<prefix>` settings: `<prefix>` itself (a URL) or
/// `<prefix>_HOST` / `_PORT` / `_USERNAME` / `_PASSWORD` / `_DB`; `None` when neither is set.
pub fn redis_url(env: &crate::config::Env, prefix: &str) -> Result<Option<String>, ConfigError> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    if let Some(url) = env.string(prefix).filter(|u| !u.is_empty()) {
        ::redis::Client::open(url.as_str()).map_err(|e| ConfigError::invalid(prefix, e.to_string()))?;
        return Ok(Some(url));
    }
    let var = |suffix: &str| env.string(&format!("{prefix}_{suffix}")).filter(|v| !v.is_empty());
    let Some(host) = var("HOST") else { return Ok(None) };
    let port = var("PORT").unwrap_or_else(|| "6379".into());
    if port.parse::<u16>().is_err() {
        return Err(ConfigError::invalid(&format!("{prefix}_PORT"), format!("\"{port}\" is not a port number")));
    }
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let auth = match (var("USERNAME"), var("PASSWORD")) {
        (user, Some(password)) => format!("{}:{}@", enc(&user.unwrap_or_default()), enc(&password)),
        (Some(user), None) => format!("{}@", enc(&user)),
        (None, None) => String::new(),
    };
    let db = var("DB").unwrap_or_else(|| "0".into());
    Ok(Some(format!("redis://{auth}{host}:{port}/{db}")))
}

/// This instance's membership: the leases its cron jobs take.
pub struct Cluster {
    pub leases: Arc<dyn CronLeases>,
}

/// Connects the caches to the other instances and picks the cron lease store. Fails when a
/// configured Redis or the PostgreSQL listener can't be reached, rather than serving stale
/// caches silently.
pub async fn join(config: &Config, settings: &Settings, db: &Database, members: Vec<Member>) -> anyhow::Result<Cluster> {
    let instance = uuid::Uuid::new_v4().simple().to_string();
    let local = Local { instance: instance.clone(), members: Arc::new(members) };
    let bus: Option<Arc<dyn ClusterBus>> = if let Some(url) = &settings.redis_url {
        Some(redis::subscribe(url, &settings.namespace, local.clone()).await?)
    } else if db.client() == DbClient::Postgres {
        Some(postgres::subscribe(config, &settings.namespace, db, local.clone()).await?)
    } else {
        None
    };
    if let Some(bus) = bus {
        for member in local.members.iter() {
            let _ = member.peers.bus.set(bus.clone());
        }
    }
    let leases: Arc<dyn CronLeases> = match settings.sync {
        SyncStore::Memory => Arc::new(memory::Unshared),
        SyncStore::Redis => Arc::new(redis::Leases::open(settings.redis_url.as_deref().unwrap_or_default(), &settings.namespace, &instance)?),
        SyncStore::Database => Arc::new(postgres::Leases::new(config, &settings.namespace)),
    };
    Ok(Cluster { leases })
}

/// FNV-1a: a hash that is the same in every build, for names shared between instances.
fn stable_hash(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf29ce484222325;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= byte as u64;
            hash = hash.wrapping_mul(0x100000001b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    #[test]
    fn redis_urls() {
        let url = |pairs: &[(&str, &str)]| redis_url(&Env::from_pairs(pairs.iter().copied()), "REDIS").unwrap();
        assert_eq!(url(&[]), None);
        assert_eq!(url(&[("REDIS", "redis://cache:6380/2")]).as_deref(), Some("redis://cache:6380/2"));
        assert_eq!(url(&[("REDIS_HOST", "cache")]).as_deref(), Some("redis://cache:6379/0"));
        assert_eq!(url(&[("REDIS_HOST", "cache"), ("REDIS_PASSWORD", "p@ss"), ("REDIS_DB", "3")]).as_deref(), Some("redis://:p%40ss@cache:6379/3"));
        assert!(redis_url(&Env::from_pairs([("REDIS_HOST", "cache"), ("REDIS_PORT", "x")]), "REDIS").is_err());
    }

    #[test]
    fn messages_of_other_instances_run_their_topic_s_handlers() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (schema, tokens) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let counter = |n: &Arc<AtomicUsize>| {
            let n = n.clone();
            move || {
                n.fetch_add(1, Ordering::SeqCst);
            }
        };
        let members = vec![Peers::new("schema").member(counter(&schema)), Peers::new("tokens").member(counter(&tokens))];
        let local = Local { instance: "me".into(), members: Arc::new(members) };
        assert_eq!(encode("a1", "schema"), "a1 schema");
        local.receive("a1 schema");
        local.receive("me tokens");
        local.receive("a1 bogus");
        assert_eq!((schema.load(Ordering::SeqCst), tokens.load(Ordering::SeqCst)), (1, 0), "its own message and unknown topics change nothing");
        local.apply_all();
        assert_eq!((schema.load(Ordering::SeqCst), tokens.load(Ordering::SeqCst)), (2, 1));
    }

    #[test]
    fn stable_hash_is_stable() {
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
    }
}
