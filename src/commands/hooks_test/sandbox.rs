//! The world one case runs in: a fresh SQLite database file in a temporary folder, the case's
//! tables and rows, the hooks under test loaded into a real hook runtime wired to the real
//! services (as `rectus start` wires them), and an outbound mock server.
//!
//! Why a temporary *file* and not `:memory:`: every pooled SQLite connection to `:memory:` is
//! its own empty database, and the hooks' `database` (knex) and the services share the pool.
//! The system tables are installed once per run into a template database, which each case
//! gets a copy of with `VACUUM INTO` (a consistent copy even while the template is in WAL mode).

use anyhow::{anyhow, bail, Context};
use rectus_core::mail::{Mailer, Outbox};
use rectus_core::auth::accountability::Accountability;
use rectus_core::config::{Config, Env};
use rectus_core::db::bootstrap::bootstrap;
use rectus_core::db::Database;
use rectus_core::events::{EventBus, NoHooks};
use rectus_core::query::Query;
use rectus_core::services::items::ItemsService;
use rectus_core::services::webhooks::{WebhookBus, WebhookList};
use rectus_core::services::{MutationOptions, Services};
use rectus_hooks::host::Host;
use rectus_hooks::HookRuntime;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::case::{Seed, SeedTable};
use super::settle::SettlingBus;

/// The static token of the bootstrapped admin, sent by request cases `as: admin`.
pub const ADMIN_TOKEN: &str = "rectus-hooks-test-admin";

/// A database with the system tables and an admin, installed once per run.
pub struct Template {
    _dir: tempfile::TempDir,
    db: Database,
    pub admin: Accountability,
}

impl Template {
    pub async fn create() -> anyhow::Result<Template> {
        let dir = tempfile::tempdir().context("creating a temporary folder")?;
        let config = Config::from_env(sqlite_env(&dir.path().join("data.db"), dir.path(), &BTreeMap::new()), dir.path())?;
        let db = Database::connect(&config.db).await.map_err(|e| anyhow!("can't create the template database: {}", e.message()))?;
        bootstrap(&db, &config.env).await.map_err(|e| anyhow!("can't install the system tables: {}", e.message()))?;
        db.query(&format!("UPDATE directus_users SET token = '{ADMIN_TOKEN}'"), &[]).await.map_err(|e| anyhow!(e.message()))?;
        let row = db.query("SELECT id, role FROM directus_users", &[]).await.map_err(|e| anyhow!(e.message()))?.rows.into_iter().next();
        let text = |k: &str| row.as_ref().and_then(|r| r.get(k)).and_then(Value::as_str).map(String::from);
        let admin = Accountability { user: text("id"), role: text("role"), admin: true, app: true, ..Default::default() };
        Ok(Template { _dir: dir, db, admin })
    }

    async fn copy_to(&self, file: &Path) -> anyhow::Result<()> {
        let target = file.to_string_lossy().replace('\'', "''");
        self.db.query(&format!("VACUUM INTO '{target}'"), &[]).await.map_err(|e| anyhow!("copying the template database: {}", e.message()))?;
        Ok(())
    }
}

/// The variables every case starts from: its own database and extensions folder, fixed
/// secrets, one isolate. Nothing is read from `.env` or the process, so a case runs the same
/// everywhere; the case's `env` comes on top.
fn sqlite_env(db_file: &Path, extensions: &Path, extra: &BTreeMap<String, String>) -> Env {
    let db_file = db_file.to_string_lossy();
    let extensions = extensions.to_string_lossy();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("DB_CLIENT", "sqlite3"),
        ("DB_FILENAME", &db_file),
        ("EXTENSIONS_PATH", &extensions),
        ("KEY", "rectus-hooks-test-key"),
        ("SECRET", "rectus-hooks-test-secret"),
        ("ADMIN_EMAIL", "admin@example.com"),
        ("ADMIN_PASSWORD", "rectus-hooks-test"),
        ("HOOKS_POOL_SIZE", "1"),
    ];
    pairs.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Env::from_pairs(pairs)
}

pub struct Sandbox {
    _dir: tempfile::TempDir,
    pub config: Config,
    pub runtime: Arc<HookRuntime>,
    pub bus: Arc<SettlingBus>,
    /// Services that emit to the hooks (what requests and hooks use).
    pub services: Services,
    /// The same database without hooks: seeding and reading rows must not fire events.
    quiet: Services,
    /// The messages sent during the case.
    pub outbox: Outbox,
}

