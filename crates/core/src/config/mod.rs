//! Configuration: the Directus `env` object and the typed settings Rectus reads from it.

mod duration;
mod env;
pub mod oauth;

pub use duration::parse_duration_ms;
pub use env::{cast, Env};

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A configuration problem, always naming the variable at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {reason}")]
pub struct ConfigError {
    pub variable: String,
    pub reason: String,
}

impl ConfigError {
    pub fn invalid(variable: &str, reason: impl Into<String>) -> Self {
        ConfigError { variable: variable.to_string(), reason: reason.into() }
    }
}

/// Which database engine `DB_CLIENT` selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbClient {
    Sqlite,
    Postgres,
    MySql,
}

impl DbClient {
    /// The name Directus uses for the client (`database.error`'s `client`, `/server/info`).
    pub fn directus_name(self) -> &'static str {
        match self {
            DbClient::Sqlite => "sqlite3",
            DbClient::Postgres => "pg",
            DbClient::MySql => "mysql",
        }
    }
}

#[derive(Clone, Debug)]
pub struct DbConfig {
    pub client: DbClient,
    /// A sqlx connection URL built from `DB_CONNECTION_STRING` or the `DB_*` parts.
    pub url: String,
    pub pool_max: u32,
    /// `DB_POOL__MIN` (knex's `pool.min`, default 2): connections opened at start and kept open.
    pub pool_min: u32,
}

/// Settings of the hook runtime (Rectus additions, named like Directus settings).
#[derive(Clone, Debug)]
pub struct HooksConfig {
    /// `HOOKS_TIMEOUT` (ms or duration): how long one hook dispatch may run.
    pub timeout: Duration,
    /// `HOOKS_POOL_SIZE`: isolates, each with every hook loaded.
    pub pool_size: usize,
    /// `HOOKS_IDLE_TIMEOUT` (ms or duration, `0` for never): how long an isolate beyond the
    /// first may go without jobs before it stops and gives its memory back.
    pub idle_timeout: Option<Duration>,
    /// `HOOKS_MAX_HEAP` (bytes or `64mb`): heap limit of one isolate.
    pub max_heap_bytes: usize,
    /// `HOOKS_MAX_DEPTH`: nested hook → service → hook calls allowed.
    pub max_depth: u32,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub env: Env,
    pub cwd: PathBuf,
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub key: String,
    pub secret: String,
    /// True when `KEY`/`SECRET` were not configured and a random one is used for this process.
    pub generated_secret: bool,
    pub db: DbConfig,
    pub extensions_path: PathBuf,
    pub access_token_ttl_ms: u64,
    pub refresh_token_ttl_ms: u64,
    pub max_payload_bytes: usize,
    /// `QUERY_LIMIT_MAX` (later Directus releases): the largest `limit` a client's query may
    /// ask for; `None` (unset or -1) for no maximum, as rc.83 had.
    pub query_limit_max: Option<i64>,
    pub hooks: HooksConfig,
    pub log_level: String,
    pub log_style: String,
    /// `OAUTH_PROVIDERS` and their `OAUTH_<PROVIDER>_*` settings.
    pub oauth: Vec<oauth::ProviderConfig>,
}

impl Config {
    /// Reads the configuration the way Directus does: `.env` in `cwd` plus the process environment.
    pub fn from_process(cwd: &Path) -> Result<Config, ConfigError> {
        Self::from_env(Env::load(cwd, std::env::vars())?, cwd)
    }

