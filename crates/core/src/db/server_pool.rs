//! The PostgreSQL and MySQL pools: deadpool over sqlx connections, as `sqlite_pool.rs` is for
//! SQLite. sqlx's own pool pings every connection as it comes back, which on these engines is a
//! network round trip (PostgreSQL: a `Sync` and its `ReadyForQuery`) after every statement: it
//! doubled the round trips of a read and woke the database server twice per request, on a
//! machine whose two cores the client, Rectus and the database share.
//!
//! Here a connection goes back as it is. One opened before the last schema change is replaced
//! (its prepared statements may describe the old tables); one idle for more than a second is
//! pinged before it is handed out, so one the server dropped (a restart, an idle timeout) is found
//! before a request uses it. A statement cut off by a cancelled request leaves answers unread on
//! its connection; sqlx reads them before the connection's next statement. A transaction is
//! [`ServerTx`]: one cut off before its end closes its connection, and the server rolls it back.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use sqlx::{ConnectOptions, Connection, Executor};

use super::DbError;

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

pub struct Manager<C: Connection> {
    options: C::Options,
    /// When the schema last changed (see `Database::schema_changed`).
    schema_changed: Arc<Mutex<Option<Instant>>>,
}

impl<C: Connection> managed::Manager for Manager<C> {
    type Type = C;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<C, sqlx::Error> {
        self.options.connect().await
    }

    async fn recycle(&self, conn: &mut C, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if super::is_stale(&self.schema_changed, metrics.age()) {
            return Err(RecycleError::message("opened before the last schema change"));
        }
        if metrics.last_used() > PING_AFTER_IDLE {
            conn.ping().await.map_err(RecycleError::Backend)?;
        }
        Ok(())
    }
}

/// A pooled connection; dropped, it goes back to the pool.
pub type PooledConnection<C> = managed::Object<Manager<C>>;

pub struct ServerPool<C: Connection> {
    pool: managed::Pool<Manager<C>>,
}

impl<C: Connection> Clone for ServerPool<C> {
    fn clone(&self) -> Self {
        ServerPool { pool: self.pool.clone() }
    }
}

impl<C: Connection> ServerPool<C> {
    fn new(url: &str, max: usize, acquire_timeout: Duration, schema_changed: Arc<Mutex<Option<Instant>>>) -> Result<ServerPool<C>, sqlx::Error> {
        let options: C::Options = url.parse()?;
        let pool = managed::Pool::builder(Manager { options, schema_changed })
            .max_size(max.max(1))
            // The connection used last has its server process's caches warm.
            .queue_mode(managed::QueueMode::Lifo)
            .wait_timeout(Some(acquire_timeout))
            .create_timeout(Some(acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))?;
        Ok(ServerPool { pool })
    }

    /// A pool with one connection opened now: a wrong URL or an unreachable server fails the start.
    pub async fn connect(url: &str, max: usize, acquire_timeout: Duration, schema_changed: Arc<Mutex<Option<Instant>>>) -> Result<ServerPool<C>, sqlx::Error> {
        let pool = ServerPool::new(url, max, acquire_timeout, schema_changed)?;
        pool.open(1).await?;
        Ok(pool)
    }

    pub async fn acquire(&self) -> Result<PooledConnection<C>, sqlx::Error> {
        get(&self.pool).await
    }

    /// Runs `work` on a pooled connection, which then goes back to the pool unless `work` broke
    /// it ([`release`]).
    pub async fn with_connection<T>(&self, work: impl AsyncFnOnce(&mut C) -> Result<T, DbError>) -> Result<T, DbError> {
        let mut conn = self.acquire().await?;
        let result = work(&mut conn).await;
        release(conn, &result);
        result
    }

    /// Opens `count` connections now (fewer if the pool is smaller).
    pub async fn open(&self, count: usize) -> Result<(), sqlx::Error> {
        open(&self.pool, count).await
    }

    /// Refuses new checkouts and closes the idle connections; those in use close when dropped.
    pub fn close(&self) {
        self.pool.close();
    }
}

/// Hands `conn` back to the pool, or closes it when `result` failed in a way that leaves it
/// unusable (the socket broke, the protocol is out of step, the server ended the session): under
/// load a connection is reused within the second that would get it pinged, so one returned broken
/// would fail request after request. sqlx's pool found these with the ping it sent after every
/// statement.
fn release<C: Connection, T>(conn: PooledConnection<C>, result: &Result<T, DbError>) {
    if let Err(DbError::Sqlx(error)) = result {
        if breaks_connection(error) {
            drop(managed::Object::take(conn));
        }
    }
}

fn breaks_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's connection exceptions (08…) and operator interventions (57P…: the session
        // was terminated, the server is shutting down): the server closes the session after them.
        sqlx::Error::Database(e) => e.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Opens `count` connections of `pool` now (fewer if the pool is smaller), all at once.
pub(super) async fn open<M: managed::Manager<Error = sqlx::Error>>(pool: &managed::Pool<M>, count: usize) -> Result<(), sqlx::Error> {
    let count = count.min(pool.status().max_size);
    let opened = futures_util::future::join_all((0..count).map(|_| get(pool))).await;
    opened.into_iter().find_map(Result::err).map_or(Ok(()), Err)
}

/// A connection from `pool`, with deadpool's errors as sqlx's.
pub(super) async fn get<M: managed::Manager<Error = sqlx::Error>>(pool: &managed::Pool<M>) -> Result<managed::Object<M>, sqlx::Error> {
    pool.get().await.map_err(|e| match e {
        managed::PoolError::Backend(e) => e,
        managed::PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
        managed::PoolError::Closed => sqlx::Error::PoolClosed,
        other => sqlx::Error::Protocol(other.to_string()),
    })
}

/// A transaction on a pooled connection: `BEGIN` when made, `COMMIT` or `ROLLBACK` to end it.
/// Dropped before either, it closes its connection rather than hand a transaction that is still
/// open to the next user.
pub struct ServerTx<C: Connection> {
    conn: Option<PooledConnection<C>>,
}

impl<C: Connection> ServerTx<C>
where
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
{
    pub async fn begin(pool: &ServerPool<C>) -> Result<ServerTx<C>, sqlx::Error> {
        let mut tx = ServerTx { conn: Some(pool.acquire().await?) };
        tx.conn().execute("BEGIN").await?;
        Ok(tx)
    }

    pub fn conn(&mut self) -> &mut C {
        self.conn.as_mut().expect("a transaction has its connection until it ends")
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.end("COMMIT").await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.end("ROLLBACK").await
    }

    /// Runs `statement`; the connection goes back to the pool only if it succeeded.
    async fn end(mut self, statement: &str) -> Result<(), sqlx::Error> {
        self.conn().execute(statement).await?;
        drop(self.conn.take());
        Ok(())
    }
}

impl<C: Connection> Drop for ServerTx<C> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(managed::Object::take(conn));
        }
    }
}
