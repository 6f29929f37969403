//! The Directus environment: defaults < config file < process environment, then value casting
//! exactly as Directus rc.83 did it (spec §6). The result is the `env` object hooks receive and
//! the source the typed [`super::Config`] is read from.
//!
//! Decision (not Directus): a `*_FILE` variable whose file cannot be read is an error only when it
//! was written in the config file. Inherited from the process environment (`SSL_CERT_FILE`,
//! `TF_CLI_CONFIG_FILE`, ...) it is skipped with a warning, because Directus crashing on unrelated
//! machine variables is a bug nobody relies on.

use serde_json::{Map, Number, Value};
use std::path::Path;

use super::{resolve, ConfigError};

/// Built-in defaults of rc.83 (spec §6.3), plus the Rectus embedded-database default.
/// They keep their JSON types unless overridden by a string.
fn defaults(cwd: &Path) -> Vec<(&'static str, Value)> {
    use serde_json::json;
    vec![
        ("CONFIG_PATH", json!(cwd.join(".env").to_string_lossy())),
        ("PORT", json!(8055)),
        ("PUBLIC_URL", json!("http://localhost:8055")),
        ("MAX_PAYLOAD_SIZE", json!("100kb")),
        ("DB_CLIENT", json!("sqlite3")),
        ("DB_FILENAME", json!("./data.db")),
        ("STORAGE_LOCATIONS", json!("local")),
        ("STORAGE_LOCAL_DRIVER", json!("local")),
        ("STORAGE_LOCAL_ROOT", json!("./uploads")),
        ("RATE_LIMITER_ENABLED", json!(false)),
        ("RATE_LIMITER_POINTS", json!(25)),
        ("RATE_LIMITER_DURATION", json!(1)),
        ("RATE_LIMITER_STORE", json!("memory")),
        ("SESSION_STORE", json!("memory")),
        ("ACCESS_TOKEN_TTL", json!("15m")),
        ("REFRESH_TOKEN_TTL", json!("7d")),
        ("REFRESH_TOKEN_COOKIE_SECURE", json!(false)),
        ("REFRESH_TOKEN_COOKIE_SAME_SITE", json!("lax")),
        ("ROOT_REDIRECT", json!("./admin")),
        ("CORS_ENABLED", json!(true)),
        ("CORS_ORIGIN", json!(true)),
        ("CORS_METHODS", json!("GET,POST,PATCH,DELETE")),
        ("CORS_ALLOWED_HEADERS", json!("Content-Type,Authorization")),
        ("CORS_EXPOSED_HEADERS", json!("Content-Range")),
        ("CORS_CREDENTIALS", json!(true)),
        ("CORS_MAX_AGE", json!(18000)),
        ("CACHE_ENABLED", json!(false)),
        ("CACHE_STORE", json!("memory")),
        ("CACHE_TTL", json!("5m")),
        ("CACHE_NAMESPACE", json!("system-cache")),
        ("CACHE_AUTO_PURGE", json!(false)),
        ("CACHE_CONTROL_S_MAXAGE", json!("0")),
        ("CACHE_SCHEMA", json!(true)),
        ("OAUTH_PROVIDERS", json!("")),
        ("EXTENSIONS_PATH", json!("./extensions")),
        ("EMAIL_FROM", json!("no-reply@directus.io")),
        ("EMAIL_TRANSPORT", json!("sendmail")),
        ("EMAIL_SENDMAIL_NEW_LINE", json!("unix")),
        ("EMAIL_SENDMAIL_PATH", json!("/usr/sbin/sendmail")),
        ("TELEMETRY", json!(true)),
        ("ASSETS_CACHE_TTL", json!("30m")),
        ("ASSETS_TRANSFORM_MAX_CONCURRENT", json!(1)),
        ("ASSETS_TRANSFORM_IMAGE_MAX_DIMENSION", json!(6000)),
    ]
}

/// Where a raw value came from; decides how strictly `*_FILE` indirection is treated.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Origin {
    Default,
    File,
    Process,
}

/// The parsed, typed environment (insertion order kept, like a JS object).
#[derive(Clone, Debug, Default)]
pub struct Env {
    values: Map<String, Value>,
}

