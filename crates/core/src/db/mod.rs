//! The database: one sqlx pool for the engine `DB_CLIENT` selects, and one way to run SQL on it.
//!
//! Every statement runs as text plus JSON-like parameters ([`Param`]). SQLite and MySQL coerce
//! loosely typed parameters themselves; PostgreSQL does not (a text parameter is not a uuid), so
//! for it the parameter types are taken from the prepared statement and each value is encoded as
//! the type PostgreSQL expects — what node-pg achieves by sending text.

pub mod bind;
pub mod bootstrap;
mod error;
mod postgres_tx;
mod row;
mod server_pool;
mod shared;
mod sqlite;
mod sqlite_pool;
mod stream;
pub mod system_tables;

use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::{Either, Executor};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::config::{DbClient, DbConfig};
use server_pool::{ServerPool, ServerTx};
pub use bind::Param;
pub use error::{Classified, DbError, DbErrorKind};
pub use shared::SharedTransaction;
pub use sqlite::Deferred;
pub use stream::Batches;

/// One row as a JSON object keyed by column name, in column order.
pub type Row = Map<String, Value>;

/// What one statement produced.
#[derive(Debug, Default, Clone)]
pub struct QueryResult {
    pub columns: Vec<String>,
    /// The driver's type name of each column (`INT8`, `TIMESTAMPTZ`, `DATETIME`, …), so the
    /// hooks' knex can hand values over the way the Node drivers did.
    pub column_types: Vec<String>,
    pub rows: Vec<Row>,
    pub rows_affected: u64,
    pub last_insert_id: Option<i64>,
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlite_pool::SqlitePool),
    Postgres(ServerPool<sqlx::PgConnection>),
    MySql(ServerPool<sqlx::MySqlConnection>),
}

/// The shared connection pool. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    client: DbClient,
    /// `DB_POOL__MIN`: connections opened by [`Database::warm_up`].
    pool_min: u32,
    /// `DB_POOL__MAX`.
    pool_max: u32,
    /// Turns of streamed reads at holding a connection (see `stream.rs`).
    stream_turns: Arc<tokio::sync::Semaphore>,
    pg_params: Arc<Mutex<HashMap<String, Arc<Vec<String>>>>>,
    /// SQLite allows one writer at a time; concurrent writers would otherwise poll the file lock
    /// with growing sleeps. Transactions queue here instead, from when their first write goes out.
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    /// When the schema last changed (see [`Database::schema_changed`]).
    schema_changed: Arc<Mutex<Option<std::time::Instant>>>,
}

/// What an insert tells about the row it wrote.
pub enum Inserted {
    /// Its key, and the row as stored where the engine returns rows (not MySQL).
    Done { key: Value, row: Option<Row> },
    /// Held or queued in its transaction (see [`Transaction::write_last`]): the row is known once
    /// it ran, and the key (`key` when the caller gave it) with it.
    Queued { result: Deferred, key_column: String, key: Option<Value> },
}

impl Inserted {
    /// The key and row once the insert ran; `None` for a queued insert that never ran.
    pub fn settle(self) -> Option<(Value, Option<Row>)> {
        match self {
            Inserted::Done { key, row } => Some((key, row)),
            Inserted::Queued { result, key_column, key } => {
                let row = result.take()?.rows.pop()?;
                let key = key.unwrap_or_else(|| row.get(&key_column).cloned().unwrap_or(Value::Null));
                Some((key, Some(row)))
            }
        }
    }
}

