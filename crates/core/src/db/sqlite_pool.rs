//! The SQLite connection pool: deadpool over sqlx `SqliteConnection`s.
//!
//! sqlx's own pool tests every connection as it comes back (a ping): for SQLite that is one more
//! round trip to the connection's worker thread, in a task spawned for it, after every statement
//! run on the pool and every transaction. On the 2-core bench machine under a hypervisor, thread
//! hand-overs are what a request mostly spends its time on, so this pool takes connections back
//! as they are. A connection is only ever handed back between statements: a statement cut off
//! by a cancelled request still finishes on its worker thread before the next one runs there,
//! and a transaction cut off half-way closes its connection (see `sqlite.rs`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};

use super::server_pool::{get, open};

/// How long the pool must go without a checkout before its connections' caches are emptied.
const SHRINK_AFTER: Duration = Duration::from_secs(5);

/// A pooled connection; dropped, it goes back to the pool.
pub type PooledConnection = managed::Object<Manager>;

pub struct Manager {
    options: SqliteConnectOptions,
    /// An in-memory database exists per connection, so its one connection is never retired.
    in_memory: bool,
    /// When the schema last changed (see `Database::schema_changed`).
    schema_changed: Arc<Mutex<Option<Instant>>>,
}

impl managed::Manager for Manager {
    type Type = SqliteConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<SqliteConnection, sqlx::Error> {
        self.options.connect().await
    }

    /// A connection opened before the last schema change caches statements that may describe
    /// tables as they were (sqlx's worker crashes on a `SELECT *` whose column count changed):
    /// it is replaced, or for an in-memory database its cache is emptied.
    async fn recycle(&self, conn: &mut SqliteConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if !super::is_stale(&self.schema_changed, metrics.age()) {
            return Ok(());
        }
        if self.in_memory {
            conn.clear_cached_statements().await.map_err(RecycleError::Backend)?;
            return Ok(());
        }
        Err(RecycleError::message("opened before the last schema change"))
    }
}

#[derive(Clone)]
pub struct SqlitePool {
    pool: managed::Pool<Manager>,
    /// One connection for transactions whose first statement to go out writes. Only the holder
    /// of the one-writer slot (`Database::sqlite_writer`) takes it, so it is always free when
    /// asked for: the writer never waits for the pool while transactions that read first hold
    /// pool connections and wait for the slot. Consecutive writes share its cached pages and its
    /// awake thread. An in-memory database has only `pool`'s one connection.
    writer: managed::Pool<Manager>,
    in_memory: bool,
    /// Checkouts so far, for [`SqlitePool::shrink_when_idle`].
    checkouts: Arc<AtomicU64>,
}

impl SqlitePool {
    /// An in-memory database gets exactly one connection: each connection would have its own.
    pub fn new(options: SqliteConnectOptions, in_memory: bool, max: usize, acquire_timeout: Duration, schema_changed: Arc<Mutex<Option<Instant>>>) -> Result<SqlitePool, sqlx::Error> {
        let build = |max: usize| {
            let manager = Manager { options: options.clone(), in_memory, schema_changed: schema_changed.clone() };
            managed::Pool::builder(manager)
                .max_size(max)
                // The connection used last has its pages cached and its thread awake.
                .queue_mode(managed::QueueMode::Lifo)
                .wait_timeout(Some(acquire_timeout))
                .create_timeout(Some(acquire_timeout))
                .runtime(deadpool::Runtime::Tokio1)
                .build()
                .map_err(|e| sqlx::Error::Configuration(e.to_string().into()))
        };
        let pool = build(if in_memory { 1 } else { max.max(1) })?;
        let writer = if in_memory { pool.clone() } else { build(1)? };
        Ok(SqlitePool { pool, writer, in_memory, checkouts: Arc::default() })
    }

    pub fn in_memory(&self) -> bool {
        self.in_memory
    }

    /// The writer's connection; only for the holder of the one-writer slot.
    pub async fn acquire_writer(&self) -> Result<PooledConnection, sqlx::Error> {
        self.checkouts.fetch_add(1, Ordering::Relaxed);
        get(&self.writer).await
    }

    pub async fn acquire(&self) -> Result<PooledConnection, sqlx::Error> {
        self.checkouts.fetch_add(1, Ordering::Relaxed);
        get(&self.pool).await
    }

    /// Empties the connections' page caches once the pool has been idle for [`SHRINK_AFTER`]
    /// after work, and gives the freed memory back to the system. Each connection caches up to
    /// 2 MB of pages (SQLite's default `cache_size`) in C memory on its worker thread: once a
    /// load has grown the database, ten connections held 30–35 MB for good (the real hook set's
    /// server, idle after two minutes of creates: 173 MB, of which the JS heap 63 MB). A server
    /// on PostgreSQL keeps that cache in the database's processes. Runs until the pool closes.
    pub fn shrink_when_idle(&self) {
        let pool = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SHRINK_AFTER);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut seen, mut shrunk) = (0, 0);
            loop {
                tick.tick().await;
                if pool.is_closed() {
                    return;
                }
                let now = pool.checkouts.load(Ordering::Relaxed);
                let idle = now == seen && now != shrunk;
                seen = now;
                if idle && pool.shrink().await {
                    shrunk = now;
                }
            }
        });
    }

    /// Shrinks every connection not in use; false when one was.
    async fn shrink(&self) -> bool {
        let mut taken = Vec::new();
        for pool in [&self.pool, &self.writer] {
            let status = pool.status();
            if status.available < status.size {
                return false;
            }
            let immediately = managed::Timeouts { wait: Some(Duration::ZERO), create: Some(Duration::ZERO), recycle: Some(Duration::ZERO) };
            // Held until all are done: the pool hands back the connection used last.
            for _ in 0..status.size {
                match pool.timeout_get(&immediately).await {
                    Ok(conn) => taken.push(conn),
                    Err(_) => return false,
                }
            }
        }
        for conn in &mut taken {
            if let Err(e) = sqlx::Executor::execute(&mut **conn, "PRAGMA shrink_memory").await {
                tracing::debug!("shrinking an idle SQLite connection: {e}");
            }
        }
        drop(taken);
        // SQLite's worker threads allocate with glibc's malloc, which keeps freed memory in
        // its per-thread arenas.
        // SAFETY: no arguments but a size; glibc's allocator locks each arena it trims.
        #[cfg(target_os = "linux")]
        unsafe {
            libc::malloc_trim(0);
        }
        true
    }

    /// Opens `count` connections now (fewer if the pool is smaller).
    pub async fn open(&self, count: usize) -> Result<(), sqlx::Error> {
        open(&self.pool, count).await
    }

    /// A connection of its own, outside the pool's count (the background checkpoints).
    pub async fn connect_unpooled(&self) -> Result<SqliteConnection, sqlx::Error> {
        self.pool.manager().options.connect().await
    }

    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// Refuses new checkouts and closes the idle connections; those in use close when dropped.
    pub fn close(&self) {
        self.pool.close();
        self.writer.close();
    }
}

/// Takes a connection out of the pool for good, e.g. one left inside a transaction; closing it
/// makes SQLite roll that transaction back.
pub fn discard(conn: PooledConnection) {
    drop(managed::Object::take(conn));
}
