//! SQLite statements, and transactions driven by plain `BEGIN` / `COMMIT` statements that ride along with the
//! transaction's other statements.
//!
//! sqlx-sqlite runs every command on the connection's own thread, so each one is a round trip
//! between threads (two context switches), and sqlx's `Transaction` spends one on `BEGIN` and one
//! on `COMMIT`. Here `BEGIN` is sent in front of the transaction's first statement, and writes
//! whose results nobody reads (activity and revision rows) wait to go in front of the next
//! statement or of the `COMMIT`. A create queues even its `INSERT … RETURNING`, whose rows come
//! back through a [`Deferred`] once the batch ran (see `ItemsService::create_in`): it is one round
//! trip instead of five, with the same atomicity: a failing statement fails its batch, and the
//! transaction rolls back.
//!
//! A transaction takes its connection when its first statement goes out; when that statement
//! writes, it takes the writer's own connection (see `SqlitePool`), so all creates write on one
//! connection whose pages stay cached and whose thread stays awake.
//!
//! Checkpoints (copying the write-ahead log back into the database file, with its fsyncs) run in
//! the background rather than in whichever commit crosses SQLite's threshold: under a steady
//! stream of writes that threshold (1,000 pages) was crossed several times a second, and every
//! writer queued behind a commit waiting for the disk (p99 of a create 13 ms with one client,
//! 4 ms with the checkpoints in the background).

use std::sync::{Arc, Mutex};

use futures_util::TryStreamExt;
use sqlx::sqlite::SqliteConnection;
use sqlx::{Either, Executor, Sqlite};

use super::sqlite_pool::{self, PooledConnection, SqlitePool};
use super::{bind, row, DbError, Param, QueryResult};

/// SQLite's own checkpoint threshold, kept as a bound on the log should the background
/// checkpoints fall behind.
pub const AUTOCHECKPOINT_PAGES: u32 = 20_000;
/// How often the log is checkpointed. A checkpoint holds writers up for longer the more it has
/// to copy: with a create-heavy load on the 2-core bench machine, p99 of a create was ~14-18 ms
/// at 20-100 ms, ~22 ms at 250 ms, ~50 ms at 1 s and ~110 ms at 2 s (`bench/run`).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Checkpoints the log every `CHECKPOINT_EVERY` on `conn` until the pool closes. `PASSIVE` never
/// waits for readers or writers: what it can't copy now, the next round copies.
pub fn spawn_checkpointer(pool: SqlitePool, mut conn: SqliteConnection) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::debug!("background checkpoint: {e}");
            }
        }
    });
}

/// Where the rows of a deferred statement arrive once it ran.
#[derive(Clone, Default)]
pub struct Deferred(Arc<Mutex<Option<QueryResult>>>);

impl Deferred {
    /// What the statement produced; `None` until it ran (or when its batch failed).
    pub fn take(&self) -> Option<QueryResult> {
        self.0.lock().unwrap().take()
    }

    pub(super) fn set(&self, result: QueryResult) {
        *self.0.lock().unwrap() = Some(result);
    }
}

/// A statement queued to run in front of the next one.
struct Pending {
    sql: String,
    params: Vec<Param>,
    result: Option<Deferred>,
}

pub struct SqliteTx {
    pool: SqlitePool,
    /// Taken when the first statement goes out, not at `BEGIN`, so a transaction holds no
    /// connection while hooks run: from the pool, or, when that first statement writes, the
    /// writer's own connection (see `SqlitePool::acquire_writer`). A create queues everything
    /// until its commit and so always writes on that one connection.
    conn: Option<PooledConnection>,
    /// The one-writer slot is held from now until this transaction ends.
    holds_writer: bool,
    pending: Vec<Pending>,
    /// `BEGIN` went out (perhaps in a batch that failed after it): the connection may be inside
    /// a transaction and must not go back to the pool as it is.
    begun: bool,
}

impl SqliteTx {
    pub async fn begin(pool: &SqlitePool) -> Result<SqliteTx, DbError> {
        // An in-memory database has one connection, which a transaction that read first could
        // hold while it waits for the writer slot: there the connection is taken at once.
        let conn = if pool.in_memory() { Some(pool.acquire().await?) } else { None };
        let begin = Pending { sql: "BEGIN".into(), params: vec![], result: None };
        Ok(SqliteTx { pool: pool.clone(), conn, holds_writer: false, pending: vec![begin], begun: false })
    }

    /// Called by the holder of the one-writer slot, which keeps it until this transaction ends.
    pub fn hold_writer(&mut self) {
        self.holds_writer = true;
    }

    async fn connection(&mut self) -> Result<&mut PooledConnection, DbError> {
        if self.conn.is_none() {
            let conn = if self.holds_writer { self.pool.acquire_writer().await? } else { self.pool.acquire().await? };
            self.conn = Some(conn);
        }
        Ok(self.conn.as_mut().expect("set above"))
    }