    pub fn from_env(env: Env, cwd: &Path) -> Result<Config, ConfigError> {
        let text = |k: &str| env.string(k).filter(|s| !s.is_empty());
        let port_text = text("PORT").unwrap_or_else(|| "8055".into());
        let port = port_text
            .parse::<u16>()
            .map_err(|_| ConfigError::invalid("PORT", format!("\"{port_text}\" is not a port number")))?;
        let duration = |k: &str, default: &str| -> Result<u64, ConfigError> {
            let v = text(k).unwrap_or_else(|| default.to_string());
            parse_duration_ms(&v).ok_or_else(|| ConfigError::invalid(k, format!("\"{v}\" is not a duration like 15m or 900000")))
        };
        let (key, secret, generated_secret) = match (text("KEY"), text("SECRET")) {
            (Some(k), Some(s)) => (k, s, false),
            (k, s) => (
                k.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                s.unwrap_or_else(random_secret),
                true,
            ),
        };
        let size = |k: &str, default: usize| -> Result<usize, ConfigError> {
            match text(k) {
                None => Ok(default),
                Some(v) => parse_size(&v).ok_or_else(|| ConfigError::invalid(k, format!("\"{v}\" is not a size like 100kb"))),
            }
        };
        let number = |k: &str, default: u64| -> Result<u64, ConfigError> {
            match text(k) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| ConfigError::invalid(k, format!("\"{v}\" is not a whole number"))),
            }
        };
        let hooks = HooksConfig {
            timeout: Duration::from_millis(duration("HOOKS_TIMEOUT", "5s")?),
            pool_size: number("HOOKS_POOL_SIZE", default_pool_size() as u64)?.max(1) as usize,
            idle_timeout: Some(duration("HOOKS_IDLE_TIMEOUT", "30s")?).filter(|ms| *ms > 0).map(Duration::from_millis),
            max_heap_bytes: size("HOOKS_MAX_HEAP", 128 * 1024 * 1024)?,
            max_depth: number("HOOKS_MAX_DEPTH", 8)? as u32,
        };
        // Read by the hook runtime from `env` (crates/hooks/src/node/child_process.rs).
        if text("HOOKS_CHILD_PROCESS").is_some() && env.bool("HOOKS_CHILD_PROCESS").is_none() {
            return Err(ConfigError::invalid("HOOKS_CHILD_PROCESS", "must be true or false"));
        }
        let log_style = text("LOG_STYLE").unwrap_or_else(|| "pretty".into());
        if !matches!(log_style.as_str(), "pretty" | "raw") {
            return Err(ConfigError::invalid("LOG_STYLE", format!("\"{log_style}\" must be pretty or raw")));
        }
        let public_url = text("PUBLIC_URL").unwrap_or_else(|| "http://localhost:8055".into());
        Ok(Config {
            oauth: oauth::providers(&env, &public_url)?,
            cwd: cwd.to_path_buf(),
            host: text("HOST").unwrap_or_else(|| "0.0.0.0".into()),
            port,
            public_url,
            key,
            secret,
            generated_secret,
            db: db_config(&env, cwd)?,
            extensions_path: resolve(cwd, &text("EXTENSIONS_PATH").unwrap_or_else(|| "./extensions".into())),
            access_token_ttl_ms: duration("ACCESS_TOKEN_TTL", "15m")?,
            refresh_token_ttl_ms: duration("REFRESH_TOKEN_TTL", "7d")?,
            max_payload_bytes: size("MAX_PAYLOAD_SIZE", 100 * 1024)?,
            query_limit_max: query_limit_max(text("QUERY_LIMIT_MAX"))?,
            hooks,
            log_level: text("LOG_LEVEL").unwrap_or_else(|| "info".into()),
            log_style,
            env,
        })
    }
}

/// `QUERY_LIMIT_MAX`: a whole number of rows, at least 1; -1 (Directus's default) or unset is
/// no maximum.
fn query_limit_max(text: Option<String>) -> Result<Option<i64>, ConfigError> {
    match text.as_deref().map(str::trim) {
        None | Some("-1") => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ConfigError::invalid("QUERY_LIMIT_MAX", format!("\"{v}\" must be -1 or a whole number of rows from 1"))),
        },
    }
}

fn default_pool_size() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4)
}

fn random_secret() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::thread_rng().gen();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A configured path, relative to the working directory unless absolute.
pub fn resolve(cwd: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// `100kb`, `1mb`, `512` (bytes), as the `bytes` npm package reads them.
fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "b" => 1.0,
        "kb" => 1024.0,
        "mb" => 1024.0 * 1024.0,
        "gb" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((n * mult) as usize)
}

