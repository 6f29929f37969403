//! SQLite statements, and transactions driven by plain `BEGIN` / `COMMIT` statements that ride along with the
//! transaction's other statements.
//!
//! sqlx-sqlite runs every command on the connection's own thread, so each one is a round trip
//! between threads (two context switches), and sqlx's `Transaction` spends one on `BEGIN` and one
//! on `COMMIT`. Here `BEGIN` is sent in front of the transaction's first statement, and writes
//! whose results nobody reads (activity and revision rows) wait to go in front of the next
//! statement or of the `COMMIT`. A create is then two round trips instead of five, with the same
//! atomicity: a failing statement fails its batch, and the transaction rolls back.
//!
//! Checkpoints (copying the write-ahead log back into the database file, with its fsyncs) run in
//! the background rather than in whichever commit crosses SQLite's threshold: under a steady
//! stream of writes that threshold (1,000 pages) was crossed several times a second, and every
//! writer queued behind a commit waiting for the disk (p99 of a create 13 ms with one client,
//! 4 ms with the checkpoints in the background).

use futures_util::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::{Either, Executor, Sqlite};

use super::{bind, row, DbError, Param, QueryResult};

/// SQLite's own checkpoint threshold, kept as a bound on the log should the background
/// checkpoints fall behind.
pub const AUTOCHECKPOINT_PAGES: u32 = 20_000;
/// Pages of the database file are read through a memory map rather than a `pread` and a copy
/// per page: every commit makes the other connections drop their page caches, so reads of the
/// file are frequent.
pub const MMAP_BYTES: u64 = 256 * 1024 * 1024;
/// How often the log is checkpointed. A checkpoint holds writers up for longer the more it has
/// to copy: with a create-heavy load on the 2-core bench machine, p99 of a create was ~14-18 ms
/// at 20-100 ms, ~22 ms at 250 ms, ~50 ms at 1 s and ~110 ms at 2 s (`bench/run`).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Checkpoints the log every `CHECKPOINT_EVERY` until the pool closes. `PASSIVE` never waits for
/// readers or writers: what it can't copy now, the next round copies.
pub fn spawn_checkpointer(pool: sqlx::SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = pool.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                tracing::debug!("background checkpoint: {e}");
            }
        }
    });
}

pub struct SqliteTx {
    /// `None` once the transaction ended.
    conn: Option<PoolConnection<Sqlite>>,
    /// Statements to run in front of the next one.
    pending: Vec<(String, Vec<Param>)>,
    /// `BEGIN` went out (perhaps in a batch that failed after it): the connection may be inside
    /// a transaction and must not go back to the pool as it is.
    begun: bool,
}

impl SqliteTx {
    pub async fn begin(pool: &sqlx::SqlitePool) -> Result<SqliteTx, DbError> {
        let conn = pool.acquire().await?;
        Ok(SqliteTx { conn: Some(conn), pending: vec![("BEGIN".into(), vec![])], begun: false })
    }

    /// Queues a statement whose result is not needed; it runs before the next statement or the
    /// commit, and its failure fails that one.
    pub fn defer(&mut self, sql: String, params: Vec<Param>) {
        self.pending.push((sql, params));
    }

    pub async fn query(&mut self, sql: &str, params: &[Param]) -> Result<QueryResult, DbError> {
        if self.pending.is_empty() {
            let conn = self.conn.as_mut().ok_or(DbError::Ended)?;
            return run(&mut **conn, sql, params, 0).await;
        }
        let skip = self.pending.len();
        let (mut batch, mut all) = self.take_pending();
        let conn = self.conn.as_mut().ok_or(DbError::Ended)?;
        if numbered_params(sql) {
            // sqlx-sqlite counts `?NNN` / `$NNN` from the start of the whole batch.
            batch.truncate(batch.len() - 2);
            run(&mut **conn, &batch, &all, skip).await?;
            return run(&mut **conn, sql, params, 0).await;
        }
        batch.push_str(sql);
        all.extend_from_slice(params);
        run(&mut **conn, &batch, &all, skip).await
    }

