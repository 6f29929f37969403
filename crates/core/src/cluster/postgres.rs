//! PostgreSQL when it is the only thing the instances share: `LISTEN`/`NOTIFY` for
//! invalidations and advisory locks for cron leases.
//!
//! Why session advisory locks held for the lease's `ttl` rather than
//! `pg_try_advisory_xact_lock`: a transaction lock is gone when the winner's transaction ends,
//! so an instance whose clock or scheduler is a few milliseconds late would take the same tick
//! again. Holding the lock (on a connection of its own, outside the pool) until the lease
//! expires closes that window, and a crashed instance's locks vanish with its connection. No
//! table is involved, so nothing shows up in the schema. Lock keys hash the namespace, the
//! database URL (database and search path), the job and the tick: advisory locks and
//! notification channels are per database, and several schemas may share one.

use async_trait::async_trait;
use sqlx::postgres::PgListener;
use sqlx::{Connection, PgConnection};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::{encode, stable_hash, ClusterBus, CronLeases, Local, Topic};
use crate::config::Config;
use crate::db::Database;

fn channel(config: &Config, namespace: &str) -> String {
    format!("rectus_{:016x}", stable_hash(&[namespace, &config.db.url]))
}

struct Bus {
    db: Database,
    channel: String,
    instance: String,
}

impl ClusterBus for Bus {
    fn publish(&self, topic: Topic) {
        let (db, channel, message) = (self.db.clone(), self.channel.clone(), encode(&self.instance, topic));
        tokio::spawn(async move {
            let params = [channel.into(), message.clone().into()];
            if let Err(e) = db.query("SELECT pg_notify($1, $2)", &params).await {
                tracing::warn!("can't tell the other instances ({message}) through NOTIFY: {}", e.message());
            }
        });
    }
}

/// Listens on the deployment's channel (failing if that isn't possible now) and returns the
/// bus that notifies it.
pub async fn subscribe(config: &Config, namespace: &str, db: &Database, local: Local) -> anyhow::Result<Arc<dyn ClusterBus>> {
    let channel = channel(config, namespace);
    let listener = open_listener(&config.db.url, &channel).await.map_err(|e| anyhow::anyhow!("can't LISTEN on PostgreSQL: {e}"))?;
    let bus = Bus { db: db.clone(), channel: channel.clone(), instance: local.instance.clone() };
    tokio::spawn(listen(config.db.url.clone(), channel, listener, local));
    Ok(Arc::new(bus))
}

async fn open_listener(url: &str, channel: &str) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

/// Applies the other instances' notifications for the life of the process. A lost connection
/// is replaced, and then every cache dropped: notifications sent meanwhile are gone.
async fn listen(url: String, channel: String, mut listener: PgListener, local: Local) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => local.receive(notification.payload()),
            Ok(None) | Err(_) => {
                tracing::warn!("lost the PostgreSQL LISTEN connection; caches may be stale until it is back");
                listener = loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match open_listener(&url, &channel).await {
                        Ok(fresh) => break fresh,
                        Err(e) => tracing::debug!("can't LISTEN again yet: {e}"),
                    }
                };
                tracing::info!("PostgreSQL LISTEN connection is back");
                local.apply_all();
            }
        }
    }
}

/// The lease connection and the locks taken on it.
#[derive(Default)]
struct LockConnection {
    connection: Option<PgConnection>,
    /// Counts reconnects, so a release meant for a lost connection is not sent to its successor.
    generation: u64,
    /// Advisory locks are re-entrant within a session; this makes a second `acquire` of the
    /// same lease on this instance (say, by two hook generations during a reload) fail.
    held: HashSet<i64>,
}

pub struct Leases {
    url: String,
    scope: String,
    state: Arc<tokio::sync::Mutex<LockConnection>>,
}

impl Leases {
    pub fn new(config: &Config, namespace: &str) -> Leases {
        Leases { url: config.db.url.clone(), scope: format!("{namespace}\0{}", config.db.url), state: Default::default() }
    }
}

#[async_trait]
impl CronLeases for Leases {
    async fn acquire(&self, job: &str, tick: chrono::DateTime<chrono::Utc>, ttl: Duration) -> bool {
        let key = stable_hash(&[&self.scope, job, &tick.timestamp_millis().to_string()]) as i64;
        let mut state = self.state.lock().await;
        if state.held.contains(&key) {
            return false;
        }
        if state.connection.is_none() {
            match PgConnection::connect(&self.url).await {
                Ok(c) => {
                    state.connection = Some(c);
                    state.generation += 1;
                }
                Err(e) => {
                    tracing::warn!("can't connect for cron leases, skipping the tick of {job}: {e}");
                    return false;
                }
            }
        }
        let connection = state.connection.as_mut().expect("connected above");
        let taken = sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(connection).await;
        match taken {
            Ok(false) => false,
            Ok(true) => {
                state.held.insert(key);
                let (state, generation) = (self.state.clone(), state.generation);
                tokio::spawn(async move {
                    tokio::time::sleep(ttl).await;
                    release(&state, generation, key).await;
                });
                true
            }
            // The locks of the broken session are gone with it; start over next time.
            Err(e) => {
                tracing::warn!("can't take the cron lease of {job}, skipping the tick: {e}");
                *state = LockConnection { generation: state.generation, ..Default::default() };
                false
            }
        }
    }
}

async fn release(state: &tokio::sync::Mutex<LockConnection>, generation: u64, key: i64) {
    let mut state = state.lock().await;
    if state.generation != generation || !state.held.remove(&key) {
        return;
    }
    if let Some(connection) = state.connection.as_mut() {
        if let Err(e) = sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(connection).await {
            tracing::warn!("can't release a cron lease: {e}");
            *state = LockConnection { generation: state.generation, ..Default::default() };
        }
    }
}