impl Env {
    /// Loads `.env` (or `CONFIG_PATH`) from `cwd` and merges the given process variables over it.
    pub fn load(cwd: &Path, process: impl IntoIterator<Item = (String, String)>) -> Result<Env, ConfigError> {
        let process: Vec<(String, String)> = process.into_iter().collect();
        let config_path = process
            .iter()
            .find(|(k, _)| k == "CONFIG_PATH")
            .map(|(_, v)| resolve(cwd, v))
            .unwrap_or_else(|| cwd.join(".env"));

        let mut raw: Vec<(String, Value, Origin)> = Vec::new();
        let set = |raw: &mut Vec<(String, Value, Origin)>, key: String, value: Value, origin: Origin| {
            match raw.iter_mut().find(|(k, _, _)| *k == key) {
                Some(slot) => {
                    slot.1 = value;
                    slot.2 = origin;
                }
                None => raw.push((key, value, origin)),
            }
        };
        for (k, v) in defaults(cwd) {
            set(&mut raw, k.to_string(), v, Origin::Default);
        }
        for (k, v) in read_config_file(&config_path)? {
            set(&mut raw, k, v, Origin::File);
        }
        for (k, v) in process {
            set(&mut raw, k, Value::String(v), Origin::Process);
        }

        let mut values = Map::new();
        for (key, value, origin) in raw {
            if key.len() > 5 && key.ends_with("_FILE") {
                let target = key[..key.len() - 5].to_string();
                let path = value.as_str().unwrap_or_default().to_string();
                let contents = std::fs::read_to_string(resolve(cwd, &path));
                match contents {
                    Ok(text) if !values.contains_key(&target) => {
                        values.insert(target, Value::String(text));
                    }
                    Ok(_) if origin == Origin::File => {
                        return Err(ConfigError::invalid(&key, format!("\"{target}\" is already set")))
                    }
                    Err(e) if origin == Origin::File => {
                        return Err(ConfigError::invalid(&key, format!("failed to read value from file \"{path}\": {e}")))
                    }
                    _ => tracing::warn!(variable = %key, "ignoring *_FILE variable from the environment: its file can't be used"),
                }
            }
            values.insert(key.clone(), cast(&key, value));
        }
        Ok(Env { values })
    }

    /// The defaults plus exactly these variables, no file and no process environment
    /// (tests, `hooks test`).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Env {
        let mut values: Map<String, Value> = defaults(Path::new(".")).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        for (k, v) in pairs {
            values.insert(k.to_string(), cast(k, Value::String(v.to_string())));
        }
        Env { values }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    /// The value as text, the way JS template strings would show it (`null` → absent).
    pub fn string(&self, key: &str) -> Option<String> {
        match self.values.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.values.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.as_str() {
                "true" | "1" => Some(true),
                "false" | "0" | "" => Some(false),
                _ => None,
            },
            Value::Number(n) => Some(n.as_f64() != Some(0.0)),
            _ => None,
        }
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.values
    }

    pub fn to_json(&self) -> Value {
        Value::Object(self.values.clone())
    }
}


fn read_config_file(path: &Path) -> Result<Vec<(String, Value)>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(ConfigError::invalid("CONFIG_PATH", format!("can't read {}: {e}", path.display()))),
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
    let object = |v: Value| -> Result<Vec<(String, Value)>, ConfigError> {
        match v {
            Value::Object(m) => Ok(m.into_iter().collect()),
            _ => Err(ConfigError::invalid("CONFIG_PATH", format!("{} must hold an object", path.display()))),
        }
    };
    match ext {
        "json" => object(
            serde_json::from_str(&text)
                .map_err(|e| ConfigError::invalid("CONFIG_PATH", format!("{}: {e}", path.display())))?,
        ),
        "yaml" | "yml" => object(
            serde_yaml::from_str(&text)
                .map_err(|e| ConfigError::invalid("CONFIG_PATH", format!("{}: {e}", path.display())))?,
        ),
        "js" => Err(ConfigError::invalid(
            "CONFIG_PATH",
            "JavaScript config files are not supported; use .env, .json or .yaml".to_string(),
        )),
        _ => dotenvy::from_read_iter(text.as_bytes())
            .map(|item| {
                item.map(|(k, v)| (k, Value::String(v)))
                    .map_err(|e| ConfigError::invalid("CONFIG_PATH", format!("{}: {e}", path.display())))
            })
            .collect(),
    }
}

