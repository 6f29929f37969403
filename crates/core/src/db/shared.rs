//! A transaction several parties take turns on: the service that opened it and the hooks it
//! hands it to (`ctx.database` of `items.create.before`, `new ItemsService(c, { knex: database })`).
//! Each statement locks it briefly, so a service never holds it while it waits for a hook.

use std::sync::Arc;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use super::{DbError, Param, QueryResult, Transaction};

#[derive(Clone)]
pub struct SharedTransaction(Arc<Mutex<Option<Transaction>>>);

impl std::fmt::Debug for SharedTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedTransaction")
    }
}

impl SharedTransaction {
    pub fn new(tx: Transaction) -> Self {
        SharedTransaction(Arc::new(Mutex::new(Some(tx))))
    }

    /// Exclusive use until the guard drops; an error once the transaction has ended.
    pub async fn lock(&self) -> Result<MappedMutexGuard<'_, Transaction>, DbError> {
        MutexGuard::try_map(self.0.lock().await, Option::as_mut).map_err(|_| DbError::Ended)
    }

    pub async fn query(&self, sql: &str, params: &[Param]) -> Result<QueryResult, DbError> {
        self.lock().await?.query(sql, params).await
    }

    pub async fn run(&self, stmt: &impl sea_query::QueryStatementWriter) -> Result<QueryResult, DbError> {
        self.lock().await?.run(stmt).await
    }

    pub async fn commit(&self) -> Result<(), DbError> {
        let tx = self.0.lock().await.take().ok_or(DbError::Ended)?;
        tx.commit().await
    }

    /// Rolls back unless it already ended.
    pub async fn rollback(&self) -> Result<(), DbError> {
        match self.0.lock().await.take() {
            Some(tx) => tx.rollback().await,
            None => Ok(()),
        }
    }

    pub fn same_as(&self, other: &SharedTransaction) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}