    /// The queued statements as one text (each ended by `;\n`) and their parameters.
    fn take_pending(&mut self) -> (String, Vec<Param>) {
        let mut batch = String::new();
        let mut all = Vec::new();
        for (pending_sql, pending_params) in self.pending.drain(..) {
            self.begun |= pending_sql == "BEGIN";
            batch.push_str(&pending_sql);
            batch.push_str(";\n");
            all.extend(pending_params);
        }
        (batch, all)
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
        match (&mut **conn).execute("ROLLBACK").await {
            Ok(_) => {
                self.begun = false;
                Ok(())
            }
            // The batch carrying `BEGIN` may have failed before it ran: nothing to roll back.
            Err(e) if e.to_string().contains("no transaction is active") => {
                self.begun = false;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for SqliteTx {
    /// A transaction dropped half-way (a cancelled request) or whose rollback failed: its
    /// connection is closed instead of pooled, and SQLite rolls back as it closes.
    fn drop(&mut self) {
        if self.begun {
            if let Some(conn) = self.conn.take() {
                drop(conn.detach());
            }
        }
    }
}

/// Whether `sql` may use numbered parameters (a false positive only costs a round trip).
fn numbered_params(sql: &str) -> bool {
    sql.as_bytes().windows(2).any(|w| matches!(w[0], b'?' | b'$') && w[1].is_ascii_digit())
}

/// Runs `sql` (one statement, or several separated by `;`) and returns what the statements after
/// the first `skip` produced.
#[allow(deprecated)]
pub(super) async fn run<'e>(ex: impl Executor<'e, Database = Sqlite>, sql: &'e str, params: &[Param], skip: usize) -> Result<QueryResult, DbError> {
    let query = bind::loose(sqlx::query(sql), params);
    let mut out = QueryResult::default();
    let mut done_statements = 0;
    let mut stream = ex.fetch_many(query);
    while let Some(item) = stream.try_next().await? {
        match item {
            Either::Left(done) => {
                done_statements += 1;
                if done_statements > skip {
                    out.rows_affected += done.rows_affected();
                    out.last_insert_id = Some(done.last_insert_rowid());
                }
            }
            Either::Right(r) => row::push_sqlite(&mut out, &r),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A one-connection pool on a file, so a connection closed by a test does not take the
    /// database with it.
    async fn pool() -> (sqlx::SqlitePool, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let pool = sqlx::pool::PoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        pool.execute("CREATE TABLE t (id integer PRIMARY KEY, v text)").await.unwrap();
        (pool, dir)
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
        let rows = run(&pool, "SELECT v FROM t ORDER BY id", &[], 0).await.unwrap();
        assert_eq!(rows.rows.iter().map(|r| r["v"].clone()).collect::<Vec<_>>(), vec![json!("a"), json!("b"), json!("z")]);
    }

    #[tokio::test]
    async fn a_failing_deferred_statement_fails_the_commit_and_rolls_back() {
        let (pool, _dir) = pool().await;
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        tx.query("INSERT INTO t (id, v) VALUES (1, 'kept?')", &[]).await.unwrap();
        tx.defer("INSERT INTO t (id, v) VALUES (1, 'duplicate')".into(), vec![]);
        assert!(tx.commit().await.is_err());
        assert!(run(&pool, "SELECT v FROM t", &[], 0).await.unwrap().rows.is_empty());
        // The connection went back to the pool outside any transaction.
        let mut tx = SqliteTx::begin(&pool).await.unwrap();
        tx.query("INSERT INTO t (v) VALUES ('next')", &[]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(run(&pool, "SELECT v FROM t", &[], 0).await.unwrap().rows.len(), 1);
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
        let rows = run(&pool, "SELECT v FROM t", &[], 0).await.unwrap();
        assert_eq!(rows.rows.iter().map(|r| r["v"].clone()).collect::<Vec<_>>(), vec![json!("next")]);
    }
}