/// Directus's value conversion (spec §6.2), applied to strings only: defaults and typed config
/// file values keep their type.
pub fn cast(key: &str, value: Value) -> Value {
    let Value::String(s) = value else { return value };
    if let Some((prefix, rest)) = s.split_once(':') {
        match prefix {
            "number" => return number(rest).map(Value::Number).unwrap_or(Value::Null),
            "string" => return Value::String(rest.to_string()),
            "regex" => return Value::String(rest.to_string()),
            "array" => return Value::Array(rest.split(',').map(|p| Value::String(p.to_string())).collect()),
            _ => {}
        }
    }
    match key {
        "PORT" | "DB_NAME" | "DB_USER" | "DB_PASSWORD" | "DB_DATABASE" => return Value::String(s),
        "DB_PORT" => return number(&s).map(Value::Number).unwrap_or(Value::String(s)),
        _ => {}
    }
    match s.as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Null,
        _ => {}
    }
    if !s.is_empty() && !s.starts_with('0') {
        if let Some(n) = number(&s) {
            if n.as_f64().is_some_and(|f| f.abs() <= 9_007_199_254_740_991.0) {
                return Value::Number(n);
            }
        }
    }
    Value::String(s)
}

/// JS `Number(text)` for the forms env values take (whitespace-only → 0, like JS).
fn number(text: &str) -> Option<Number> {
    let t = text.trim();
    if t.is_empty() {
        return Some(Number::from(0));
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::from(i));
    }
    let f: f64 = t.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Some(Number::from(f as i64));
    }
    Number::from_f64(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn casting_follows_directus_rules() {
        let cases = [
            ("X", "number:0123", json!(123)),
            ("X", "string:123", json!("123")),
            ("X", "array:a,b,c", json!(["a", "b", "c"])),
            ("PORT", "8055", json!("8055")),
            ("DB_PASSWORD", "12345", json!("12345")),
            ("DB_PORT", "5432", json!(5432)),
            ("X", "true", json!(true)),
            ("X", "TRUE", json!("TRUE")),
            ("X", "null", json!(null)),
            ("X", "42", json!(42)),
            ("X", "-5", json!(-5)),
            ("X", "3.14", json!(3.14)),
            ("X", "1e3", json!(1000)),
            ("X", "0", json!("0")),
            ("X", "0123", json!("0123")),
            ("X", "9007199254740993", json!("9007199254740993")),
            ("X", "GET,POST", json!("GET,POST")),
        ];
        for (key, raw, expected) in cases {
            assert_eq!(cast(key, json!(raw)), expected, "{key}={raw}");
        }
    }

    #[test]
    fn precedence_is_process_over_file_over_defaults() {
        let dir = std::env::temp_dir().join(format!("rectus-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".env"), "PORT=9000\nKEY=from-file\nDB_CLIENT=pg\n").unwrap();
        let env = Env::load(&dir, vec![("KEY".to_string(), "from-process".to_string())]).unwrap();
        assert_eq!(env.get("PORT"), Some(&json!("9000")));
        assert_eq!(env.get("KEY"), Some(&json!("from-process")));
        assert_eq!(env.get("DB_CLIENT"), Some(&json!("pg")));
        assert_eq!(env.get("CACHE_TTL"), Some(&json!("5m")));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn file_indirection() {
        let dir = std::env::temp_dir().join(format!("rectus-envf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("secret.txt"), "abc\n").unwrap();
        std::fs::write(dir.join(".env"), "SECRET_FILE=secret.txt\n").unwrap();
        let env = Env::load(&dir, vec![("UNRELATED_FILE".into(), "/nope".into())]).unwrap();
        assert_eq!(env.get("SECRET"), Some(&json!("abc\n")));
        std::fs::write(dir.join(".env"), "KEY_FILE=/does/not/exist\n").unwrap();
        let err = Env::load(&dir, vec![]).unwrap_err();
        assert!(err.to_string().contains("KEY_FILE"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