    /// Queues a statement whose result is not needed; it runs before the next statement or the
    /// commit, and its failure fails that one.
    pub fn defer(&mut self, sql: String, params: Vec<Param>) {
        self.pending.push(Pending { sql, params, result: None });
    }

    /// Queues a statement like [`SqliteTx::defer`]; its rows can be taken from the returned
    /// [`Deferred`] once the statement it went out with (at the latest the commit) ran.
    pub fn defer_returning(&mut self, sql: String, params: Vec<Param>) -> Deferred {
        let result = Deferred::default();
        self.pending.push(Pending { sql, params, result: Some(result.clone()) });
        result
    }

    /// Whether statements that write wait to go out (they need SQLite's one writer slot).
    pub fn has_queued_writes(&self) -> bool {
        self.pending.iter().any(|p| p.sql != "BEGIN")
    }

    pub async fn query(&mut self, sql: &str, params: &[Param]) -> Result<QueryResult, DbError> {
        if self.pending.is_empty() {
            let conn = self.connection().await?;
            return run(&mut **conn, sql, params, 0).await;
        }
        let skip = self.pending.len();
        // The connection first: if none can be had, the queued statements stay queued.
        self.connection().await?;
        let (mut batch, mut all, slots) = self.take_pending();
        let conn = self.conn.as_mut().expect("taken above");
        if numbered_params(sql) {
            // sqlx-sqlite counts `?NNN` / `$NNN` from the start of the whole batch.
            batch.truncate(batch.len() - 2);
            hand_out(run_each(&mut **conn, &batch, &all).await?, slots);
            return run(&mut **conn, sql, params, 0).await;
        }
        batch.push_str(sql);
        all.extend_from_slice(params);
        let mut results = run_each(&mut **conn, &batch, &all).await?;
        let own = results.split_off(skip.min(results.len()));
        hand_out(results, slots);
        Ok(merge(own))
    }

    /// The queued statements as one text (each ended by `;\n`), their parameters, and where
    /// each one's rows go.
    fn take_pending(&mut self) -> (String, Vec<Param>, Vec<Option<Deferred>>) {
        let mut batch = String::new();
        let mut all = Vec::new();
        let mut slots = Vec::new();
        for pending in self.pending.drain(..) {
            self.begun |= pending.sql == "BEGIN";
            batch.push_str(&pending.sql);
            batch.push_str(";\n");
            all.extend(pending.params);
            slots.push(pending.result);
        }
        (batch, all, slots)
    }

    /// Runs what is still queued and commits; on failure the transaction is rolled back.
    pub async fn commit(mut self) -> Result<(), DbError> {
        if !self.begun && self.pending.len() <= 1 {
            // Nothing ran: there is nothing to commit.
            self.pending.clear();
            return Ok(());
        }
        match self.query("COMMIT", &[]).await {
            Ok(_) => {
                self.begun = false;
                Ok(())
            }
            Err(e) => {
                let _ = self.rollback_now().await;
                Err(e)
            }
        }
    }

    pub async fn rollback(mut self) -> Result<(), DbError> {
        self.rollback_now().await
    }

    async fn rollback_now(&mut self) -> Result<(), DbError> {
        self.pending.clear();
        if !self.begun {
            return Ok(());
        }
        let conn = self.conn.as_mut().ok_or(DbError::Ended)?;
        // The batch carrying `BEGIN` may have failed before it ran: then there is nothing to roll back.
        if in_transaction(conn).await? {
            (&mut **conn).execute("ROLLBACK").await?;
        }
        self.begun = false;
        Ok(())
    }
}

impl Drop for SqliteTx {
    /// A transaction dropped half-way (a cancelled request) or whose rollback failed: its
    /// connection is closed instead of pooled, and SQLite rolls back as it closes.
    fn drop(&mut self) {
        if self.begun {
            if let Some(conn) = self.conn.take() {
                sqlite_pool::discard(conn);
            }
        }
    }
}

/// Whether the connection is inside a transaction, as SQLite itself knows it (its autocommit flag).
async fn in_transaction(conn: &mut SqliteConnection) -> Result<bool, DbError> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: the handle stays locked (no statement runs on it) while the flag is read, and
    // sqlite3_get_autocommit only reads it.
    Ok(unsafe { libsqlite3_sys::sqlite3_get_autocommit(handle.as_raw_handle().as_ptr()) } == 0)
}

/// Whether `sql` may use numbered parameters (a false positive only costs a round trip).
fn numbered_params(sql: &str) -> bool {
    sql.as_bytes().windows(2).any(|w| matches!(w[0], b'?' | b'$') && w[1].is_ascii_digit())
}

