//! The Rust half of `database`: the ops behind the knex client of `js-runtime/55_database.js`.
//! knex builds the SQL in the engine; every statement runs here, through sqlx, on the pool or on
//! a transaction identified by a handle:
//! - a job's *bound* transaction (`ctx.database` in `items.create.before`), registered for the
//!   job's lifetime; knex's own `transaction()` on it becomes a savepoint on the JS side;
//! - transactions a hook opens itself (`database.transaction(...)`), owned by the isolate. A
//!   hook that never commits them can't hold a connection forever: they are rolled back once
//!   they are older than twice `HOOKS_TIMEOUT` (checked whenever another one opens or a job ends).

use deno_core::{op2, OpState};
use deno_error::JsErrorBox;
use rectus_core::db::{Param, SharedTransaction};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::host::Host;

/// The knex bundle built by `build.rs`.
const KNEX_BUNDLE: &str = include_str!(concat!(env!("OUT_DIR"), "/knex.js"));

struct Connection {
    tx: SharedTransaction,
    /// `None` for a job's bound transaction (its owner ends it).
    expires: Option<Instant>,
}

/// The transactions JS holds handles to, per isolate. Handle 0 means the pool.
pub struct Connections {
    next: u32,
    open: HashMap<u32, Connection>,
    by_job: HashMap<u64, u32>,
    ttl: Duration,
}

impl Connections {
    pub fn new(hooks_timeout: Duration) -> Self {
        Connections { next: 0, open: HashMap::new(), by_job: HashMap::new(), ttl: hooks_timeout * 2 }
    }

    fn insert(&mut self, tx: SharedTransaction, expires: Option<Instant>) -> u32 {
        self.next = self.next.wrapping_add(1).max(1);
        self.open.insert(self.next, Connection { tx, expires });
        self.next
    }

    /// Registers a job's transaction; the handle is valid until [`Connections::job_done`].
    pub fn bind(&mut self, job: u64, tx: SharedTransaction) -> u32 {
        let handle = self.insert(tx, None);
        self.by_job.insert(job, handle);
        handle
    }

    pub fn job_done(&mut self, job: u64) {
        if let Some(handle) = self.by_job.remove(&job) {
            self.open.remove(&handle);
        }
        self.sweep();
    }

    pub fn get(&self, handle: u32) -> Option<SharedTransaction> {
        self.open.get(&handle).map(|c| c.tx.clone())
    }

    /// Drops (and so rolls back) owned transactions past their lifetime.
    fn sweep(&mut self) {
        let now = Instant::now();
        self.open.retain(|_, c| c.expires.is_none_or(|e| e > now));
    }
}

fn transaction(state: &Rc<RefCell<OpState>>, handle: u32) -> Result<Option<SharedTransaction>, JsErrorBox> {
    if handle == 0 {
        return Ok(None);
    }
    state
        .borrow()
        .borrow::<Connections>()
        .get(handle)
        .map(Some)
        .ok_or_else(|| JsErrorBox::generic("Transaction query already complete, run with DEBUG=knex:tx for more info"))
}

#[op2]
#[string]
pub fn op_rectus_knex_source() -> String {
    KNEX_BUNDLE.to_string()
}

/// `sqlite`, `postgres` or `mysql`: which knex dialect builds the SQL.
#[op2]
#[string]
pub fn op_rectus_db_client(state: &mut OpState) -> Result<String, JsErrorBox> {
    use rectus_core::config::DbClient;
    let host = Host::of(state)?;
    Ok(match host.services.db.client() {
        DbClient::Sqlite => "sqlite",
        DbClient::Postgres => "postgres",
        DbClient::MySql => "mysql",
    }
    .into())
}

/// Whether `sql` changes the schema.
fn is_ddl(sql: &str) -> bool {
    let verb = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default();
    ["create", "alter", "drop", "rename"].iter().any(|v| verb.eq_ignore_ascii_case(v))
}

/// One statement; `bindings` and the result travel as JSON text. Failures reject with the
/// driver's message.
#[op2]
#[string]
pub async fn op_rectus_db_query(state: Rc<RefCell<OpState>>, #[smi] handle: u32, #[string] sql: String, #[string] bindings: String) -> Result<String, JsErrorBox> {
    let host = Host::of(&state.borrow())?;
    let tx = transaction(&state, handle)?;
    let params: Vec<Param> = serde_json::from_str(&bindings).map_err(|e| JsErrorBox::type_error(e.to_string()))?;
    let db = host.services.db.clone();
    let sql_text = sql.clone();
    let result = host
        .runtime
        .spawn(async move {
            match tx {
                Some(tx) => tx.query(&sql, &params).await,
                None => db.query(&sql, &params).await,
            }
        })
        .await
        .map_err(|e| JsErrorBox::generic(e.to_string()))?
        .map_err(|e| JsErrorBox::generic(e.message()))?;
    if is_ddl(&sql_text) {
        // A hook changed the schema (`database.schema.alterTable(...)`): as after `/fields`, the
        // schema is read again and no pooled connection runs a statement prepared before.
        host.services.schema.invalidate();
    }
    let out = serde_json::json!({
        "rows": result.rows,
        "columns": result.columns,
        "columnTypes": result.column_types,
        "rowsAffected": result.rows_affected,
        "lastInsertId": result.last_insert_id,
    });
    Ok(out.to_string())
}

/// Opens a transaction owned by the isolate and returns its handle.
#[op2]
#[smi]
pub async fn op_rectus_db_begin(state: Rc<RefCell<OpState>>) -> Result<u32, JsErrorBox> {
    let host = Host::of(&state.borrow())?;
    let db = host.services.db.clone();
    let tx = host
        .runtime
        .spawn(async move { db.begin_shared().await })
        .await
        .map_err(|e| JsErrorBox::generic(e.to_string()))?
        .map_err(|e| JsErrorBox::generic(e.message()))?;
    let mut state = state.borrow_mut();
    let connections = state.borrow_mut::<Connections>();
    connections.sweep();
    let expires = Instant::now() + connections.ttl;
    Ok(connections.insert(tx, Some(expires)))
}

/// Commits or rolls back an owned transaction and forgets its handle.
#[op2]
pub async fn op_rectus_db_end(state: Rc<RefCell<OpState>>, #[smi] handle: u32, commit: bool) -> Result<(), JsErrorBox> {
    let host = Host::of(&state.borrow())?;
    let tx = {
        let mut state = state.borrow_mut();
        let open = &mut state.borrow_mut::<Connections>().open;
        match open.get(&handle) {
            Some(c) if c.expires.is_none() => return Err(JsErrorBox::generic("the request's transaction is ended by Rectus, not by a hook")),
            Some(_) => open.remove(&handle).map(|c| c.tx),
            None => None,
        }
        .ok_or_else(|| JsErrorBox::generic("Transaction query already complete, run with DEBUG=knex:tx for more info"))?
    };
    host.runtime
        .spawn(async move { if commit { tx.commit().await } else { tx.rollback().await } })
        .await
        .map_err(|e| JsErrorBox::generic(e.to_string()))?
        .map_err(|e| JsErrorBox::generic(e.message()))
}
