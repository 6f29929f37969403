//! Redis: pub/sub for invalidations, `SET NX PX` cron leases and a fixed-window counter for the
//! rate limiter. Commands go through a `ConnectionManager` (it reconnects by itself); the
//! subscription has its own connection, re-established by the listener task.

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::time::Duration;

use super::{encode, ClusterBus, CronLeases, Local, Topic, WindowCounter};

/// Commands fail fast: a request or a cron tick waits at most this long for Redis.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// A lazily connected command connection; nothing is sent until the first command.
fn commands(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(RESPONSE_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1);
    Ok(ConnectionManager::new_lazy_with_config(client, config)?)
}

fn channel(namespace: &str) -> String {
    format!("{namespace}:invalidate")
}

struct Bus {
    conn: ConnectionManager,
    channel: String,
    instance: String,
}

impl ClusterBus for Bus {
    fn publish(&self, topic: Topic) {
        let (mut conn, channel, message) = (self.conn.clone(), self.channel.clone(), encode(&self.instance, topic));
        tokio::spawn(async move {
            if let Err(e) = redis::cmd("PUBLISH").arg(&channel).arg(&message).query_async::<i64>(&mut conn).await {
                tracing::warn!("can't tell the other instances ({message}) through Redis: {e}");
            }
        });
    }
}

/// Subscribes to the namespace's channel (failing if Redis can't be reached now) and returns
/// the bus that publishes to it.
pub async fn subscribe(url: &str, namespace: &str, local: Local) -> anyhow::Result<Arc<dyn ClusterBus>> {
    let client = redis::Client::open(url)?;
    let channel = channel(namespace);
    let first = open_subscription(&client, &channel).await.map_err(|e| anyhow::anyhow!("can't subscribe to Redis at {url} (REDIS): {e}"))?;
    let bus = Bus { conn: commands(url)?, channel: channel.clone(), instance: local.instance.clone() };
    tokio::spawn(listen(client, channel, first, local));
    Ok(Arc::new(bus))
}

async fn open_subscription(client: &redis::Client, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    Ok(pubsub)
}

/// Applies the other instances' messages for the life of the process, resubscribing after a
/// lost connection (and then dropping every cache: messages sent meanwhile are gone).
async fn listen(client: redis::Client, channel: String, first: redis::aio::PubSub, local: Local) {
    let mut pubsub = Some(first);
    loop {
        if let Some(subscription) = pubsub.take() {
            let mut messages = subscription.into_on_message();
            while let Some(msg) = messages.next().await {
                match msg.get_payload::<String>() {
                    Ok(text) => local.receive(&text),
                    Err(e) => tracing::debug!("unreadable cluster message: {e}"),
                }
            }
            tracing::warn!("lost the Redis subscription; caches may be stale until it is back");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        match open_subscription(&client, &channel).await {
            Ok(subscription) => {
                tracing::info!("Redis subscription is back");
                local.apply_all();
                pubsub = Some(subscription);
            }
            Err(e) => tracing::debug!("can't resubscribe to Redis yet: {e}"),
        }
    }
}

/// Cron leases as keys `<namespace>:cron:<job>:<tick ms>`, set only if absent and expiring
/// on their own: an instance that dies holding one blocks nothing.
pub struct Leases {
    conn: ConnectionManager,
    namespace: String,
    instance: String,
}

impl Leases {
    pub fn open(url: &str, namespace: &str, instance: &str) -> anyhow::Result<Leases> {
        Ok(Leases { conn: commands(url)?, namespace: namespace.to_string(), instance: instance.to_string() })
    }
}

#[async_trait]
impl CronLeases for Leases {
    async fn acquire(&self, job: &str, tick: chrono::DateTime<chrono::Utc>, ttl: Duration) -> bool {
        let key = format!("{}:cron:{job}:{}", self.namespace, tick.timestamp_millis());
        let set = redis::cmd("SET")
            .arg(&key)
            .arg(&self.instance)
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async::<Option<String>>(&mut self.conn.clone())
            .await;
        match set {
            Ok(answer) => answer.is_some(),
            // Without Redis nobody can tell whether another instance runs it: skip rather than
            // risk running it on every instance.
            Err(e) => {
                tracing::warn!("can't take the cron lease {key} in Redis, skipping the tick: {e}");
                false
            }
        }
    }
}

/// Fixed windows in Redis: `INCR`, and the window's expiry set by the hit that created it, in
/// one script so a crash between the two can't leave a key that never expires.
pub struct Counter {
    conn: ConnectionManager,
    prefix: String,
    script: redis::Script,
}

impl Counter {
    pub fn open(url: &str, prefix: &str) -> anyhow::Result<Counter> {
        let script = redis::Script::new(
            "local n = redis.call('INCR', KEYS[1]) \
             if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
             local left = redis.call('PTTL', KEYS[1]) \
             if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) left = tonumber(ARGV[1]) end \
             return {n, left}",
        );
        Ok(Counter { conn: commands(url)?, prefix: prefix.to_string(), script })
    }
}

#[async_trait]
impl WindowCounter for Counter {
    async fn hit(&self, key: &str, window: Duration) -> Result<(u64, Duration), String> {
        let (count, left): (u64, i64) = self
            .script
            .key(format!("{}{key}", self.prefix))
            .arg(window.as_millis().max(1) as u64)
            .invoke_async(&mut self.conn.clone())
            .await
            .map_err(|e| e.to_string())?;
        Ok((count, Duration::from_millis(left.max(0) as u64)))
    }
}