/// Runs `sql` (one statement, or several separated by `;`) and returns what the statements after
/// the first `skip` produced.
pub(super) async fn run<'e>(ex: impl Executor<'e, Database = Sqlite>, sql: &'e str, params: &[Param], skip: usize) -> Result<QueryResult, DbError> {
    let mut results = run_each(ex, sql, params).await?;
    Ok(merge(results.split_off(skip.min(results.len()))))
}

/// Runs `sql` and returns what each of its statements produced, in order.
#[allow(deprecated)]
async fn run_each<'e>(ex: impl Executor<'e, Database = Sqlite>, sql: &'e str, params: &[Param]) -> Result<Vec<QueryResult>, DbError> {
    let query = bind::loose(sqlx::query(sql), params);
    let mut results = vec![QueryResult::default()];
    let mut stream = ex.fetch_many(query);
    while let Some(item) = stream.try_next().await? {
        let current = results.last_mut().expect("never empty");
        match item {
            Either::Left(done) => {
                current.rows_affected = done.rows_affected();
                current.last_insert_id = Some(done.last_insert_rowid());
                results.push(QueryResult::default());
            }
            Either::Right(r) => row::push_sqlite(current, &r),
        }
    }
    // The entry opened after the last statement finished.
    if results.len() > 1 && results.last().is_some_and(|r| r.rows.is_empty()) {
        results.pop();
    }
    Ok(results)
}

/// Several statements' results as one: their rows in order, their counts added up.
fn merge(mut results: Vec<QueryResult>) -> QueryResult {
    if results.len() == 1 {
        return results.pop().expect("one result");
    }
    let mut out = QueryResult::default();
    for r in results {
        if out.columns.is_empty() {
            out.columns = r.columns;
            out.column_types = r.column_types;
        }
        out.rows.extend(r.rows);
        out.rows_affected += r.rows_affected;
        out.last_insert_id = r.last_insert_id.or(out.last_insert_id);
    }
    out
}