/// An open transaction; dropped without `commit` it rolls back.
pub struct Transaction {
    inner: TxInner,
    db: Database,
    /// Held from when the first write of a SQLite transaction goes out to the database until the
    /// transaction ends. Taken lazily so that hooks running before the first write
    /// (`create.before`) can still write on their own, and writes queued with `defer` take it
    /// only once they are sent: the slot is held for as short a time as possible.
    writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

enum TxInner {
    Sqlite(sqlite::SqliteTx),
    Postgres(postgres_tx::PgTx),
    /// Begun with its first statement, as PostgreSQL's: a transaction holds no pooled
    /// connection while its caller still reads through the pool (permissions, hooks), so more
    /// concurrent writers than connections can't each hold one and wait for another.
    MySql(Option<ServerTx<sqlx::MySqlConnection>>),
}

impl Database {
    pub async fn connect(config: &DbConfig) -> Result<Database, DbError> {
        use std::str::FromStr;
        let acquire = std::time::Duration::from_secs(10);
        let schema_changed: Arc<Mutex<Option<std::time::Instant>>> = Default::default();
        let pool = match config.client {
            DbClient::Sqlite => {
                let opts = sqlx::sqlite::SqliteConnectOptions::from_str(&config.url)?
                    .foreign_keys(true)
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    // WAL with NORMAL sync: no fsync per commit, still safe against process crashes.
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .pragma("wal_autocheckpoint", sqlite::AUTOCHECKPOINT_PAGES.to_string())
                    // No memory map of the file: SQLite maps it as large as it is, so a file that
                    // grows with every few commits is unmapped and mapped again by each connection,
                    // and every unmap makes the kernel flush the TLBs of all cores, which a virtual
                    // machine pays for in interrupts. At 256 MB it took 12% of the CPU of a
                    // create-heavy load and a quarter of its throughput; reads gained nothing measurable.
                    .pragma("mmap_size", "0");
                let in_memory = config.url.contains(":memory:");
                Pool::Sqlite(sqlite_pool::SqlitePool::new(opts, in_memory, config.pool_max as usize, acquire, schema_changed.clone())?)
            }
            DbClient::Postgres => Pool::Postgres(ServerPool::connect(&config.url, config.pool_max as usize, acquire, schema_changed.clone()).await?),
            DbClient::MySql => Pool::MySql(ServerPool::connect(&config.url, config.pool_max as usize, acquire, schema_changed.clone()).await?),
        };
        if let Pool::Sqlite(p) = pool.clone() {
            if !p.in_memory() {
                let conn = p.connect_unpooled().await?;
                p.shrink_when_idle();
                sqlite::spawn_checkpointer(p, conn);
            }
        }
        Ok(Database {
            pool,
            client: config.client,
            pool_min: config.pool_min,
            pool_max: config.pool_max,
            stream_turns: stream::turns(config.pool_max),
            pg_params: Default::default(),
            sqlite_writer: Default::default(),
            schema_changed,
        })
    }

    /// Opens the pool's `DB_POOL__MIN` connections now, so the first requests don't wait for
    /// connections to be set up (on PostgreSQL, under load, that showed as 0.4–0.8 s p99 tails).
    /// A connection that fails to open here is opened on demand later, as before.
    pub async fn warm_up(&self) {
        let count = self.pool_min as usize;
        let opened = match &self.pool {
            Pool::Sqlite(p) => p.open(count).await,
            Pool::Postgres(p) => p.open(count).await,
            Pool::MySql(p) => p.open(count).await,
        };
        if let Err(e) = opened {
            tracing::debug!("warming the pool up: {e}");
        }
    }

    pub fn client(&self) -> DbClient {
        self.client
    }

    /// Called after DDL: forgets PostgreSQL parameter types and retires the pooled connections
    /// opened before now. Their cached prepared statements may describe columns that changed
    /// (PostgreSQL: "cached plan must not change result type"; sqlx's SQLite worker crashes on a
    /// `SELECT *` whose column count changed).
    pub fn schema_changed(&self) {
        *self.schema_changed.lock().unwrap() = Some(std::time::Instant::now());
        self.pg_params.lock().unwrap().clear();
    }

    /// SQL text and values of a sea-query statement in this engine's dialect.
    pub fn build(&self, stmt: &impl sea_query::QueryStatementWriter) -> (String, sea_query::Values) {
        match self.client {
            DbClient::Sqlite => stmt.build(sea_query::SqliteQueryBuilder),
            DbClient::Postgres => stmt.build(sea_query::PostgresQueryBuilder),
            DbClient::MySql => stmt.build(sea_query::MysqlQueryBuilder),
        }
    }

    /// DDL text of a sea-query schema statement in this engine's dialect.
    pub fn build_schema(&self, stmt: &impl sea_query::SchemaStatementBuilder) -> String {
        match self.client {
            DbClient::Sqlite => stmt.build(sea_query::SqliteQueryBuilder),
            DbClient::Postgres => stmt.build(sea_query::PostgresQueryBuilder),
            DbClient::MySql => stmt.build(sea_query::MysqlQueryBuilder),
        }
    }

