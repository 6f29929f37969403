//! Binding JSON-like parameters to each engine's statement, and the one conversion of JSON values
//! into SQL values ([`sql_value`]) that services use in the statements they build.
//!
//! Integers stay exact as far as the engine can hold them. JSON integers above `i64::MAX` (up to
//! `u64::MAX`) bind as unsigned integers on MySQL (`BIGINT UNSIGNED` holds them), as exact
//! decimals into PostgreSQL `numeric` (an integer column refuses them as out of range, as
//! PostgreSQL would), and as a REAL on SQLite, whose integers are 64-bit signed (SQLite itself
//! turns a larger integer literal into a REAL). Filters compare with the same values, so an item
//! written with such a number is found by it.

use serde_json::Value;
use sqlx::query::Query;

use super::DbError;

/// A statement parameter: JSON, the shape values have on their way in from HTTP and from hooks.
pub type Param = Value;

/// A JSON value as a sea-query value, to be bound as a parameter (never inlined): objects and
/// arrays as their JSON text, as knex sends JSON columns.
pub fn sql_value(v: &Value) -> sea_query::Value {
    match v {
        Value::Null => sea_query::Value::String(None),
        Value::Bool(b) => (*b).into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into(),
            (None, Some(u)) => u.into(),
            _ => n.as_f64().into(),
        },
        Value::String(s) => s.as_str().into(),
        other => other.to_string().into(),
    }
}