/// Gives each deferred statement that wants its rows what it produced.
fn hand_out(results: Vec<QueryResult>, slots: Vec<Option<Deferred>>) {
    for (result, slot) in results.into_iter().zip(slots) {
        if let Some(slot) = slot {
            slot.set(result);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A one-connection pool on a file, so a connection closed by a test does not take the
    /// database with it.
    async fn pool() -> (SqlitePool, tempfile::TempDir) {
        use std::str::FromStr;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url).unwrap().journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let pool = SqlitePool::new(options, false, 1, std::time::Duration::from_secs(5), Default::default()).unwrap();
        on_pool(&pool, "CREATE TABLE t (id integer PRIMARY KEY, v text)").await;
        (pool, dir)
    }

    /// Runs `sql` on a pooled connection, outside any transaction.
    async fn on_pool(pool: &SqlitePool, sql: &str) -> QueryResult {
        run(&mut *pool.acquire().await.unwrap(), sql, &[], 0).await.unwrap()
    }

    /// What the batching stands on (sqlx's deprecated multi-statement queries, hence the pinned
    /// version): one parameterised text of several statements, each answering on its own.
    #[tokio::test]
    async fn a_parameterised_batch_answers_statement_by_statement() {
        let (pool, _dir) = pool().await;
        let mut conn = pool.acquire().await.unwrap();
        let sql = "INSERT INTO t (v) VALUES (?);\nSELECT v FROM t WHERE v = ?;\nUPDATE t SET v = ? WHERE v = ? RETURNING id";
        let results = run_each(&mut *conn, sql, &[json!("a"), json!("a"), json!("b"), json!("a")]).await.unwrap();
        assert_eq!(results.len(), 3, "one result per statement");
        assert_eq!((results[0].rows_affected, results[0].rows.len()), (1, 0));
        assert_eq!(results[1].rows.iter().map(|r| r["v"].clone()).collect::<Vec<_>>(), vec![json!("a")]);
        assert_eq!(results[2].rows.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(), vec![json!(1)]);
        let failed = run_each(&mut *conn, "BEGIN;\nINSERT INTO t (id, v) VALUES (1, ?)", &[json!("dup")]).await;
        assert!(failed.is_err(), "a failing statement fails its batch");
        assert!(in_transaction(&mut conn).await.unwrap(), "what ran before it stays run");
        (&mut *conn).execute("ROLLBACK").await.unwrap();
        assert!(!in_transaction(&mut conn).await.unwrap());
    }

    #[tokio::test]
    async fn deferred_statements_run_before_the_next_one_and_commit_with_it() {
        let (pool, _dir) = pool().await;
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        tx.defer("INSERT INTO t (v) VALUES (?)".into(), vec![json!("a")]);
        tx.defer("INSERT INTO t (v) VALUES (?)".into(), vec![json!("b")]);
        // A numbered parameter counts from the start of a batch, so it runs on its own.
        let seen = tx.query("SELECT v FROM t WHERE v = ?1 OR v = ?2 ORDER BY v", &[json!("a"), json!("b")]).await.unwrap();
        assert_eq!(seen.rows.iter().map(|r| r["v"].clone()).collect::<Vec<_>>(), vec![json!("a"), json!("b")]);
        tx.defer("INSERT INTO t (v) VALUES (?)".into(), vec![json!("c")]);
        let one = tx.query("UPDATE t SET v = ? WHERE v = ?", &[json!("z"), json!("c")]).await.unwrap();
        assert_eq!(one.rows_affected, 1, "only the last statement's count");
        tx.commit().await.unwrap();
        let rows = on_pool(&pool, "SELECT v FROM t ORDER BY id").await;
        assert_eq!(rows.rows.iter().map(|r| r["v"].clone()).collect::<Vec<_>>(), vec![json!("a"), json!("b"), json!("z")]);
    }

    #[tokio::test]
    async fn a_deferred_statement_hands_its_rows_over_once_its_batch_ran() {
        let (pool, _dir) = pool().await;
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        let first = tx.defer_returning("INSERT INTO t (v) VALUES (?) RETURNING id, v".into(), vec![json!("a")]);
        tx.defer("INSERT INTO t (v) VALUES ('b')".into(), vec![]);
        let second = tx.defer_returning("INSERT INTO t (v) VALUES (?) RETURNING id, v".into(), vec![json!("c")]);
        assert!(tx.has_queued_writes());
        assert!(first.take().is_none(), "nothing ran yet");
        tx.commit().await.unwrap();
        let rows = |d: &Deferred| d.take().unwrap().rows.into_iter().map(|r| (r["id"].clone(), r["v"].clone())).collect::<Vec<_>>();
        assert_eq!(rows(&first), vec![(json!(1), json!("a"))]);
        assert_eq!(rows(&second), vec![(json!(3), json!("c"))], "only its own statement's rows");
        let all = on_pool(&pool, "SELECT v FROM t ORDER BY id").await;
        assert_eq!(all.rows.len(), 3);
    }

    #[tokio::test]
    async fn the_writer_does_not_wait_for_connections_that_readers_hold() {
        let (pool, _dir) = pool().await;
        let mut reader = SqliteTx::begin(&pool).await.unwrap();
        reader.query("SELECT count(*) AS n FROM t", &[]).await.unwrap();
        // The reader holds the pool's one connection, as transactions that read first and then
        // wait for the writer slot do.
        let mut writer = SqliteTx::begin(&pool).await.unwrap();
        writer.hold_writer();
        writer.defer("INSERT INTO t (v) VALUES ('w')".into(), vec![]);
        let committed = tokio::time::timeout(std::time::Duration::from_secs(2), writer.commit()).await;
        assert!(matches!(committed, Ok(Ok(()))), "the writer waited for the pool");
        assert_eq!(reader.query("SELECT count(*) AS n FROM t", &[]).await.unwrap().rows[0]["n"], json!(0), "the reader keeps its snapshot");
        reader.commit().await.unwrap();
        assert_eq!(on_pool(&pool, "SELECT v FROM t").await.rows.len(), 1);
    }

    #[tokio::test]
    async fn a_failing_deferred_statement_fails_the_commit_and_rolls_back() {
        let (pool, _dir) = pool().await;
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        tx.query("INSERT INTO t (id, v) VALUES (1, 'kept?')", &[]).await.unwrap();
        let failed = tx.defer_returning("INSERT INTO t (id, v) VALUES (1, 'duplicate') RETURNING id".into(), vec![]);
        assert!(tx.commit().await.is_err());
        assert!(failed.take().is_none(), "a failed batch hands nothing over");
        assert!(on_pool(&pool, "SELECT v FROM t").await.rows.is_empty());
        // The connection went back to the pool outside any transaction.
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        tx.query("INSERT INTO t (v) VALUES ('next')", &[]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(on_pool(&pool, "SELECT v FROM t").await.rows.len(), 1);
    }

    #[tokio::test]
    async fn a_transaction_dropped_half_way_leaves_nothing_behind() {
        let (pool, _dir) = pool().await;
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        tx.query("INSERT INTO t (v) VALUES ('dropped')", &[]).await.unwrap();
        drop(tx);
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        tx.query("INSERT INTO t (v) VALUES ('next')", &[]).await.unwrap();
        tx.commit().await.unwrap();
        let rows = on_pool(&pool, "SELECT v FROM t").await;
        assert_eq!(rows.rows.iter().map(|r| r["v"].clone()).collect::<Vec<_>>(), vec![json!("next")]);
    }
}