    pub async fn query(&self, sql: &str, params: &[Param]) -> Result<QueryResult, DbError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlite::run(&mut *p.acquire().await?, sql, params, 0).await,
            Pool::Postgres(p) => {
                p.with_connection(async |conn| {
                    let types = pg_param_types_in(self, conn, sql).await?;
                    run_postgres(conn, sql, params, &types).await
                })
                .await
            }
            Pool::MySql(p) => p.with_connection(async |conn| run_mysql(conn, sql, params).await).await,
        }
    }

    /// Runs a sea-query statement built for this engine.
    pub async fn run(&self, stmt: &impl sea_query::QueryStatementWriter) -> Result<QueryResult, DbError> {
        let (sql, values) = self.build(stmt);
        self.query(&sql, &bind::from_values(values)).await
    }

    pub async fn begin_shared(&self) -> Result<SharedTransaction, DbError> {
        Ok(SharedTransaction::new(self.begin().await?))
    }

    pub async fn begin(&self) -> Result<Transaction, DbError> {
        let inner = match &self.pool {
            Pool::Sqlite(p) => TxInner::Sqlite(sqlite::SqliteTx::begin(p).await?),
            Pool::Postgres(_) => TxInner::Postgres(postgres_tx::PgTx::default()),
            Pool::MySql(_) => TxInner::MySql(None),
        };
        Ok(Transaction { inner, db: self.clone(), writer: None })
    }

    /// Names of the tables in the current database/schema.
    pub async fn table_names(&self) -> Result<Vec<String>, DbError> {
        let sql = match self.client {
            DbClient::Sqlite => "SELECT name AS table_name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            DbClient::Postgres => {
                "SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            }
            DbClient::MySql => {
                "SELECT table_name AS table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
            }
        };
        let result = self.query(sql, &[]).await?;
        let mut names: Vec<String> = result
            .rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().and_then(|(_, v)| v.as_str().map(str::to_string)))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Runs SQLite DDL `statements` in one transaction on a connection with foreign keys off,
    /// then checks them. A table rebuild (SQLite cannot alter a column or a constraint) drops the
    /// old table, and with foreign keys on that drop would run `ON DELETE` actions on the rows
    /// referencing it; the pragma only takes effect outside a transaction, hence its own connection.
    pub async fn sqlite_without_foreign_keys(&self, statements: &[String]) -> Result<(), DbError> {
        use sqlx::Connection;
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(DbError::Unsupported("a SQLite table rebuild on another engine"));
        };
        let _writer = self.sqlite_writer.clone().lock_owned().await;
        let mut conn = pool.acquire_writer().await?;
        conn.execute("PRAGMA foreign_keys = OFF").await?;
        let result = async {
            let mut tx = conn.begin().await?;
            for sql in statements {
                tx.execute(sql.as_str()).await?;
            }
            let violations = tx.fetch_all("PRAGMA foreign_key_check").await?;
            if !violations.is_empty() {
                return Err(DbError::ForeignKeyCheck);
            }
            tx.commit().await?;
            Ok(())
        }
        .await;
        if let Err(e) = conn.execute("PRAGMA foreign_keys = ON").await {
            // Not back into the pool without its foreign keys.
            sqlite_pool::discard(conn);
            return Err(e.into());
        }
        result
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close(),
            Pool::Postgres(p) => p.close(),
            Pool::MySql(p) => p.close(),
        }
    }

    fn mysql_pool(&self) -> Result<&ServerPool<sqlx::MySqlConnection>, DbError> {
        match &self.pool {
            Pool::MySql(p) => Ok(p),
            _ => Err(DbError::Unsupported("a MySQL transaction on another engine")),
        }
    }

    fn pg_pool(&self) -> Result<&ServerPool<sqlx::PgConnection>, DbError> {
        match &self.pool {
            Pool::Postgres(p) => Ok(p),
            _ => Err(DbError::Unsupported("a PostgreSQL transaction on another engine")),
        }
    }
}

