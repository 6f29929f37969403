//! Rows of one `SELECT` handed over in batches as the reader takes them, for answers too large to
//! hold at once (a client's `limit=-1` on a big table). A task of its own holds one pooled
//! connection and reads through the driver's cursor (SQLite's worker sends rows over a bounded
//! channel; PostgreSQL and MySQL read the socket as rows are asked for), so what waits in memory is
//! one batch in the channel and the one being filled, however many rows the query matches.
//!
//! A streamed read holds its connection until its reader is done, which may be a slow client:
//! at most half the pool (at least one) is lent to streams at a time, later ones wait for a turn,
//! so ordinary requests always find connections. A reader that goes away ends the read.

use futures_util::{Stream, TryStreamExt};
use sqlx::Executor;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};

use super::{bind, row, Database, DbError, Param, Pool, QueryResult, Row};

/// The batches of one streamed read, in order; an error ends them.
pub type Batches = mpsc::Receiver<Result<Vec<Row>, DbError>>;

/// How many streamed reads may hold a connection at once, for a pool of `pool_max`.
pub(super) fn turns(pool_max: u32) -> Arc<Semaphore> {
    Arc::new(Semaphore::new((pool_max as usize / 2).max(1)))
}

impl Database {
    /// Whether reads can be streamed: an in-memory SQLite database, and a pool of one, have no
    /// second connection for what the reader does between batches (related items, counts).
    pub fn can_stream(&self) -> bool {
        match &self.pool {
            Pool::Sqlite(p) => !p.in_memory() && self.pool_max >= 2,
            _ => self.pool_max >= 2,
        }
    }

    /// Runs `stmt` on a connection of its own and hands its rows over `batch` at a time.
    pub fn stream(&self, stmt: &sea_query::SelectStatement, batch: usize) -> Batches {
        let (sql, values) = self.build(stmt);
        let params = bind::from_values(values);
        let (tx, rx) = mpsc::channel(1);
        let db = self.clone();
        tokio::spawn(async move {
            let Ok(_turn) = db.stream_turns.clone().acquire_owned().await else { return };
            if let Err(e) = db.send_batches(&sql, &params, batch.max(1), &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    async fn send_batches(&self, sql: &str, params: &[Param], batch: usize, tx: &mpsc::Sender<Result<Vec<Row>, DbError>>) -> Result<(), DbError> {
        match &self.pool {
            Pool::Sqlite(p) => {
                let mut conn = p.acquire().await?;
                forward((&mut *conn).fetch(bind::loose(sqlx::query(sql), params)), row::push_sqlite, batch, tx).await
            }
            Pool::Postgres(p) => {
                p.with_connection(async |conn| {
                    let types = super::pg_param_types_in(self, conn, sql).await?;
                    let query = bind::postgres(sqlx::query(sql), params, &types)?;
                    forward((&mut *conn).fetch(query), row::push_postgres, batch, tx).await
                })
                .await
            }
            Pool::MySql(p) => p.with_connection(async |conn| forward((&mut *conn).fetch(bind::loose(sqlx::query(sql), params)), row::push_mysql, batch, tx).await).await,
        }
    }
}

/// Sends the rows of `rows` on in batches; stops early, without error, when the reader is gone.
async fn forward<R>(
    mut rows: impl Stream<Item = Result<R, sqlx::Error>> + Unpin,
    push: fn(&mut QueryResult, &R),
    batch: usize,
    tx: &mpsc::Sender<Result<Vec<Row>, DbError>>,
) -> Result<(), DbError> {
    let mut out = QueryResult::default();
    while let Some(row) = rows.try_next().await? {
        push(&mut out, &row);
        if out.rows.len() >= batch && tx.send(Ok(std::mem::take(&mut out.rows))).await.is_err() {
            return Ok(());
        }
    }
    if !out.rows.is_empty() {
        let _ = tx.send(Ok(out.rows)).await;
    }
    Ok(())
}
