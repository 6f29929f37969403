//! Rows to JSON, with the value shapes the Node drivers Directus used produce:
//! timestamps as ISO strings, decimals as strings, JSON columns parsed (pg, mysql), SQLite raw.

use serde_json::{Map, Value};
use sqlx::{Column, Row as _, TypeInfo, ValueRef};

use super::QueryResult;

fn columns<R: sqlx::Row>(out: &mut QueryResult, row: &R) {
    if out.columns.is_empty() {
        out.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
        out.column_types = row.columns().iter().map(|c| c.type_info().name().to_string()).collect();
    }
}

/// Appends `row` as a JSON object: SQL NULL as `null`, any other value as `value` converts
/// column `i`, given the column's type name.
fn push<R>(out: &mut QueryResult, row: &R, value: impl Fn(usize, &str) -> Value)
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
{
    columns(out, row);
    let mut map = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let null = row.try_get_raw(i).map(|r| r.is_null()).unwrap_or(true);
        map.insert(col.name().to_string(), if null { Value::Null } else { value(i, col.type_info().name()) });
    }
    out.rows.push(map);
}

pub fn push_sqlite(out: &mut QueryResult, row: &sqlx::sqlite::SqliteRow) {
    push(out, row, |i, _| {
        // SQLite types values, not columns: convert by what this row stores.
        let storage = row.try_get_raw(i).map(|r| r.type_info().name().to_string()).unwrap_or_default();
        match storage.as_str() {
            "INTEGER" => row.try_get::<i64, _>(i).map(Value::from).unwrap_or(Value::Null),
            "REAL" => row.try_get::<f64, _>(i).map(Value::from).unwrap_or(Value::Null),
            "BLOB" => row
                .try_get::<Vec<u8>, _>(i)
                .map(|b| Value::String(String::from_utf8_lossy(&b).into_owned()))
                .unwrap_or(Value::Null),
            _ => row.try_get::<String, _>(i).map(Value::String).unwrap_or(Value::Null),
        }
    });
}

pub fn push_postgres(out: &mut QueryResult, row: &sqlx::postgres::PgRow) {
    push(out, row, |i, column_type| match column_type {
        "BOOL" => row.try_get::<bool, _>(i).map(Value::Bool).unwrap_or(Value::Null),
        "INT2" => row.try_get::<i16, _>(i).map(Value::from).unwrap_or(Value::Null),
        "INT4" => row.try_get::<i32, _>(i).map(Value::from).unwrap_or(Value::Null),
        "INT8" => row.try_get::<i64, _>(i).map(Value::from).unwrap_or(Value::Null),
        "FLOAT4" => row.try_get::<f32, _>(i).map(|f| Value::from(f as f64)).unwrap_or(Value::Null),
        "FLOAT8" => row.try_get::<f64, _>(i).map(Value::from).unwrap_or(Value::Null),
        "NUMERIC" => row
            .try_get::<sqlx::types::BigDecimal, _>(i)
            .map(|d| Value::String(d.to_string()))
            .unwrap_or(Value::Null),
        "UUID" => row.try_get::<uuid::Uuid, _>(i).map(|u| Value::String(u.to_string())).unwrap_or(Value::Null),
        "JSON" | "JSONB" => row.try_get::<Value, _>(i).unwrap_or(Value::Null),
        "TIMESTAMPTZ" => row
            .try_get::<chrono::DateTime<chrono::Utc>, _>(i)
            .map(|d| Value::String(iso(d)))
            .unwrap_or(Value::Null),
        "TIMESTAMP" => row
            .try_get::<chrono::NaiveDateTime, _>(i)
            .map(|d| Value::String(iso(d.and_utc())))
            .unwrap_or(Value::Null),
        "DATE" => row.try_get::<chrono::NaiveDate, _>(i).map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
        "TIME" => row.try_get::<chrono::NaiveTime, _>(i).map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
        "BYTEA" => row
            .try_get::<Vec<u8>, _>(i)
            .map(|b| Value::String(String::from_utf8_lossy(&b).into_owned()))
            .unwrap_or(Value::Null),
        _ => row.try_get::<String, _>(i).map(Value::String).unwrap_or(Value::Null),
    });
}

pub fn push_mysql(out: &mut QueryResult, row: &sqlx::mysql::MySqlRow) {
    push(out, row, |i, column_type| match column_type {
        "BOOLEAN" | "TINYINT" | "SMALLINT" | "INT" | "MEDIUMINT" | "BIGINT" | "YEAR" => {
            row.try_get::<i64, _>(i).map(Value::from).unwrap_or(Value::Null)
        }
        "TINYINT UNSIGNED" | "SMALLINT UNSIGNED" | "INT UNSIGNED" | "MEDIUMINT UNSIGNED" | "BIGINT UNSIGNED" => {
            row.try_get::<u64, _>(i).map(Value::from).unwrap_or(Value::Null)
        }
        "FLOAT" => row.try_get::<f32, _>(i).map(|f| Value::from(f as f64)).unwrap_or(Value::Null),
        "DOUBLE" => row.try_get::<f64, _>(i).map(Value::from).unwrap_or(Value::Null),
        "DECIMAL" => row
            .try_get::<sqlx::types::BigDecimal, _>(i)
            .map(|d| Value::String(d.to_string()))
            .unwrap_or(Value::Null),
        "JSON" => row.try_get::<Value, _>(i).unwrap_or(Value::Null),
        "TIMESTAMP" => row
            .try_get::<chrono::DateTime<chrono::Utc>, _>(i)
            .map(|d| Value::String(iso(d)))
            .unwrap_or(Value::Null),
        "DATETIME" => row
            .try_get::<chrono::NaiveDateTime, _>(i)
            .map(|d| Value::String(iso(d.and_utc())))
            .unwrap_or(Value::Null),
        "DATE" => row.try_get::<chrono::NaiveDate, _>(i).map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
        "TIME" => row.try_get::<chrono::NaiveTime, _>(i).map(|d| Value::String(d.to_string())).unwrap_or(Value::Null),
        _ => row
            .try_get::<String, _>(i)
            .map(Value::String)
            .or_else(|_| row.try_get::<Vec<u8>, _>(i).map(|b| Value::String(String::from_utf8_lossy(&b).into_owned())))
            .unwrap_or(Value::Null),
    });
}

/// `Date.prototype.toJSON` shape: millisecond precision, `Z`.
fn iso(d: chrono::DateTime<chrono::Utc>) -> String {
    d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