fn db_config(env: &Env, cwd: &Path) -> Result<DbConfig, ConfigError> {
    let text = |k: &str| env.string(k).filter(|s| !s.is_empty());
    let client_name = text("DB_CLIENT").unwrap_or_else(|| "sqlite3".into());
    let client = match client_name.as_str() {
        "sqlite3" | "sqlite" => DbClient::Sqlite,
        "pg" | "postgres" | "postgresql" => DbClient::Postgres,
        "mysql" | "mysql2" | "mariadb" => DbClient::MySql,
        other => {
            return Err(ConfigError::invalid(
                "DB_CLIENT",
                format!("\"{other}\" is not supported (use sqlite3, pg or mysql)"),
            ))
        }
    };
    let pool_max = match text("DB_POOL__MAX").or_else(|| text("DB_POOL_MAX")) {
        Some(v) => v.parse().map_err(|_| ConfigError::invalid("DB_POOL__MAX", "must be a number"))?,
        None => 10,
    };
    let url = if let Some(cs) = text("DB_CONNECTION_STRING") {
        cs
    } else {
        match client {
            DbClient::Sqlite => {
                let file = text("DB_FILENAME").ok_or_else(|| ConfigError::invalid("DB_FILENAME", "is required for sqlite3"))?;
                if file == ":memory:" {
                    "sqlite::memory:".to_string()
                } else {
                    format!("sqlite://{}?mode=rwc", resolve(cwd, &file).display())
                }
            }
            DbClient::Postgres | DbClient::MySql => {
                let scheme = if client == DbClient::Postgres { "postgres" } else { "mysql" };
                let host = text("DB_HOST").ok_or_else(|| ConfigError::invalid("DB_HOST", format!("is required for {client_name}")))?;
                let database =
                    text("DB_DATABASE").ok_or_else(|| ConfigError::invalid("DB_DATABASE", format!("is required for {client_name}")))?;
                let port = match text("DB_PORT") {
                    Some(p) => format!(":{}", p.parse::<u16>().map_err(|_| ConfigError::invalid("DB_PORT", format!("\"{p}\" is not a port number")))?),
                    None => String::new(),
                };
                let user = text("DB_USER").unwrap_or_default();
                let auth = match text("DB_PASSWORD") {
                    Some(p) => format!("{}:{}@", encode(&user), encode(&p)),
                    None if !user.is_empty() => format!("{}@", encode(&user)),
                    None => String::new(),
                };
                let mut url = format!("{scheme}://{auth}{host}{port}/{}", encode(&database));
                if client == DbClient::Postgres {
                    if let Some(sp) = text("DB_SEARCH_PATH") {
                        url.push_str(&format!("?options=-c%20search_path%3D{}", encode(&sp)));
                    }
                }
                url
            }
        }
    };
    let pool_min = match text("DB_POOL__MIN").or_else(|| text("DB_POOL_MIN")) {
        Some(v) => v.parse().map_err(|_| ConfigError::invalid("DB_POOL__MIN", "must be a number"))?,
        None => 2,
    };
    Ok(DbConfig { client, url, pool_max, pool_min: pool_min.min(pool_max) })
}

/// Percent-encodes a URL component (user, password, database names may hold anything).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_pg_host_names_the_variable() {
        let env = Env::from_pairs([("DB_CLIENT", "pg"), ("DB_DATABASE", "x")]);
        let err = Config::from_env(env, Path::new("/tmp")).unwrap_err();
        assert_eq!(err.variable, "DB_HOST");
    }

    #[test]
    fn bad_port_and_client_are_named() {
        let err = Config::from_env(Env::from_pairs([("PORT", "http")]), Path::new("/tmp")).unwrap_err();
        assert_eq!(err.variable, "PORT");
        let err = Config::from_env(Env::from_pairs([("DB_CLIENT", "oracledb")]), Path::new("/tmp")).unwrap_err();
        assert_eq!(err.variable, "DB_CLIENT");
        let err = Config::from_env(Env::from_pairs([("HOOKS_CHILD_PROCESS", "sometimes")]), Path::new("/tmp")).unwrap_err();
        assert_eq!(err.variable, "HOOKS_CHILD_PROCESS");
        assert!(Config::from_env(Env::from_pairs([("HOOKS_CHILD_PROCESS", "false")]), Path::new("/tmp")).is_ok());
    }

    #[test]
    fn pg_url_from_parts() {
        let env = Env::from_pairs([
            ("DB_CLIENT", "pg"),
            ("DB_HOST", "127.0.0.1"),
            ("DB_PORT", "5432"),
            ("DB_DATABASE", "test"),
            ("DB_USER", "postgres"),
            ("DB_PASSWORD", "p@ss"),
        ]);
        let cfg = Config::from_env(env, Path::new("/tmp")).unwrap();
        assert_eq!(cfg.db.url, "postgres://postgres:p%40ss@127.0.0.1:5432/test");
        assert_eq!(cfg.db.client, DbClient::Postgres);
    }

    #[test]
    fn query_limit_max() {
        let max = |v: Option<&str>| Config::from_env(Env::from_pairs(v.map(|v| ("QUERY_LIMIT_MAX", v))), Path::new("/tmp")).map(|c| c.query_limit_max);
        assert_eq!(max(None).unwrap(), None);
        assert_eq!(max(Some("-1")).unwrap(), None);
        assert_eq!(max(Some("500")).unwrap(), Some(500));
        for bad in ["0", "-2", "1.5", "lots"] {
            assert_eq!(max(Some(bad)).unwrap_err().variable, "QUERY_LIMIT_MAX", "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100kb"), Some(102400));
        assert_eq!(parse_size("2mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("lots"), None);
    }
}