impl Transaction {
    pub fn client(&self) -> DbClient {
        self.db.client
    }

    pub async fn query(&mut self, sql: &str, params: &[Param]) -> Result<QueryResult, DbError> {
        match &mut self.inner {
            TxInner::Sqlite(tx) => {
                if self.writer.is_none() && (!is_read(sql) || tx.has_queued_writes()) {
                    self.writer = Some(self.db.sqlite_writer.clone().lock_owned().await);
                    tx.hold_writer();
                }
                tx.query(sql, params).await
            }
            TxInner::Postgres(tx) => tx.query(&self.db, sql, params).await,
            TxInner::MySql(tx) => {
                if tx.is_none() {
                    *tx = Some(ServerTx::begin(self.db.mysql_pool()?).await?);
                }
                run_mysql(tx.as_mut().expect("begun above").conn(), sql, params).await
            }
        }
    }

    pub async fn run(&mut self, stmt: &impl sea_query::QueryStatementWriter) -> Result<QueryResult, DbError> {
        let (sql, values) = self.db.build(stmt);
        self.query(&sql, &bind::from_values(values)).await
    }

    /// Runs a write whose result nobody reads. On SQLite it goes out with the next statement or
    /// the commit (see `sqlite.rs`); elsewhere it runs now.
    pub async fn defer(&mut self, stmt: &impl sea_query::QueryStatementWriter) -> Result<(), DbError> {
        if let TxInner::Sqlite(tx) = &mut self.inner {
            let (sql, values) = self.db.build(stmt);
            tx.defer(sql, bind::from_values(values));
            return Ok(());
        }
        self.run(stmt).await.map(|_| ())
    }

    /// Runs a write that is the last statement of this transaction, whose rows the caller reads
    /// only once it committed. On PostgreSQL it is held until the commit when nothing ran before
    /// it (and runs alone, without `BEGIN`/`COMMIT`, if nothing follows: see `postgres_tx.rs`);
    /// on SQLite it is queued like [`defer`](Self::defer); elsewhere it runs now.
    pub async fn write_last(&mut self, stmt: &impl sea_query::QueryStatementWriter) -> Result<Deferred, DbError> {
        let (sql, values) = self.db.build(stmt);
        match &mut self.inner {
            TxInner::Postgres(tx) if tx.idle() => Ok(tx.hold(sql, bind::from_values(values))),
            TxInner::Sqlite(tx) => Ok(tx.defer_returning(sql, bind::from_values(values))),
            _ => {
                let done = Deferred::default();
                done.set(self.query(&sql, &bind::from_values(values)).await?);
                Ok(done)
            }
        }
    }

    /// Inserts one row and tells its key: `given_key`, or the one the database generated for
    /// `key_column`. Engines with `RETURNING` (SQLite, PostgreSQL) also hand back the row as
    /// stored; MySQL has none, so there the generated key is the connection's last insert id.
    pub async fn insert_returning(&mut self, mut insert: sea_query::InsertStatement, key_column: &str, given_key: Option<Value>) -> Result<Inserted, DbError> {
        if self.client() == DbClient::MySql {
            let result = self.run(&insert).await?;
            let key = given_key.unwrap_or_else(|| result.last_insert_id.map(Value::from).unwrap_or(Value::Null));
            return Ok(Inserted::Done { key, row: None });
        }
        insert.returning_all();
        let row = self.run(&insert).await?.rows.pop();
        let key = given_key.or_else(|| row.as_ref().and_then(|r| r.get(key_column)).cloned()).unwrap_or(Value::Null);
        Ok(Inserted::Done { key, row })
    }

    /// [`insert_returning`](Self::insert_returning) of a row whose key SQLite numbers itself
    /// (its rowid), for a caller that needs neither key nor row before the commit: on SQLite the
    /// insert is queued like [`defer`](Self::defer) and goes out with the next statement or the
    /// commit (see `sqlite.rs`); elsewhere it runs now.
    pub async fn insert_queued(&mut self, mut insert: sea_query::InsertStatement, key_column: &str) -> Result<Inserted, DbError> {
        match &mut self.inner {
            TxInner::Sqlite(_) => {
                insert.returning_all();
                Ok(Inserted::Queued { result: self.write_last(&insert).await?, key_column: key_column.to_string(), key: None })
            }
            _ => self.insert_returning(insert, key_column, None).await,
        }
    }

