//! What the services' unit tests run on: a SQLite database with the system tables in a temporary
//! folder, and an event bus that records every emit. (A file, not `:memory:`: an in-memory
//! database has one connection, which a write's transaction holds while the permission checks
//! beside it need another.)

use async_trait::async_trait;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};

use super::Services;
use crate::config::{Config, DbClient, DbConfig, Env};
use crate::db::Database;
use crate::events::{EventArgs, EventBus};
use crate::mail::Mailer;
use crate::storage::Storage;
use crate::ApiError;

pub struct TestServices {
    pub services: Services,
    pub events: Recorder,
    _dir: tempfile::TempDir,
}

impl TestServices {
    /// Runs SQL on the database, outside the services.
    pub async fn exec(&self, sql: &str) {
        self.services.db.query(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {}", e.message()));
        self.services.schema.invalidate();
    }

    /// The id of the bootstrapped admin's role.
    pub async fn admin_role(&self) -> String {
        let rows = self.services.db.query("SELECT id FROM directus_roles", &[]).await.unwrap().rows;
        rows[0]["id"].as_str().unwrap().to_string()
    }
}

pub async fn sqlite() -> TestServices {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("data.db").display());
    let db = Database::connect(&DbConfig { client: DbClient::Sqlite, url, pool_max: 4, pool_min: 0 }).await.unwrap();
    crate::db::bootstrap::bootstrap(&db, &Env::from_pairs([("ADMIN_PASSWORD", "d1r3ctu5")])).await.unwrap();
    let config = Config::from_env(Env::from_pairs([]), dir.path()).unwrap();
    let mail = Arc::new(Mailer::from_config(&config).unwrap());
    let storage = Storage::local("local", dir.path().join("uploads"));
    let events = Recorder::default();
    let services = Services::new(db, mail, storage).with_bus(Arc::new(events.clone()));
    TestServices { services, events, _dir: dir }
}

/// One recorded emit.
#[derive(Debug, Clone)]
pub struct Emitted {
    pub event: String,
    pub input: Option<Value>,
    pub context: Option<Map<String, Value>>,
    /// Whether the emit came with a transaction for `database`.
    pub in_transaction: bool,
}

/// Records every event; before-events pass their input through unchanged, unless a reply was
/// set with [`Recorder::reply`].
#[derive(Clone, Default)]
pub struct Recorder {
    emitted: Arc<Mutex<Vec<Emitted>>>,
    replies: Arc<Mutex<Vec<(String, Result<Value, ApiError>)>>>,
}

impl Recorder {
    pub fn names(&self) -> Vec<String> {
        self.emitted.lock().unwrap().iter().map(|e| e.event.clone()).collect()
    }

    pub fn take(&self) -> Vec<Emitted> {
        std::mem::take(&mut *self.emitted.lock().unwrap())
    }

    /// What the before-event `event` answers from now on: a replaced payload or an exception.
    pub fn reply(&self, event: &str, reply: Result<Value, ApiError>) {
        self.replies.lock().unwrap().push((event.to_string(), reply));
    }

    fn record(&self, event: &str, args: &EventArgs) {
        let emitted = Emitted { event: event.to_string(), input: args.input.clone(), context: args.context.clone(), in_transaction: args.database.is_some() };
        self.emitted.lock().unwrap().push(emitted);
    }
}

#[async_trait]
impl EventBus for Recorder {
    fn has_listeners(&self, _event: &str) -> bool {
        true
    }

    async fn emit_before(&self, event: &str, args: EventArgs) -> Result<Option<Value>, ApiError> {
        self.record(event, &args);
        let reply = self.replies.lock().unwrap().iter().rev().find(|(e, _)| e == event).map(|(_, r)| r.clone());
        match reply {
            Some(Ok(replaced)) => Ok(Some(replaced)),
            Some(Err(e)) => Err(e),
            None => Ok(args.input),
        }
    }

    fn emit_after(&self, event: &str, args: EventArgs) {
        self.record(event, &args);
    }

    async fn emit_awaited(&self, event: &str, args: EventArgs) {
        self.record(event, &args);
    }
}
