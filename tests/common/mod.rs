//! Test harness: a fresh database per test (a SQLite file, a PostgreSQL schema or a MariaDB
//! database with a unique name) and the real `rectus` binary serving it on an ephemeral port.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod http_sink;
pub mod pg_proxy;
pub mod smtp;
pub mod tls;

pub const ADMIN_EMAIL: &str = "admin@example.com";
pub const ADMIN_PASSWORD: &str = "d1r3ctu5";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    MySql,
}

pub const ENGINES: [Engine; 3] = [Engine::Sqlite, Engine::Postgres, Engine::MySql];

/// One test per engine for each `async fn name(engine: Engine)` named: `name::on_sqlite`,
/// `name::on_postgres` and `name::on_mysql` (`cargo test name` runs the three).
#[macro_export]
macro_rules! on_every_engine {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn on_sqlite() {
                super::$name(super::Engine::Sqlite).await;
            }

            #[tokio::test]
            async fn on_postgres() {
                super::$name(super::Engine::Postgres).await;
            }

            #[tokio::test]
            async fn on_mysql() {
                super::$name(super::Engine::MySql).await;
            }
        }
    )+};
}

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub engine: Engine,
    pub name: String,
    pub dir: PathBuf,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const MYSQL_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306/test";

impl TestDb {
    pub async fn new(engine: Engine) -> TestDb {
        let name = unique("rectus");
        let dir = std::env::temp_dir().join(unique("rectus-test"));
        std::fs::create_dir_all(&dir).unwrap();
        match engine {
            Engine::Sqlite => {}
            Engine::Postgres => {
                let pool = sqlx::PgPool::connect(PG_ADMIN_URL).await.expect("PostgreSQL on 127.0.0.1:5432");
                sqlx::query(&format!("CREATE SCHEMA \"{name}\"")).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Engine::MySql => {
                let pool = sqlx::MySqlPool::connect(MYSQL_ADMIN_URL).await.expect("MariaDB on 127.0.0.1:3306");
                sqlx::query(&format!("CREATE DATABASE `{name}`")).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
        TestDb { engine, name, dir }
    }

    /// The Directus variables that point Rectus at this database.
    pub fn env(&self) -> Vec<(String, String)> {
        let pairs: Vec<(&str, String)> = match self.engine {
            Engine::Sqlite => vec![("DB_CLIENT", "sqlite3".into()), ("DB_FILENAME", self.dir.join("data.db").to_string_lossy().into_owned())],
            Engine::Postgres => vec![
                ("DB_CLIENT", "pg".into()),
                ("DB_HOST", "127.0.0.1".into()),
                ("DB_PORT", "5432".into()),
                ("DB_DATABASE", "test".into()),
                ("DB_USER", "postgres".into()),
                ("DB_SEARCH_PATH", self.name.clone()),
            ],
            Engine::MySql => vec![
                ("DB_CLIENT", "mysql".into()),
                ("DB_HOST", "127.0.0.1".into()),
                ("DB_PORT", "3306".into()),
                ("DB_DATABASE", self.name.clone()),
                ("DB_USER", "root".into()),
            ],
        };
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// Runs SQL directly on this database (test setup and assertions).
    pub async fn execute(&self, sql: &str) {
        match self.engine {
            Engine::Sqlite => {
                let url = format!("sqlite://{}?mode=rwc", self.dir.join("data.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                sqlx::raw_sql(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
            }
            Engine::Postgres => {
                let pool = sqlx::PgPool::connect(&format!("{PG_ADMIN_URL}?options=-c%20search_path%3D{}", self.name)).await.unwrap();
                sqlx::raw_sql(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
            }
            Engine::MySql => {
                let pool = sqlx::MySqlPool::connect(&format!("mysql://root@127.0.0.1:3306/{}", self.name)).await.unwrap();
                sqlx::raw_sql(sql).execute(&pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
            }
        }
    }

    /// Counts rows of `table` (optionally filtered by a raw SQL condition).
    pub async fn count(&self, table: &str, condition: &str) -> i64 {
        self.try_count(table, condition).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// `count`, answering what the database said when the table or a column is missing.
    pub async fn try_count(&self, table: &str, condition: &str) -> Result<i64, String> {
        let q = |quote: &str| format!("SELECT COUNT(*) FROM {quote}{table}{quote} WHERE {condition}");
        let n: Result<i64, sqlx::Error> = match self.engine {
            Engine::Sqlite => {
                let url = format!("sqlite://{}", self.dir.join("data.db").display());
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                let n = sqlx::query_scalar(&q("\"")).fetch_one(&pool).await;
                pool.close().await;
                n
            }
            Engine::Postgres => {
                let pool = sqlx::PgPool::connect(&format!("{PG_ADMIN_URL}?options=-c%20search_path%3D{}", self.name)).await.unwrap();
                let n = sqlx::query_scalar(&q("\"")).fetch_one(&pool).await;
                pool.close().await;
                n
            }
            Engine::MySql => {
                let pool = sqlx::MySqlPool::connect(&format!("mysql://root@127.0.0.1:3306/{}", self.name)).await.unwrap();
                let n = sqlx::query_scalar(&q("`")).fetch_one(&pool).await;
                pool.close().await;
                n
            }
        };
        n.map_err(|e| format!("{}: {e}", q("\"")))
    }

    /// Waits up to 5 s for `count` to reach `expected` — for writes that commit after the
    /// moment a test can observe (a mail sent before its transaction commits), and returns the last count.
    pub async fn count_reaching(&self, table: &str, condition: &str, expected: i64) -> i64 {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let n = self.count(table, condition).await;
            if n == expected || Instant::now() > deadline {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The engine's spelling of an auto-increment integer primary key column.
    pub fn serial_pk(&self) -> &'static str {
        match self.engine {
            Engine::Sqlite => "integer PRIMARY KEY AUTOINCREMENT",
            Engine::Postgres => "serial PRIMARY KEY",
            Engine::MySql => "int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY",
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (engine, name) = (self.engine, self.name.clone());
        let _ = std::fs::remove_dir_all(&self.dir);
        if engine == Engine::Sqlite {
            return;
        }
        // Drop runs outside async context: clean up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async move {
                match engine {
                    Engine::Postgres => {
                        if let Ok(pool) = sqlx::PgPool::connect(PG_ADMIN_URL).await {
                            let _ = sqlx::query(&format!("DROP SCHEMA \"{name}\" CASCADE")).execute(&pool).await;
                        }
                    }
                    Engine::MySql => {
                        if let Ok(pool) = sqlx::MySqlPool::connect(MYSQL_ADMIN_URL).await {
                            let _ = sqlx::query(&format!("DROP DATABASE `{name}`")).execute(&pool).await;
                        }
                    }
                    Engine::Sqlite => {}
                }
            })
        })
        .join();
    }
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_rectus")
}

/// Runs `rectus <args>` to completion in `cwd` with exactly `env` (plus PATH/HOME).
pub fn run_cli(cwd: &Path, env: &[(String, String)], args: &[&str]) -> std::process::Output {
    Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .envs(env.iter().cloned())
        .output()
        .expect("the rectus binary runs")
}

/// Installs the npm packages of the fixture folder `dir` with `npm ci` (plus `args`), once per
/// test process and only when its lock file changed since the last install.
pub fn npm_ci(dir: &Path, args: &[&str]) {
    static DONE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap();
    if done.iter().any(|d| d == dir) {
        return;
    }
    let lock = std::fs::read(dir.join("package-lock.json")).unwrap();
    let stamp = dir.join("node_modules/.rectus-lock");
    if std::fs::read(&stamp).ok().as_deref() != Some(lock.as_slice()) {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .args(args)
            .current_dir(dir)
            .status()
            .expect("npm runs (scripts/setup installs it)");
        assert!(status.success(), "npm ci in {} failed", dir.display());
        std::fs::write(&stamp, &lock).unwrap();
    }
    done.push(dir.to_path_buf());
}

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

/// A running `rectus start`.
pub struct Server {
    child: Child,
    pub base: String,
    pub logs: Arc<Mutex<Vec<String>>>,
    pub client: reqwest::Client,
}

impl Server {
    /// Bootstraps `db` and starts the server with `extensions` as `EXTENSIONS_PATH`.
    pub async fn start(db: &TestDb, extensions: Option<&Path>, extra: &[(&str, &str)]) -> Server {
        let env = Self::env(db, extensions, extra);
        let out = run_cli(&db.dir, &env, &["bootstrap"]);
        assert!(out.status.success(), "bootstrap failed: {}", String::from_utf8_lossy(&out.stderr));
        Self::spawn(&db.dir, &env).await
    }

    /// The environment [`Server::start`] runs with, for more instances on the same database.
    pub fn env(db: &TestDb, extensions: Option<&Path>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = db.env();
        let empty = db.dir.join("no-extensions");
        let ext = extensions.map(Path::to_path_buf).unwrap_or(empty);
        env.extend([
            ("ADMIN_EMAIL".to_string(), ADMIN_EMAIL.to_string()),
            ("ADMIN_PASSWORD".to_string(), ADMIN_PASSWORD.to_string()),
            ("KEY".to_string(), "test-key".to_string()),
            ("SECRET".to_string(), "test-secret".to_string()),
            ("HOST".to_string(), "127.0.0.1".to_string()),
            ("PORT".to_string(), "0".to_string()),
            ("LOG_STYLE".to_string(), "raw".to_string()),
            ("EXTENSIONS_PATH".to_string(), ext.to_string_lossy().into_owned()),
        ]);
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    pub async fn spawn(cwd: &Path, env: &[(String, String)]) -> Server {
        let mut child = Command::new(binary())
            .arg("start")
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().cloned())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rectus start");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("Server started at http://").nth(1) {
                    let addr: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':').collect();
                    let _ = port_tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match port_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => panic!("server did not start:\n{}", logs.lock().unwrap().join("\n")),
        };
        Server { child, base: format!("http://{addr}"), logs, client: reqwest::Client::new() }
    }

    /// The server process's id (to read its memory from `/proc`, or signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// One request with a bearer token (and a JSON body), answered as (status, JSON).
    pub async fn send(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.client.request(method.parse().unwrap(), self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        json(req.send().await.unwrap()).await
    }

    pub async fn admin_token(&self) -> String {
        let res = self
            .client
            .post(self.url("/auth/login"))
            .json(&serde_json::json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }))
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        body["data"]["access_token"].as_str().expect("login returns a token").to_string()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.stop_ref()
    }

    /// [`Server::stop`] for a server still borrowed elsewhere.
    pub fn stop_ref(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id() as i32;
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("server did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A process's memory figure from `/proc/<pid>/status` in MB: `VmRSS` (resident now) or `VmHWM`
/// (its peak); 0 when it can't be read.
pub fn memory_mb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    kb.unwrap_or(0) / 1024
}

/// The JSON body of a response (or `Null` for an empty body) with its status.
pub async fn json(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}
