//! Several Rectus instances behind one load balancer (issue #14).
//!
//! Three things have to hold across instances, each behind a small seam:
//!
//! - **Cache coherence** ([`ClusterBus`]): a change that invalidates the [`SchemaCache`] or
//!   clears the [`TokenCache`] on one instance is published, and a listener task on every other
//!   instance applies it locally. Messages carry the sender's instance id, and applying a remote
//!   message uses the caches' `*_local` methods, which don't publish: no echo loops. Redis
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
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::auth::tokens::TokenCache;
use crate::cache::ResponseCache;
use crate::config::{Config, ConfigError, DbClient};
use crate::db::Database;
use crate::schema::SchemaCache;
use crate::services::webhooks::WebhookList;

/// What a change on one instance makes the others forget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalidation {
    Schema,
    Tokens,
    /// The response cache of a per-instance (memory) store.
    Responses,
    Webhooks,
}

impl Invalidation {
    fn as_str(self) -> &'static str {
        match self {
            Invalidation::Schema => "schema",
            Invalidation::Tokens => "tokens",
            Invalidation::Responses => "responses",
            Invalidation::Webhooks => "webhooks",
        }
    }

    fn parse(s: &str) -> Option<Invalidation> {
        match s {
            "schema" => Some(Invalidation::Schema),
            "tokens" => Some(Invalidation::Tokens),
            "responses" => Some(Invalidation::Responses),
            "webhooks" => Some(Invalidation::Webhooks),
            _ => None,
        }
    }
}

/// Sends invalidations to the other instances. Fire-and-forget: callers are synchronous cache
/// methods, and a lost message costs staleness, not correctness of the sender.
pub trait ClusterBus: Send + Sync {
    fn publish(&self, what: Invalidation);
}

/// The caches' link to the other instances: empty until [`join`] connects a bus, so a single
/// instance (and every test that builds caches by hand) publishes nothing.
#[derive(Clone, Default)]
pub struct Peers(Arc<OnceLock<Arc<dyn ClusterBus>>>);

impl Peers {
    pub fn notify(&self, what: Invalidation) {
        if let Some(bus) = self.0.get() {
            bus.publish(what);
        }
    }

    fn connect(&self, bus: Arc<dyn ClusterBus>) {
        let _ = self.0.set(bus);
    }
}

/// A message on the wire: `<origin instance> <invalidation>`.
fn encode(origin: &str, what: Invalidation) -> String {
    format!("{origin} {}", what.as_str())
}

/// What an instance keeps that a change elsewhere makes stale.
#[derive(Clone)]
pub struct Caches {
    pub schema: SchemaCache,
    pub tokens: TokenCache,
    pub responses: ResponseCache,
    pub webhooks: WebhookList,
}

/// The caches of this instance, as the listener tasks apply remote messages to them.
#[derive(Clone)]
pub struct Local {
    instance: String,
    caches: Caches,
}

impl Local {
    /// Applies a message from the wire unless this instance sent it.
    fn receive(&self, message: &str) {
        let Some((origin, what)) = message.split_once(' ') else { return };
        if origin == self.instance {
            return;
        }
        match Invalidation::parse(what) {
            Some(what) => self.apply(what),
            None => tracing::debug!("ignoring cluster message {message:?}"),
        }
    }

    fn apply(&self, what: Invalidation) {
        let caches = &self.caches;
        match what {
            Invalidation::Schema => caches.schema.invalidate_local(),
            Invalidation::Tokens => caches.tokens.clear_local(),
            Invalidation::Responses => {
                let responses = caches.responses.clone();
                tokio::spawn(async move { responses.purge_local().await });
            }
            Invalidation::Webhooks => caches.webhooks.reload_local(),
        }
    }

    /// After a reconnect: whatever was published meanwhile is lost, so forget everything.
    fn apply_all(&self) {
        self.apply(Invalidation::Schema);
        self.apply(Invalidation::Tokens);
        self.apply(Invalidation::Responses);
        self.apply(Invalidation::Webhooks);
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
pub async fn join(config: &Config, settings: &Settings, db: &Database, caches: &Caches) -> anyhow::Result<Cluster> {
    let instance = uuid::Uuid::new_v4().simple().to_string();
    let local = Local { instance: instance.clone(), caches: caches.clone() };
    let bus: Option<Arc<dyn ClusterBus>> = if let Some(url) = &settings.redis_url {
        Some(redis::subscribe(url, &settings.namespace, local).await?)
    } else if db.client() == DbClient::Postgres {
        Some(postgres::subscribe(config, &settings.namespace, db, local).await?)
    } else {
        None
    };
    if let Some(bus) = bus {
        caches.schema.peers().connect(bus.clone());
        if let Some(peers) = caches.responses.peers() {
            peers.connect(bus.clone());
        }
        caches.webhooks.peers().connect(bus.clone());
        caches.tokens.peers().connect(bus);
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
    fn own_messages_are_not_applied() {
        assert_eq!(encode("a1", Invalidation::Schema), "a1 schema");
        assert_eq!(Invalidation::parse("tokens"), Some(Invalidation::Tokens));
        assert_eq!(Invalidation::parse("bogus"), None);
    }

    #[test]
    fn stable_hash_is_stable() {
        assert_eq!(stable_hash(&["a", "b"]), stable_hash(&["a", "b"]));
        assert_ne!(stable_hash(&["ab", ""]), stable_hash(&["a", "b"]));
    }
}
