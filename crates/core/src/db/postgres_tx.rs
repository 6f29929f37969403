//! A PostgreSQL transaction that begins with its first statement rather than when it is opened,
//! and that may hold its last write back until the commit ([`Transaction::write_last`]). A write
//! that turns out to be the transaction's only statement then runs on its own: one statement is
//! atomic, so the `BEGIN` and `COMMIT` round trips are left out. A create with its activity and
//! revision rows, written as one statement of data-modifying common table expressions
//! (`services::activity`), so costs one round trip instead of five.
//!
//! Whatever else uses the transaction (a hook's `database` in `create.before`, nested writes)
//! begins it with its first statement, and a held write then goes out first inside it: the
//! statements run in the order they were made, in one transaction, as before.
//!
//! [`Transaction::write_last`]: super::Transaction::write_last

use super::server_pool::ServerTx;
use super::{pg_param_types_in, run_postgres, Database, DbError, Deferred, Param, QueryResult};

type PgTransaction = ServerTx<sqlx::PgConnection>;

/// A write held until the commit, and where its rows go.
struct Held {
    sql: String,
    params: Vec<Param>,
    result: Deferred,
}

#[derive(Default)]
pub struct PgTx {
    open: Option<PgTransaction>,
    held: Option<Held>,
}

impl PgTx {
    /// Whether nothing ran or waits yet: a write made now may be the only statement.
    pub fn idle(&self) -> bool {
        self.open.is_none() && self.held.is_none()
    }

    /// Holds `sql` until the commit; only while [`idle`](Self::idle).
    pub fn hold(&mut self, sql: String, params: Vec<Param>) -> Deferred {
        let result = Deferred::default();
        self.held = Some(Held { sql, params, result: result.clone() });
        result
    }

    /// The open transaction: `BEGIN` goes out now if it has not, followed by the held write.
    async fn begun(&mut self, db: &Database) -> Result<&mut PgTransaction, DbError> {
        if self.open.is_none() {
            let mut tx = ServerTx::begin(db.pg_pool()?).await?;
            if let Some(held) = self.held.take() {
                held.result.set(query_in(db, &mut tx, &held.sql, &held.params).await?);
            }
            self.open = Some(tx);
        }
        Ok(self.open.as_mut().expect("opened above"))
    }

    pub async fn query(&mut self, db: &Database, sql: &str, params: &[Param]) -> Result<QueryResult, DbError> {
        let tx = self.begun(db).await?;
        query_in(db, tx, sql, params).await
    }

    /// Commits; a write held until now runs alone, outside any transaction block.
    pub async fn commit(self, db: &Database) -> Result<(), DbError> {
        match (self.open, self.held) {
            (Some(tx), _) => Ok(tx.commit().await?),
            (None, Some(held)) => {
                held.result.set(db.query(&held.sql, &held.params).await?);
                Ok(())
            }
            (None, None) => Ok(()),
        }
    }

    /// Rolls back what ran; a held write never goes out.
    pub async fn rollback(self) -> Result<(), DbError> {
        match self.open {
            Some(tx) => Ok(tx.rollback().await?),
            None => Ok(()),
        }
    }
}

async fn query_in(db: &Database, tx: &mut PgTransaction, sql: &str, params: &[Param]) -> Result<QueryResult, DbError> {
    let types = pg_param_types_in(db, tx.conn(), sql).await?;
    run_postgres(tx.conn(), sql, params, &types).await
}