    pub async fn commit(mut self) -> Result<(), DbError> {
        match self.inner {
            TxInner::Sqlite(tx) => {
                let mut tx = tx;
                if self.writer.is_none() && tx.has_queued_writes() {
                    self.writer = Some(self.db.sqlite_writer.clone().lock_owned().await);
                    tx.hold_writer();
                }
                tx.commit().await?
            }
            TxInner::Postgres(tx) => tx.commit(&self.db).await?,
            TxInner::MySql(Some(tx)) => tx.commit().await?,
            TxInner::MySql(None) => {}
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbError> {
        match self.inner {
            TxInner::Sqlite(tx) => tx.rollback().await?,
            TxInner::Postgres(tx) => tx.rollback().await?,
            TxInner::MySql(Some(tx)) => tx.rollback().await?,
            TxInner::MySql(None) => {}
        }
        Ok(())
    }
}

/// Whether a connection `age` old was opened before the last schema change.
fn is_stale(changed: &Mutex<Option<std::time::Instant>>, age: std::time::Duration) -> bool {
    changed.lock().unwrap().is_some_and(|at| at.elapsed() < age)
}

fn is_read(sql: &str) -> bool {
    let head = sql.trim_start().get(..6).unwrap_or("");
    head.eq_ignore_ascii_case("select") || head.eq_ignore_ascii_case("pragma")
}

/// The parameter types of `sql` from the cache, or prepared on `conn` (a transaction's, which may
/// see tables it created itself).
async fn pg_param_types_in(db: &Database, conn: &mut sqlx::PgConnection, sql: &str) -> Result<Arc<Vec<String>>, DbError> {
    if let Some(types) = db.pg_params.lock().unwrap().get(sql).cloned() {
        return Ok(types);
    }
    if !sql.contains('$') {
        return Ok(Arc::new(vec![]));
    }
    let types = pg_prepare_types(conn, sql).await?;
    let mut cache = db.pg_params.lock().unwrap();
    if cache.len() > 4096 {
        cache.clear();
    }
    cache.insert(sql.to_string(), types.clone());
    Ok(types)
}

async fn pg_prepare_types<'e>(ex: impl Executor<'e, Database = sqlx::Postgres>, sql: &'e str) -> Result<Arc<Vec<String>>, DbError> {
    use sqlx::{Statement, TypeInfo};
    let stmt = ex.prepare(sql).await?;
    let types = match stmt.parameters() {
        Some(Either::Left(types)) => types.iter().map(|t| t.name().to_string()).collect(),
        _ => vec![],
    };
    Ok(Arc::new(types))
}

#[allow(deprecated)]
async fn run_postgres<'e>(
    ex: impl Executor<'e, Database = sqlx::Postgres>,
    sql: &'e str,
    params: &[Param],
    types: &[String],
) -> Result<QueryResult, DbError> {
    let query = bind::postgres(sqlx::query(sql), params, types)?;
    let mut out = QueryResult::default();
    let mut stream = ex.fetch_many(query);
    while let Some(item) = stream.try_next().await? {
        match item {
            Either::Left(done) => out.rows_affected += done.rows_affected(),
            Either::Right(r) => row::push_postgres(&mut out, &r),
        }
    }
    Ok(out)
}

#[allow(deprecated)]
async fn run_mysql<'e>(ex: impl Executor<'e, Database = sqlx::MySql>, sql: &'e str, params: &[Param]) -> Result<QueryResult, DbError> {
    let query = bind::loose(sqlx::query(sql), params);
    let mut out = QueryResult::default();
    let mut stream = ex.fetch_many(query);
    while let Some(item) = stream.try_next().await? {
        match item {
            Either::Left(done) => {
                out.rows_affected += done.rows_affected();
                if done.last_insert_id() != 0 {
                    out.last_insert_id = Some(done.last_insert_id() as i64);
                }
            }
            Either::Right(r) => row::push_mysql(&mut out, &r),
        }
    }
    Ok(out)
}