/// sea-query's typed values, as parameters.
pub fn from_values(values: sea_query::Values) -> Vec<Param> {
    use sea_query::Value as V;
    values
        .into_iter()
        .map(|v| match v {
            V::Bool(b) => b.map(Value::Bool).unwrap_or(Value::Null),
            V::TinyInt(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::SmallInt(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::Int(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::BigInt(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::TinyUnsigned(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::SmallUnsigned(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::Unsigned(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::BigUnsigned(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::Float(n) => n.map(|f| Value::from(f as f64)).unwrap_or(Value::Null),
            V::Double(n) => n.map(Value::from).unwrap_or(Value::Null),
            V::String(s) => s.map(Value::String).unwrap_or(Value::Null),
            V::Char(c) => c.map(|c| Value::String(c.to_string())).unwrap_or(Value::Null),
            V::Json(j) => j.map(|j| Value::String(j.to_string())).unwrap_or(Value::Null),
            V::Uuid(u) => u.map(|u| Value::String(u.to_string())).unwrap_or(Value::Null),
            V::ChronoDateTimeUtc(d) => d.map(|d| Value::String(d.to_rfc3339())).unwrap_or(Value::Null),
            V::ChronoDateTime(d) => d.map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
            V::ChronoDate(d) => d.map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
            V::ChronoTime(d) => d.map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
            other => Value::String(format!("{other:?}")),
        })
        .collect()
}

/// Objects and arrays travel as JSON text, like knex does for JSON columns.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// How an engine that coerces parameters itself takes an integer above `i64::MAX`.
pub trait Unsigned: sqlx::Database {
    fn bind_unsigned<'q>(q: Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>, n: u64) -> Query<'q, Self, <Self as sqlx::Database>::Arguments<'q>>;
}

impl Unsigned for sqlx::MySql {
    fn bind_unsigned<'q>(q: Query<'q, Self, sqlx::mysql::MySqlArguments>, n: u64) -> Query<'q, Self, sqlx::mysql::MySqlArguments> {
        q.bind(n)
    }
}

impl Unsigned for sqlx::Sqlite {
    fn bind_unsigned<'q>(q: Query<'q, Self, sqlx::sqlite::SqliteArguments<'q>>, n: u64) -> Query<'q, Self, sqlx::sqlite::SqliteArguments<'q>> {
        q.bind(n as f64)
    }
}

/// SQLite and MySQL coerce parameters themselves: bind each value as its JSON type.
pub fn loose<'q, DB: Unsigned>(mut q: Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>, params: &[Param]) -> Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<f64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    for p in params {
        q = match p {
            Value::Null => q.bind(None::<String>),
            Value::Bool(b) => q.bind(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => q.bind(i),
                (None, Some(u)) => DB::bind_unsigned(q, u),
                _ => q.bind(n.as_f64()),
            },
            other => q.bind(as_text(other)),
        };
    }
    q
}

/// Encodes each value as the type PostgreSQL inferred for its placeholder.
pub fn postgres<'q>(
    mut q: Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    params: &[Param],
    types: &[String],
) -> Result<Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>, DbError> {
    for (i, p) in params.iter().enumerate() {
        let ty = types.get(i).map(String::as_str).unwrap_or("TEXT");
        let bad = |what: &str| DbError::InvalidValue(format!("invalid input syntax for type {what}: \"{}\"", as_text(p)));
        q = match ty {
            "BOOL" => q.bind(match p {
                Value::Null => None,
                Value::Bool(b) => Some(*b),
                Value::Number(n) => Some(n.as_f64() != Some(0.0)),
                Value::String(s) => Some(matches!(s.as_str(), "true" | "t" | "1" | "yes" | "on")),
                _ => return Err(bad("boolean")),
            }),
            "INT2" | "INT4" | "INT8" => {
                let v = match p {
                    Value::Null => None,
                    Value::Bool(b) => Some(*b as i128),
                    Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
                        (Some(i), _) => i as i128,
                        (None, Some(u)) => u as i128,
                        _ => n.as_f64().filter(|f| f.is_finite()).map(|f| f as i128).ok_or_else(|| bad("integer"))?,
                    }),
                    Value::String(s) => Some(s.trim().parse::<i128>().map_err(|_| bad("integer"))?),
                    _ => return Err(bad("integer")),
                };
                let out_of_range = |name: &str| DbError::OutOfRange(format!("value \"{}\" is out of range for type {name}", as_text(p)));
                match ty {
                    "INT2" => q.bind(v.map(i16::try_from).transpose().map_err(|_| out_of_range("smallint"))?),
                    "INT4" => q.bind(v.map(i32::try_from).transpose().map_err(|_| out_of_range("integer"))?),
                    _ => q.bind(v.map(i64::try_from).transpose().map_err(|_| out_of_range("bigint"))?),
                }
            }
            "FLOAT4" | "FLOAT8" => {
                let v = match p {
                    Value::Null => None,
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => Some(s.trim().parse::<f64>().map_err(|_| bad("numeric"))?),
                    Value::Bool(b) => Some(*b as i64 as f64),
                    _ => return Err(bad("numeric")),
                };
                match ty {
                    "FLOAT4" => q.bind(v.map(|v| v as f32)),
                    _ => q.bind(v),
                }
            }
            // Exact: parsed from the number's own digits, not through a float.
            "NUMERIC" => q.bind(match p {
                Value::Null => None,
                Value::Bool(b) => Some(sqlx::types::BigDecimal::from(*b as i64)),
                Value::Number(_) | Value::String(_) => Some(as_text(p).trim().parse::<sqlx::types::BigDecimal>().map_err(|_| bad("numeric"))?),
                _ => return Err(bad("numeric")),
            }),
            "UUID" => q.bind(match p {
                Value::Null => None,
                other => Some(uuid::Uuid::parse_str(as_text(other).trim()).map_err(|_| bad("uuid"))?),
            }),
            "JSON" | "JSONB" => q.bind(match p {
                Value::Null => None,
                Value::String(s) => Some(serde_json::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.clone()))),
                other => Some(other.clone()),
            }),
            "TIMESTAMPTZ" => q.bind(match p {
                Value::Null => None,
                other => Some(parse_datetime(other).ok_or_else(|| bad("timestamp with time zone"))?),
            }),
            "TIMESTAMP" => q.bind(match p {
                Value::Null => None,
                other => Some(parse_datetime(other).ok_or_else(|| bad("timestamp"))?.naive_utc()),
            }),
            "DATE" => q.bind(match p {
                Value::Null => None,
                other => {
                    let t = as_text(other);
                    let day = t.get(..10).unwrap_or(&t).to_string();
                    Some(chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| bad("date"))?)
                }
            }),
            "TIME" => q.bind(match p {
                Value::Null => None,
                other => Some(chrono::NaiveTime::parse_from_str(&as_text(other), "%H:%M:%S%.f").map_err(|_| bad("time"))?),
            }),
            "BYTEA" => q.bind(match p {
                Value::Null => None,
                other => Some(as_text(other).into_bytes()),
            }),
            _ => q.bind(match p {
                Value::Null => None,
                other => Some(as_text(other)),
            }),
        };
    }
    Ok(q)
}

/// ISO strings (with or without zone; without means UTC, as Directus stores them) and epoch ms.
pub fn parse_datetime(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
    match v {
        Value::Number(n) => Utc.timestamp_millis_opt(n.as_i64()?).single(),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(d) = DateTime::parse_from_rfc3339(s) {
                return Some(d.with_timezone(&Utc));
            }
            for fmt in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
                if let Ok(d) = DateTime::parse_from_str(s, fmt) {
                    return Some(d.with_timezone(&Utc));
                }
            }
            for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
                if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
                    return Some(Utc.from_utc_datetime(&d));
                }
            }
            let day = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            Some(Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?))
        }
        _ => None,
    }
}