impl Sandbox {
    /// Sets up the database, seeds `collections`, then loads `hooks` (folders).
    pub async fn open(template: &Template, hooks: &[PathBuf], env: &BTreeMap<String, String>, collections: &BTreeMap<String, Seed>) -> anyhow::Result<Sandbox> {
        let dir = tempfile::tempdir().context("creating a temporary folder")?;
        let db_file = dir.path().join("data.db");
        template.copy_to(&db_file).await?;
        let extensions = dir.path().join("extensions");
        crate::commands::hook_links::link(&extensions, hooks)?;
        let cwd = std::env::current_dir()?;
        let config = Config::from_env(sqlite_env(&db_file, &extensions, env), &cwd)?;
        let db = Database::connect(&config.db).await.map_err(|e| anyhow!("can't open the case's database: {}", e.message()))?;
        // Every message is recorded for `expect.mail`. It only goes out when the case's env names
        // a transport (EMAIL_TRANSPORT, EMAIL_SMTP_*): a test run never mails anyone by default.
        let outbox = Outbox::default();
        let mail = Arc::new(Mailer::from_config(&config)?.recording(outbox.clone(), env.contains_key("EMAIL_TRANSPORT")));
        for (name, seed) in collections {
            if !name.starts_with("directus_") {
                create_table(&db, name, &seed.table()).await?;
            }
        }
        // Uploads of a case land in its temporary folder, never in the working directory.
        let storage = rectus_core::storage::Storage::from_env(&config.env, dir.path())?;
        // Seeds and reads of expectations: no hooks, and a schema cache of their own.
        let quiet = Services::new(db.clone(), mail.clone(), storage.clone());
        for (name, seed) in collections {
            let rows = seed.table().rows.into_iter().map(Value::Object).collect();
            items(&quiet, name).await?.create_many(rows, MutationOptions { emit_events: false }).await.map_err(|e| anyhow!("seeding {name}: {}", e.message))?;
        }
        // Webhooks listen after the hooks, as on the server; they read the seeded rows now.
        let list = WebhookList::load(&db).await.map_err(|e| anyhow!("can't read directus_webhooks: {}", e.message))?;
        let webhooks = WebhookBus::new(Arc::new(NoHooks), list).map_err(|e| anyhow!("can't start webhooks: {}", e.message))?;
        // The services exist before the hooks register, as on the server (`start_with_host`).
        let (made_tx, made_rx) = std::sync::mpsc::channel();
        let (runtime_config, host_config, handle) = (config.clone(), Arc::new(config.clone()), tokio::runtime::Handle::current());
        let host_for = move |hooks: Arc<dyn EventBus>| {
            let bus = SettlingBus::new(hooks);
            let services = Services::new(db, mail, storage).with_bus(webhooks.wrapping(bus.clone()));
            let _ = made_tx.send((bus, services.clone()));
            Host { services, runtime: handle, leases: Arc::new(rectus_core::cluster::memory::Unshared), config: host_config }
        };
        let runtime = tokio::task::spawn_blocking(move || HookRuntime::start_with_host(&runtime_config, host_for)).await?.map_err(|e| anyhow!("can't start the hook runtime: {e}"))?;
        let (bus, services) = made_rx.recv()?;
        Ok(Sandbox { _dir: dir, config, runtime, bus, services, quiet, outbox })
    }

    /// Every row of `collection`, in primary-key order, read without permissions or events.
    pub async fn rows(&self, collection: &str) -> anyhow::Result<Vec<Value>> {
        self.quiet.schema.invalidate();
        let query = Query { limit: Some(-1), ..Default::default() };
        let service = items(&self.quiet, collection).await?;
        let mut rows = service.read_by_query(&query).await.map_err(|e| anyhow!("reading {collection}: {}", e.message))?;
        let schema = self.quiet.schema.get().await.map_err(|e| anyhow!(e.message()))?;
        if let Some(pk) = schema.collection(collection).map(|c| c.primary.clone()) {
            rows.sort_by(|a, b| order(&a[&pk], &b[&pk]));
        }
        Ok(rows)
    }

    pub async fn close(self) {
        self.services.db.close().await;
    }
}

async fn items(services: &Services, collection: &str) -> anyhow::Result<ItemsService> {
    let schema = services.schema.get().await.map_err(|e| anyhow!("reading the schema: {}", e.message()))?;
    if schema.collection(collection).is_none() {
        bail!("there is no table \"{collection}\" (seed it under `collections`)");
    }
    Ok(ItemsService::new(collection, services.clone(), schema, None))
}

fn order(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// `CREATE TABLE` for a seeded collection: `id` integer primary key (autoincrement) unless
/// declared otherwise, other columns declared or inferred from the first non-null value.
async fn create_table(db: &Database, name: &str, seed: &SeedTable) -> anyhow::Result<()> {
    let mut columns: Vec<(String, String)> = seed.columns.iter().map(|(c, t)| (c.clone(), t.clone())).collect();
    for row in &seed.rows {
        for (column, value) in row {
            if !columns.iter().any(|(c, _)| c == column) && !value.is_null() {
                columns.push((column.clone(), inferred_type(value).into()));
            }
        }
    }
    for column in seed.rows.iter().flat_map(Map::keys) {
        if !columns.iter().any(|(c, _)| c == column) {
            columns.push((column.clone(), "string".into()));
        }
    }
    let mut defs = vec![];
    match columns.iter().position(|(c, _)| c == "id") {
        Some(i) => {
            let (_, kind) = columns.remove(i);
            defs.push(match kind.as_str() {
                "integer" => "\"id\" integer PRIMARY KEY AUTOINCREMENT".to_string(),
                other => format!("\"id\" {} PRIMARY KEY NOT NULL", sql_type(other)?),
            });
        }
        None => defs.push("\"id\" integer PRIMARY KEY AUTOINCREMENT".into()),
    }
    for (column, kind) in &columns {
        defs.push(format!("\"{}\" {}", column.replace('"', "\"\""), sql_type(kind)?));
    }
    let sql = format!("CREATE TABLE \"{}\" ({})", name.replace('"', "\"\""), defs.join(", "));
    db.query(&sql, &[]).await.map_err(|e| anyhow!("creating table {name}: {}", e.message()))?;
    Ok(())
}

fn inferred_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::Array(_) | Value::Object(_) => "json",
        _ => "string",
    }
}

/// Column types a case may declare, as SQLite declarations Rectus's schema reader maps back
/// to the Directus type of the same name.
fn sql_type(kind: &str) -> anyhow::Result<&'static str> {
    Ok(match kind {
        "integer" => "integer",
        "bigInteger" | "biginteger" => "bigint",
        "float" | "decimal" => "float",
        "boolean" => "boolean",
        "string" => "varchar(255)",
        "text" => "text",
        "json" => "json",
        "uuid" => "char(36)",
        "timestamp" | "dateTime" | "datetime" => "datetime",
        "date" => "date",
        "time" => "time",
        other => bail!("unknown column type \"{other}\" (integer, float, boolean, string, text, json, uuid, timestamp, date, time)"),
    })
}
